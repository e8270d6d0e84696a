// The guard dashboard: every station in the guard token's scope on one live socket, one card per
// station, sorted so the rooms that need a guard come first, with corrections and cleaning.
// This module signs in, follows the socket and wires the page; the parts are in dashboard/:
// text (the catalogue's words for what the service names), session (token, stations, server clock), sort (urgency and order),
// filter (which cards are shown), cards, alerts, bulk (acknowledging several), chart, room (plan
// and today's cleaning), cleaning (its dialog) and dialogs (the guard's other actions).
import { getJson, live, session, withToken } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { applyCatalogue, languagePicker, loadCatalogue, say, tr } from "/assets/i18n.js";
import { trOr } from "/assets/dashboard/text.js";
import { current, newSession, noteServerTime, serverNow, setCurrent, whenExpired } from "/assets/dashboard/session.js";
import { levelOf, outsideCount, scheduleSort } from "/assets/dashboard/sort.js";
import { buildCard, renderCard, renderDetails, translateCard } from "/assets/dashboard/cards.js";
import { announceChanges } from "/assets/dashboard/alerts.js";
import { appendLivePoint, loadHistory } from "/assets/dashboard/chart.js";
import { loadRoom, roomBasisKey } from "/assets/dashboard/room.js";
import { translateDialogs } from "/assets/dashboard/dialogs.js";
import { applyFilter, startFilter } from "/assets/dashboard/filter.js";
import { renderBulk } from "/assets/dashboard/bulk.js";
/** Time-based conditions (how long a ticket has waited) change without any document. */
const TICK_MS = 15 * 1000;
const HISTORY_EVERY_MS = 60 * 1000;

const tokenStore = session("guard");

// ---------------------------------------------------------------- language

function applyLanguage() {
  applyCatalogue(() => {
    document.title = `${tr("dashboard.title")} — lobbywatch`;
    $("legend").textContent = tr("dashboard.legend");
    translateDialogs();
    if (current) {
      renderHeader();
      for (const st of current.stations.values()) {
        translateCard(st);
        renderCard(st);
      }
      applyFilter();
      renderBulk();
    }
  });
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message) {
  $("app").hidden = true;
  $("sign-in-panel").hidden = false;
  $("sign-out").hidden = true;
  $("conn").hidden = true;
  $("totals").hidden = true;
  $("device").hidden = true;
  const error = $("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("sign-in").disabled = false;
  // Like the terminal: the one thing to do on this screen is type the token.
  $("token").focus();
}

/** Validates a token with /me and, for a guard token, starts the dashboard. A token from this
 * tab's storage that the service cannot check yet (network down) is kept and retried. */
async function signIn(token, fromStorage) {
  const error = $("sign-in-error");
  $("sign-in").disabled = true;
  error.hidden = false;
  error.textContent = tr("dashboard.checking");
  let me;
  try {
    me = await getJson("/api/v1/me", token);
  } catch (e) {
    if (e.status === undefined || e.status >= 500) {
      showSignIn(tr("dashboard.unreachable"));
      if (fromStorage) setTimeout(() => { if (!current && tokenStore.get() === token) signIn(token, true); }, 5000);
      return;
    }
    tokenStore.clear();
    const why = say(e.code, e.params, e.message);
    showSignIn(e.status === 401 ? tr("dashboard.badToken", { d: why }) : why);
    return;
  }
  if (me.role !== "guard") {
    tokenStore.clear();
    showSignIn(me.role !== "other" ? trOr(`dashboard.role.${me.role}`, tr("dashboard.role.other", { r: me.role })) : tr("dashboard.role.other", { r: me.role }));
    return;
  }
  if (!me.stations || me.stations.length === 0) {
    tokenStore.clear();
    showSignIn(tr("dashboard.noStations"));
    return;
  }
  tokenStore.set(token);
  $("token").value = "";
  start(token, me);
}

function signOut(message) {
  if (current) {
    if (current.closeLive) current.closeLive();
    current.timers.forEach((id) => clearInterval(id));
    clearTimeout(current.sortTimer);
  }
  setCurrent(null);
  tokenStore.clear();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  $("cards").replaceChildren();
  $("bulk-result").replaceChildren();
  $("bulk-result").hidden = true;
  showSignIn(message || tr("dashboard.signedOut"));
}

// ---------------------------------------------------------------- the signed-in dashboard

function start(token, me) {
  setCurrent(newSession(token, me));
  const session = current;
  $("sign-in-panel").hidden = true;
  $("sign-in-error").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("conn").hidden = false;
  $("totals").hidden = false;
  $("device").hidden = false;
  $("cards").classList.toggle("few", me.stations.length <= 4);
  $("cards").replaceChildren();
  for (const s of me.stations) {
    const st = { id: s.id, name: s.name, district: s.district, doc: null, stale: false, staleSince: 0,
      history: null, historyLoading: false, historyError: null, room: null, roomLoading: false, roomError: null,
      result: null, alertsSeen: null, acking: new Set(), roomFor: null, roomAgain: false };
    st.el = buildCard(st, me.stations.length <= 4);
    session.stations.set(s.id, st);
    $("cards").append(st.el);
  }
  renderHeader();
  startFilter();
  renderBulk();
  setConn("lost");
  // District names for the cards; the documents carry only the district id.
  getJson("/api/v1/stations").then((directory) => {
    if (current !== session) return;
    for (const d of directory.districts) session.districts.set(d.id, d.name);
    for (const st of session.stations.values()) translateCard(st);
  }).catch(() => { /* the id is shown instead; nothing a guard needs to act on */ });
  session.closeLive = live(withToken("/api/v1/live", token), onDocument, setConn);
  syncClock(session);
  session.timers.push(setInterval(() => {
    for (const st of session.stations.values()) if (st.doc) renderCard(st);
    // A card held in place while the guard used it falls into order once they stop.
    scheduleSort();
  }, TICK_MS));
  session.timers.push(setInterval(() => {
    for (const st of session.stations.values()) if (st.el.querySelector(".card-more").open) loadHistory(st);
    syncClock(session);
  }, HISTORY_EVERY_MS));
}

/** A document's `as_of` is when its station last changed, which in a quiet station can be
 * long ago, so it only bounds the server's clock from below. A history answer's `to` is the
 * server's "now": one small request keeps ages ("asked in 3 min ago", alert ages) right even
 * when every station is quiet. */
async function syncClock(session) {
  const first = session.stations.keys().next().value;
  if (!first) return;
  try {
    const h = await getJson(`/api/v1/stations/${encodeURIComponent(first)}/history`, session.token);
    if (current === session) noteServerTime(Date.parse(h.to));
  } catch {
    /* the documents' own times are the fallback */
  }
}

function setConn(state, closed) {
  if (!current) return;
  current.conn = state;
  // The server's reason for closing (too many connections, not reading, …), shown until the
  // socket is back: a guard whose stations went quiet learns why.
  current.connReason = state === "open" ? "" : closed?.reason || current.connReason || "";
  const conn = $("conn");
  conn.dataset.state = state;
  conn.className = `conn ${state}`;
  if (state === "open") {
    if (current.everOpen) {
      // Back after a drop: what happened meanwhile is only in the history.
      for (const st of current.stations.values()) if (st.el.querySelector(".card-more").open) loadHistory(st);
    }
    current.everOpen = true;
    current.probing = false;
    conn.textContent = `● ${tr("dashboard.live")}`;
  } else {
    conn.textContent = connText();
    // The figures were right until the socket dropped, so that is the time to show.
    const lostAt = serverNow();
    for (const st of current.stations.values()) {
      if (st.doc && !st.stale) {
        st.stale = true;
        st.staleSince = lostAt;
        renderCard(st);
      }
    }
    probeToken();
  }
}

/** The socket cannot tell "token revoked" from "network down" (a refused upgrade looks like a
 * drop), so after a drop ask /me once: a 401 means sign in again, anything else keep retrying. */
async function probeToken() {
  const session = current;
  if (!session || session.probing) return;
  session.probing = true;
  try {
    await getJson("/api/v1/me", session.token);
  } catch (e) {
    if (current === session && (e.status === 401 || e.status === 403)) {
      signOut(tr("dashboard.expired"));
      return;
    }
  }
  // Ask again on the next drop only after this one has been answered.
  setTimeout(() => { if (current === session) session.probing = false; }, 10000);
}

function onDocument(doc) {
  const session = current;
  if (!session || !doc || typeof doc.station !== "string") return;
  let st = session.stations.get(doc.station);
  if (!st) return; // the socket only sends stations in scope; ignore anything else
  // A document older than the one shown (seq, then as_of) would undo a newer state. After a
  // reconnect (card stale) the first document is taken as it is: the service may have restarted.
  if (st.doc && !st.stale && (doc.seq < st.doc.seq || (doc.seq === st.doc.seq && Date.parse(doc.as_of) < Date.parse(st.doc.as_of)))) {
    st.stale = false;
    renderCard(st);
    return;
  }
  noteServerTime(Date.parse(doc.as_of));
  announceChanges(st, doc);
  st.doc = doc;
  st.stale = false;
  appendLivePoint(st, doc);
  // An admin may change the distancing rule at run time: the seats usable under it (and the
  // cap) change, so a room plan fetched under the old rule is fetched again.
  if ((st.room || st.roomLoading) && st.roomFor !== roomBasisKey(doc)) loadRoom(st, true);
  renderCard(st);
  renderHeader();
  applyFilter();
  renderBulk();
  scheduleSort();
}

// ---------------------------------------------------------------- header

function renderHeader() {
  if (!current) return;
  $("device").textContent = tr("dashboard.device", { d: current.me.device });
  let inside = 0, outside = 0, full = 0, over = 0, active = 0;
  for (const st of current.stations.values()) {
    if (!st.doc) continue;
    inside += st.doc.headcount;
    outside += outsideCount(st.doc);
    const level = levelOf(st.doc);
    if (level === "full") full += 1;
    if (level === "over") over += 1;
    active += (st.doc.alerts || []).filter((a) => a.state === "active").length;
  }
  // Short on the bar ("2 fulle"); the whole sentence ("2 stasjoner er fulle") as its tooltip and
  // for a screen reader, which reads the sentence instead of the short form.
  const count = (field, n, icon, short, sentence) => h("li", { class: n ? "has-full" : "", title: sentence, dataset: { count: field, n } },
    h("span", { "aria-hidden": "true" }, n ? `${icon} ` : "", short), h("span", { class: "visually-hidden" }, sentence));
  const totals = $("totals");
  totals.setAttribute("aria-label", tr("dashboard.totalsLabel"));
  totals.replaceChildren(
    h("li", {}, tr("dashboard.stationsN", { n: current.stations.size })),
    h("li", {}, tr("dashboard.insideN", { n: inside })),
    h("li", {}, tr("dashboard.outsideN", { n: outside })),
    count("full", full, "■", tr("dashboard.fullN", { n: full }), tr("dashboard.fullSentence", { n: full })),
    count("over", over, "✖", tr("dashboard.overN", { n: over }), tr("dashboard.overSentence", { n: over })),
    count("alerts", active, "⚠", tr("dashboard.alertsN", { n: active }), tr("dashboard.activeAlertsN", { n: active })),
  );
  if (current.conn === "open") $("conn").textContent = `● ${tr("dashboard.live")}`;
  else $("conn").textContent = connText();
}

/** The connection line while the socket is down, with the server's reason if it gave one. */
function connText() {
  const text = current.everOpen ? `⚠ ${tr("dashboard.lost")}` : `… ${tr("dashboard.connecting")}`;
  return current.connReason ? `${text} (${current.connReason})` : text;
}

// ---------------------------------------------------------------- wiring

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) {
    showSignIn(tr("dashboard.emptyToken"));
    $("token").focus();
    return;
  }
  signIn(token, false);
});

$("sign-out").addEventListener("click", () => signOut());

languagePicker(applyLanguage);
whenExpired(() => signOut(tr("dashboard.expired")));

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (current) for (const st of current.stations.values()) renderDetails(st, true);
  }, 200);
});

try {
  await loadCatalogue("dashboard");
} catch {
  /* the page's own bokmål stays; the service is probably down, which sign-in will say */
}
applyLanguage();
const stored = tokenStore.get();
if (stored) {
  $("sign-in-panel").hidden = true;
  signIn(stored, true);
} else {
  showSignIn("");
}
