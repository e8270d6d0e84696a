// The lobby display's board: follows the station's PUBLIC live socket and draws the sign, the
// call being served (highlighted and announced when new), who may come in, the recent calls, the
// figures and the clock. Loaded by display.js only when the display's markup is present.
import { live, withToken } from "/assets/common.js";
import { $, fill, h, s } from "/assets/dom.js";
import { formatDate, formatTime } from "/assets/format.js";
import { fitAll } from "/assets/display/fit.js";
import { applyLines, bilingual, firstText, loadLines, secondDir, secondLanguage, secondText } from "/assets/display/lines.js";
import { setUpSound } from "/assets/display/sound.js";
import { isBooked, rememberBooked, takesBookings, waitReasons } from "/assets/display/bookings.js";

const HIGHLIGHT_MS = 10_000;
// A reconnect can deliver several calls made while the screen was offline; reading out a long
// backlog would only confuse people, so at most the newest few are announced.
const MAX_ANNOUNCED_AT_ONCE = 3;
// The display PC's clock may be wrong (or, in the demo, the service runs on a shifted clock);
// when a fresh change shows the service's clock differs by more than this, the screen follows it.
const CLOCK_TOLERANCE_MS = 30_000;

const SIGNS = { enter: "signEnter", wait_outside: "signWait", closed: "signClosed" };
// Inline SVG rather than emoji: a kiosk PC may have no colour-emoji font, and a tofu box on the
// one sign that matters most is not acceptable. The shape carries the meaning as much as colour.
const LINE = { fill: "none", stroke: "currentColor" };
const SIGN_ICONS = {
  enter: [["circle", { cx: 50, cy: 50, r: 44, ...LINE, "stroke-width": 9 }],
    ["path", { d: "M28 52 L44 68 L74 34", ...LINE, "stroke-width": 11, "stroke-linecap": "round", "stroke-linejoin": "round" }]],
  wait_outside: [["path", { d: "M30 4 H70 L96 30 V70 L70 96 H30 L4 70 V30 Z", ...LINE, "stroke-width": 7, "stroke-linejoin": "round" }],
    ["g", { fill: "currentColor" }, [
      ["rect", { x: 30, y: 27, width: 9, height: 33, rx: 4.5 }],
      ["rect", { x: 40.5, y: 20, width: 9, height: 38, rx: 4.5 }],
      ["rect", { x: 51, y: 22, width: 9, height: 36, rx: 4.5 }],
      ["rect", { x: 61.5, y: 29, width: 9, height: 31, rx: 4.5 }],
      ["path", { d: "M30 52 H70.5 V66 Q70.5 82 54 82 H48 Q38 82 32 74 L21 58 Q18 53 22.5 51 Q26.5 49.5 29.5 54 Z" }]]]],
  closed: [["path", { d: "M32 46 V32 Q32 14 50 14 Q68 14 68 32 V46", ...LINE, "stroke-width": 9 }],
    ["rect", { x: 20, y: 44, width: 60, height: 44, rx: 7, fill: "currentColor" }],
    ["circle", { cx: 50, cy: 62, r: 6, fill: "#3b414a" }],
    ["rect", { x: 47, y: 62, width: 6, height: 14, rx: 3, fill: "#3b414a" }]],
};

const svgParts = (parts) => parts.map(([tag, attrs, children = []]) => s(tag, attrs, svgParts(children)));
const signIcon = (sign) => s("svg", { viewBox: "0 0 100 100", focusable: "false" }, svgParts(SIGN_ICONS[sign]));

const callKey = (call) => `${call.ticket}|${call.desk}|${call.at}`;

const state = {
  station: null,
  doc: null,
  seen: null, // key → recalls of the calls already on screen; null until the first document
  connected: false,
  docsSinceOpen: 0,
  lastSeq: -1,
  clockOffset: serviceTimeOffset(),
  highlightTimer: null,
  highlightKey: null,
  shown: {}, // what each part of the screen was last rendered from
  sound: null,
};

// ---------------------------------------------------------------------------------------------
// Start and the live socket

const TOKEN_SLOT = "lobbywatch.display.token";

/**
 * The display's own device token, if it was given one: set once by opening the page as
 * `/display/<station>#token=<token>` (a fragment never reaches the server or its logs), kept in
 * this screen's storage and taken out of the address bar. With it, the display's socket counts
 * as a device's, in the places no crowd of anonymous sockets can take; without it, it is public.
 */
function displayToken() {
  const given = new URLSearchParams(location.hash.slice(1)).get("token");
  try {
    if (given) {
      localStorage.setItem(TOKEN_SLOT, given);
      history.replaceState(null, "", location.pathname + location.search);
    }
    return localStorage.getItem(TOKEN_SLOT) || given || "";
  } catch {
    return given || ""; // no storage (a locked-down kiosk): the fragment alone
  }
}

/**
 * `token` if the service still knows it. A revoked or mistyped one would make every connection
 * attempt fail, and the screen go dark: it is forgotten, and the display reads as public.
 */
async function usableToken(token) {
  if (!token) return "";
  try {
    const answer = await fetch("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
    if (answer.status !== 401) return token;
  } catch {
    return token; // the service is unreachable: keep the token, the socket retries
  }
  try { localStorage.removeItem(TOKEN_SLOT); } catch { /* nothing kept */ }
  return "";
}

/** How far the service's clock is from this PC's, from the time the service wrote into the page
 * when it served it: the clock is right from the first paint, before any document arrives. */
function serviceTimeOffset() {
  const served = Date.parse(document.querySelector("meta[name='service-time']")?.content ?? "");
  return Number.isNaN(served) ? 0 : served - Date.now();
}

export async function start() {
  await loadLines();
  applyLines();
  state.station = stationFromPath();
  tickClock();
  if (!state.station) {
    showOffline("noStation", {}, "useDisplayPath");
    return;
  }
  document.title = `${state.station} — ${firstText("title")}`;
  state.sound = setUpSound();
  const path = `/api/v1/stations/${encodeURIComponent(state.station)}/public/live`;
  usableToken(displayToken()).then((token) => {
    live(token ? withToken(path, token) : path, onDocument, onConnection);
  });
  tickClock();
  setInterval(tickClock, 1000);
  // The fitting depends on the panel's size, which changes with the window (or a rotated tablet).
  window.addEventListener("resize", fitAll);
  hideIdleCursor();
  keepScreenAwake();
}

function onDocument(doc) {
  if (!doc || typeof doc !== "object" || !Array.isArray(doc.calls)) return;
  followServiceClock(doc);
  state.docsSinceOpen += 1;
  state.lastSeq = Number(doc.seq);
  const fresh = newCalls(doc.calls);
  state.doc = doc;
  rememberBooked(doc);
  render();
  if (fresh.length) {
    if (fresh.some((c) => callKey(c) === callKey(doc.calls[0]))) highlight(callKey(doc.calls[0]));
    // Oldest first, so the room hears them in the order the desks called them.
    fresh.slice(0, MAX_ANNOUNCED_AT_ONCE).reverse().forEach((c) => state.sound.announce(c));
  }
}

function onConnection(connection) {
  state.connected = connection === "open";
  state.docsSinceOpen = 0;
  if (state.connected) hideOffline();
  else if (state.doc) showOffline("connectionLost", {}, "");
  else showOffline("noContact", { station: state.station }, "checkNetwork");
}

/** The calls in `calls` not seen before, or recalled since (a desk announced its ticket again:
 * same call, `recalls` counted up), newest first. The first document only records what is
 * there: those calls were made before the screen came on and are not announced. */
function newCalls(calls) {
  const recalls = new Map(calls.map((c) => [callKey(c), Number(c.recalls) || 0]));
  if (state.seen === null) {
    state.seen = recalls;
    return [];
  }
  const fresh = calls.filter((c) => !state.seen.has(callKey(c)) || recalls.get(callKey(c)) > state.seen.get(callKey(c)));
  // Only the last ten calls are ever sent, so the map is trimmed to those to stay small.
  state.seen = recalls;
  return fresh;
}

/** The first document after a (re)connect may be old (`as_of` is the time of the last change),
 * so only a change pushed while connected tells what the service's clock says now. */
function followServiceClock(doc) {
  if (state.docsSinceOpen === 0 || !(Number(doc.seq) > state.lastSeq)) return;
  const serviceNow = Date.parse(doc.as_of);
  if (Number.isNaN(serviceNow)) return;
  const offset = serviceNow - Date.now();
  if (Math.abs(offset - state.clockOffset) > CLOCK_TOLERANCE_MS) state.clockOffset = offset;
}

// ---------------------------------------------------------------------------------------------
// Drawing

function changed(part, value) {
  const text = JSON.stringify(value);
  if (state.shown[part] === text) return false;
  state.shown[part] = text;
  return true;
}

function highlight(key) {
  state.highlightKey = key;
  clearTimeout(state.highlightTimer);
  const el = $("current-call");
  el.classList.remove("fresh");
  void el.offsetWidth; // restart the pulse when a second call arrives within the ten seconds
  el.classList.add("fresh");
  state.highlightTimer = setTimeout(() => {
    state.highlightKey = null;
    el.classList.remove("fresh");
  }, HIGHLIGHT_MS);
}

function render() {
  const doc = state.doc;
  document.body.classList.remove("nodata");
  if (doc.name) {
    $("station-name").textContent = doc.name;
    document.title = `${doc.name} — ${firstText("title")}`;
  }
  // Live regions re-announce whatever is rewritten, so a part is only rebuilt when it changed.
  const pleaseEnter = stillToComeIn(doc);
  const why = waitReasons(doc);
  if (changed("sign", [doc.sign, why])) renderSign(doc.sign, why);
  if (changed("current", doc.calls[0] ?? null)) renderCurrentCall(doc.calls[0]);
  if (changed("please", [pleaseEnter, pleaseEnter.map(isBooked)])) renderPleaseEnter(pleaseEnter);
  const bookable = takesBookings(doc);
  if (changed("bookable", bookable)) renderBookedHint(bookable);
  const coming = onTheWay(doc);
  if (changed("coming", coming)) renderComing(coming);
  if (changed("recent", doc.calls.slice(0, 5))) renderRecent(doc.calls.slice(0, 5));
  renderFigures(doc);
  tickClock();
  fitAll();
}

/** The tickets asked in that have not come in yet, in the order they were asked: what the
 * service lists, less any a desk has called since (that party is at the desk, not outside). */
function stillToComeIn(doc) {
  const listed = Array.isArray(doc.please_enter) ? doc.please_enter : [];
  const called = new Set(doc.calls.map((c) => c.ticket));
  return listed.filter((ticket) => !called.has(ticket));
}

/** The tickets asked in from elsewhere and not yet arrived, less any a desk has called since. */
function onTheWay(doc) {
  const listed = Array.isArray(doc.coming) ? doc.coming : [];
  const called = new Set(doc.calls.map((c) => c.ticket));
  return listed.filter((ticket) => !called.has(ticket));
}

/** "On the way: P012, U004" on both lines; hidden when nobody is on the way. */
function renderComing(tickets) {
  const el = $("coming");
  el.hidden = tickets.length === 0;
  fill(el, tickets.length ? [h("span", { class: "coming-label" }, bilingual("onTheWay")), " ",
    tickets.map((t) => h("span", { class: "ticket-chip small", dir: "ltr", dataset: { ticket: t } }, t))] : []);
}

function renderSign(sign, why) {
  const el = $("sign");
  const known = SIGNS[sign] ? sign : "closed";
  el.dataset.sign = sign ?? "";
  el.className = `sign ${known}`;
  el.querySelector(".sign-icon").replaceChildren(signIcon(known));
  fill(el.querySelector(".sign-text"), bilingual(SIGNS[known]),
    why.length ? h("span", { id: "sign-why", class: "sign-why" }, why.map(([key, params]) => h("span", { class: "why-line" }, bilingual(key, params)))) : null);
}

/** "Booked? Show your booking code at the desk", while the station takes bookings. */
function renderBookedHint(bookable) {
  const el = $("booked-hint");
  el.hidden = !bookable;
  fill(el, bookable ? bilingual("bookedHint") : []);
}

function renderCurrentCall(call) {
  const el = $("current-call");
  if (!call) {
    el.removeAttribute("data-ticket");
    el.classList.remove("fresh");
    fill(el, h("span", { class: "none" }, bilingual("noCallsYet")));
    return;
  }
  el.dataset.ticket = call.ticket;
  if (state.highlightKey && state.highlightKey !== callKey(call)) el.classList.remove("fresh");
  fill(el, h("span", { class: "ticket" }, call.ticket), h("span", { class: "arrow", "aria-hidden": "true" }, "→"),
    h("span", { class: "desk" }, bilingual("deskN", { desk: call.desk })));
}

function renderPleaseEnter(tickets) {
  fill($("please-enter"), tickets.map((t) => h("li", { class: `ticket-chip${isBooked(t) ? " booked" : ""}`, dir: "ltr", dataset: { ticket: t } }, t,
    isBooked(t) ? h("span", { class: "booked-mark" }, h("span", { "aria-hidden": "true" }, " ✓"), h("span", { class: "visually-hidden" }, ` (${firstText("booked")})`)) : null)));
  $("please-enter-none").hidden = tickets.length > 0;
}

function renderRecent(calls) {
  fill($("recent-calls"), calls.map((call, i) => h("li", { class: i === 0 ? "latest" : null, dir: "ltr", dataset: { ticket: call.ticket } },
    h("span", { class: "ticket" }, call.ticket), h("span", { class: "arrow", "aria-hidden": "true" }, "→"),
    // A screen reader gets "P007, skranke 3" rather than a bare number.
    h("span", { class: "desk" }, h("span", { class: "visually-hidden" }, `${firstText("desk")} `), call.desk))));
}

function renderFigures(doc) {
  const headcount = Number(doc.headcount) || 0;
  const cap = Number(doc.cap) || 0;
  $("occupancy").textContent = `${headcount} / ${cap}`;
  const ratio = cap > 0 ? Math.min(1, headcount / cap) : 1;
  const meter = $("meter-fill");
  meter.style.width = `${Math.round(ratio * 100)}%`;
  meter.className = headcount >= cap ? "full" : ratio >= 0.75 ? "high" : "";
  // The queue at the door; those waiting elsewhere are counted apart (and only shown when any).
  const total = Number(doc.outside_total ?? (Array.isArray(doc.outside) ? doc.outside.length : 0));
  const remote = Number(doc.outside_remote) || 0;
  $("outside-count").textContent = String(doc.outside_at_door ?? total - remote);
  $("remote-count").textContent = String(remote);
  $("remote-figure").hidden = remote === 0;
  const distance = Number(doc.distancing_m);
  if (distance > 0) {
    fill($("distancing"), bilingual("keepApart", { d: distance }));
  } else {
    fill($("distancing"));
  }
}

function tickClock() {
  const now = new Date(Date.now() + state.clockOffset);
  const timeZone = state.doc?.timezone || "Europe/Oslo";
  // The wall clock is in bokmål whatever the visitors' language: the screen is bilingual.
  const time = formatTime(now, { timeZone, lang: "nb-NO" });
  const date = formatDate(now, { timeZone, lang: "nb-NO" });
  if ($("clock").textContent !== time) {
    $("clock").textContent = time;
    $("clock").dateTime = now.toISOString();
  }
  if ($("date").textContent !== date) $("date").textContent = date;
}

function stationFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  const at = parts.indexOf("display");
  const raw = at >= 0 ? parts[at + 1] : null;
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The banner: `key` (with `params`) on both lines, and a smaller hint (`hintKey`) under it. */
function showOffline(key, params, hintKey) {
  $("offline-nb").textContent = firstText(key, params);
  $("offline-en").textContent = secondText(key, params);
  $("offline-en").lang = secondLanguage();
  $("offline-en").dir = secondDir();
  const hint = hintKey ? `${firstText(hintKey)} · ${secondText(hintKey)}` : "";
  $("offline-hint").textContent = hint;
  $("offline-hint").hidden = !hint;
  $("offline").hidden = false;
  document.body.classList.add("stale");
}

function hideOffline() {
  $("offline").hidden = true;
  document.body.classList.remove("stale");
}

// ---------------------------------------------------------------------------------------------
// Kiosk niceties

/** The mouse pointer is hidden after a few idle seconds: nobody should see it on a wall. */
function hideIdleCursor() {
  let timer = null;
  const wake = () => {
    document.body.classList.remove("idle");
    clearTimeout(timer);
    timer = setTimeout(() => document.body.classList.add("idle"), 3000);
  };
  document.addEventListener("pointermove", wake);
  wake();
}

/** Keeps the screen from sleeping where the browser allows it (secure contexts only). */
function keepScreenAwake() {
  if (!navigator.wakeLock) return;
  const request = () => navigator.wakeLock.request("screen").catch(() => {});
  request();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") request();
  });
}
