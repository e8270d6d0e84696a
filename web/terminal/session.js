// Signing the desk in and out, and the live socket while signed in. A token is checked with /me
// (a terminal or guard token for this station); it is kept in this tab's sessionStorage, and the
// device it belongs to next to it, so the outbox can be sent after a reload. The live document
// only ever *shows* state; it never decides whether an action happened.
import { getJson, live, withToken } from "/assets/common.js";
import { $ } from "/assets/dom.js";
import {
  CACHE_SLOT, DEVICE_SLOT, myDevice, readOutbox, retryNow, sendSoon, sender, station, stationName, state, t, tokenStore,
} from "/assets/terminal/state.js";
import { showError } from "/assets/terminal/view.js";
import { renderAll, renderCalls, renderHeader, renderIssued, renderServices, renderStatus } from "/assets/terminal/render.js";
import { renderLists } from "/assets/terminal/lists.js";
import { closeDiscardDialog } from "/assets/terminal/discard.js";
import { closeCallDialog } from "/assets/terminal/call-confirm.js";
import { closeTransferDialog } from "/assets/terminal/transfer.js";
import { noteServerTime, renderCurrent } from "/assets/terminal/current.js";
import { rememberBookings } from "/assets/terminal/booking.js";

let closeLive = null;

// ---------------------------------------------------------------------------------------------
// The live document
// ---------------------------------------------------------------------------------------------

function onDocument(doc) {
  if (doc.station !== station) return;
  state.doc = doc;
  rememberBookings(doc);
  noteServerTime(doc.as_of);
  try {
    state.cache = { name: doc.name, services: doc.services.map(({ id, name, name_en, prefix, open, hours_today, last_check_in, taking_check_ins }) => ({ id, name, name_en, prefix, open, hours_today, last_check_in, taking_check_ins })) };
    localStorage.setItem(CACHE_SLOT, JSON.stringify(state.cache));
  } catch { /* the cache only helps a reload while offline */ }
  renderHeader();
  renderStatus();
  renderServices();
  renderLists();
  renderCalls();
  renderIssued();
  renderCurrent();
}

function onConnection(connection, closed) {
  // 4401: the service closed the socket because this token was revoked — sign out now, rather
  // than reconnect for ever while the outbox fills with actions it would refuse.
  if (connection === "lost" && closed?.code === 4401) {
    tokenRefused(closed.reason);
    return;
  }
  const wasLost = state.conn === "lost";
  state.conn = connection;
  // The server's reason for closing (too many sockets, not reading, …), shown on the stale line.
  state.connReason = connection === "open" ? "" : closed?.reason || state.connReason;
  renderHeader();
  renderStatus();
  if (connection === "open") {
    if (!state.me) verify(state.token, true); // signed in from storage while the service was down
    if (wasLost || readOutbox().length) retryNow();
  } else {
    probeToken();
  }
}

/** A refused upgrade (an unknown or revoked token) looks to the page like a network drop, so
 * after a drop ask /me once: 401/403 signs out with the service's reason, anything else (the
 * service is down) keeps the desk working into the outbox. */
async function probeToken() {
  const token = state.token;
  if (!token || state.probing) return;
  state.probing = true;
  try {
    await getJson("/api/v1/me", token);
  } catch (e) {
    if (state.token === token && (e.status === 401 || e.status === 403)) {
      state.probing = false;
      tokenRefused(e.message);
      return;
    }
  }
  // Asked again on a later drop only: the socket retries every few seconds.
  setTimeout(() => { state.probing = false; }, 10000);
}

function startLive() {
  if (closeLive) closeLive();
  state.conn = null;
  closeLive = live(withToken(`/api/v1/stations/${encodeURIComponent(station)}/live`, state.token), onDocument, onConnection);
}

// ---------------------------------------------------------------------------------------------
// Signing in and out
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
export async function verify(candidate, fromStorage) {
  try {
    const answer = await getJson("/api/v1/me", candidate);
    if (candidate !== state.token && fromStorage) return; // signed out meanwhile
    const why = refusal(answer);
    if (why) {
      signOut(why);
      return false;
    }
    state.me = answer;
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
export function tokenRefused(detail) {
  const device = myDevice();
  const waiting = device ? readOutbox().filter((e) => e.device === device || !e.device).length : readOutbox().length;
  signOut(t().errTokenRefused(detail, waiting));
}

export function enterApp(newToken) {
  state.token = newToken;
  tokenStore.set(newToken);
  if (state.me) rememberDevice(state.me.device);
  $("sign-in-section").hidden = true;
  $("app").hidden = false;
  $("token").value = "";
  showError("sign-in-error", null);
  startLive();
  renderAll();
  retryNow(); // the outbox may hold actions from before a reload or sign-out
}

export function signOut(reason) {
  state.token = null;
  state.me = null;
  state.doc = null;
  tokenStore.clear();
  if (closeLive) closeLive();
  closeLive = null;
  state.conn = null;
  sender.stop();
  try { sessionStorage.removeItem(DEVICE_SLOT); } catch { /* nothing to forget */ }
  closeDiscardDialog();
  closeCallDialog();
  closeTransferDialog();
  // The outbox stays in localStorage: it is sent when the same device signs in again.
  $("app").hidden = true;
  $("sign-in-section").hidden = false;
  showError("sign-in-error", reason || null);
  renderAll();
  $("token").focus();
}

/** The sign-in form: the token is checked before the desk opens, with the reason when it may not. */
async function submitSignIn(e) {
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
    state.me = answer;
    state.focusServicesOnce = true;
    enterApp(candidate);
  } catch (err) {
    showError("sign-in-error", err.status === 401 ? t().errInvalid : err.status ? err.message : t().errUnreachable);
    $("token").select();
  } finally {
    $("sign-in").disabled = false;
    $("sign-in").textContent = t().signIn;
  }
}

export function wireSignIn() {
  $("sign-in-form").addEventListener("submit", submitSignIn);
  $("sign-out").addEventListener("click", () => signOut(null));
}

/** At start: a token kept in this tab opens the desk at once (and is checked in the background);
 * without one, the sign-in form. */
export function resumeOrSignIn() {
  const stored = tokenStore.get();
  if (stored) {
    enterApp(stored);
    verify(stored, true);
  } else {
    $("sign-in-section").hidden = false;
    $("app").hidden = true;
    $("token").focus();
  }
}
