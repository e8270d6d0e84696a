// Checking a booked party in. The clerk types or pastes the booking's code, or a handheld scanner
// types the QR's whole /b/<code> URL and Enter, or the clerk types the office's own booking
// reference; it goes through the outbox as a `booking_arrived` event like every other action, so
// it is sent exactly once even while the service is unreachable.
//
// The answer names the booking by its id only; the slot (for "early N min" / "late N min") comes
// from the guards' list of bookings due, remembered here for as long as the tab is open because
// the booking leaves that list the moment it is checked in.
import { $, h, replaceIfChanged } from "/assets/dom.js";
import { say } from "/assets/i18n.js";
import { icon } from "/assets/terminal/text.js";
import { saveRecent, serviceName, state, t } from "/assets/terminal/state.js";
import { fmtTime, showError } from "/assets/terminal/view.js";
import { enqueue } from "/assets/terminal/actions.js";

// A booking code is a 24-character base64url capability; an office's reference is 1–64 of
// [A-Za-z0-9._-] (src/domain/booking.rs).
const CODE_RE = /^[A-Za-z0-9_-]{24}$/;
const REF_RE = /^[A-Za-z0-9._-]{1,64}$/;

/** Booking id → { service, slot, party_size }: every booking seen in a document this session. */
const seen = new Map();

/**
 * What the clerk typed as the booking it names: `{ code }` for a code or the booking page's URL
 * (the code may be typed in the groups the booking page shows it in), `{ external_ref }` for
 * anything else a reference may be, null for what is neither.
 */
export function bookingNamed(typed) {
  const text = typed.replace(/\s+/g, "").replace(/[?#].*$/, "");
  const path = text.split("/").filter(Boolean);
  const last = path[path.length - 1] || "";
  if (path.length > 1 && path[path.length - 2] === "b" && CODE_RE.test(last)) return { code: last };
  if (CODE_RE.test(text)) return { code: text };
  if (REF_RE.test(text)) return { external_ref: text };
  return null;
}

/** Keeps the bookings of a new document, so their slots are known after they leave the list. */
export function rememberBookings(doc) {
  for (const b of doc?.bookings_due || []) seen.set(b.booking, { service: b.service, slot: b.slot, party_size: b.party_size });
}

/** Queues the typed booking's check-in. */
function checkInBooking(event) {
  event.preventDefault();
  const field = $("booking-field");
  const named = bookingNamed(field.value);
  if (!named) {
    showError("booking-error", t().bookingInvalid);
    field.setAttribute("aria-invalid", "true");
    field.focus();
    return;
  }
  showError("booking-error", null);
  field.removeAttribute("aria-invalid");
  const entry = enqueue({ kind: "booking_arrived", ...named });
  if (!entry) return;
  // Only the reference is remembered for the box: a code is the visitor's key to the booking.
  state.recent.booking = { key: entry.key, state: "queued", reference: named.external_ref || null, at: entry.queuedAt };
  saveRecent();
  field.value = "";
  renderBooking();
}

/** Records the answer to a booking check-in in the box, with what is known of its booking. */
export function settleBooking(entry, answer) {
  const recent = state.recent.booking;
  if (!recent || recent.key !== entry.key) return;
  const ok = answer.status >= 200 && answer.status < 300;
  const body = answer.body || {};
  if (ok) {
    const booking = seen.get(body.booking) || {};
    const listed = partyOf(body.ticket);
    state.recent.booking = { ...recent, state: body.state, ticket: body.ticket, position: body.position ?? null,
      service: booking.service || listed?.service || null, slot: booking.slot || null,
      party: booking.party_size || listed?.party_size || null };
  } else {
    state.recent.booking = { ...recent, state: "refused", detail: say(body.code, body.params, body.detail || body.title || `HTTP ${answer.status}`) };
  }
  saveRecent();
  renderBooking();
}

/** The ticket's party in the live lists (for its service and size when the slot is not known). */
function partyOf(ticket) {
  const doc = state.doc;
  if (!doc || !ticket) return null;
  const outside = doc.outside.find((p) => p.ticket === ticket);
  if (outside) return outside;
  for (const [service, parties] of Object.entries(doc.inside || {})) {
    const inside = parties.find((p) => p.ticket === ticket);
    if (inside) return { ...inside, service };
  }
  return null;
}

/** "12 min early", "3 min late" or "on time": when the clerk checked the party in against its slot. */
export function punctuality(slot, at) {
  const minutes = Math.round((Date.parse(at) - Date.parse(slot)) / 60000);
  if (minutes < 0) return t().bookingEarly(-minutes);
  if (minutes > 0) return t().bookingLate(minutes);
  return t().bookingOnTime;
}

function answerLines(b) {
  const what = [b.service ? serviceName(b.service) : null, b.party ? t().persons(b.party) : null].filter(Boolean).join(" · ");
  const when = b.slot ? `${t().bookingSlot(fmtTime(b.slot))} · ${punctuality(b.slot, b.at)}` : null;
  const verdict = b.state === "inside"
    ? [icon("check"), ` ${t().goInside}`]
    : [icon("stop"), ` ${t().waitOutside}`, b.position ? ` — ${t().position(b.position)}` : ""];
  return [h("p", { class: "issued-label" }, `${t().bookingChecked}${what ? ` · ${what}` : ""}`),
    h("div", { class: "issued-ticket" }, b.ticket), h("div", { class: "issued-verdict" }, verdict),
    when ? h("p", { class: "booking-when" }, icon("clock"), ` ${when}`) : null];
}

/** The booking box: nothing yet, waiting in the outbox, the ticket with its slot, or the refusal. */
export function renderBooking() {
  const box = $("booking-result");
  const b = state.recent.booking;
  box.dataset.state = b ? b.state : "none";
  if (b?.ticket) box.dataset.ticket = b.ticket;
  else box.removeAttribute("data-ticket");
  if (!b) replaceIfChanged(box, h("p", { class: "note" }, t().bookingNone));
  else if (b.state === "queued") replaceIfChanged(box, h("p", { class: "issued-verdict" }, icon("clock"), ` ${t().bookingQueued}`));
  else if (b.state === "refused") replaceIfChanged(box, h("div", { class: "issued-verdict" }, icon("cross"), ` ${t().refused}`), h("p", { class: "issued-detail" }, b.detail));
  else replaceIfChanged(box, answerLines(b));
}

export function wireBooking() {
  $("booking-form").addEventListener("submit", checkInBooking);
}
