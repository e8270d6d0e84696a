// A card's alerts: the service's own (raised, acknowledged, cleared), updated in place so an
// Acknowledge button keeps focus; the hints this screen works out itself; and the polite
// announcement of a new serious alert for screen-reader users.
import { $, h, replaceIfChanged } from "/assets/dom.js";
import { has, say, tr } from "/assets/i18n.js";
import { serviceName } from "/assets/format.js";
import { fmtTime, minutesSince, serverNow } from "/assets/dashboard/session.js";
import { listOf, surfaceName, trOr } from "/assets/dashboard/text.js";
import { surfacesOf } from "/assets/dashboard/due.js";
import { outsideCount } from "/assets/dashboard/sort.js";
/** A ticket admitted from the queue should walk in within a minute or two; longer than this and
 * the visitor probably did not notice the sign, so the guard should go and fetch them. */
const PLEASE_ENTER_LONG_MS = 2 * 60 * 1000;
/** Tickets named in the "asked in but not come in" hint before "+N more". */
const SLOW_NAMED = 4;

/** Alerts worth interrupting a screen-reader user for. Cleaning and long-inside alerts come by
 * the handful (one per surface) and are on screen and in the header count anyway. */
const ANNOUNCED = new Set(["over_cap", "gathering", "at_cap", "long_wait"]);

/** Announce (politely) each such alert the service raises, never the ones already open when the
 * dashboard connected: those are on screen, and 17 stations' worth at once would be noise. */
export function announceChanges(st, doc) {
  const seen = new Set((doc.alerts || []).map(alertKey));
  const before = st.alertsSeen;
  st.alertsSeen = seen;
  if (!before) return;
  const messages = (doc.alerts || [])
    .filter((a) => a.state === "active" && ANNOUNCED.has(a.kind) && !before.has(alertKey(a)))
    .map((a) => tr("dashboard.announceAlert", { s: st.name, what: alertTitle(st, a), detail: alertText(a) }));
  if (messages.length) $("announce").textContent = messages.join(" ");
}

/** What the alert says, in the page's language from its code and params (the service's English
 * detail for a code this page does not know). */
export function alertText(a) {
  return say(a.code, a.params, a.detail);
}

/** The language an alert's text is in, for a screen reader: English only when it is the
 * service's own detail. */
function alertLang(a) {
  return a.code && has(`messages.${a.code}`) ? null : "en";
}

/** Alerts raised by one event share its seq as their id, so the kind and subject are needed
 * too to tell two apart. */
export function alertKey(a) {
  return `${a.id}|${a.kind}|${a.surface ?? a.ticket ?? a.service ?? ""}`;
}

const ALERT_ICON = { over_cap: "✖", at_cap: "■", gathering: "⚠", cleaning_due: "✧", long_inside: "◷", long_wait: "⌛" };
const ALERT_SEVERITY = { over_cap: "stop", gathering: "stop", at_cap: "warn", long_wait: "warn", cleaning_due: "info", long_inside: "info" };

/** "Cleaning due: door handles", "Long wait: Passport" — the kind in the page's language and its
 * subject, which the detail (English, from the service) also names. */
export function alertTitle(st, a) {
  const kind = trOr(`dashboard.alertKind.${a.kind}`, a.kind);
  let subject = "";
  // One cleaning alert per station lists its surfaces; an older service raised one per surface.
  if (a.kind === "cleaning_due") subject = listOf(surfacesOf(a).map((due) => surfaceName(due.surface)));
  else if (a.ticket) subject = a.ticket;
  else if (a.service) {
    const svc = (st.doc?.services || []).find((s) => s.id === a.service);
    subject = svc ? serviceName(svc) : a.service;
  }
  return subject ? `${kind}: ${subject}` : kind;
}

/** How many lines of the service's detail a card shows (hover or a screen reader gets it all):
 * the over-cap detail says why the room is over, so it is never cut. "sr": not drawn at all —
 * at cap repeats the card's badge and numbers, and a busy station has a cleaning alert per
 * surface whose title already says what to clean; drawn, they would push the queue off screen. */
const DETAIL_LINES = { over_cap: 0, gathering: 2, long_wait: 2, long_inside: 1, at_cap: "sr", cleaning_due: "sr" };
/** Within a card, the alerts a guard must act on first come first. */
const ALERT_ORDER = { over_cap: 0, gathering: 1, at_cap: 2, long_wait: 3, long_inside: 4, cleaning_due: 5 };

/** An alert's icon, title, age, the service's detail and who acknowledged it. */
function alertBody(st, a) {
  const tz = st.doc?.timezone;
  const when = a.state === "cleared"
    ? `${fmtTime(Date.parse(a.since), tz)}–${fmtTime(Date.parse(a.cleared_at), tz)}`
    : tr("dashboard.alertSince", { time: fmtTime(Date.parse(a.since), tz), m: minutesSince(a.since) });
  // A damped alert whose condition has stopped: it clears at `settles_at` unless it holds again,
  // so the guard sees it is going away rather than a full room that will not end.
  const settling = a.state !== "cleared" && a.settles_at
    ? h("span", { class: "alert-settling" }, tr("dashboard.alertSettling", { time: fmtTime(Date.parse(a.settles_at), tz) }))
    : null;
  const acked = a.acknowledged_by
    ? h("span", { class: "alert-acked" }, h("span", { "aria-hidden": "true" }, "✓"),
      ` ${tr("dashboard.alertAcked", { by: a.acknowledged_by, time: a.acknowledged_at ? fmtTime(Date.parse(a.acknowledged_at), tz) : "?" })}`)
    : null;
  const lines = a.state === "cleared" ? 1 : DETAIL_LINES[a.kind] ?? 2;
  const detailClass = lines === "sr" ? " visually-hidden" : lines ? ` clamp-${lines}` : "";
  // The service's English detail, when shown, is marked so a screen reader reads it so.
  return [h("span", { class: "icon", "aria-hidden": "true" }, ALERT_ICON[a.kind] || "!"), " ",
    h("span", { class: "alert-text" },
      h("span", { class: "alert-head" }, h("strong", { class: "alert-title" }, alertTitle(st, a)), " ", h("span", { class: "alert-meta" }, `· ${when}`), settling),
      " ", h("span", { class: `alert-detail${detailClass}`, lang: alertLang(a) }, alertText(a)), acked)];
}

/** Updates the open alerts in place (one <li> per alert, keyed), so a focused Acknowledge
 * button survives the document that follows; the cleared ones go in a collapsed list. */
export function renderAlerts(st) {
  const doc = st.doc;
  const list = st.el.querySelector(".open-alerts");
  const alerts = doc.alerts || [];
  const open = alerts.filter((a) => a.state !== "cleared")
    .sort((x, y) => (ALERT_ORDER[x.kind] ?? 9) - (ALERT_ORDER[y.kind] ?? 9) || Date.parse(x.since) - Date.parse(y.since));
  const cleared = alerts.filter((a) => a.state === "cleared");
  const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const wanted = [];
  for (const a of open) {
    const key = alertKey(a);
    let li = existing.get(key);
    if (!li) {
      li = document.createElement("li");
      li.dataset.key = key;
      // Focus lands here when its Acknowledge button goes away under the guard's hand.
      li.tabIndex = -1;
      li.append(h("div", { class: "alert-body" }));
    }
    existing.delete(key);
    li.className = `alert ${ALERT_SEVERITY[a.kind] || "warn"} is-${a.state}`;
    li.dataset.alert = String(a.id);
    li.dataset.kind = a.kind;
    li.dataset.state = a.state;
    li.title = alertText(a);
    replaceIfChanged(li.querySelector(".alert-body"), alertBody(st, a));
    renderAlertTools(st, li, a);
    let button = li.querySelector('button[data-action="acknowledge"]');
    if (a.state === "active") {
      if (!button) {
        button = document.createElement("button");
        button.type = "button";
        button.dataset.action = "acknowledge";
        li.append(button);
      }
      button.textContent = tr("dashboard.ack");
      button.setAttribute("aria-label", tr("dashboard.ackLabel", { what: alertTitle(st, a), s: st.name }));
      button.setAttribute("aria-disabled", String(Boolean(st.acking?.has(key))));
    } else if (button) {
      if (document.activeElement === button) li.focus();
      button.remove();
    }
    wanted.push(li);
  }
  for (const li of existing.values()) {
    // A focused alert that cleared: keep focus in the card's alert area rather than on <body>.
    if (li.contains(document.activeElement)) {
      const box = st.el.querySelector(".alerts-box");
      box.tabIndex = -1;
      box.focus();
    }
    li.remove();
  }
  // Reorder only when the order really changed: moving a node takes focus out of it.
  if (wanted.some((li, i) => list.children[i] !== li)) {
    list.append(...wanted);
    if (focused && document.contains(focused) && document.activeElement !== focused) focused.focus();
  }
  list.hidden = open.length === 0;

  const recent = st.el.querySelector(".alerts-recent");
  recent.hidden = cleared.length === 0;
  recent.querySelector("summary").textContent = tr("dashboard.recentAlerts", { n: cleared.length });
  replaceIfChanged(recent.querySelector(".recent-alerts"), cleared.map((a) =>
    h("li", { class: "alert is-cleared", title: alertText(a), dataset: { alert: a.id, kind: a.kind, state: "cleared" } },
      h("div", { class: "alert-body" }, alertBody(st, a)))));
}

/** An active alert's checkbox for bulk acknowledging, and a cleaning alert's "Cleaned…" button,
 * which opens the dialog with its surfaces ticked. Kept in place like the Acknowledge button. */
function renderAlertTools(st, li, a) {
  let pick = li.querySelector("input.alert-pick");
  if (a.state === "active") {
    if (!pick) {
      pick = h("input", { type: "checkbox", class: "alert-pick" });
      li.prepend(pick);
    }
    pick.setAttribute("aria-label", tr("dashboard.pickLabel", { what: alertTitle(st, a), s: st.name }));
  } else if (pick) {
    if (document.activeElement === pick) li.focus();
    pick.remove();
  }
  let cleaned = li.querySelector('button[data-action="cleaned"]');
  if (a.kind === "cleaning_due" && !cleaned) {
    cleaned = h("button", { type: "button", class: "alert-cleaned", dataset: { action: "cleaned" } });
    li.append(cleaned);
  }
  if (cleaned) {
    cleaned.textContent = tr("dashboard.cleaned");
    cleaned.setAttribute("aria-label", tr("dashboard.cleanedLabel", { s: st.name }));
  }
}

/** What this screen notices that the service does not raise as an alert; drawn apart (dotted,
 * "Note") so nobody looks for an Acknowledge button on them. */
export function hints(doc) {
  const hints = [];
  const enteredAt = new Map();
  for (const list of Object.values(doc.inside || {})) for (const p of list) enteredAt.set(p.ticket, p.entered_at);
  const slow = doc.please_enter
    .map((ticket) => ({ ticket, since: enteredAt.get(ticket) }))
    .filter((p) => p.since && serverNow() - Date.parse(p.since) >= PLEASE_ENTER_LONG_MS);
  if (slow.length) {
    const named = slow.slice(0, SLOW_NAMED).map((p) => `${p.ticket} (${tr("dashboard.minutes", { m: minutesSince(p.since) })})`);
    if (slow.length > SLOW_NAMED) named.push(tr("dashboard.more", { n: slow.length - SLOW_NAMED }));
    hints.push(["➜", tr("dashboard.hint.pleaseEnter", { list: named.join(", ") })]);
  }
  if (doc.corrections > 0) hints.push(["✎", tr("dashboard.hint.corrections", { n: doc.corrections })]);
  if (!doc.open && (doc.headcount > 0 || outsideCount(doc) > 0)) {
    hints.push(["○", tr("dashboard.hint.closedBusy", { h: doc.headcount, n: outsideCount(doc) })]);
  }
  return hints.map(([icon, text]) => h("li", { class: "hint" }, h("span", { class: "icon", "aria-hidden": "true" }, icon),
    " ", h("span", { class: "hint-label" }, `${tr("dashboard.hint.label")}:`), ` ${text}`));
}
