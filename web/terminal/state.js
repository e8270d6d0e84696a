// What the terminal's modules share: which station this desk is, the signed-in token and its /me
// answer, the latest live document, this tab's recent results, and the outbox with its sender.
// One small module that every other part imports; nothing here draws the page.
import { newKey, postEvent, session } from "/assets/common.js";
import { say } from "/assets/i18n.js";
import { serviceName as nameOf } from "/assets/format.js";
import { Outbox, Sender, isMine as mayBeSentBy } from "/assets/outbox.js";
import { t } from "/assets/terminal/text.js";

export const station = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
export const tokenStore = session(`terminal.${station}`);
export const DESK_SLOT = `lobbywatch.desk.${station}`;
// The services and station name of the last document, so a reload while the service is down
// still shows the check-in buttons (check-ins then wait in the outbox).
export const CACHE_SLOT = `lobbywatch.terminal.cache.${station}`;
// What this tab last issued/called and its recent results; survives a reload of the tab only.
const RECENT_SLOT = `lobbywatch.terminal.recent.${station}`;
// The device id of the signed-in token (from /me), next to the token in this tab's session: an
// outbox entry is stamped with it even when the page is reloaded while the service is down.
export const DEVICE_SLOT = `lobbywatch.terminal.device.${station}`;
export const TICKET_RE = /^[A-Z][0-9]{1,6}$/;
export const DESK_RE = /^[A-Za-z0-9-]{1,16}$/;
const SEND_TIMEOUT_MS = 15000;

export { t };

function readJson(store, slot, fallback) {
  try {
    const value = JSON.parse(store.getItem(slot));
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

/** The desk's shared state. Assigned by the module that owns each part (session.js: token, me,
 * doc, conn; actions.js: recent), read by all. */
export const state = {
  token: null,
  me: null, // the /me answer once verified
  doc: null, // the latest full status document
  cache: readJson(localStorage, CACHE_SLOT, null),
  conn: null, // null | "open" | "lost"
  connReason: "", // the server's reason when it closed the live socket
  focusServicesOnce: false, // right after signing in, the keyboard starts on the first check-in
  revealUntil: 0, // until when an arriving check-in answer may scroll itself into view
  recent: readJson(sessionStorage, RECENT_SLOT, null) || { issued: null, called: null, results: [] },
  skew: null, // the service's clock minus this PC's, in ms (current.js)
  noShowSoon: new Map(), // ticket → { until, timer }: no-shows waiting out their undo (undo.js)
  probing: false, // asking /me whether a dropped socket means a refused token (session.js)
};

export function saveRecent() {
  try { sessionStorage.setItem(RECENT_SLOT, JSON.stringify(state.recent)); } catch { /* display memory only */ }
}

// ---------------------------------------------------------------------------------------------
// The outbox and its sender (outbox.js)
// ---------------------------------------------------------------------------------------------

export const outbox = new Outbox({ storage: localStorage, slot: `lobbywatch.outbox.${station}`, newKey });

/** The outbox as stored now. Always read fresh: another tab of this station may have changed it. */
export const readOutbox = () => outbox.read();

/** The device this tab is signed in as, or null (signed out, or a stored token whose /me answer
 * is not known yet). */
export function myDevice() {
  if (!state.token) return null;
  return state.me?.device || sessionStorage.getItem(DEVICE_SLOT) || null;
}

/** May this tab send `entry`? Only with the token of the device that queued it (see outbox.js). */
export const isMine = (entry) => mayBeSentBy(entry, myDevice());

/** Entries that wait for another device to sign in again, grouped by that device. */
export const heldGroups = (list) => outbox.heldGroups(myDevice(), list);

/** What the sender's news leads to on the page. The entry module (terminal.js) fills these in, so
 * this module needs none of the modules that draw. */
export const senderHooks = {
  answer: (_entry, _answer) => {},
  tokenRefused: (_detail) => {},
  change: (_running) => {},
};

export const sender = new Sender({
  outbox,
  credentials: () => ({ token: state.token, device: myDevice() }),
  post: (sendToken, entry) => postEvent(station, sendToken, entry.key, entry.event),
  timeoutMs: SEND_TIMEOUT_MS,
  onAnswer: (entry, answer) => senderHooks.answer(entry, answer),
  onTokenRefused: (answer, sendToken) => {
    const body = answer.body || {};
    if (state.token === sendToken) senderHooks.tokenRefused(say(body.code, body.params, body.detail || body.title || `HTTP ${answer.status}`));
  },
  onChange: (running) => senderHooks.change(running),
});
export const sendSoon = () => sender.sendSoon();
export const retryNow = () => sender.retryNow();

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** The services of the live document, or of the cached one while there is none. */
export function services() {
  return state.doc?.services || state.cache?.services || [];
}

/** A service's name in the page's language, or its id when it is not known. */
export function serviceName(id) {
  const s = services().find((x) => x.id === id);
  return s ? nameOf(s) : id;
}

export function stationName() {
  return state.doc?.name || state.me?.stations?.find((s) => s.id === station)?.name || state.cache?.name || station;
}
