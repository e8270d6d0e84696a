// Remote parties at the front desk: visitors who keep their place in the queue but wait
// elsewhere (the live document's outside[] with `remote: true`), and those asked in and not here
// yet (`coming`). The clerk sees them apart from the people at the door and marks each one
// "Arrived" when they are there (`{"kind": "arrived", "ticket": "P007"}`, through the outbox like
// every other action).
import { $, h } from "/assets/dom.js";
import { icon } from "/assets/terminal/text.js";
import { serviceName, state, t } from "/assets/terminal/state.js";
import { patch } from "/assets/terminal/view.js";

/** The "waiting elsewhere" mark of an outside row, or null for a party at the door. */
export function remoteBadge(party) {
  return party.remote ? h("span", { class: "remote-badge" }, icon("away"), ` ${t().remoteBadge}`) : null;
}

/** The actions of an outside row: a remote party can also be marked arrived. */
export function outsideActions(party) {
  return party.remote ? ["arrived", "no_show", "transfer"] : ["no_show", "transfer"];
}

/** The service of `ticket` among the parties inside, if the document lists it there. */
function serviceOf(doc, ticket) {
  for (const [service, parties] of Object.entries(doc.inside || {})) {
    if (parties.some((p) => p.ticket === ticket)) return service;
  }
  return null;
}

/** The figure "waiting elsewhere" beside "waiting outside" (then: at the door only). */
export function renderRemoteFigure() {
  const doc = state.doc;
  const known = doc && doc.outside_remote != null;
  $("remote-figure").hidden = !known;
  if (known) $("remote-count").textContent = String(doc.outside_remote);
}

/** The tickets asked in and not here yet, each with "Arrived"; `buttons` draws a row's actions
 * (lists.js: a pending action shows instead of the buttons). */
export function renderComing(buttons) {
  const coming = state.doc?.coming || [];
  $("coming-box").hidden = coming.length === 0;
  $("coming-total").textContent = coming.length ? `(${coming.length})` : "";
  patch($("coming-list"), coming.map((ticket) => {
    const service = serviceOf(state.doc, ticket);
    return h("li", { class: "row coming-row", dataset: { ticket, service } },
      h("span", { class: "tkt" }, ticket),
      h("span", { class: "meta" }, service ? h("span", { class: "svc-tag" }, serviceName(service)) : null,
        h("span", { class: "remote-badge" }, icon("enter"), ` ${t().comingBadge}`)),
      h("span", { class: "acts" }, buttons(ticket, ["arrived"])));
  }));
}
