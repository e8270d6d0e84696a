// The outbox on the page: the banner (how many wait, and why), the other devices' held actions
// with their "Discard …", the results list (what is waiting, what was answered), and the note on
// the sign-in form about actions still waiting for a sign-in.
import { $, h, replaceIfChanged } from "/assets/dom.js";
import { icon } from "/assets/terminal/text.js";
import { heldGroups, isMine, myDevice, readOutbox, sender, serviceName, state, t } from "/assets/terminal/state.js";
import { describeEvent, fmtLocal, patch } from "/assets/terminal/view.js";

/** What one answered action did, in words. */
function resultText(r) {
  const e = r.event;
  if (r.discardedFrom) return t().rDiscarded(describeEvent(e), r.discardedFrom);
  if (!r.ok) return `${t().rRefused(describeEvent(e))}: ${r.detail}`;
  if (e.kind === "check_in") return r.body.state === "inside" ? t().rIn(r.body.ticket, serviceName(e.service)) : t().rOut(r.body.ticket, serviceName(e.service), r.body.position);
  if (e.kind === "check_out") return t().rCheckedOut(e.ticket);
  if (e.kind === "no_show") return t().rNoShow(e.ticket);
  if (e.kind === "call") return t().rCalled(r.body.ticket, r.body.desk);
  if (e.kind === "recall") return t().rRecalled(e.ticket, e.desk);
  if (e.kind === "transfer") return t().rTransferred(e.ticket, serviceName(e.service));
  if (e.kind === "arrived") return t().rArrived(e.ticket);
  if (e.kind === "booking_arrived") return t().rBookingIn(r.body.ticket);
  return describeEvent(e);
}

/** One outbox entry still waiting, as a results row. */
function pendingRow(e) {
  return h("li", { class: "res pending" },
    h("span", { class: "res-icon" }, icon("clock")),
    h("span", { class: "res-text" }, `${describeEvent(e.event)} — ${isMine(e) || !e.device ? t().waitingToSend : t().heldFor(e.device)} `,
      h("small", {}, `(${t().queuedAt(fmtLocal(e.queuedAt))})`)));
}

/** One answered (or discarded) action, as a results row. */
function resultRow(r) {
  const admitted = r.ok && r.body?.admitted?.length ? [" ", h("strong", { class: "admitted" }, t().rAdmitted(r.body.admitted.join(", ")))] : [];
  const late = r.queuedAt && r.at && Date.parse(r.at) - Date.parse(r.queuedAt) > 3000 ? `, ${t().queuedAt(fmtLocal(r.queuedAt))}` : "";
  return h("li", { class: `res ${r.ok ? "ok" : "bad"}` }, h("span", { class: "res-icon" }, icon(r.ok ? "check" : "cross")),
    h("span", { class: "res-text" }, resultText(r), admitted, " ",
      h("small", {}, `(${fmtLocal(r.at)}${late}${r.replayed ? `, ${t().replayed}` : ""})`)));
}

export function renderResults() {
  const items = [...readOutbox().slice().reverse().map(pendingRow), ...state.recent.results.map(resultRow)];
  patch($("results"), items.length ? items : h("li", { class: "note" }, t().noResults));
}

/** The banner's mode: all sent ("ok"), sending, the service "down" or "busy", or "held" (only
 * other devices' actions wait). */
function outboxMode(count, own) {
  if (count === 0) return "ok";
  if (own === 0) return "held";
  return sender.trouble ? sender.trouble : "sending";
}

export function renderOutbox() {
  const list = readOutbox();
  // Every entry counts, also those waiting for another device: none of them has been sent.
  const count = list.length;
  const own = myDevice() ? list.filter(isMine).length : count;
  if ($("outbox-count").textContent !== String(count)) $("outbox-count").textContent = String(count);
  const mode = outboxMode(count, own);
  const banner = $("outbox-banner");
  banner.className = `outbox ${mode}`;
  const symbol = { ok: "check", sending: "sync", down: "warn", busy: "warn", held: "clock" }[mode];
  if (banner.dataset.icon !== symbol) {
    banner.querySelector(".outbox-icon").replaceChildren(icon(symbol));
    banner.dataset.icon = symbol;
  }
  const text = mode === "held" ? t().outboxText.held(count) : t().outboxText[mode];
  // Written only when it changes, so screen readers announce a change once.
  if ($("outbox-text").textContent !== text) $("outbox-text").textContent = text;
  let retry = "";
  if ((mode === "down" || mode === "busy") && sender.retryAt && !sender.running) {
    retry = t().nextTry(Math.max(0, Math.ceil((sender.retryAt - Date.now()) / 1000)));
  }
  $("outbox-retry").textContent = retry;
  $("retry-now").hidden = !(own > 0 && sender.trouble && state.token);
  renderHeld(list);
  renderResults();
}

/** One line per other device whose actions wait here, each with its explicit "Discard …". */
function renderHeld(list) {
  const box = $("outbox-held");
  const groups = state.token ? heldGroups(list) : new Map();
  box.hidden = groups.size === 0;
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.discard : null;
  const rows = [...groups].map(([device, entries]) => h("div", { class: "held-row" }, icon("clock"),
    h("span", { class: "held-text" }, h("strong", {}, entries.length), ` ${t().heldBy(entries.length, device)}`),
    h("button", { type: "button", class: "held-discard", dataset: { discard: device }, "aria-label": t().discardFor(device) }, t().discard)));
  if (replaceIfChanged(box, rows) && focused != null) box.querySelector(`[data-discard="${CSS.escape(focused)}"]`)?.focus();
}

/** On the sign-in form: how many actions wait, per device, to be sent after a sign-in. */
export function renderSignInOutbox() {
  const groups = new Map();
  for (const entry of readOutbox()) {
    const device = entry.device || "";
    groups.set(device, (groups.get(device) || 0) + 1);
  }
  $("sign-in-outbox").hidden = groups.size === 0 || Boolean(state.token);
  $("sign-in-outbox").replaceChildren(...[...groups].map(([device, n]) =>
    h("p", {}, icon("warn"), ` ${device ? t().outboxSignedOutBy(n, device) : t().outboxSignedOut(n)}`)));
}
