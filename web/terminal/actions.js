// What the clerk does — check in, check out, no-show, call next — and what becomes of it. Every
// action is written to the outbox first (with its own Idempotency-Key) and then sent by the
// sender; settle() records the service's answer in the "last ticket"/"last call" boxes and the
// results. This tab's recent actions live in state.recent (sessionStorage).
import { newKey } from "/assets/common.js";
import { $ } from "/assets/dom.js";
import { say } from "/assets/i18n.js";
import {
  DESK_RE, DESK_SLOT, TICKET_RE, myDevice, outbox, readOutbox, saveRecent, sendSoon, services, state, t,
} from "/assets/terminal/state.js";
import { flash, showError } from "/assets/terminal/view.js";
import { renderCalled, renderIssued } from "/assets/terminal/render.js";
import { renderLists } from "/assets/terminal/lists.js";
import { availability } from "/assets/terminal/availability.js";
import { renderOutbox, renderResults } from "/assets/terminal/outbox-view.js";

const MAX_RESULTS = 20;

/** The event without the appointment reference or a booking's code: results are display memory,
 * kept in sessionStorage, and an appointment reference is personal data they do not need, a booking
 * code the visitor's key to their booking. */
export function publicEvent(event) {
  const { appointment, code, ...rest } = event;
  return rest;
}

export function addResult(result) {
  const recent = state.recent;
  recent.results = [result, ...recent.results.filter((r) => r.key !== result.key)].slice(0, MAX_RESULTS);
  saveRecent();
  renderResults();
}

/**
 * Appends an action to the outbox (persisted first) and wakes the sender. Returns the entry, or
 * null when it could not be stored — then nothing is sent either, so the clerk sees it failed and
 * can try again instead of believing it is safe.
 */
export function enqueue(event) {
  let entry;
  try {
    entry = outbox.add(event, myDevice());
  } catch (e) {
    const at = new Date().toISOString();
    addResult({ key: newKey(), event: publicEvent(event), ok: false, status: 0, detail: `localStorage: ${e.message}`, at });
    return null;
  }
  renderOutbox();
  renderLists();
  sendSoon();
  return entry;
}

/** The "last ticket" and "last call" after the answer to `entry`, when they are about it. */
function settleRecent(entry, ok, body, detail) {
  const recent = state.recent;
  if (recent.issued?.key === entry.key) {
    recent.issued = ok
      // The link for the visitor's phone comes with the answer (and with its replay, byte for
      // byte); the slip's check-in time is when the desk checked the party in.
      ? { ...recent.issued, state: body.state, ticket: body.ticket, position: body.position ?? null, admitted: body.admitted || [],
        link: body.ticket_link ?? null, at: entry.queuedAt ?? null }
      : { ...recent.issued, state: "refused", detail };
  }
  if (recent.called?.key === entry.key) {
    recent.called = ok
      ? { ...recent.called, state: "called", ticket: body.ticket, desk: body.desk }
      : { ...recent.called, state: "refused", detail };
  }
  saveRecent();
}

/** Records the final answer to one outbox entry and points the big displays at it if it is
 * theirs. */
export function settle(entry, answer) {
  const ok = answer.status >= 200 && answer.status < 300;
  const body = answer.body || {};
  const detail = ok ? null : say(body.code, body.params, body.detail || body.title || `HTTP ${answer.status}`);
  addResult({ key: entry.key, event: publicEvent(entry.event), ok, status: answer.status, body: ok ? body : null,
    detail, replayed: answer.replayed, queuedAt: entry.queuedAt, at: new Date().toISOString() });
  settleRecent(entry, ok, body, detail);
  renderIssued();
  renderCalled();
  renderResults();
  // The answer makes the box taller; keep it in view if the clerk is still waiting for it (not
  // when it arrives minutes later from the outbox and the clerk is busy elsewhere on the page).
  if (state.recent.issued?.key === entry.key && Date.now() < state.revealUntil) revealIssued();
}

export function checkIn(serviceId) {
  const service = services().find((s) => s.id === serviceId);
  if (!service || !availability(service).ok) return;
  const party = Number($("party-size").value) || 1;
  const appointment = $("appointment").value.trim();
  const event = { kind: "check_in", service: service.id, party_size: party };
  if (appointment) event.appointment = appointment;
  const entry = enqueue(event);
  if (!entry) return;
  state.recent.issued = { key: entry.key, state: "queued", service: service.id, party };
  saveRecent();
  // Reset for the next party so a size or reference never carries over by mistake.
  setParty(1);
  $("appointment").value = "";
  renderIssued();
  flash(document.querySelector(`#service-buttons button[data-service="${CSS.escape(service.id)}"]`));
  state.revealUntil = Date.now() + 4000;
  revealIssued();
}

export function ticketAction(kind, ticket) {
  if (!TICKET_RE.test(ticket)) return false;
  enqueue({ kind, ticket });
  return true;
}

/** The desk number of the call form, remembered for the next visit; null (with the error shown)
 * when it is not a desk. */
export function checkedDesk() {
  const desk = $("desk").value.trim();
  if (!DESK_RE.test(desk)) {
    showError("desk-error", t().deskInvalid);
    $("desk").setAttribute("aria-invalid", "true");
    $("desk").focus();
    return null;
  }
  showError("desk-error", null);
  $("desk").removeAttribute("aria-invalid");
  localStorage.setItem(DESK_SLOT, desk);
  return desk;
}

/** Calls the next ticket to the desk (call-confirm.js asks first when the desk has one). */
export function callNext() {
  const desk = checkedDesk();
  if (!desk) return;
  const event = { kind: "call", desk };
  const service = $("call-service").value;
  if (service) event.service = service;
  const entry = enqueue(event);
  if (!entry) return;
  state.recent.called = { key: entry.key, state: "queued", desk, service: service || null };
  saveRecent();
  renderCalled();
}

/** Announces `desk`'s called `ticket` again on the lobby display. */
export function recall(desk, ticket) {
  if (!DESK_RE.test(desk) || !TICKET_RE.test(ticket)) return;
  enqueue({ kind: "recall", desk, ticket });
}

/** Moves waiting `ticket` to `service`'s queue (it keeps its number and its turn). */
export function transfer(ticket, service) {
  if (!TICKET_RE.test(ticket) || !services().some((s) => s.id === service)) return;
  enqueue({ kind: "transfer", ticket, service });
}

export function setParty(n) {
  const clamped = Math.max(1, Math.min(10, n));
  $("party-size").value = String(clamped);
}

/** On a short screen (tablet in landscape) the answer box can sit below the fold: bring it into
 * view, without moving the page when it is already fully visible. */
function revealIssued() {
  const box = $("issued").getBoundingClientRect();
  if (box.top < 0 || box.bottom > window.innerHeight) {
    $("issued").scrollIntoView({ block: "nearest", behavior: matchMedia("(prefers-reduced-motion: reduce)").matches ? "auto" : "smooth" });
  }
}

/** At start: a check-in queued in an earlier tab (sessionStorage gone, outbox kept) is still the
 * last one; a "queued" one that is no longer in the outbox was sent by another tab meanwhile (its
 * answer is in that tab's results), so it is forgotten here. */
export function restoreRecent() {
  const recent = state.recent;
  if (!recent.issued) {
    const lastCheckIn = readOutbox().filter((e) => e.event.kind === "check_in").pop();
    if (lastCheckIn) recent.issued = { key: lastCheckIn.key, state: "queued", service: lastCheckIn.event.service, party: lastCheckIn.event.party_size || 1 };
  }
  if (recent.issued?.state === "queued" && !readOutbox().some((e) => e.key === recent.issued.key)) recent.issued = null;
  if (recent.called?.state === "queued" && !readOutbox().some((e) => e.key === recent.called.key)) recent.called = null;
}
