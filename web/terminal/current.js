// The desk's current visitor: the ticket called to this desk (read from the live document), how
// long it has been served (ticking every second on the service's clock), and its "Recall"
// button. "Call next" asks about this ticket before it calls another (call-confirm.js).
import { $, replaceIfChanged } from "/assets/dom.js";
import { state, t } from "/assets/terminal/state.js";

/** The desk number typed in the call form. */
export const deskValue = () => $("desk").value.trim();

/** The party called to `desk` and not checked out (the latest call if there are several), or null. */
export function currentParty(desk = deskValue()) {
  const inside = Object.values(state.doc?.inside || {}).flat();
  const called = inside.filter((p) => p.desk === desk && p.called_at);
  called.sort((a, b) => Date.parse(b.called_at) - Date.parse(a.called_at));
  return called[0] || null;
}

/** Every timestamp the service sends is at or before its "now", so the largest `stamp − local
 * now` seen is the best estimate of how far the service's clock is ahead of this PC (the demo
 * runs on a shifted clock; a badly set PC would otherwise show a wrong time at the desk). */
export function noteServerTime(iso) {
  const stamp = Date.parse(iso);
  if (!Number.isFinite(stamp)) return;
  const observed = stamp - Date.now();
  state.skew = state.skew == null ? observed : Math.max(state.skew, observed);
}

/** How long since `iso` on the service's clock, as "m:ss" or "h:mm:ss". */
export function elapsedSince(iso) {
  const s = Math.max(0, Math.floor((Date.now() + (state.skew ?? 0) - Date.parse(iso)) / 1000));
  const pad = (n) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

/** Redraws the current-visitor box; called on each document and every second for the timer. */
export function renderCurrent() {
  const box = $("current");
  const party = state.token ? currentParty() : null;
  box.dataset.state = party ? "serving" : "none";
  if (party) box.dataset.ticket = party.ticket;
  else box.removeAttribute("data-ticket");
  replaceIfChanged($("current-ticket"), party ? party.ticket : t().noCurrent);
  $("current-served").textContent = party ? t().servedFor(elapsedSince(party.called_at)) : "";
  $("recall").hidden = !party;
  if (party) $("recall").setAttribute("aria-label", `${t().recall} ${party.ticket}`);
}
