// The public page's bookings: for the chosen station, the next free time of each service that
// takes bookings and the first free time anywhere in the district; and the booking itself — day →
// time → party size → confirm, then the proof of work (pow.js), POST …/bookings, and on to the
// booking's own page /b/<code>. The code is in that answer only; this page keeps it nowhere.
import { $, h } from "/assets/dom.js";
import { say, tr } from "/assets/i18n.js";
import { formatDate, formatTime, serviceName } from "/assets/format.js";
import { canSolve, solve } from "/assets/public/pow.js";
import { byDay, freeSlots, nextSlots } from "/assets/public/slots.js";
import { dayLabel, radio } from "/assets/choices.js";

const MAX_PARTY = 10;

/**
 * Where the visitor is: `place` (district/station/service the data is for), `next` (service id →
 * next free slot here, or null), `first` (the district's first free slot for the chosen service),
 * `step` (idle, choosing, securing), the loaded `days`, the chosen `date` and `slot`, and `error`.
 */
const view = { place: null, next: new Map(), first: null, timezone: null, step: "idle", days: null, date: null, slot: null, error: null, progress: 0, wanted: null };
let hooks = { current: () => ({}), goToStation: () => {} };

function when(instant) {
  const timeZone = view.timezone || undefined;
  return tr("public.bookWhen", { day: formatDate(instant, { timeZone }), time: formatTime(instant, { timeZone }) });
}

/** The services of the station taking bookings, as the latest public document says. */
function bookable(latest) {
  return (latest?.services || []).filter((s) => s.bookable);
}

/** Loads the next free slots for a new place: one next-slots answer per bookable service. */
async function loadNext(district, station, service, latest) {
  const place = `${district.id}/${station.id}/${service.id}`;
  view.timezone = latest.timezone;
  const answers = await Promise.all(bookable(latest).map((s) => nextSlots(district.id, s.id).then((a) => [s.id, a]).catch(() => [s.id, null])));
  if (view.place !== place) return;
  view.next = new Map(answers.map(([id, a]) => [id, a?.stations?.find((x) => x.station === station.id)?.next ?? null]));
  view.first = answers.find(([id]) => id === service.id)?.[1]?.first ?? null;
  hooks.current().redraw();
}

/** Draws the booking section for the chosen place; `latest` is the station's public document. */
export function renderBooking(district, station, service, latest) {
  const section = $("booking");
  const place = `${district?.id}/${station?.id}/${service?.id}`;
  if (view.place !== place && latest) {
    const wanted = view.wanted;
    Object.assign(view, { place, next: new Map(), first: null, step: "idle", days: null, date: null, slot: null, error: null, wanted: null });
    if (bookable(latest).length) loadNext(district, station, service, latest);
    if (wanted) openForm(wanted);
  }
  section.hidden = !latest || !bookable(latest).length;
  if (section.hidden) return;
  renderNext(latest);
  const takes = bookable(latest).some((s) => s.id === service.id);
  $("book-start").hidden = !takes || view.step !== "idle";
  $("book-form").hidden = view.step === "idle";
  $("book-submit").disabled = view.step === "securing";
  renderChoices();
  $("book-progress").hidden = view.step !== "securing";
  $("book-meter").value = Math.round(view.progress * 100);
  $("book-error").hidden = !view.error;
  $("book-error").textContent = view.error ?? "";
}

/** "Passport: next free time Tuesday 3 December at 10:20", per bookable service; the district's first. */
function renderNext(latest) {
  $("next-slots").replaceChildren(...bookable(latest).map((s) => {
    const next = view.next.get(s.id);
    const text = next ? tr("public.nextSlot", { service: serviceName(s), when: when(next.start) }) : view.next.has(s.id) ? tr("public.noSlot", { service: serviceName(s) }) : `${serviceName(s)}: …`;
    return h("li", { dataset: { service: s.id } }, text);
  }));
  const { station } = hooks.current();
  const first = view.first;
  const elsewhere = first && first.station !== station?.id;
  $("first-slot").hidden = !first;
  const there = elsewhere ? [" ", h("button", { type: "button", id: "book-there", class: "button secondary", dataset: { station: first.station, start: first.start } }, tr("public.bookThere"))] : [];
  $("first-slot").replaceChildren(...(first ? [tr("public.firstSlot", { station: first.name, when: when(first.start) }), ...there] : []));
}

/** The day and time radio groups of the loaded slots. */
function renderChoices() {
  if (view.step === "idle") return;
  const days = view.days;
  $("book-loading").hidden = days !== null;
  $("book-none").hidden = !(days && days.length === 0);
  const timeZone = view.timezone || undefined;
  $("book-day-list").replaceChildren(...(days || []).map((d) => radio("book-day", d.date, dayLabel(d.slots[0].start, timeZone), d.date === view.date)));
  const day = days?.find((d) => d.date === view.date);
  $("book-times").hidden = !day;
  $("book-time-list").replaceChildren(...(day ? day.slots : []).map((s) => radio("book-time", s.start, formatTime(s.start, { timeZone }), s.start === view.slot)));
}

/** Opens the form and loads the free slots; `wanted` preselects a slot (from "Book there"). */
async function openForm(wanted = null) {
  const { station, service, redraw } = hooks.current();
  Object.assign(view, { step: "choosing", days: null, date: null, slot: null, error: null });
  redraw();
  try {
    const answer = await freeSlots(station.id, service.id);
    view.timezone = answer.timezone || view.timezone;
    view.days = byDay(answer.slots || [], view.timezone);
    const pick = wanted && view.days.find((d) => d.slots.some((s) => s.start === wanted));
    view.date = pick ? pick.date : view.days[0]?.date ?? null;
    view.slot = pick ? wanted : null;
  } catch (e) {
    view.days = [];
    view.error = say(e.code, e.params, e.message) || tr("public.bookUnreachable");
  }
  redraw();
  document.querySelector(`input[name="book-${view.slot ? "time" : "day"}"]:checked`)?.focus();
}

/** Proof of work, the booking, and on to its page; a refusal is shown and focused. */
async function confirm(event) {
  event.preventDefault();
  const { station, service, redraw } = hooks.current();
  if (view.step === "securing") return;
  if (!view.slot) return fail(tr("public.bookPickTime"), redraw);
  if (!canSolve()) return fail(tr("public.bookUnsupported"), redraw);
  Object.assign(view, { step: "securing", error: null, progress: 0 });
  redraw();
  $("book-progress").focus();
  try {
    const challenge = await getChallenge();
    const nonce = await solve(challenge.challenge, challenge.difficulty, (p) => { view.progress = p; $("book-meter").value = Math.round(p * 100); });
    const response = await fetch(`/api/v1/stations/${encodeURIComponent(station.id)}/bookings`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service: service.id, slot: view.slot, party_size: Number($("book-party").value), pow: { challenge: challenge.challenge, nonce } }),
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok && body.booking?.url) {
      location.assign(body.booking.url);
      return;
    }
    view.step = "choosing";
    fail(say(body.code, body.params, body.detail) || `${response.status}`, redraw);
  } catch {
    view.step = "choosing";
    fail(tr("public.bookUnreachable"), redraw);
  }
}

async function getChallenge() {
  const response = await fetch("/api/v1/bookings/challenge", { cache: "no-store" });
  if (!response.ok) throw new Error(`challenge: ${response.status}`);
  return response.json();
}

function fail(message, redraw) {
  view.error = message;
  redraw();
  $("book-error").focus();
}

/** Wires the section; `current()` gives `{ district, station, service, redraw }`, and
 * `goToStation(id)` switches the page to another station of the district. */
export function wireBooking(current, goToStation) {
  hooks = { current, goToStation };
  $("book-party").replaceChildren(...Array.from({ length: MAX_PARTY }, (_, i) => h("option", { value: String(i + 1) }, String(i + 1))));
  $("book-start").addEventListener("click", () => openForm());
  $("book-cancel").addEventListener("click", () => {
    Object.assign(view, { step: "idle", error: null });
    current().redraw();
    $("book-start").focus();
  });
  $("book-form").addEventListener("change", (e) => {
    if (e.target.name === "book-day") Object.assign(view, { date: e.target.value, slot: null });
    if (e.target.name === "book-time") view.slot = e.target.value;
    if (e.target.name === "book-day" || e.target.name === "book-time") {
      current().redraw();
      document.querySelector(`input[name="${e.target.name}"]:checked`)?.focus();
    }
  });
  $("book-form").addEventListener("submit", confirm);
  $("first-slot").addEventListener("click", (e) => {
    const button = e.target.closest("#book-there");
    if (!button) return;
    view.wanted = button.dataset.start;
    goToStation(button.dataset.station);
  });
}
