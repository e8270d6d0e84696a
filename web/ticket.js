// A visitor's own ticket page (/t/<code>): the ticket's view, live over its own socket, in plain
// words; the visitor's actions (wait elsewhere, more time, leave, I'm here); alerts when it is
// their turn; and an honest "showing data from HH:MM" while the connection is down.
//
// The code in the address is the capability. It is kept in this phone's localStorage so the QR
// code posted at the entrance (/t/arrive?station=<id>&entrance=<code>) can confirm the visitor's
// arrival without knowing who they are.
import { getJson, live } from "/assets/common.js";
import { applyCatalogue, languagePicker, loadCatalogue, say, tr } from "/assets/i18n.js";
import { formatTime, hoursText, serviceName } from "/assets/format.js";
import { $ } from "/assets/dom.js";
import { ACT_NOW, describe, signText } from "/assets/ticket/view.js";
import { alertVisitor, askToNotify, canAskToNotify, readySoundOnFirstTouch } from "/assets/ticket/alert.js";
import { act } from "/assets/ticket/actions.js";

const STORED = "lobbywatch.ticket";
/** The socket's close code for a link that is unknown or expired. */
const CLOSE_UNKNOWN_LINK = 4404;

const page = {
  code: null,
  view: null,
  receivedAt: null, // when the last view arrived (ms)
  connected: false,
  mode: null, // the moment shown (describe's mode)
  lastAlerted: null, // the moment last alerted ("come_in:", "called:3", …)
  entrance: new URLSearchParams(location.search).get("entrance"),
  arrivalTried: false,
  stop: () => {},
};

/** The ticket code: from the address, or for the entrance poster's /t/arrive the one kept here. */
function ticketCode() {
  const segment = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? "");
  if (segment !== "arrive") return segment;
  try {
    const kept = JSON.parse(localStorage.getItem(STORED) ?? "null");
    const station = new URLSearchParams(location.search).get("station");
    return kept && (!station || kept.station === station) ? kept.code : null;
  } catch {
    return null;
  }
}

function keep(code, station) {
  try {
    localStorage.setItem(STORED, JSON.stringify({ code, station }));
  } catch {
    /* private mode: the poster's link then asks for the ticket's own link */
  }
}

function pageTitle() {
  const number = page.view?.ticket;
  return number ? `${number} — ${tr("ticket.title")}` : `${tr("ticket.title")} — lobbywatch`;
}

function render() {
  document.title = pageTitle();
  const view = page.view;
  if (!view) return;
  $("station-name").textContent = view.station_name;
  $("ticket-card").hidden = false;
  $("number").textContent = view.ticket;
  $("service").textContent = serviceName({ name: view.service_name, name_en: view.service_name_en });
  const { mode, headline, detail } = describe(view);
  // A new moment to act (or the end) makes the last action's "done" old news.
  if (mode !== page.mode && (ACT_NOW.has(mode) || mode === "ended")) showMessage("");
  page.mode = mode;
  const state = $("state");
  state.dataset.state = mode;
  $("headline").textContent = headline;
  $("detail").textContent = detail;
  renderPlace(view);
  renderActions(view, mode);
  renderStale();
  maybeAlert(view, mode, headline, detail);
}

function renderPlace(view) {
  $("place").hidden = false;
  const sign = $("sign");
  sign.className = `sign ${view.sign}`;
  sign.textContent = signText(view.sign);
  $("address-row").hidden = !view.address;
  $("address").textContent = view.address ?? "";
  $("hours").textContent = view.hours_today ? hoursText(view.hours_today) : tr("ticket.closedToday");
}

function renderActions(view, mode) {
  const queued = view.state === "waiting" || view.state === "come_in";
  const canArrive = view.remote && queued && view.entrance_code_required;
  $("away").hidden = !view.can_wait_elsewhere;
  $("here").hidden = !canArrive || !$("arrive-form").hidden;
  $("arrive-at-desk").hidden = !(view.remote && queued && !view.entrance_code_required);
  if (!canArrive) $("arrive-form").hidden = true;
  $("more-time").hidden = !view.more_time_available;
  $("leave").hidden = !view.can_leave || !$("leave-confirm").hidden;
  if (!view.can_leave) $("leave-confirm").hidden = true;
  $("notify").hidden = mode === "ended" || !canAskToNotify();
  $("actions").hidden = [...$("actions").children].every((el) => el.hidden);
  if (canArrive && page.entrance && !page.arrivalTried) {
    // Scanned at the entrance: the poster's code says the visitor is at the door.
    page.arrivalTried = true;
    // The poster's address did its work: a reload must not post the arrival again.
    history.replaceState(null, "", `/t/${encodeURIComponent(page.code)}`);
    send("arrived", page.entrance);
  }
}

/** Alerts once per moment to act (start walking, come in, go to desk N). */
function maybeAlert(view, mode, headline, detail) {
  if (!ACT_NOW.has(mode)) return;
  const moment = `${mode}:${view.desk ?? ""}`;
  if (moment === page.lastAlerted) return;
  page.lastAlerted = moment;
  $("alert").textContent = `${headline}. ${detail}`;
  const state = $("state");
  state.classList.remove("alerting");
  void state.offsetWidth; // restart the animation
  state.classList.add("alerting");
  alertVisitor(headline, detail, `lobbywatch-${view.station}-${view.ticket}`, pageTitle);
}

/** While the socket is down: which time the page shows, in words, on the station's clock. */
function renderStale() {
  const stale = $("stale");
  if (page.connected || !page.view) {
    stale.hidden = true;
    return;
  }
  const time = formatTime(page.receivedAt, { timeZone: page.view.timezone });
  stale.textContent = tr("ticket.stale", { time });
  stale.hidden = false;
}

function showUnknown() {
  page.stop();
  page.view = null;
  for (const id of ["ticket-card", "actions", "place", "stale"]) $(id).hidden = true;
  $("state").dataset.state = "unknown";
  $("headline").textContent = tr("ticket.unknownLink");
  $("detail").textContent = tr(page.code ? "ticket.unknownHint" : "ticket.noStoredTicket");
  document.title = pageTitle();
}

function showMessage(text, isError = false) {
  const message = $("message");
  message.textContent = text;
  message.classList.toggle("error", isError);
}

const DONE = { away: "ticket.awayDone", more_time: "ticket.moreTimeDone", leave: "ticket.leaveDone", arrived: "ticket.arrivedDone" };

async function send(kind, entrance) {
  const buttons = [...document.querySelectorAll("#actions button")];
  buttons.forEach((b) => { b.disabled = true; });
  showMessage("");
  const answer = await act(page.code, kind, entrance);
  buttons.forEach((b) => { b.disabled = false; });
  if (answer.ok) {
    showMessage(tr(DONE[kind]));
    $("arrive-form").hidden = true;
    $("leave-confirm").hidden = true;
    render();
  } else if (answer.status === 0) {
    showMessage(tr("ticket.offline"), true);
  } else if (answer.body.type === "/problems/wrong-entrance-code") {
    showMessage(tr("ticket.wrongEntrance"), true);
  } else if (answer.status === 404) {
    showUnknown();
  } else {
    showMessage(say(answer.body.code, answer.body.params, answer.body.detail), true);
  }
}

function wireActions() {
  $("away").addEventListener("click", () => send("away"));
  $("more-time").addEventListener("click", () => send("more_time"));
  $("here").addEventListener("click", () => {
    $("arrive-form").hidden = false;
    $("here").hidden = true;
    if (page.entrance) $("entrance").value = page.entrance;
    $("entrance").focus();
  });
  $("arrive-form").addEventListener("submit", (e) => {
    e.preventDefault();
    send("arrived", $("entrance").value);
  });
  $("leave").addEventListener("click", () => {
    $("leave-confirm").hidden = false;
    $("leave").hidden = true;
    $("leave-no").focus();
  });
  $("leave-no").addEventListener("click", () => {
    $("leave-confirm").hidden = true;
    $("leave").hidden = false;
    $("leave").focus();
  });
  $("leave-yes").addEventListener("click", () => send("leave"));
  $("notify").addEventListener("click", async () => {
    const answer = await askToNotify();
    showMessage(tr(answer === "granted" ? "ticket.notifyOn" : "ticket.notifyDenied"), answer !== "granted");
    render();
  });
}

function follow() {
  page.stop = live(`/api/v1/tickets/${encodeURIComponent(page.code)}/live`, (view) => {
    page.view = view;
    page.receivedAt = Date.now();
    page.connected = true;
    keep(page.code, view.station);
    render();
  }, (state, close) => {
    if (state === "open") return;
    if (close?.code === CLOSE_UNKNOWN_LINK) {
      showUnknown();
      return;
    }
    page.connected = false;
    renderStale();
  });
}

async function start() {
  await loadCatalogue("ticket");
  readySoundOnFirstTouch();
  wireActions();
  languagePicker(() => applyCatalogue(render));
  applyCatalogue(render);
  page.code = ticketCode();
  if (!page.code) {
    showUnknown();
    return;
  }
  try {
    page.view = await getJson(`/api/v1/tickets/${encodeURIComponent(page.code)}`);
    page.receivedAt = Date.now();
    page.connected = true;
    render();
  } catch (e) {
    if (e.status === 404) {
      showUnknown();
      return;
    }
  }
  follow();
}

start();
