// The front-desk terminal: check parties in, check them out, call the next ticket — and never lose
// or double one of those actions, even while the service is unreachable.
//
// Every action goes through the outbox: it is written to localStorage (with its own
// Idempotency-Key) BEFORE anything is sent, and one sender loop sends the outbox strictly in order.
// A retry reuses the entry's key, so the service applies each action exactly once however many
// times it is sent. The live socket only ever *shows* state; it never decides whether an action
// happened.
import { getJson, live, esc, newKey, postEvent, session, withToken } from "/assets/common.js";

const TEXT = {
  nb: {
    title: "Skranke", signInTitle: "Logg inn på skranken",
    signInIntro: "Bruk nøkkelen (token) til denne skranken. Den lagres bare i denne fanen til den lukkes.",
    tokenLabel: "Enhetsnøkkel (token)", signIn: "Logg inn", signOut: "Logg ut", checking: "Kontrollerer …",
    lang: "English", langLabel: "Switch to English",
    errEmpty: "Skriv inn nøkkelen.",
    errInvalid: "Nøkkelen er ikke gyldig. Sjekk at den er skrevet riktig.",
    errUnreachable: "Tjenesten kan ikke nås akkurat nå. Prøv igjen om litt.",
    errRole: (role) => `Denne nøkkelen tilhører ${({ display: "en skjerm", admin: "en administrator" })[role] || `rollen «${role}»`} og kan ikke brukes på en skranke.`,
    errStation: (names, here) => names
      ? `Denne nøkkelen tilhører ${names}, ikke ${here}.`
      : `Denne nøkkelen gjelder ingen stasjon, og kan ikke brukes på ${here}.`,
    outboxSignedOut: (n) => `${n} ${n === 1 ? "handling venter" : "handlinger venter"} på sending fra denne skranken. De sendes automatisk når noen logger inn her igjen.`,
    outboxSignedOutBy: (n, d) => `${n} ${n === 1 ? "handling" : "handlinger"} fra ${d} venter på sending. De sendes automatisk når ${d} logger inn her igjen.`,
    errTokenRefused: (detail, n) => `Tjenesten avviste nøkkelen${detail ? ` («${detail}»)` : ""}. Logg inn på nytt`
      + (n ? `; ${n} ${n === 1 ? "handling venter" : "handlinger venter"} og sendes etter innlogging.` : "."),
    live: "Direkte", lost: "Frakoblet — kobler til igjen …", connecting: "Kobler til …",
    unverified: "ikke bekreftet ennå",
    outboxText: { ok: "venter på sending — alt er sendt.", sending: "venter på sending — sender …",
      down: "venter på sending — tjenesten kan ikke nås; de sendes automatisk.",
      busy: "venter på sending — tjenesten svarer ikke nå; de sendes automatisk.",
      held: (n) => `venter på sending — ${n === 1 ? "den" : "ingen av dem"} kan ${n === 1 ? "ikke " : ""}sendes av denne enheten (se under).` },
    heldBy: (n, d) => `venter på at ${d} logger inn her igjen. De kan bare sendes med nøkkelen til ${d}.`,
    discard: "Forkast …", discardFor: (d) => `Forkast handlingene fra ${d}`,
    discardTitle: (n, d) => `Forkaste ${n} ${n === 1 ? "handling" : "handlinger"} fra ${d}?`,
    discardText: (d) => `Handlingene under ble lagt i kø av ${d} og er ikke bekreftet av tjenesten. Kanskje nådde de aldri fram — eller de kom fram, men svaret gikk tapt. Forkaster du dem, blir de aldri sendt. Sjekk listene før du gjør noe av dette på nytt.`,
    discardConfirm: (n) => `Forkast ${n === 1 ? "handlingen" : `${n} handlinger`}`, discardKeep: "Behold dem", discardDefault: "Forkast",
    discarded: "Forkastet — aldri sendt herfra",
    rDiscarded: (what, d) => `${what} forkastet (lagt i kø av ${d}, aldri bekreftet)`,
    heldFor: (d) => `venter på ${d}`,
    nextTry: (s) => ` Neste forsøk om ${s} s.`, retryNow: "Send nå",
    insideNow: "Inne nå / maks", queuedOutside: "Venter ute", pleaseEnter: "Be inn nå",
    enter: "Kom inn", wait: "Vent ute", closedSign: "Stengt",
    stale: (t) => `Viser sist kjente tilstand (${t}). Listene oppdateres når forbindelsen er tilbake.`,
    checkIn: "Innsjekk", partySize: "Antall personer", fewer: "Færre personer", more: "Flere personer",
    appointment: "Timebestilling (valgfri)", waitingServices: "Venter på tjenestene …",
    closed: "Stengt", waitingIn: (i, o) => `${i} inne · ${o} ute`, persons: (n) => (n === 1 ? "1 person" : `${n} personer`),
    estimate: (m) => `Ventetid ca. ${m} min`, noEstimate: "Ventetid: ingen anslag ennå",
    enterIn: (m) => (m < 1 ? "inn straks" : `inn om ca. ${m} min`),
    queuedFor: (d) => `I kø — venter på at ${d} logger inn igjen`,
    noIssued: "Ingen billett utstedt ennå.", lastTicket: "Siste billett",
    goInside: "GÅ INN", waitOutside: "VENT UTE", position: (p) => `nr. ${p} i køen`,
    queued: "I kø — billettnummer gis når det er sendt",
    sending: "Sender …", refused: "Avvist", nowEnter: "Nå: kan gå inn",
    insideHeading: "Inne i venterommet", outsideHeading: "Venter ute (kø)", none: "Ingen.",
    checkOut: "Sjekk ut", noShow: "Ikke møtt", pending: "sendes …",
    calledTo: (d) => `ropt opp til skranke ${d}`, enteredAt: (t) => `inne fra ${t}`, since: (t) => `i kø fra ${t}`,
    appt: "time",
    callHeading: "Rop opp neste", desk: "Skranke nr.", callService: "Tjeneste", anyService: "Alle tjenester",
    callNext: "Rop opp neste", noCalled: "Ingen ropt opp fra denne skranken ennå.",
    calledNow: (d) => `til skranke ${d}`, callQueued: "Oppropet sendes når tjenesten svarer",
    deskInvalid: "Skranke: bruk 1–16 bokstaver, sifre eller «-», f.eks. 3.",
    ticketHeading: "Billett", ticketLabel: "Billettnummer",
    ticketInvalid: "Skriv en billett som P007 (tjenestebokstav og nummer).",
    toDesk: (d) => `skranke ${d}`, resultsHeading: "Siste handlinger", noResults: "Ingen ennå.", callsHeading: "Siste opprop",
    waitingToSend: "venter på sending", replayed: "svaret gjentatt",
    kinds: { check_in: "Innsjekk", check_out: "Utsjekk", no_show: "Ikke møtt", call: "Opprop" },
    rIn: (t, s) => `${t} (${s}) — gå inn`, rOut: (t, s, p) => `${t} (${s}) — vent ute, nr. ${p}`,
    rCheckedOut: (t) => `${t} sjekket ut`, rNoShow: (t) => `${t} registrert som ikke møtt`,
    rCalled: (t, d) => `${t} ropt opp til skranke ${d}`, rAdmitted: (list) => `Kan gå inn nå: ${list}`,
    rRefused: (what) => `${what} avvist`, queuedAt: (t) => `lagt i kø ${t}`,
    shortcutsHeading: "Hurtigtaster",
    shortcuts: [["1 – 9", "sjekk inn for tjeneste nr. 1–9"], ["+ / −", "flere / færre personer"],
      ["N", "rop opp neste"], ["/", "gå til billettfeltet"], ["Enter", "i billettfeltet: sjekk ut"],
      ["Esc", "forlat et felt (så virker hurtigtastene igjen)"]],
  },
  en: {
    title: "Front desk", signInTitle: "Sign in to the front desk",
    signInIntro: "Use this desk's device token. It is kept in this tab only, until the tab is closed.",
    tokenLabel: "Device token", signIn: "Sign in", signOut: "Sign out", checking: "Checking …",
    lang: "Norsk", langLabel: "Bytt til norsk",
    errEmpty: "Enter the token.",
    errInvalid: "This token is not valid. Check that it is typed correctly.",
    errUnreachable: "The service cannot be reached right now. Try again in a moment.",
    errRole: (role) => `This token belongs to ${({ display: "a lobby display", admin: "an administrator" })[role] || `the role "${role}"`} and cannot be used at a front desk.`,
    errStation: (names, here) => names
      ? `This token belongs to station ${names}, not ${here}.`
      : `This token has no station and cannot be used at ${here}.`,
    outboxSignedOut: (n) => `${n} ${n === 1 ? "action is" : "actions are"} waiting to be sent from this desk. They will be sent automatically when someone signs in here again.`,
    outboxSignedOutBy: (n, d) => `${n} ${n === 1 ? "action" : "actions"} from ${d} ${n === 1 ? "is" : "are"} waiting to be sent. They will be sent automatically when ${d} signs in here again.`,
    errTokenRefused: (detail, n) => `The service refused the token${detail ? ` ("${detail}")` : ""}. Sign in again`
      + (n ? `; ${n} ${n === 1 ? "action is" : "actions are"} waiting and will be sent after sign-in.` : "."),
    live: "Live", lost: "Offline — reconnecting …", connecting: "Connecting …",
    unverified: "not verified yet",
    outboxText: { ok: "waiting to be sent — everything is sent.", sending: "waiting to be sent — sending …",
      down: "waiting to be sent — the service is unreachable; they will be sent automatically.",
      busy: "waiting to be sent — the service is not answering now; they will be sent automatically.",
      held: (n) => `waiting to be sent — ${n === 1 ? "it cannot" : "none of them can"} be sent by this device (see below).` },
    heldBy: (n, d) => `waiting for ${d} to sign in here again. Only ${d}'s token may send ${n === 1 ? "it" : "them"}.`,
    discard: "Discard …", discardFor: (d) => `Discard the actions from ${d}`,
    discardTitle: (n, d) => `Discard ${n} ${n === 1 ? "action" : "actions"} from ${d}?`,
    discardText: (d) => `The actions below were queued by ${d} and the service has not confirmed them. They may never have reached it — or they did and the answer was lost. If you discard them they will never be sent. Check the lists before you redo any of them.`,
    discardConfirm: (n) => `Discard ${n === 1 ? "the action" : `${n} actions`}`, discardKeep: "Keep them", discardDefault: "Discard",
    discarded: "Discarded — never sent from here",
    rDiscarded: (what, d) => `${what} discarded (queued by ${d}, never confirmed)`,
    heldFor: (d) => `waiting for ${d}`,
    nextTry: (s) => ` Next attempt in ${s} s.`, retryNow: "Send now",
    insideNow: "Inside now / cap", queuedOutside: "Waiting outside", pleaseEnter: "Please enter now",
    enter: "Enter", wait: "Wait outside", closedSign: "Closed",
    stale: (t) => `Showing the last known state (${t}). The lists update when the connection is back.`,
    checkIn: "Check in", partySize: "Party size", fewer: "Fewer people", more: "More people",
    appointment: "Appointment reference (optional)", waitingServices: "Waiting for the services …",
    closed: "Closed", waitingIn: (i, o) => `${i} inside · ${o} outside`, persons: (n) => (n === 1 ? "1 person" : `${n} people`),
    estimate: (m) => `Wait about ${m} min`, noEstimate: "Wait: no estimate yet",
    enterIn: (m) => (m < 1 ? "enters any moment" : `enters in about ${m} min`),
    queuedFor: (d) => `Queued — waiting for ${d} to sign in again`,
    noIssued: "No ticket issued yet.", lastTicket: "Last ticket",
    goInside: "GO INSIDE", waitOutside: "WAIT OUTSIDE", position: (p) => `number ${p} in the queue`,
    queued: "queued — ticket number will be given when sent",
    sending: "Sending …", refused: "Refused", nowEnter: "Now: may go inside",
    insideHeading: "Inside the waiting room", outsideHeading: "Waiting outside (queue)", none: "None.",
    checkOut: "Check out", noShow: "No-show", pending: "sending …",
    calledTo: (d) => `called to desk ${d}`, enteredAt: (t) => `inside since ${t}`, since: (t) => `queued since ${t}`,
    appt: "appt.",
    callHeading: "Call next", desk: "Desk", callService: "Service", anyService: "Any service",
    callNext: "Call next", noCalled: "Nobody called from this desk yet.",
    calledNow: (d) => `to desk ${d}`, callQueued: "The call will be sent when the service answers",
    deskInvalid: "Desk: use 1–16 letters, digits or '-', e.g. 3.",
    ticketHeading: "Ticket", ticketLabel: "Ticket number",
    ticketInvalid: "Type a ticket like P007 (service letter and number).",
    toDesk: (d) => `desk ${d}`, resultsHeading: "Recent actions", noResults: "None yet.", callsHeading: "Recent calls",
    waitingToSend: "waiting to be sent", replayed: "answer replayed",
    kinds: { check_in: "Check-in", check_out: "Check-out", no_show: "No-show", call: "Call" },
    rIn: (t, s) => `${t} (${s}) — go inside`, rOut: (t, s, p) => `${t} (${s}) — wait outside, number ${p}`,
    rCheckedOut: (t) => `${t} checked out`, rNoShow: (t) => `${t} marked as no-show`,
    rCalled: (t, d) => `${t} called to desk ${d}`, rAdmitted: (list) => `May enter now: ${list}`,
    rRefused: (what) => `${what} refused`, queuedAt: (t) => `queued ${t}`,
    shortcutsHeading: "Keyboard shortcuts",
    shortcuts: [["1 – 9", "check in for service 1–9"], ["+ / −", "more / fewer people"],
      ["N", "call next"], ["/", "go to the ticket field"], ["Enter", "in the ticket field: check out"],
      ["Esc", "leave a field (shortcuts work again)"]],
  },
};

// Inline SVG icons: emoji fonts are missing on many kiosk/Linux PCs, and an icon that renders as
// an empty box would leave colour as the only signal.
const ICONS = {
  check: '<path d="M4 12.5l5 5L20 6.5"/>',
  cross: '<path d="M6 6l12 12M18 6L6 18"/>',
  stop: '<path d="M8 2.5h8l5.5 5.5v8L16 21.5H8L2.5 16V8z"/><path d="M7.5 12h9"/>',
  clock: '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3.5 2.5"/>',
  call: '<path d="M3 9.5v5h4l5 4.5v-14L7 9.5z"/><path d="M16 8.5a5 5 0 0 1 0 7M19 5.5a9 9 0 0 1 0 13"/>',
  enter: '<path d="M4 12h14M13 6l6 6-6 6"/>',
  warn: '<path d="M12 3L2 21h20z"/><path d="M12 10v5M12 18v.01"/>',
  sync: '<path d="M20 12a8 8 0 1 1-2.3-5.6"/><path d="M20 4v5h-5"/>',
};
const icon = (name) => `<svg class="i i-${name}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">${ICONS[name]}</svg>`;

const station = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
const tokenStore = session(`terminal.${station}`);
const OUTBOX_SLOT = `lobbywatch.outbox.${station}`;
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

const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") === "en" ? "en" : "nb";
const t = () => TEXT[lang];

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

/** The outbox as stored now. Always read fresh: another tab of this station may have changed it. */
function readOutbox() {
  const list = readJson(localStorage, OUTBOX_SLOT, []);
  return Array.isArray(list) ? list.filter((e) => e && typeof e.key === "string" && e.event) : [];
}
function writeOutbox(list) {
  localStorage.setItem(OUTBOX_SLOT, JSON.stringify(list));
}

/** The device this tab is signed in as, or null (signed out, or a stored token whose /me answer
 * is not known yet). */
function myDevice() {
  if (!token) return null;
  return me?.device || sessionStorage.getItem(DEVICE_SLOT) || null;
}

/**
 * May this tab send `entry`? The service remembers Idempotency-Keys per device, so an entry must
 * only ever travel with the token of the device that queued it: sent with another device's token,
 * a retry would be a new event and could apply the action twice. An entry without a device comes
 * from before entries were stamped (or was queued while the device was not known yet) and is
 * adopted — stamped — by the sender the first time it sends it.
 */
function isMine(entry) {
  const device = myDevice();
  return Boolean(device) && (!entry.device || entry.device === device);
}

/** Entries that wait for another device to sign in again, grouped by that device (in order).
 * Empty while this tab's own device is not known yet: nothing can be told apart then. */
function heldGroups(list = readOutbox()) {
  const groups = new Map();
  if (!myDevice()) return groups;
  for (const entry of list) {
    if (isMine(entry)) continue;
    const device = entry.device || "";
    if (!groups.has(device)) groups.set(device, []);
    groups.get(device).push(entry);
  }
  return groups;
}

/**
 * Appends an action to the outbox (persisted first) and wakes the sender. Returns the entry, or
 * null when it could not be stored — then nothing is sent either, so the clerk sees it failed and
 * can try again instead of believing it is safe.
 */
function enqueue(event) {
  const entry = { key: newKey(), event, queuedAt: new Date().toISOString(), device: myDevice() };
  try {
    writeOutbox([...readOutbox(), entry]);
  } catch (e) {
    addResult({ key: entry.key, event: publicEvent(event), ok: false, status: 0, detail: `localStorage: ${e.message}`, at: entry.queuedAt });
    return null;
  }
  renderOutbox();
  renderLists();
  sendSoon();
  return entry;
}

function removeFromOutbox(key) {
  writeOutbox(readOutbox().filter((e) => e.key !== key));
}

/** 5xx, timeouts, rate limits and "same key still in flight" are answers that a later retry of
 * the same key can change; every other 4xx is final (the event was refused and never will be). */
function retryable(answer) {
  const s = answer.status;
  if (s >= 200 && s < 300) return false;
  if (s === 408 || s === 425 || s === 429) return true;
  if (s === 409 && String(answer.body?.type || "").endsWith("request-in-flight")) return true;
  return !(s >= 400 && s < 500);
}

const sender = { running: false, timer: null, delay: 1000, retryAt: 0, trouble: null /* null | "down" | "busy" */ };

/** Starts the sender loop now unless it is already running. */
function sendSoon() {
  if (sender.running || !token) return;
  clearTimeout(sender.timer);
  sender.timer = null;
  sender.retryAt = 0;
  runSender();
}

/** A reason to believe the service is back (online event, socket reconnected, button): retry now
 * with the backoff reset. */
function retryNow() {
  sender.delay = 1000;
  sendSoon();
}

async function runSender() {
  sender.running = true;
  renderOutbox();
  try {
    for (;;) {
      // Token and device of this attempt: the answer belongs to them even if the clerk signs out
      // (or another device signs in) while the request is on its way.
      const sendToken = token;
      const device = myDevice();
      if (!sendToken || !device) return; // device not known yet: verify() wakes the sender
      // Strictly in order among this device's entries; other devices' entries are skipped, not
      // waited for (they may never be sent) — see isMine().
      let entry = readOutbox().find(isMine);
      if (!entry) { sender.trouble = null; sender.delay = 1000; return; }
      if (!entry.device) {
        // Bind the key to this device before it is ever sent with this device's token.
        entry = { ...entry, device };
        writeOutbox(readOutbox().map((e) => (e.key === entry.key ? entry : e)));
      }
      let answer = null;
      try {
        answer = await withTimeout(postEvent(station, sendToken, entry.key, entry.event), SEND_TIMEOUT_MS);
      } catch {
        answer = null; // unreachable, or no answer in time: the same key is safe to send again
      }
      if (answer && (answer.status === 401 || answer.status === 403)) {
        // The token was refused (revoked, rotated, moved to another station), not the action: it
        // may well succeed once the device signs in again, so it stays in the outbox and nothing
        // more is sent with this token.
        sender.trouble = null;
        if (token === sendToken) tokenRefused(answer.body?.detail || answer.body?.title || `HTTP ${answer.status}`);
        return;
      }
      if (answer && !retryable(answer)) {
        // Decided: remove it even if the clerk signed out meanwhile, the service has applied it.
        removeFromOutbox(entry.key);
        sender.delay = 1000;
        sender.trouble = null;
        settle(entry, answer);
        continue;
      }
      sender.trouble = answer ? "busy" : "down";
      if (!token) return;
      sender.retryAt = Date.now() + sender.delay;
      sender.timer = setTimeout(() => { sender.timer = null; sendSoon(); }, sender.delay);
      sender.delay = Math.min(sender.delay * 2, 10000);
      return;
    }
  } finally {
    sender.running = false;
    renderOutbox();
    renderLists();
    renderIssued();
    renderCalled();
  }
}

function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error("timeout")), ms); }),
  ]).finally(() => clearTimeout(timer));
}

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
  if (!s) return id;
  return lang === "en" ? s.name_en : s.name;
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

function fmtTime(iso, withSeconds = false) {
  if (!iso) return "";
  const options = { hour: "2-digit", minute: "2-digit", ...(withSeconds ? { second: "2-digit" } : {}) };
  // Station times are shown on the station's clock; our own timestamps on the PC's.
  if (doc?.timezone) options.timeZone = doc.timezone;
  try {
    return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "nb-NO", options).format(new Date(iso));
  } catch {
    return "";
  }
}
function fmtLocal(iso) {
  return new Intl.DateTimeFormat(lang === "en" ? "en-GB" : "nb-NO", { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(iso));
}

/**
 * Replaces a container's HTML only when it changed, and keeps keyboard focus on the same control
 * (same ticket + action, or same service) across the replacement: the live document arrives
 * several times a minute and must not throw a clerk's focus back to the top of the page.
 */
function patch(container, html) {
  if (container.dataset.rendered === html) return;
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
  container.innerHTML = html;
  container.dataset.rendered = html;
  if (!restore) return;
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
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const value = t()[el.dataset.i18n];
    if (typeof value === "string") el.textContent = value;
  });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => {
    el.setAttribute("aria-label", t()[el.dataset.i18nLabel]);
  });
  $("lang").textContent = t().lang;
  $("lang").setAttribute("aria-label", t().langLabel);
  document.title = `${t().title}${stationName() ? ` — ${stationName()}` : ""} — lobbywatch`;
  $("shortcuts").innerHTML = t().shortcuts.map(([k, v]) => `<div><dt><kbd>${esc(k)}</kbd></dt><dd>${esc(v)}</dd></div>`).join("");
  for (const c of ["service-buttons", "inside-list", "outside-list", "results", "calls", "call-service", "outbox-held"]) delete $(c).dataset.rendered;
  renderAll();
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
    setLive($("conn"), { open: `● ${esc(t().live)}`, lost: `${icon("cross")} ${esc(t().lost)}`, connecting: `… ${esc(t().connecting)}` }[state]);
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
    sign.innerHTML = `${icon(symbol)} ${esc(label)}`;
    $("headcount").textContent = `${doc.headcount} / ${doc.cap}`;
    $("outside-count").textContent = String(doc.outside.length);
    $("please-enter-box").hidden = doc.please_enter.length === 0;
    $("please-enter").textContent = doc.please_enter.join(", ");
  }
  const stale = doc && conn === "lost";
  $("stale").hidden = !stale;
  if (stale) $("stale").innerHTML = `${icon("warn")} ${esc(t().stale(fmtTime(doc.as_of)))}`;
}

function renderServices() {
  const list = services();
  const html = list.length === 0
    ? `<p class="note">${esc(t().waitingServices)}</p>`
    : list.map((s, i) => {
      const name = lang === "en" ? s.name_en : s.name;
      const shortcut = i < 9 ? String(i + 1) : "";
      // The estimate only from the live document (a cached one would be stale); null means the
      // service has not measured enough yet, and no number is better than a made-up one.
      const live = doc?.services.find((x) => x.id === s.id);
      const estimate = live && live.estimated_wait_min !== undefined
        ? `<span class="svc-est${live.estimated_wait_min == null ? " none" : ""}">${icon("clock")} ${esc(live.estimated_wait_min == null ? t().noEstimate : t().estimate(live.estimated_wait_min))}</span>`
        : "";
      const extra = s.open
        ? `<span class="svc-sub">${esc(s.hours_today ? s.hours_today.replace("-", "–") : "")}${doc ? ` · ${esc(t().waitingIn(s.waiting_inside, s.waiting_outside))}` : ""}</span>${estimate}`
        : `<span class="svc-sub svc-closed">${icon("cross")} ${esc(t().closed)}</span>`;
      return `<button type="button" class="svc${s.open ? "" : " closed"}" data-service="${esc(s.id)}"${s.open ? "" : " disabled"}${shortcut ? ` aria-keyshortcuts="${shortcut}"` : ""}>`
        + `<span class="svc-prefix" aria-hidden="true">${esc(s.prefix || "")}</span>`
        + `<span class="svc-text"><span class="svc-name">${esc(name)}</span>${extra}</span>`
        + (shortcut ? `<kbd class="svc-key" aria-hidden="true">${shortcut}</kbd>` : "")
        + `</button>`;
    }).join("");
  patch($("service-buttons"), html);
  if (focusServicesOnce && list.length) {
    // Right after signing in, the keyboard starts on the first check-in button.
    const first = document.querySelector("#service-buttons button:not([disabled])");
    if (first) { first.focus(); focusServicesOnce = false; }
  }

  // The call-next service filter follows the same list.
  const select = $("call-service");
  const options = `<option value="">${esc(t().anyService)}</option>`
    + list.map((s) => `<option value="${esc(s.id)}">${esc(lang === "en" ? s.name_en : s.name)}${s.prefix ? ` (${esc(s.prefix)})` : ""}</option>`).join("");
  if (select.dataset.rendered !== options) {
    const previous = select.value;
    select.innerHTML = options;
    select.dataset.rendered = options;
    if (list.some((s) => s.id === previous)) select.value = previous;
  }
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

function renderLists() {
  if (!doc) {
    patch($("inside-list"), `<p class="note">${esc(token ? t().connecting : "")}</p>`);
    patch($("outside-list"), "");
    $("inside-total").textContent = "";
    $("outside-total").textContent = "";
    return;
  }
  const pending = pendingTickets();
  const pleaseEnter = new Set(doc.please_enter);
  const buttons = (ticket, actions) => {
    if (pending.get(ticket)?.mine) return `<span class="pending">${icon("clock")} ${esc(t().pending)}</span>`;
    return actions.map((a) => `<button type="button" class="act ${a === "check_out" ? "act-out" : "act-noshow"}" data-action="${a}" aria-label="${esc(`${a === "check_out" ? t().checkOut : t().noShow} ${ticket}`)}">${esc(a === "check_out" ? t().checkOut : t().noShow)}</button>`).join("");
  };
  const party = (n) => (n > 1 ? `<span class="party-badge">${esc(t().persons(n))}</span>` : "");
  const appt = (a) => (a ? `<span class="appt">${esc(t().appt)} ${esc(a)}</span>` : "");
  const held = (ticket) => {
    const p = pending.get(ticket);
    return p && !p.mine ? `<span class="held-badge">${icon("clock")} ${esc(t().kinds[p.kind] || p.kind)} ${esc(t().heldFor(p.device || "?"))}</span>` : "";
  };
  // Minutes until an outside party is expected in; null (nothing measured yet) shows nothing.
  const eta = (m) => (m == null ? "" : `<span class="eta">${icon("enter")} ${esc(t().enterIn(m))}</span>`);

  // Inside, grouped per service in the order of doc.services (then any other key).
  const ids = [...services().map((s) => s.id), ...Object.keys(doc.inside).filter((id) => !services().some((s) => s.id === id))];
  let insideCount = 0;
  const groups = ids.filter((id) => doc.inside[id]).map((id) => {
    const parties = doc.inside[id];
    insideCount += parties.length;
    const rows = parties.map((p) => {
      const state = p.desk
        ? `<span class="called-badge">${icon("call")} ${esc(t().calledTo(p.desk))}</span>`
        : pleaseEnter.has(p.ticket) ? `<span class="enter-badge">${icon("enter")} ${esc(t().pleaseEnter)}</span>` : "";
      return `<li data-ticket="${esc(p.ticket)}" class="row${p.desk ? " is-called" : ""}">`
        + `<span class="tkt">${esc(p.ticket)}</span>`
        + `<span class="meta">${party(p.party_size)}${state}<span class="when">${esc(t().enteredAt(fmtTime(p.entered_at)))}</span>${appt(p.appointment)}${held(p.ticket)}</span>`
        + `<span class="acts">${buttons(p.ticket, ["check_out", "no_show"])}</span></li>`;
    }).join("");
    return `<section class="svc-group" aria-label="${esc(serviceName(id))}"><h3>${esc(serviceName(id))} <span class="count">${parties.length}</span></h3>`
      + (rows ? `<ul>${rows}</ul>` : `<p class="note">${esc(t().none)}</p>`) + `</section>`;
  }).join("");
  patch($("inside-list"), groups);
  $("inside-total").textContent = `(${insideCount})`;

  const outside = doc.outside.map((p) => `<li data-ticket="${esc(p.ticket)}" class="row">`
    + `<span class="pos" aria-hidden="true">${esc(p.position)}</span>`
    + `<span class="tkt">${esc(p.ticket)}</span>`
    + `<span class="meta"><span class="svc-tag">${esc(serviceName(p.service))}</span>${party(p.party_size)}${eta(p.expected_enter_min)}<span class="when">${esc(t().since(fmtTime(p.since)))}</span>${appt(p.appointment)}${held(p.ticket)}</span>`
    + `<span class="acts">${buttons(p.ticket, ["no_show"])}</span></li>`).join("");
  patch($("outside-list"), outside || `<li class="empty note">${esc(t().none)}</li>`);
  $("outside-total").textContent = `(${doc.outside.length})`;
}

/** Replaces the content of a live region only when it really changed: a screen reader would
 * otherwise read the last ticket out again on every live document. */
function setLive(el, html) {
  if (el.dataset.html === html) return;
  el.innerHTML = html;
  el.dataset.html = html;
}

function renderIssued() {
  const box = $("issued");
  const it = recent.issued;
  if (!it) {
    box.dataset.state = "none";
    box.removeAttribute("data-ticket");
    setLive(box, `<p class="note">${esc(t().noIssued)}</p>`);
    return;
  }
  const what = `${esc(serviceName(it.service))} · ${esc(t().persons(it.party || 1))}`;
  box.dataset.state = it.state;
  if (it.ticket) box.dataset.ticket = it.ticket;
  else box.removeAttribute("data-ticket");
  let html;
  if (it.state === "queued") {
    const entry = readOutbox().find((e) => e.key === it.key);
    const text = entry && !isMine(entry) && entry.device ? t().queuedFor(entry.device) : sender.trouble || !token ? t().queued : t().sending;
    html = `<div class="issued-ticket pending-ticket">${icon("clock")}</div>`
      + `<div class="issued-verdict">${esc(text)}</div>`;
  } else if (it.state === "inside") {
    html = `<div class="issued-ticket">${esc(it.ticket)}</div>`
      + `<div class="issued-verdict">${icon("check")} ${esc(t().goInside)}</div>`;
  } else if (it.state === "outside") {
    html = `<div class="issued-ticket">${esc(it.ticket)}</div>`
      + `<div class="issued-verdict">${icon("stop")} ${esc(t().waitOutside)}${it.position ? ` — ${esc(t().position(it.position))}` : ""}</div>`;
    // The answer was "wait outside", but the live state may since have let the party in.
    if (doc?.please_enter.includes(it.ticket)) html += `<p class="issued-now">${icon("enter")} ${esc(t().nowEnter)}</p>`;
  } else if (it.state === "discarded") {
    html = `<div class="issued-verdict">${icon("cross")} ${esc(t().discarded)}</div>`;
  } else {
    html = `<div class="issued-verdict">${icon("cross")} ${esc(t().refused)}</div>`
      + `<p class="issued-detail">${esc(it.detail)}</p>`;
  }
  setLive(box, `<p class="issued-label">${esc(t().lastTicket)} · ${what}</p>${html}`);
}

function renderCalled() {
  const box = $("called");
  const c = recent.called;
  if (!c) {
    box.dataset.state = "none";
    box.removeAttribute("data-ticket");
    setLive(box, `<p class="note">${esc(t().noCalled)}</p>`);
    return;
  }
  box.dataset.state = c.state;
  if (c.ticket) box.dataset.ticket = c.ticket;
  else box.removeAttribute("data-ticket");
  if (c.state === "called") {
    setLive(box, `<span class="called-ticket">${esc(c.ticket)}</span> <span class="called-desk">${icon("call")} ${esc(t().calledNow(c.desk))}</span>`);
  } else if (c.state === "queued") {
    const entry = readOutbox().find((e) => e.key === c.key);
    const text = entry && !isMine(entry) && entry.device ? t().queuedFor(entry.device) : sender.trouble || !token ? t().callQueued : t().sending;
    setLive(box, `<span class="called-desk">${icon("clock")} ${esc(text)}</span>`);
  } else if (c.state === "discarded") {
    setLive(box, `<span class="called-desk">${icon("cross")} ${esc(t().discarded)}</span>`);
  } else {
    setLive(box, `<span class="called-desk">${icon("cross")} ${esc(t().refused)}:</span> ${esc(c.detail)}`);
  }
}

function describeEvent(e) {
  const kind = t().kinds[e.kind] || e.kind;
  if (e.kind === "check_in") return `${kind} ${serviceName(e.service)}${e.party_size > 1 ? `, ${t().persons(e.party_size)}` : ""}`;
  if (e.kind === "call") return `${kind} (${t().toDesk(e.desk)}${e.service ? `, ${serviceName(e.service)}` : ""})`;
  return `${kind} ${e.ticket || ""}`;
}

function renderResults() {
  const pending = readOutbox().slice().reverse().map((e) => `<li class="res pending">`
    + `<span class="res-icon">${icon("clock")}</span><span class="res-text">${esc(describeEvent(e.event))} — ${esc(isMine(e) || !e.device ? t().waitingToSend : t().heldFor(e.device))}`
    + ` <small>(${esc(t().queuedAt(fmtLocal(e.queuedAt)))})</small></span></li>`);
  const done = recent.results.map((r) => {
    const e = r.event;
    let text;
    if (r.discardedFrom) text = t().rDiscarded(describeEvent(e), r.discardedFrom);
    else if (!r.ok) text = `${t().rRefused(describeEvent(e))}: ${r.detail}`;
    else if (e.kind === "check_in") text = r.body.state === "inside" ? t().rIn(r.body.ticket, serviceName(e.service)) : t().rOut(r.body.ticket, serviceName(e.service), r.body.position);
    else if (e.kind === "check_out") text = t().rCheckedOut(e.ticket);
    else if (e.kind === "no_show") text = t().rNoShow(e.ticket);
    else if (e.kind === "call") text = t().rCalled(r.body.ticket, r.body.desk);
    else text = describeEvent(e);
    const admitted = r.ok && r.body?.admitted?.length ? ` <strong class="admitted">${esc(t().rAdmitted(r.body.admitted.join(", ")))}</strong>` : "";
    const late = r.queuedAt && r.at && Date.parse(r.at) - Date.parse(r.queuedAt) > 3000 ? `, ${t().queuedAt(fmtLocal(r.queuedAt))}` : "";
    return `<li class="res ${r.ok ? "ok" : "bad"}"><span class="res-icon">${icon(r.ok ? "check" : "cross")}</span>`
      + `<span class="res-text">${esc(text)}${admitted} <small>(${esc(fmtLocal(r.at))}${esc(late)}${r.replayed ? `, ${esc(t().replayed)}` : ""})</small></span></li>`;
  });
  const html = [...pending, ...done].join("") || `<li class="note">${esc(t().noResults)}</li>`;
  patch($("results"), html);
}

function renderCalls() {
  const calls = doc?.calls || [];
  patch($("calls"), calls.length
    ? calls.map((c) => `<li><span class="tkt">${esc(c.ticket)}</span> → ${esc(t().toDesk(c.desk))} <small>${esc(fmtTime(c.at))}</small></li>`).join("")
    : `<li class="note">${esc(t().none)}</li>`);
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
    banner.querySelector(".outbox-icon").innerHTML = icon(symbol);
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
  const html = [...groups].map(([device, entries]) => `<div class="held-row">`
    + `${icon("clock")}<span class="held-text"><strong>${entries.length}</strong> ${esc(t().heldBy(entries.length, device))}</span>`
    + `<button type="button" class="held-discard" data-discard="${esc(device)}" aria-label="${esc(t().discardFor(device))}">${esc(t().discard)}</button></div>`).join("");
  box.hidden = groups.size === 0;
  if (box.dataset.rendered === html) return;
  const focused = box.contains(document.activeElement) ? document.activeElement.dataset.discard : null;
  box.innerHTML = html;
  box.dataset.rendered = html;
  if (focused != null) box.querySelector(`[data-discard="${CSS.escape(focused)}"]`)?.focus();
}

function renderSignInOutbox() {
  const groups = new Map();
  for (const entry of readOutbox()) {
    const device = entry.device || "";
    groups.set(device, (groups.get(device) || 0) + 1);
  }
  $("sign-in-outbox").hidden = groups.size === 0 || Boolean(token);
  $("sign-in-outbox").innerHTML = [...groups].map(([device, n]) => `<p>${icon("warn")} `
    + `${esc(device ? t().outboxSignedOutBy(n, device) : t().outboxSignedOut(n))}</p>`).join("");
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
  sender.delay = 1000;
  sendSoon(); // the outbox may hold actions from before a reload or sign-out
}

function signOut(reason) {
  token = null;
  me = null;
  doc = null;
  tokenStore.clear();
  if (closeLive) closeLive();
  closeLive = null;
  conn = null;
  clearTimeout(sender.timer);
  sender.timer = null;
  sender.trouble = null;
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

$("party-size").innerHTML = Array.from({ length: 10 }, (_, i) => `<option value="${i + 1}">${i + 1}</option>`).join("");
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
  $("discard-list").innerHTML = entries.map((e) => `<li>${esc(describeEvent(e.event))}`
    + ` <small>(${esc(t().queuedAt(fmtLocal(e.queuedAt)))})</small></li>`).join("");
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
  writeOutbox(list.filter((e) => !goneKeys.has(e.key)));
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
$("lang").addEventListener("click", () => {
  lang = lang === "nb" ? "en" : "nb";
  localStorage.setItem("lang", lang);
  applyLanguage();
});

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
  if (e.key !== OUTBOX_SLOT) return;
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
