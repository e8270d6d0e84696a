// Remote parties at the front desk: visitors who keep their place in the queue but wait
// elsewhere (the live document's outside[] with `remote: true`), and those asked in and not here
// yet (`coming`). The clerk sees them apart from the people at the door and marks each one
// "Arrived" when they are there (`{"kind": "arrived", "ticket": "P007"}`, through the outbox like
// every other action).
import { $, h } from "/assets/dom.js";
import { icon } from "/assets/terminal/text.js";
import { serviceName, state, t } from "/assets/terminal/state.js";
import { fmtTime, patch } from "/assets/terminal/view.js";

/** The "waiting elsewhere" mark of an outside row, or null for a party at the door. */
export function remoteBadge(party) {
  return party.remote ? h("span", { class: "remote-badge" }, icon("away"), ` ${t().remoteBadge}`) : null;
}

/** The actions of an outside row: a remote party can also be marked arrived. */
export function outsideActions(party) {
  return party.remote ? ["arrived", "no_show", "transfer"] : ["no_show", "transfer"];
}

/** The actions of an inside row: a called party is checked out or a no-show; one on its way
 * (remote, not here yet) is marked "Arrived" in the list of those coming, or a no-show. */
export function insideActions(party) {
  if (party.desk) return ["check_out", "no_show"];
  if (party.remote) return ["no_show"];
  return ["check_out", "no_show", "transfer"];
}

/** "on the way, until 10:42": a remote party asked in, and when its room stops being held. */
export function comingBadge(party) {
  const until = party.come_back_by ? ` ${t().comeBackBy(fmtTime(party.come_back_by))}` : "";
  return h("span", { class: "remote-badge" }, icon("enter"), ` ${t().comingBadge}${until}`);
}

/** The party inside with `ticket` (and its service), if the document lists it. */
function insideParty(doc, ticket) {
  for (const [service, parties] of Object.entries(doc.inside || {})) {
    const party = parties.find((p) => p.ticket === ticket);
    if (party) return { ...party, service };
  }
  return { ticket, service: null };
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
    const party = insideParty(state.doc, ticket);
    return h("li", { class: "row coming-row", dataset: { ticket, service: party.service } },
      h("span", { class: "tkt" }, ticket),
      h("span", { class: "meta" }, party.service ? h("span", { class: "svc-tag" }, serviceName(party.service)) : null, comingBadge(party)),
      h("span", { class: "acts" }, buttons(ticket, ["arrived"])));
  }));
}
