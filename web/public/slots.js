// Free booking slots as the public page reads them: the next free slot of a service at every
// station of a district (with the first anywhere), and one station's free slots grouped by the
// station's local day, for the day and time radio groups.
import { getJson } from "/assets/common.js";

const enc = encodeURIComponent;

/** `GET /api/v1/districts/{d}/next-slots?service=`: `{ stations: [{ station, name, next }], first }`. */
export function nextSlots(district, service) {
  return getJson(`/api/v1/districts/${enc(district)}/next-slots?service=${enc(service)}`);
}

/** `GET /api/v1/stations/{s}/slots?service=`: the free slots up to the booking horizon. */
export function freeSlots(station, service) {
  return getJson(`/api/v1/stations/${enc(station)}/slots?service=${enc(service)}`);
}

/** The station-local date ("2026-12-01") of an instant. */
export function localDate(instant, timeZone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(instant));
}

/** Slots grouped by local day, in order: `[{ date, slots: [{ start, end, free }] }]`. */
export function byDay(slots, timeZone) {
  const days = new Map();
  for (const slot of slots) {
    const date = localDate(slot.start, timeZone);
    if (!days.has(date)) days.set(date, []);
    days.get(date).push(slot);
  }
  return [...days].map(([date, list]) => ({ date, slots: list }));
}
