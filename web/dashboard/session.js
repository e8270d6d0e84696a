// The signed-in guard's session, shared by the dashboard's modules: the token, the stations in
// its scope and their cards' state, and the server's clock. Replaced wholesale on sign-out, so a
// late answer from a previous session can tell it is stale (`session !== current`).
import { formatTime, minutesSince as minutesBetween } from "/assets/format.js";

/** Everything about the signed-in session, or null when signed out. */
export let current = null;

export function setCurrent(session) {
  current = session;
}
export function newSession(token, me) {
  return {
    token,
    me,
    stations: new Map(),
    districts: new Map(),
    conn: "lost",
    everOpen: false,
    connReason: "",
    closeLive: null,
    /** Server clock minus this browser's clock, in ms: the demo (and a badly set PC) runs on a
     * different clock, and ages ("asked in 4 min ago") must use the server's. */
    skew: null,
    probing: false,
    sortTimer: null,
    lastSort: 0,
    timers: [],
    dialogStation: null,
  };
}

let onExpired = () => {};

/** What to do when the service says the token is no longer valid (sign out, set by the page). */
export function whenExpired(handler) {
  onExpired = handler;
}

/** The token was refused (401): back to the sign-in form. */
export function expired() {
  onExpired();
}
export function serverNow() {
  return Date.now() + (current?.skew ?? 0);
}

/** Every server timestamp seen is at or before the server's "now" when it arrives, so
 * `stamp − local now` never overstates the skew; the largest one seen is the best estimate. */
export function noteServerTime(stamp) {
  if (!current || !Number.isFinite(stamp)) return;
  const observed = stamp - Date.now();
  current.skew = current.skew === null ? observed : Math.max(current.skew, observed);
}

/** A time on the station's clock (`timezone`), from ms since the epoch. */
export function fmtTime(ms, timezone, seconds = false) {
  return formatTime(ms, { timeZone: timezone, seconds });
}

/** Whole minutes since `stamp` on the server's clock. */
export function minutesSince(stamp) {
  return minutesBetween(stamp, serverNow());
}
