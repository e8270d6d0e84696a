// The front-desk terminal: check parties in, check them out, call the next ticket — and never lose
// or double one of those actions, even while the service is unreachable.
//
// Every action goes through the outbox (outbox.js): it is written to localStorage (with its own
// Idempotency-Key) BEFORE anything is sent, and one sender sends the outbox strictly in order.
// A retry reuses the entry's key, so the service applies each action exactly once however many
// times it is sent. The live socket only ever *shows* state; it never decides whether an action
// happened.
import { getJson, live, newKey, postEvent, session, withToken } from "/assets/common.js";
import { $, forgetRendered, h, replaceIfChanged } from "/assets/dom.js";
import { applyTexts, languageSwitch, translator } from "/assets/i18n.js";
import { formatTime, hoursText, serviceName as nameOf } from "/assets/format.js";
import { Outbox, Sender, isMine as mayBeSentBy } from "/assets/outbox.js";
import { TEXT, icon } from "/assets/terminal/text.js";

const station = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const tokenStore = session(`terminal.${station}`);
const DESK_SLOT = `lobbywatch.desk.${station}`;
// The services and station name of the last document, so a reload while the service is down
// still shows the check-in buttons (check-ins then wait in the outbox).
const CACHE_SLOT = `lobbywatch.terminal.cache.${station}`;
// What this tab last issued/called and its recent results; survives a reload of the tab only.
const RECENT_SLOT = `lobbywatch.terminal.recent.${station}`;
// The device id of the signed-in token (from /me), next to the token in this tab's session: an
// outbox entry is stamped with it even when the page is reloaded while the service is down.
const DEVICE_SLOT = `lobbywatch.terminal.device.${station}`;
const TICKET_RE = /^[A-Z][0-9]{1,6}$/;
const DESK_RE = /^[A-Za-z0-9-]{1,16}$/;
const SEND_TIMEOUT_MS = 15000;
const MAX_RESULTS = 20;

const t = translator(TEXT);

let token = null;
let me = null; // the /me answer once verified
let doc = null; // the latest full status document
let cache = readJson(localStorage, CACHE_SLOT, null);
let closeLive = null;
let focusServicesOnce = false;
let revealUntil = 0; // until when an arriving check-in answer may scroll itself into view
let conn = null; // null | "open" | "lost"
let recent = readJson(sessionStorage, RECENT_SLOT, null) || { issued: null, called: null, results: [] };

function readJson(store, slot, fallback) {
  try {
    const value = JSON.parse(store.getItem(slot));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}
function saveRecent() {
  try { sessionStorage.setItem(RECENT_SLOT, JSON.stringify(recent)); } catch { /* display memory only */ }
}

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

const outbox = new Outbox({ storage: localStorage, slot: `lobbywatch.outbox.${station}`, newKey });

/** The outbox as stored now. Always read fresh: another tab of this station may have changed it. */
const readOutbox = () => outbox.read();

/** The device this tab is signed in as, or null (signed out, or a stored token whose /me answer
 * is not known yet). */
function myDevice() {
  if (!token) return null;
  return me?.device || sessionStorage.getItem(DEVICE_SLOT) || null;
}

/** May this tab send `entry`? Only with the token of the device that queued it (see outbox.js). */
const isMine = (entry) => mayBeSentBy(entry, myDevice());

/** Entries that wait for another device to sign in again, grouped by that device. */
const heldGroups = (list) => outbox.heldGroups(myDevice(), list);

/**
 * Appends an action to the outbox (persisted first) and wakes the sender. Returns the entry, or
 * null when it could not be stored — then nothing is sent either, so the clerk sees it failed and
 * can try again instead of believing it is safe.
 */
function enqueue(event) {
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

const sender = new Sender({
  outbox,
  credentials: () => ({ token, device: myDevice() }),
  post: (sendToken, entry) => postEvent(station, sendToken, entry.key, entry.event),
  timeoutMs: SEND_TIMEOUT_MS,
  onAnswer: settle,
  onTokenRefused: (answer, sendToken) => {
    if (token === sendToken) tokenRefused(answer.body?.detail || answer.body?.title || `HTTP ${answer.status}`);
  },
  onChange: (running) => {
    renderOutbox();
    if (running) return;
    renderLists();
    renderIssued();
    renderCalled();
  },
});
const sendSoon = () => sender.sendSoon();
const retryNow = () => sender.retryNow();

/** Records the final answer to one outbox entry and points the big displays at it if it is
 * theirs. */
function settle(entry, answer) {
  const ok = answer.status >= 200 && answer.status < 300;
  const body = answer.body || {};
  const detail = ok ? null : (body.detail || body.title || `HTTP ${answer.status}`);
  addResult({ key: entry.key, event: publicEvent(entry.event), ok, status: answer.status, body: ok ? body : null,
    detail, replayed: answer.replayed, queuedAt: entry.queuedAt, at: new Date().toISOString() });
  if (recent.issued?.key === entry.key) {
    recent.issued = ok
      ? { ...recent.issued, state: body.state, ticket: body.ticket, position: body.position ?? null, admitted: body.admitted || [] }
      : { ...recent.issued, state: "refused", detail };
  }
  if (recent.called?.key === entry.key) {
    recent.called = ok
      ? { ...recent.called, state: "called", ticket: body.ticket, desk: body.desk }
      : { ...recent.called, state: "refused", detail };
  }
  saveRecent();
  renderIssued();
  renderCalled();
  renderResults();
  // The answer makes the box taller; keep it in view if the clerk is still waiting for it (not
  // when it arrives minutes later from the outbox and the clerk is busy elsewhere on the page).
  if (recent.issued?.key === entry.key && Date.now() < revealUntil) revealIssued();
}

/** The event without the appointment reference: results are display memory, kept in
 * sessionStorage, and an appointment reference is personal data they do not need. */
function publicEvent(event) {
  const { appointment, ...rest } = event;
  return rest;
}

function addResult(result) {
  recent.results = [result, ...recent.results.filter((r) => r.key !== result.key)].slice(0, MAX_RESULTS);
  saveRecent();
  renderResults();
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

function services() {
  return doc?.services || cache?.services || [];
}
function serviceName(id) {
  const s = services().find((x) => x.id === id);
  return s ? nameOf(s) : id;
}

function checkIn(serviceId) {
  const service = services().find((s) => s.id === serviceId);
  if (!service || !service.open) return;
  const party = Number($("party-size").value) || 1;
  const appointment = $("appointment").value.trim();
  const event = { kind: "check_in", service: service.id, party_size: party };
  if (appointment) event.appointment = appointment;
  const entry = enqueue(event);
  if (!entry) return;
  recent.issued = { key: entry.key, state: "queued", service: service.id, party };
  saveRecent();
  // Reset for the next party so a size or reference never carries over by mistake.
  setParty(1);
  $("appointment").value = "";
  renderIssued();
  flash(document.querySelector(`#service-buttons button[data-service="${CSS.escape(service.id)}"]`));
  revealUntil = Date.now() + 4000;
  revealIssued();
}

function ticketAction(kind, ticket) {
  if (!TICKET_RE.test(ticket)) return false;
  enqueue({ kind, ticket });
  return true;
}

function callNext() {
  const desk = $("desk").value.trim();
  if (!DESK_RE.test(desk)) {
    showError("desk-error", t().deskInvalid);
    $("desk").setAttribute("aria-invalid", "true");
    $("desk").focus();
    return;
  }
  showError("desk-error", null);
  $("desk").removeAttribute("aria-invalid");
  localStorage.setItem(DESK_SLOT, desk);
  const event = { kind: "call", desk };
  const service = $("call-service").value;
  if (service) event.service = service;
  const entry = enqueue(event);
  if (!entry) return;
  recent.called = { key: entry.key, state: "queued", desk, service: service || null };
  saveRecent();
  renderCalled();
}

function setParty(n) {
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

function showError(id, message) {
  $(id).hidden = !message;
  $(id).textContent = message || "";
}

function flash(el) {
  if (!el) return;
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/** A time of the station on the station's clock (our own timestamps use the PC's: fmtLocal). */
function fmtTime(iso) {
  return formatTime(iso, { timeZone: doc?.timezone });
}
function fmtLocal(iso) {
  return formatTime(iso, { seconds: true });
}

/**
 * Replaces a container's children only when they changed, and keeps keyboard focus on the same
 * control (same ticket + action, or same service) across the replacement: the live document
 * arrives several times a minute and must not throw a clerk's focus back to the top of the page.
 */
function patch(container, ...nodes) {
  const active = document.activeElement;
  let restore = null;
  if (active && active !== document.body && container.contains(active)) {
    const row = active.closest("[data-ticket]");
    if (active.dataset.service) restore = { service: active.dataset.service };
    else if (row && active.dataset.action) {
      const rows = [...container.querySelectorAll("[data-ticket]")];
      restore = { ticket: row.dataset.ticket, action: active.dataset.action, index: rows.indexOf(row) };
    }
  }
  if (!replaceIfChanged(container, ...nodes) || !restore) return;
  if (restore.service) {
    container.querySelector(`button[data-service="${CSS.escape(restore.service)}"]`)?.focus();
    return;
  }
  // Same ticket and action if it is still there; otherwise (it was just checked out, or is being
  // sent) the same action on the ticket that took its place, so a clerk working down the list
  // with the keyboard keeps their place.
  const same = container.querySelector(`[data-ticket="${CSS.escape(restore.ticket)}"] [data-action="${CSS.escape(restore.action)}"]`);
  if (same) { same.focus(); return; }
  const rows = [...container.querySelectorAll("[data-ticket]")];
  const order = [...rows.slice(restore.index), ...rows.slice(0, restore.index).reverse()];
  for (const row of order) {
    if (row.dataset.ticket === restore.ticket) continue;
    const button = row.querySelector(`[data-action="${CSS.escape(restore.action)}"]`) || row.querySelector("[data-action]");
    if (button) { button.focus(); return; }
  }
  container.closest("section")?.querySelector("h2")?.focus();
}

function applyLanguage() {
  applyTexts(TEXT, () => {
    document.title = `${t().title}${stationName() ? ` — ${stationName()}` : ""} — lobbywatch`;
    $("shortcuts").replaceChildren(...t().shortcuts.map(([k, v]) => h("div", {}, h("dt", {}, h("kbd", {}, k)), h("dd", {}, v))));
    for (const c of ["service-buttons", "inside-list", "outside-list", "results", "calls", "call-service", "outbox-held"]) forgetRendered($(c));
    renderAll();
  });
}

function stationName() {
  return doc?.name || me?.stations?.find((s) => s.id === station)?.name || cache?.name || station;
}

function renderAll() {
  renderHeader();
  renderStatus();
  renderServices();
  renderLists();
  renderIssued();
  renderCalled();
  renderResults();
  renderOutbox();
  renderCalls();
  renderSignInOutbox();
}

function renderHeader() {
  $("station-name").textContent = stationName();
  document.title = `${t().title} — ${stationName()} — lobbywatch`;
  const signedIn = Boolean(token);
  $("sign-out").hidden = !signedIn;
  $("conn").hidden = !signedIn;
  $("device").hidden = !signedIn;
  if (signedIn) {
    const state = conn || "connecting";
    $("conn").className = `conn-pill ${state}`;
    // "●" and "…" are in every font; the cross is an SVG (a "✕" glyph is missing from many fonts).
    const label = { open: ["● ", t().live], lost: [icon("cross"), " ", t().lost], connecting: ["… ", t().connecting] }[state];
    replaceIfChanged($("conn"), label);
    $("device").textContent = me ? me.device : `${t().unverified}`;
  }
}

function renderStatus() {
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
    $("outside-count").textContent = String(doc.outside.length);
    $("please-enter-box").hidden = doc.please_enter.length === 0;
    $("please-enter").textContent = doc.please_enter.join(", ");
  }
  const stale = doc && conn === "lost";
  $("stale").hidden = !stale;
  if (stale) $("stale").replaceChildren(icon("warn"), ` ${t().stale(fmtTime(doc.as_of))}`);
}

/** One check-in button: prefix, name, today's hours, who waits, the estimate, its shortcut key. */
function serviceButton(s, i) {
  const shortcut = i < 9 ? String(i + 1) : "";
  // The estimate only from the live document (a cached one would be stale); null means the
  // service has not measured enough yet, and no number is better than a made-up one.
  const live = doc?.services.find((x) => x.id === s.id);
  const estimate = live && live.estimated_wait_min !== undefined
    ? h("span", { class: `svc-est${live.estimated_wait_min == null ? " none" : ""}` }, icon("clock"),
      ` ${live.estimated_wait_min == null ? t().noEstimate : t().estimate(live.estimated_wait_min)}`)
    : null;
  const extra = s.open
    ? [h("span", { class: "svc-sub" }, s.hours_today ? hoursText(s.hours_today) : "", doc ? ` · ${t().waitingIn(s.waiting_inside, s.waiting_outside)}` : ""), estimate]
    : [h("span", { class: "svc-sub svc-closed" }, icon("cross"), ` ${t().closed}`)];
  return h("button", { type: "button", class: `svc${s.open ? "" : " closed"}`, dataset: { service: s.id }, disabled: !s.open, "aria-keyshortcuts": shortcut || null },
    h("span", { class: "svc-prefix", "aria-hidden": "true" }, s.prefix || ""),
    h("span", { class: "svc-text" }, h("span", { class: "svc-name" }, nameOf(s)), extra),
    shortcut ? h("kbd", { class: "svc-key", "aria-hidden": "true" }, shortcut) : null);
}

function renderServices() {
  const list = services();
  patch($("service-buttons"), list.length === 0 ? h("p", { class: "note" }, t().waitingServices) : list.map(serviceButton));
  if (focusServicesOnce && list.length) {
    // Right after signing in, the keyboard starts on the first check-in button.
    const first = document.querySelector("#service-buttons button:not([disabled])");
    if (first) { first.focus(); focusServicesOnce = false; }
  }

  // The call-next service filter follows the same list.
  const select = $("call-service");
  const previous = select.value;
  const options = [h("option", { value: "" }, t().anyService),
    ...list.map((s) => h("option", { value: s.id }, nameOf(s), s.prefix ? ` (${s.prefix})` : ""))];
  if (replaceIfChanged(select, options) && list.some((s) => s.id === previous)) select.value = previous;
}

/** Tickets with a check-out or no-show still in the outbox. This device's: their buttons are
 * disabled so a second click cannot queue the same action twice. Another device's: the buttons
 * stay (that action may never be sent), with a note that one is waiting. */
function pendingTickets() {
  const pending = new Map();
  for (const e of readOutbox()) {
    if (!e.event.ticket) continue;
    const mine = isMine(e);
    if (mine || !pending.has(e.event.ticket)) pending.set(e.event.ticket, { mine, device: e.device, kind: e.event.kind });
  }
  return pending;
}

/** The parts of a list row: its marks (party, appointment, a held action) and its buttons. */
function rowParts(pending) {
  const label = (a) => (a === "check_out" ? t().checkOut : t().noShow);
  return {
    buttons: (ticket, actions) => (pending.get(ticket)?.mine
      ? h("span", { class: "pending" }, icon("clock"), ` ${t().pending}`)
      : actions.map((a) => h("button", { type: "button", class: `act ${a === "check_out" ? "act-out" : "act-noshow"}`, dataset: { action: a }, "aria-label": `${label(a)} ${ticket}` }, label(a)))),
    party: (n) => (n > 1 ? h("span", { class: "party-badge" }, t().persons(n)) : null),
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
  const state = p.desk
    ? h("span", { class: "called-badge" }, icon("call"), ` ${t().calledTo(p.desk)}`)
    : pleaseEnter.has(p.ticket) ? h("span", { class: "enter-badge" }, icon("enter"), ` ${t().pleaseEnter}`) : null;
  return h("li", { dataset: { ticket: p.ticket }, class: `row${p.desk ? " is-called" : ""}` },
    h("span", { class: "tkt" }, p.ticket),
    h("span", { class: "meta" }, parts.party(p.party_size), state, h("span", { class: "when" }, t().enteredAt(fmtTime(p.entered_at))), parts.appt(p.appointment), parts.held(p.ticket)),
    h("span", { class: "acts" }, parts.buttons(p.ticket, ["check_out", "no_show"])));
}

function outsideRow(p, parts) {
  return h("li", { dataset: { ticket: p.ticket }, class: "row" },
    h("span", { class: "pos", "aria-hidden": "true" }, p.position),
    h("span", { class: "tkt" }, p.ticket),
    h("span", { class: "meta" }, h("span", { class: "svc-tag" }, serviceName(p.service)), parts.party(p.party_size), parts.eta(p.expected_enter_min),
      h("span", { class: "when" }, t().since(fmtTime(p.since))), parts.appt(p.appointment), parts.held(p.ticket)),
    h("span", { class: "acts" }, parts.buttons(p.ticket, ["no_show"])));
}

function renderLists() {
  if (!doc) {
    patch($("inside-list"), h("p", { class: "note" }, token ? t().connecting : ""));
    patch($("outside-list"));
    $("inside-total").textContent = "";
    $("outside-total").textContent = "";
    return;
  }
  const parts = rowParts(pendingTickets());
  const pleaseEnter = new Set(doc.please_enter);
  // Inside, grouped per service in the order of doc.services (then any other key).
  const ids = [...services().map((s) => s.id), ...Object.keys(doc.inside).filter((id) => !services().some((s) => s.id === id))];
  let insideCount = 0;
  const groups = ids.filter((id) => doc.inside[id]).map((id) => {
    const parties = doc.inside[id];
    insideCount += parties.length;
    return h("section", { class: "svc-group", "aria-label": serviceName(id) },
      h("h3", {}, `${serviceName(id)} `, h("span", { class: "count" }, parties.length)),
      parties.length ? h("ul", {}, parties.map((p) => insideRow(p, parts, pleaseEnter))) : h("p", { class: "note" }, t().none));
  });
  patch($("inside-list"), groups);
  $("inside-total").textContent = `(${insideCount})`;

  const outside = doc.outside.map((p) => outsideRow(p, parts));
  patch($("outside-list"), outside.length ? outside : h("li", { class: "empty note" }, t().none));
  $("outside-total").textContent = `(${doc.outside.length})`;
}

/** The "last ticket" box: what the clerk tells the party in front of the desk. */
function issuedVerdict(it) {
  if (it.state === "queued") {
    const entry = readOutbox().find((e) => e.key === it.key);
    const text = entry && !isMine(entry) && entry.device ? t().queuedFor(entry.device) : sender.trouble || !token ? t().queued : t().sending;
    return [h("div", { class: "issued-ticket pending-ticket" }, icon("clock")), h("div", { class: "issued-verdict" }, text)];
  }
  if (it.state === "inside") {
    return [h("div", { class: "issued-ticket" }, it.ticket), h("div", { class: "issued-verdict" }, icon("check"), ` ${t().goInside}`)];
  }
  if (it.state === "outside") {
    return [h("div", { class: "issued-ticket" }, it.ticket),
      h("div", { class: "issued-verdict" }, icon("stop"), ` ${t().waitOutside}`, it.position ? ` — ${t().position(it.position)}` : ""),
      // The answer was "wait outside", but the live state may since have let the party in.
      doc?.please_enter.includes(it.ticket) ? h("p", { class: "issued-now" }, icon("enter"), ` ${t().nowEnter}`) : null];
  }
  if (it.state === "discarded") return [h("div", { class: "issued-verdict" }, icon("cross"), ` ${t().discarded}`)];
  return [h("div", { class: "issued-verdict" }, icon("cross"), ` ${t().refused}`), h("p", { class: "issued-detail" }, it.detail)];
}

function renderIssued() {
  const box = $("issued");
  const it = recent.issued;
  if (!it) {
    box.dataset.state = "none";
    box.removeAttribute("data-ticket");
    // Replaced only when it really changed: a screen reader would otherwise read the last ticket
    // out again on every live document.
    replaceIfChanged(box, h("p", { class: "note" }, t().noIssued));
    return;
  }
  box.dataset.state = it.state;
  if (it.ticket) box.dataset.ticket = it.ticket;
  else box.removeAttribute("data-ticket");
  const what = `${serviceName(it.service)} · ${t().persons(it.party || 1)}`;
  replaceIfChanged(box, h("p", { class: "issued-label" }, `${t().lastTicket} · ${what}`), issuedVerdict(it));
}

function renderCalled() {
  const box = $("called");
  const c = recent.called;
  if (!c) {
    box.dataset.state = "none";
    box.removeAttribute("data-ticket");
    replaceIfChanged(box, h("p", { class: "note" }, t().noCalled));
    return;
  }
  box.dataset.state = c.state;
  if (c.ticket) box.dataset.ticket = c.ticket;
  else box.removeAttribute("data-ticket");
  const desk = (symbol, text) => h("span", { class: "called-desk" }, icon(symbol), ` ${text}`);
  if (c.state === "called") {
    replaceIfChanged(box, h("span", { class: "called-ticket" }, c.ticket), " ", desk("call", t().calledNow(c.desk)));
  } else if (c.state === "queued") {
    const entry = readOutbox().find((e) => e.key === c.key);
    const text = entry && !isMine(entry) && entry.device ? t().queuedFor(entry.device) : sender.trouble || !token ? t().callQueued : t().sending;
    replaceIfChanged(box, desk("clock", text));
  } else if (c.state === "discarded") {
    replaceIfChanged(box, desk("cross", t().discarded));
  } else {
    replaceIfChanged(box, desk("cross", `${t().refused}:`), ` ${c.detail}`);
  }
}

function describeEvent(e) {
  const kind = t().kinds[e.kind] || e.kind;
  if (e.kind === "check_in") return `${kind} ${serviceName(e.service)}${e.party_size > 1 ? `, ${t().persons(e.party_size)}` : ""}`;
  if (e.kind === "call") return `${kind} (${t().toDesk(e.desk)}${e.service ? `, ${serviceName(e.service)}` : ""})`;
  return `${kind} ${e.ticket || ""}`;
}

/** What one answered action did, in words. */
function resultText(r) {
  const e = r.event;
  if (r.discardedFrom) return t().rDiscarded(describeEvent(e), r.discardedFrom);
  if (!r.ok) return `${t().rRefused(describeEvent(e))}: ${r.detail}`;
  if (e.kind === "check_in") return r.body.state === "inside" ? t().rIn(r.body.ticket, serviceName(e.service)) : t().rOut(r.body.ticket, serviceName(e.service), r.body.position);
  if (e.kind === "check_out") return t().rCheckedOut(e.ticket);
  if (e.kind === "no_show") return t().rNoShow(e.ticket);
  if (e.kind === "call") return t().rCalled(r.body.ticket, r.body.desk);
  return describeEvent(e);
}

function renderResults() {
  const pending = readOutbox().slice().reverse().map((e) => h("li", { class: "res pending" },
    h("span", { class: "res-icon" }, icon("clock")),
    h("span", { class: "res-text" }, `${describeEvent(e.event)} — ${isMine(e) || !e.device ? t().waitingToSend : t().heldFor(e.device)} `,
      h("small", {}, `(${t().queuedAt(fmtLocal(e.queuedAt))})`))));
  const done = recent.results.map((r) => {
    const admitted = r.ok && r.body?.admitted?.length ? [" ", h("strong", { class: "admitted" }, t().rAdmitted(r.body.admitted.join(", ")))] : [];
    const late = r.queuedAt && r.at && Date.parse(r.at) - Date.parse(r.queuedAt) > 3000 ? `, ${t().queuedAt(fmtLocal(r.queuedAt))}` : "";
    return h("li", { class: `res ${r.ok ? "ok" : "bad"}` }, h("span", { class: "res-icon" }, icon(r.ok ? "check" : "cross")),
      h("span", { class: "res-text" }, resultText(r), admitted, " ",
        h("small", {}, `(${fmtLocal(r.at)}${late}${r.replayed ? `, ${t().replayed}` : ""})`)));
  });
  const items = [...pending, ...done];
  patch($("results"), items.length ? items : h("li", { class: "note" }, t().noResults));
}

function renderCalls() {
  const calls = doc?.calls || [];
  patch($("calls"), calls.length
    ? calls.map((c) => h("li", {}, h("span", { class: "tkt" }, c.ticket), ` → ${t().toDesk(c.desk)} `, h("small", {}, fmtTime(c.at))))
    : h("li", { class: "note" }, t().none));
}

function renderOutbox() {
  const list = readOutbox();
  // Every entry counts, also those waiting for another device: none of them has been sent.
  const count = list.length;
  const own = myDevice() ? list.filter(isMine).length : count;
  if ($("outbox-count").textContent !== String(count)) $("outbox-count").textContent = String(count);
  const mode = count === 0 ? "ok" : own === 0 ? "held" : sender.trouble ? sender.trouble : "sending";
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
  $("retry-now").hidden = !(own > 0 && sender.trouble && token);
  renderHeld(list);
  renderResults();
}

/** One line per other device whose actions wait here, each with its explicit "Discard …". */
function renderHeld(list) {
  const box = $("outbox-held");
  const groups = token ? heldGroups(list) : new Map();
  box.hidden = groups.size === 0;
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.discard : null;
  const rows = [...groups].map(([device, entries]) => h("div", { class: "held-row" }, icon("clock"),
    h("span", { class: "held-text" }, h("strong", {}, entries.length), ` ${t().heldBy(entries.length, device)}`),
    h("button", { type: "button", class: "held-discard", dataset: { discard: device }, "aria-label": t().discardFor(device) }, t().discard)));
  if (replaceIfChanged(box, rows) && focused != null) box.querySelector(`[data-discard="${CSS.escape(focused)}"]`)?.focus();
}

function renderSignInOutbox() {
  const groups = new Map();
  for (const entry of readOutbox()) {
    const device = entry.device || "";
    groups.set(device, (groups.get(device) || 0) + 1);
  }
  $("sign-in-outbox").hidden = groups.size === 0 || Boolean(token);
  $("sign-in-outbox").replaceChildren(...[...groups].map(([device, n]) =>
    h("p", {}, icon("warn"), ` ${device ? t().outboxSignedOutBy(n, device) : t().outboxSignedOut(n)}`)));
}

// ---------------------------------------------------------------------------------------------
// Live document
// ---------------------------------------------------------------------------------------------

function onDocument(next) {
  if (next.station !== station) return;
  doc = next;
  try {
    cache = { name: doc.name, services: doc.services.map(({ id, name, name_en, prefix, open, hours_today }) => ({ id, name, name_en, prefix, open, hours_today })) };
    localStorage.setItem(CACHE_SLOT, JSON.stringify(cache));
  } catch { /* the cache only helps a reload while offline */ }
  renderHeader();
  renderStatus();
  renderServices();
  renderLists();
  renderCalls();
  renderIssued();
}

function onConnection(state) {
  const wasLost = conn === "lost";
  conn = state;
  renderHeader();
  renderStatus();
  if (state === "open") {
    if (!me) verify(token, true); // signed in from storage while the service was down
    if (wasLost || readOutbox().length) retryNow();
  }
}

function startLive() {
  if (closeLive) closeLive();
  conn = null;
  closeLive = live(withToken(`/api/v1/stations/${encodeURIComponent(station)}/live`, token), onDocument, onConnection);
}

// ---------------------------------------------------------------------------------------------
// Sign-in
// ---------------------------------------------------------------------------------------------

/** Why this /me answer may not run this desk, or null when it may. */
function refusal(answer) {
  if (answer.role !== "terminal" && answer.role !== "guard") return t().errRole(answer.role);
  const stations = answer.stations || [];
  if (!stations.some((s) => s.id === station)) {
    const names = stations.map((s) => `${s.name} (${s.id})`).join(", ");
    return t().errStation(names, stationName());
  }
  return null;
}

/**
 * Checks a token with /me. From the form, any failure keeps the form up with the reason. For a
 * stored token (`fromStorage`), only a definite "no" (401 / wrong scope) signs out: when the
 * service is merely unreachable the desk keeps working into the outbox, and the check is repeated
 * when the socket connects.
 */
async function verify(candidate, fromStorage) {
  try {
    const answer = await getJson("/api/v1/me", candidate);
    if (candidate !== token && fromStorage) return; // signed out meanwhile
    const why = refusal(answer);
    if (why) {
      signOut(why);
      return false;
    }
    me = answer;
    rememberDevice(answer.device);
    renderHeader();
    renderAll(); // entries may have changed from "held" to "mine"
    sendSoon(); // the sender waits for the device when the token came from storage
    return true;
  } catch (e) {
    if (!fromStorage) throw e;
    if (e.status === 401 || e.status === 403) tokenRefused(e.message);
    return false;
  }
}

function rememberDevice(device) {
  try { sessionStorage.setItem(DEVICE_SLOT, device); } catch { /* me.device still holds it */ }
}

/** The service refused this tab's token (on /me or on an event): back to the sign-in form, with
 * this device's waiting actions kept and counted. */
function tokenRefused(detail) {
  const device = myDevice();
  const waiting = device ? readOutbox().filter((e) => e.device === device || !e.device).length : readOutbox().length;
  signOut(t().errTokenRefused(detail, waiting));
}

function enterApp(newToken) {
  token = newToken;
  tokenStore.set(token);
  if (me) rememberDevice(me.device);
  $("sign-in-section").hidden = true;
  $("app").hidden = false;
  $("token").value = "";
  showError("sign-in-error", null);
  startLive();
  renderAll();
  retryNow(); // the outbox may hold actions from before a reload or sign-out
}

function signOut(reason) {
  token = null;
  me = null;
  doc = null;
  tokenStore.clear();
  if (closeLive) closeLive();
  closeLive = null;
  conn = null;
  sender.stop();
  try { sessionStorage.removeItem(DEVICE_SLOT); } catch { /* nothing to forget */ }
  closeDiscardDialog();
  // The outbox stays in localStorage: it is sent when the same device signs in again.
  $("app").hidden = true;
  $("sign-in-section").hidden = false;
  showError("sign-in-error", reason || null);
  renderAll();
  $("token").focus();
}

$("sign-in-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const candidate = $("token").value.trim();
  if (!candidate) {
    showError("sign-in-error", t().errEmpty);
    $("token").focus();
    return;
  }
  $("sign-in").disabled = true;
  $("sign-in").textContent = t().checking;
  try {
    const answer = await getJson("/api/v1/me", candidate);
    const why = refusal(answer);
    if (why) {
      showError("sign-in-error", why);
      $("token").select();
      return;
    }
    me = answer;
    focusServicesOnce = true;
    enterApp(candidate);
  } catch (err) {
    showError("sign-in-error", err.status === 401 ? t().errInvalid : err.status ? err.message : t().errUnreachable);
    $("token").select();
  } finally {
    $("sign-in").disabled = false;
    $("sign-in").textContent = t().signIn;
  }
});

// ---------------------------------------------------------------------------------------------
// Controls and keyboard
// ---------------------------------------------------------------------------------------------

$("party-size").replaceChildren(...Array.from({ length: 10 }, (_, i) => h("option", { value: i + 1 }, i + 1)));
$("party-minus").addEventListener("click", () => setParty(Number($("party-size").value) - 1));
$("party-plus").addEventListener("click", () => setParty(Number($("party-size").value) + 1));

$("service-buttons").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-service]");
  if (!button || button.disabled) return;
  // The second click of a double-click (detail 2+) is a slip, not a second party.
  if (e.detail > 1) return;
  checkIn(button.dataset.service);
});

// Check-out / no-show from the lists: one delegated handler, the ticket comes from the row.
for (const list of ["inside-list", "outside-list"]) {
  $(list).addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (!button || e.detail > 1) return;
    const row = button.closest("[data-ticket]");
    if (row) ticketAction(button.dataset.action, row.dataset.ticket);
  });
}

function ticketFromField() {
  const value = $("ticket-field").value.trim().toUpperCase();
  if (!TICKET_RE.test(value)) {
    showError("ticket-error", t().ticketInvalid);
    $("ticket-field").setAttribute("aria-invalid", "true");
    $("ticket-field").focus();
    return null;
  }
  showError("ticket-error", null);
  $("ticket-field").removeAttribute("aria-invalid");
  return value;
}
$("ticket-field").addEventListener("input", () => {
  showError("ticket-error", null);
  $("ticket-field").removeAttribute("aria-invalid");
});
$("ticket-form").addEventListener("submit", (e) => {
  e.preventDefault(); // Enter in the ticket field = check out
  const ticket = ticketFromField();
  if (ticket && ticketAction("check_out", ticket)) $("ticket-field").value = "";
});
$("ticket-no-show").addEventListener("click", () => {
  const ticket = ticketFromField();
  if (ticket && ticketAction("no_show", ticket)) $("ticket-field").value = "";
});

$("call-form").addEventListener("submit", (e) => {
  e.preventDefault();
  callNext();
});
// The second click of a double-click on "Call next" would call a second person to the desk.
$("call-next").addEventListener("click", (e) => {
  if (e.detail > 1) e.preventDefault();
});
$("desk").value = localStorage.getItem(DESK_SLOT) || "1";
$("desk").addEventListener("change", () => {
  const desk = $("desk").value.trim();
  if (DESK_RE.test(desk)) localStorage.setItem(DESK_SLOT, desk);
});

$("retry-now").addEventListener("click", retryNow);

// Discarding another device's waiting actions: explicit, confirmed, and recorded in the results.
let discarding = null; // { device, keys } while the dialog is open
$("outbox-held").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-discard]");
  if (button) openDiscardDialog(button.dataset.discard);
});
function openDiscardDialog(device) {
  const entries = heldGroups().get(device) || [];
  if (!entries.length) return;
  // Only the entries shown now: anything queued or sent after this moment is not part of it.
  discarding = { device, keys: entries.map((e) => e.key) };
  const n = entries.length;
  $("discard-title").textContent = t().discardTitle(n, device);
  $("discard-text").textContent = t().discardText(device);
  $("discard-list").replaceChildren(...entries.map((e) => h("li", {}, `${describeEvent(e.event)} `,
    h("small", {}, `(${t().queuedAt(fmtLocal(e.queuedAt))})`))));
  $("discard-confirm").textContent = t().discardConfirm(n);
  $("discard-dialog").returnValue = "";
  $("discard-dialog").showModal();
}
function closeDiscardDialog() {
  discarding = null;
  if ($("discard-dialog").open) $("discard-dialog").close("cancel");
}
$("discard-dialog").addEventListener("close", () => {
  const chosen = discarding;
  discarding = null;
  if (chosen && $("discard-dialog").returnValue === "discard") discardHeld(chosen);
  // The dialog gives focus back to the button that opened it; after a discard that button is
  // gone, so the keyboard lands on the outbox banner instead of the top of the page.
  if (!$("app").hidden && (!document.activeElement || document.activeElement === document.body)) $("outbox-banner").focus();
});
function discardHeld({ device, keys }) {
  const wanted = new Set(keys);
  const list = readOutbox();
  // Re-checked against the stored outbox: that device may have sent some from another tab meanwhile.
  const gone = list.filter((e) => wanted.has(e.key) && !isMine(e));
  const goneKeys = new Set(gone.map((e) => e.key));
  outbox.write(list.filter((e) => !goneKeys.has(e.key)));
  const at = new Date().toISOString();
  for (const entry of gone) {
    addResult({ key: entry.key, event: publicEvent(entry.event), ok: false, status: 0, discardedFrom: device,
      detail: null, queuedAt: entry.queuedAt, at });
    if (recent.issued?.key === entry.key) recent.issued = { ...recent.issued, state: "discarded" };
    if (recent.called?.key === entry.key) recent.called = { ...recent.called, state: "discarded" };
  }
  saveRecent();
  renderAll();
}
$("sign-out").addEventListener("click", () => signOut(null));
languageSwitch(applyLanguage);

document.addEventListener("keydown", (e) => {
  if ($("app").hidden || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  // A key pressed in the discard confirmation is meant for it, not for the page behind it.
  if ($("discard-dialog").open) return;
  const target = e.target;
  if (target instanceof Element && target.closest("input, select, textarea, [contenteditable]")) {
    // Esc leaves the field so the single-key shortcuts work again.
    if (e.key === "Escape") target.blur();
    return;
  }
  if (/^[1-9]$/.test(e.key)) {
    const service = services()[Number(e.key) - 1];
    if (service && service.open) {
      e.preventDefault();
      checkIn(service.id);
    }
  } else if (e.key === "+" || e.key === "-" || e.key === "−") {
    e.preventDefault();
    setParty(Number($("party-size").value) + (e.key === "+" ? 1 : -1));
    flash($("party-size"));
  } else if (e.key === "n" || e.key === "N") {
    e.preventDefault();
    callNext();
  } else if (e.key === "/") {
    e.preventDefault();
    $("ticket-field").focus();
    $("ticket-field").select();
  }
});

// The sender wakes up whenever there is a reason to believe the service is reachable again.
window.addEventListener("online", retryNow);
// Another tab of this station changed the outbox: show it, and help send it.
window.addEventListener("storage", (e) => {
  if (e.key !== outbox.slot) return;
  renderOutbox();
  renderLists();
  renderSignInOutbox();
  if (token) sendSoon();
});
// Counts the "next attempt in N s" down while waiting.
setInterval(() => {
  if (token && sender.trouble && readOutbox().length) renderOutbox();
}, 1000);

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

// A check-in queued in an earlier tab (sessionStorage gone, outbox kept) is still the last one.
if (!recent.issued) {
  const lastCheckIn = readOutbox().filter((e) => e.event.kind === "check_in").pop();
  if (lastCheckIn) recent.issued = { key: lastCheckIn.key, state: "queued", service: lastCheckIn.event.service, party: lastCheckIn.event.party_size || 1 };
}
if (recent.issued?.state === "queued" && !readOutbox().some((e) => e.key === recent.issued.key)) {
  // Sent by another tab meanwhile; its answer is in that tab's results.
  recent.issued = null;
}
if (recent.called?.state === "queued" && !readOutbox().some((e) => e.key === recent.called.key)) recent.called = null;

applyLanguage();
// The station's name for the header and the sign-in messages, from the public directory (no
// token needed); a failure only leaves the id showing.
getJson("/api/v1/stations").then((directory) => {
  for (const district of directory.districts || []) {
    const found = (district.stations || []).find((s) => s.id === station);
    if (found && !cache?.name) {
      cache = { ...(cache || {}), name: found.name };
      renderHeader();
    }
  }
}).catch(() => {});
const stored = tokenStore.get();
if (stored) {
  enterApp(stored);
  verify(stored, true);
} else {
  $("sign-in-section").hidden = false;
  $("app").hidden = true;
  $("token").focus();
}
