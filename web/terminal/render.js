// The terminal's page drawn from the shared state: the header (station, connection, device), the
// status strip (sign, headcount, queue), the check-in buttons, the "last ticket" and "last call"
// boxes and the recent calls; renderAll redraws everything, also the lists and the outbox.
import { $, forgetRendered, h, replaceIfChanged } from "/assets/dom.js";
import { applyCatalogue } from "/assets/i18n.js";
import { hoursText, serviceName as nameOf } from "/assets/format.js";
import { icon } from "/assets/terminal/text.js";
import { isMine, readOutbox, sender, serviceName, services, state, stationName, t } from "/assets/terminal/state.js";
import { fmtTime, patch } from "/assets/terminal/view.js";
import { renderLists } from "/assets/terminal/lists.js";
import { availability } from "/assets/terminal/availability.js";
import { renderCurrent } from "/assets/terminal/current.js";
import { renderTicketLink } from "/assets/terminal/slip.js";
import { renderBooking } from "/assets/terminal/booking.js";
import { renderRemoteFigure } from "/assets/terminal/remote.js";
import { renderOutbox, renderResults, renderSignInOutbox } from "/assets/terminal/outbox-view.js";

export function renderHeader() {
  $("station-name").textContent = stationName();
  document.title = `${t().title} — ${stationName()} — lobbywatch`;
  const signedIn = Boolean(state.token);
  $("sign-out").hidden = !signedIn;
  $("conn").hidden = !signedIn;
  $("device").hidden = !signedIn;
  if (signedIn) {
    const conn = state.conn || "connecting";
    $("conn").className = `conn-pill ${conn}`;
    // "●" and "…" are in every font; the cross is an SVG (a "✕" glyph is missing from many fonts).
    const label = { open: ["● ", t().live], lost: [icon("cross"), " ", t().lost], connecting: ["… ", t().connecting] }[conn];
    replaceIfChanged($("conn"), label);
    $("device").textContent = state.me ? state.me.device : `${t().unverified}`;
  }
}

export function renderStatus() {
  const doc = state.doc;
  const sign = $("sign");
  if (!doc) {
    sign.className = "sign closed";
    sign.textContent = "…";
    $("headcount").textContent = "– / –";
    $("outside-count").textContent = "–";
    $("please-enter-box").hidden = true;
  } else {
    const kind = doc.open ? doc.sign : "closed";
    sign.className = `sign ${kind}`;
    const [symbol, label] = { enter: ["check", t().enter], wait_outside: ["stop", t().wait], closed: ["cross", t().closedSign] }[kind] || ["cross", kind];
    sign.replaceChildren(icon(symbol), ` ${label}`);
    $("headcount").textContent = `${doc.headcount} / ${doc.cap}`;
    // At the door only, when the document counts the parties waiting elsewhere apart.
    $("outside-count").textContent = String(doc.outside_at_door ?? doc.outside_total ?? doc.outside.length);
    $("please-enter-box").hidden = doc.please_enter.length === 0;
    $("please-enter").textContent = doc.please_enter.join(", ");
  }
  renderRemoteFigure();
  const stale = doc && state.conn === "lost";
  $("stale").hidden = !stale;
  if (stale) {
    const why = state.connReason ? ` (${state.connReason})` : "";
    $("stale").replaceChildren(icon("warn"), ` ${t().stale(fmtTime(doc.as_of))}${why}`);
  }
}

/** One check-in button: prefix, name, today's hours, who waits, the estimate, its shortcut key. */
function serviceButton(s, i) {
  const shortcut = i < 9 ? String(i + 1) : "";
  // The estimate only from the live document (a cached one would be stale); null means the
  // service has not measured enough yet, and no number is better than a made-up one.
  const live = state.doc?.services.find((x) => x.id === s.id);
  const estimate = live && live.estimated_wait_min !== undefined
    ? h("span", { class: `svc-est${live.estimated_wait_min == null ? " none" : ""}` }, icon("clock"),
      ` ${live.estimated_wait_min == null ? t().noEstimate : t().estimate(live.estimated_wait_min)}`)
    : null;
  const { ok, reason } = availability(s);
  // The last check-in is shown while it is still ahead, so the clerk can warn a party in time.
  const last = s.last_check_in ? ` · ${t().lastCheckIn(s.last_check_in)}` : "";
  const extra = ok
    ? [h("span", { class: "svc-sub" }, s.hours_today ? hoursText(s.hours_today) : "", state.doc ? ` · ${t().waitingIn(s.waiting_inside, s.waiting_outside)}` : ""),
      last ? h("span", { class: "svc-sub svc-last" }, icon("clock"), ` ${t().lastCheckIn(s.last_check_in)}`) : null, estimate]
    : [h("span", { class: "svc-sub svc-closed" }, icon("cross"), ` ${reason}`)];
  return h("button", { type: "button", class: `svc${ok ? "" : " closed"}`, dataset: { service: s.id }, disabled: !ok, "aria-keyshortcuts": shortcut || null },
    h("span", { class: "svc-prefix", "aria-hidden": "true" }, s.prefix || ""),
    h("span", { class: "svc-text" }, h("span", { class: "svc-name" }, nameOf(s)), extra),
    shortcut ? h("kbd", { class: "svc-key", "aria-hidden": "true" }, shortcut) : null);
}

export function renderServices() {
  const list = services();
  patch($("service-buttons"), list.length === 0 ? h("p", { class: "note" }, t().waitingServices) : list.map(serviceButton));
  if (state.focusServicesOnce && list.length) {
    // Right after signing in, the keyboard starts on the first check-in button.
    const first = document.querySelector("#service-buttons button:not([disabled])");
    if (first) { first.focus(); state.focusServicesOnce = false; }
  }

  // The call-next service filter follows the same list.
  const select = $("call-service");
  const previous = select.value;
  const options = [h("option", { value: "" }, t().anyService),
    ...list.map((s) => h("option", { value: s.id }, nameOf(s), s.prefix ? ` (${s.prefix})` : ""))];
  if (replaceIfChanged(select, options) && list.some((s) => s.id === previous)) select.value = previous;
}

/** What an action still in the outbox is doing: waiting for another device, being sent, or
 * `waiting` (the box's own "queued" text) while the service cannot be reached or nobody is signed in. */
function queuedText(key, waiting) {
  const entry = readOutbox().find((e) => e.key === key);
  if (entry && !isMine(entry) && entry.device) return t().queuedFor(entry.device);
  return sender.trouble || !state.token ? waiting : t().sending;
}

/** The "last ticket" box: what the clerk tells the party in front of the desk. */
function issuedVerdict(it) {
  if (it.state === "queued") {
    return [h("div", { class: "issued-ticket pending-ticket" }, icon("clock")), h("div", { class: "issued-verdict" }, queuedText(it.key, t().queued))];
  }
  if (it.state === "inside") {
    return [h("div", { class: "issued-ticket" }, it.ticket), h("div", { class: "issued-verdict" }, icon("check"), ` ${t().goInside}`)];
  }
  if (it.state === "outside") {
    return [h("div", { class: "issued-ticket" }, it.ticket),
      h("div", { class: "issued-verdict" }, icon("stop"), ` ${t().waitOutside}`, it.position ? ` — ${t().position(it.position)}` : ""),
      // The answer was "wait outside", but the live state may since have let the party in.
      state.doc?.please_enter.includes(it.ticket) ? h("p", { class: "issued-now" }, icon("enter"), ` ${t().nowEnter}`) : null];
  }
  if (it.state === "discarded") return [h("div", { class: "issued-verdict" }, icon("cross"), ` ${t().discarded}`)];
  return [h("div", { class: "issued-verdict" }, icon("cross"), ` ${t().refused}`), h("p", { class: "issued-detail" }, it.detail)];
}

/** Marks a result box with its state and ticket (the tests and the CSS read them). */
function markBox(box, boxState, ticket) {
  box.dataset.state = boxState;
  if (ticket) box.dataset.ticket = ticket;
  else box.removeAttribute("data-ticket");
}

export function renderIssued() {
  const box = $("issued");
  const it = state.recent.issued;
  renderTicketLink();
  markBox(box, it ? it.state : "none", it?.ticket);
  if (!it) {
    // Replaced only when it really changed: a screen reader would otherwise read the last ticket
    // out again on every live document.
    replaceIfChanged(box, h("p", { class: "note" }, t().noIssued));
    return;
  }
  const what = `${serviceName(it.service)} · ${t().persons(it.party || 1)}`;
  replaceIfChanged(box, h("p", { class: "issued-label" }, `${t().lastTicket} · ${what}`), issuedVerdict(it));
}

export function renderCalled() {
  const box = $("called");
  const c = state.recent.called;
  markBox(box, c ? c.state : "none", c?.ticket);
  const desk = (symbol, text) => h("span", { class: "called-desk" }, icon(symbol), ` ${text}`);
  if (!c) replaceIfChanged(box, h("p", { class: "note" }, t().noCalled));
  else if (c.state === "called") replaceIfChanged(box, h("span", { class: "called-ticket" }, c.ticket), " ", desk("call", t().calledNow(c.desk)));
  else if (c.state === "queued") replaceIfChanged(box, desk("clock", queuedText(c.key, t().callQueued)));
  else if (c.state === "discarded") replaceIfChanged(box, desk("cross", t().discarded));
  else replaceIfChanged(box, desk("cross", `${t().refused}:`), ` ${c.detail}`);
}

export function renderCalls() {
  const calls = state.doc?.calls || [];
  patch($("calls"), calls.length
    ? calls.map((c) => h("li", {}, h("span", { class: "tkt" }, c.ticket), ` → ${t().toDesk(c.desk)} `, h("small", {}, fmtTime(c.at))))
    : h("li", { class: "note" }, t().none));
}

export function renderAll() {
  renderHeader();
  renderStatus();
  renderServices();
  renderLists();
  renderIssued();
  renderCalled();
  renderBooking();
  renderResults();
  renderOutbox();
  renderCalls();
  renderCurrent();
  renderSignInOutbox();
}

/** Puts the texts in the current language into the page and redraws what the page draws itself. */
export function applyLanguage() {
  applyCatalogue(() => {
    document.title = `${t().title}${stationName() ? ` — ${stationName()}` : ""} — lobbywatch`;
    $("shortcuts").replaceChildren(...t().shortcuts.map(([k, v]) => h("div", {}, h("dt", {}, h("kbd", {}, k)), h("dd", {}, v))));
    for (const c of ["service-buttons", "inside-list", "outside-list", "results", "calls", "call-service", "outbox-held", "coming-list"]) forgetRendered($(c));
    renderAll();
  });
}
