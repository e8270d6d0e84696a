// The lists a clerk works down: who is inside (grouped per service), who is asked in and on the
// way (remote.js), and the queue outside, each row with its check-out / no-show / arrived buttons
// — or a note that such an action is still waiting in the outbox. Booked parties are marked.
import { $, h } from "/assets/dom.js";
import { icon } from "/assets/terminal/text.js";
import { isMine, readOutbox, serviceName, services, state, t } from "/assets/terminal/state.js";
import { fmtTime, patch } from "/assets/terminal/view.js";
import { comingBadge, insideActions, outsideActions, remoteBadge, renderComing } from "/assets/terminal/remote.js";

/** Tickets with a check-out or no-show still in the outbox. This device's: their buttons are
 * disabled so a second click cannot queue the same action twice. Another device's: the buttons
 * stay (that action may never be sent), with a note that one is waiting. */
function pendingTickets() {
  const pending = new Map();
  // A no-show still waiting out its undo counts as this device's: nothing more to press on the row.
  for (const ticket of state.noShowSoon.keys()) pending.set(ticket, { mine: true, kind: "no_show" });
  for (const e of readOutbox()) {
    if (!e.event.ticket) continue;
    const mine = isMine(e);
    if (mine || !pending.has(e.event.ticket)) pending.set(e.event.ticket, { mine, device: e.device, kind: e.event.kind });
  }
  return pending;
}

/** The parts of a list row: its marks (party, appointment, a held action) and its buttons. */
function rowParts(pending) {
  const label = (a) => ({ check_out: t().checkOut, no_show: t().noShow, transfer: t().transfer, arrived: t().arrived })[a];
  const css = { check_out: "act-out", no_show: "act-noshow", transfer: "act-transfer", arrived: "act-arrived" };
  return {
    buttons: (ticket, actions) => (pending.get(ticket)?.mine
      ? h("span", { class: "pending" }, icon("clock"), ` ${state.noShowSoon.has(ticket) ? t().noShowWaiting : t().pending}`)
      : actions.map((a) => h("button", { type: "button", class: `act ${css[a]}`, dataset: { action: a }, "aria-label": `${label(a)} ${ticket}` }, label(a)))),
    party: (n) => (n > 1 ? h("span", { class: "party-badge" }, t().persons(n)) : null),
    // A booked party: marked with a word, not only a colour.
    booked: (p) => (p.booked ? h("span", { class: "booked-badge" }, icon("check"), ` ${t().bookedBadge}`) : null),
    appt: (a) => (a ? h("span", { class: "appt" }, `${t().appt} ${a}`) : null),
    held: (ticket) => {
      const p = pending.get(ticket);
      return p && !p.mine ? h("span", { class: "held-badge" }, icon("clock"), ` ${t().kinds[p.kind] || p.kind} ${t().heldFor(p.device || "?")}`) : null;
    },
    // Minutes until an outside party is expected in; null (nothing measured yet) shows nothing.
    eta: (m) => (m == null ? null : h("span", { class: "eta" }, icon("enter"), ` ${t().enterIn(m)}`)),
  };
}

function insideRow(p, parts, pleaseEnter) {
  // A remote party asked in and not here yet: marked, and "Arrived" is in the list above (remote.js).
  const state = p.desk
    ? h("span", { class: "called-badge" }, icon("call"), ` ${t().calledTo(p.desk)}`)
    : p.remote ? comingBadge(p)
      : pleaseEnter.has(p.ticket) ? h("span", { class: "enter-badge" }, icon("enter"), ` ${t().pleaseEnter}`) : null;
  return h("li", { dataset: { ticket: p.ticket, service: p.service }, class: `row${p.desk ? " is-called" : ""}` },
    h("span", { class: "tkt" }, p.ticket),
    h("span", { class: "meta" }, parts.booked(p), parts.party(p.party_size), state, h("span", { class: "when" }, t().enteredAt(fmtTime(p.entered_at))), parts.appt(p.appointment), parts.held(p.ticket)),
    h("span", { class: "acts" }, parts.buttons(p.ticket, insideActions(p))));
}

function outsideRow(p, parts) {
  return h("li", { dataset: { ticket: p.ticket, service: p.service }, class: `row${p.remote ? " is-remote" : ""}` },
    h("span", { class: "pos", "aria-hidden": "true" }, p.position),
    h("span", { class: "tkt" }, p.ticket),
    h("span", { class: "meta" }, h("span", { class: "svc-tag" }, serviceName(p.service)), remoteBadge(p), parts.booked(p), parts.party(p.party_size), parts.eta(p.expected_enter_min),
      h("span", { class: "when" }, t().since(fmtTime(p.since))), parts.appt(p.appointment), parts.held(p.ticket)),
    h("span", { class: "acts" }, parts.buttons(p.ticket, outsideActions(p))));
}

/** Inside, one group per service in the order of doc.services (then any other key); returns the
 * groups and how many parties they hold. */
function insideGroups(doc, parts) {
  const pleaseEnter = new Set(doc.please_enter);
  const ids = [...services().map((s) => s.id), ...Object.keys(doc.inside).filter((id) => !services().some((s) => s.id === id))];
  let count = 0;
  const groups = ids.filter((id) => doc.inside[id]).map((id) => {
    const parties = doc.inside[id];
    count += parties.length;
    return h("section", { class: "svc-group", "aria-label": serviceName(id) },
      h("h3", {}, `${serviceName(id)} `, h("span", { class: "count" }, parties.length)),
      parties.length ? h("ul", {}, parties.map((p) => insideRow({ ...p, service: id }, parts, pleaseEnter))) : h("p", { class: "note" }, t().none));
  });
  return { groups, count };
}

export function renderLists() {
  const doc = state.doc;
  if (!doc) {
    patch($("inside-list"), h("p", { class: "note" }, state.token ? t().connecting : ""));
    patch($("outside-list"));
    $("coming-box").hidden = true;
    $("inside-total").textContent = "";
    $("outside-total").textContent = "";
    return;
  }
  const parts = rowParts(pendingTickets());
  const inside = insideGroups(doc, parts);
  patch($("inside-list"), inside.groups);
  $("inside-total").textContent = `(${inside.count})`;

  renderComing(parts.buttons);
  const outside = doc.outside.map((p) => outsideRow(p, parts));
  patch($("outside-list"), outside.length ? outside : h("li", { class: "empty note" }, t().none));
  $("outside-total").textContent = `(${doc.outside_total ?? doc.outside.length})`;
}
