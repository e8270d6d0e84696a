// One station's card: built once (so focus and open <details> survive), translated when the
// language changes, and its live parts redrawn from each document — gauge, services, tickets
// inside, the next bookings, the queue outside, who was asked in, the action buttons and their
// last result.
import { fill, h } from "/assets/dom.js";
import { language, tr } from "/assets/i18n.js";
import { formatNumber, serviceName } from "/assets/format.js";
import { current, fmtTime, minutesSince } from "/assets/dashboard/session.js";
import { trOr } from "/assets/dashboard/text.js";
import { gathering, levelOf, outsideCount, outsidePeople } from "/assets/dashboard/sort.js";
import { hints, renderAlerts } from "/assets/dashboard/alerts.js";
import { chartParts, loadHistory } from "/assets/dashboard/chart.js";
import { cleaningParts, loadRoom, roomParts } from "/assets/dashboard/room.js";
import { bookedMark, gauge, gaugeLegend, nextBookings } from "/assets/dashboard/bookings.js";
/** Outside tickets shown before "show all": the head of the queue is what a guard acts on, and
 * a queue of 70 would otherwise push every other card off the screen. */
const QUEUE_SHOWN = 10;

/** An estimate in minutes ("≈ 6 min"), or its "under a minute" text for 0: never "≈ 0 min". */
function minutesText(key, m) {
  return m < 1 ? tr(`${key}Soon`) : tr(key, { m });
}
const LEVEL_ICON = { ok: "✓", near: "▲", full: "■", over: "✖" };

export function buildCard(st, detailsOpen) {
  const base = `card-${st.id}`;
  // The live parts (.card-live, .card-table, .hints, .queue-box, .asked-box) are re-rendered on
  // every document and hold nothing focusable. The alert list is updated in place, keyed by alert,
  // so an Acknowledge button keeps focus across documents; the action buttons and <details> are
  // built once, so focus and open state survive.
  const action = (name, text = "", disabled = false) => h("button", { type: "button", dataset: { action: name }, disabled }, text);
  const el = h("article", { class: "station-card loading", dataset: { station: st.id }, "aria-labelledby": `${base}-name` },
    h("header", { class: "card-head" },
      h("h2", { class: "card-name", id: `${base}-name` }, st.name),
      h("p", { class: "card-sub" }, h("span", { class: "card-district" }), " ", h("span", { class: "card-open" }))),
    h("p", { class: "card-stale", hidden: true }),
    h("div", { class: "card-live" }, h("p", { class: "note" }, tr("dashboard.waiting"))),
    h("section", { class: "alerts-box", "aria-labelledby": `${base}-alerts` },
      h("h3", { class: "visually-hidden", id: `${base}-alerts` }),
      h("ul", { class: "alerts open-alerts" }),
      h("ul", { class: "hints" }),
      h("details", { class: "alerts-recent", hidden: true }, h("summary"), h("ul", { class: "alerts recent-alerts" }))),
    h("div", { class: "card-table" }),
    h("div", { class: "bookings-box" }),
    h("div", { class: "queue-box", id: `${base}-queue` }),
    h("button", { type: "button", class: "queue-toggle", "aria-expanded": "false", "aria-controls": `${base}-queue`, hidden: true }),
    h("div", { class: "asked-box" }),
    h("div", { class: "card-actions", role: "group" },
      h("span", { class: "act-label", id: `${base}-act` }),
      action("correct-plus", "+1"), action("correct-minus", "−1"), action("override", "", true), action("cleaned")),
    h("p", { class: "card-result", role: "status", "aria-live": "polite" }),
    h("details", { class: "card-more" }, h("summary"),
      h("div", { class: "more-body" }, h("section", { class: "chart-box" }), h("section", { class: "room-box" }), h("section", { class: "cleaning-box" }))));
  const details = el.querySelector(".card-more");
  details.addEventListener("toggle", () => {
    if (details.open) {
      loadHistory(st);
      loadRoom(st);
      renderDetails(st);
    }
  });
  el.querySelector(".queue-toggle").addEventListener("click", () => {
    st.queueExpanded = !st.queueExpanded;
    renderCard(st);
  });
  if (detailsOpen) details.open = true;
  translateCard(st, el);
  return el;
}

/** The parts of a card that change only with the language (or the district names). */
export function translateCard(st, el = st.el) {
  const districtName = current?.districts.get(st.district) || st.district;
  el.querySelector(".card-district").textContent = districtName;
  const group = el.querySelector(".card-actions");
  const label = group.querySelector(".act-label");
  label.textContent = `${tr("dashboard.correctGroup")}:`;
  group.setAttribute("aria-label", tr("dashboard.correctGroupLabel"));
  // Visible text stays in the accessible name ("+1"); the station name tells 17 cards apart.
  group.querySelector('[data-action="correct-plus"]').setAttribute("aria-label", tr("dashboard.plusLabel", { s: st.name }));
  renderMinus(st, el);
  const override = group.querySelector('[data-action="override"]');
  override.textContent = tr("dashboard.override");
  const cleaned = group.querySelector('[data-action="cleaned"]');
  cleaned.textContent = tr("dashboard.cleaned");
  cleaned.setAttribute("aria-label", tr("dashboard.cleanedLabel", { s: st.name }));
  el.querySelector(".card-more > summary").textContent = tr("dashboard.moreSummary");
  el.querySelector(".alerts-box > h3").textContent = tr("dashboard.alertsLabel");
}

export function renderCard(st) {
  const el = st.el;
  const doc = st.doc;
  const stale = el.querySelector(".card-stale");
  el.classList.toggle("stale", st.stale);
  stale.hidden = !st.stale;
  if (st.stale) {
    stale.textContent = `⚠ ${st.staleSince ? tr("dashboard.stale", { time: fmtTime(st.staleSince, doc?.timezone) }) : tr("dashboard.staleNoTime")}`;
  }
  if (st.result) renderResult(st);
  if (!doc) return;
  el.classList.remove("loading");
  const level = levelOf(doc);
  el.dataset.level = level;
  const open = el.querySelector(".card-open");
  open.className = `card-open ${doc.open ? "is-open" : "is-closed"}`;
  open.textContent = `${doc.open ? "●" : "○"} ${doc.open ? tr("dashboard.open") : tr("dashboard.closed")} · ${trOr(`dashboard.sign.${doc.sign}`, doc.sign)}`;
  fill(el.querySelector(".card-live"), liveParts(doc, level));
  renderAlerts(st);
  fill(el.querySelector(".hints"), hints(doc));
  fill(el.querySelector(".card-table"), tableParts(doc));
  fill(el.querySelector(".bookings-box"), nextBookings(doc));
  fill(el.querySelector(".queue-box"), queueParts(st, doc));
  fill(el.querySelector(".asked-box"), askedLine(doc));
  const toggle = el.querySelector(".queue-toggle");
  toggle.hidden = doc.outside.length <= QUEUE_SHOWN;
  toggle.setAttribute("aria-expanded", String(Boolean(st.queueExpanded)));
  toggle.textContent = st.queueExpanded ? tr("dashboard.showFewer") : tr("dashboard.showAll", { n: doc.outside.length });
  // Letting someone in past the cap needs someone outside. If the button had focus when the
  // queue emptied, focus moves to the next action rather than being lost with the disabled one.
  const override = el.querySelector('[data-action="override"]');
  const nobody = doc.outside.length === 0;
  if (nobody && document.activeElement === override) el.querySelector('[data-action="cleaned"]').focus();
  override.disabled = nobody;
  override.setAttribute("aria-label", nobody ? tr("dashboard.overrideNobody", { s: st.name }) : tr("dashboard.overrideLabel", { s: st.name }));
  renderMinus(st, el);
  if (el.querySelector(".card-more").open) renderDetails(st);
}

/** −1 takes back a person counted in without a ticket; with none on record (`corrections` 0)
 * the engine refuses it, so it is not offered, and its tooltip and accessible name say why. */
function renderMinus(st, el) {
  const minus = el.querySelector('[data-action="correct-minus"]');
  const refused = Boolean(st.doc) && !(st.doc.corrections > 0);
  if (refused && document.activeElement === minus) el.querySelector('[data-action="correct-plus"]').focus();
  minus.disabled = refused;
  minus.title = refused ? tr("dashboard.minusNone") : "";
  minus.setAttribute("aria-label", refused ? tr("dashboard.minusNoneLabel", { s: st.name }) : tr("dashboard.minusLabel", { s: st.name }));
}

// ---------------------------------------------------------------- card parts

/** One ticket as a chip: ticket number, then party size, desk, appointment and expected entry as
 * small marks. */
function chip(p, where, asked) {
  const isAsked = where === "in" && asked.has(p.ticket);
  const over = where === "in" && p.overridden;
  const eta = where === "out" ? p.expected_enter_min : undefined;
  const title = [
    p.ticket,
    p.party_size > 1 ? tr("dashboard.people", { n: p.party_size }) : "",
    where === "in" && p.desk ? `→ ${p.desk}` : "",
    isAsked ? tr("dashboard.pleaseEnter") : "",
    over ? tr("dashboard.overridden") : "",
    where === "out" ? `#${p.position}, ${tr("dashboard.minutes", { m: minutesSince(p.since) })}` : "",
    where === "out" ? (eta != null ? minutesText("dashboard.expectedIn", eta) : tr("dashboard.noEstimate")) : "",
    p.remote ? tr("dashboard.remote") : "",
    p.booked ? tr("dashboard.booked") : "",
    p.appointment || "",
  ].filter(Boolean).join(" · ");
  const cls = ["chip", where === "out" ? "out" : "", where === "in" && p.desk ? "called" : "", isAsked ? "asked" : "", over ? "overridden" : "", p.remote ? "remote" : "", p.booked ? "booked" : ""].filter(Boolean).join(" ");
  const hidden = (text, mark) => h("span", { class: mark, "aria-hidden": "true" }, text);
  return h("li", { class: cls, dataset: { ticket: p.ticket }, title },
    isAsked ? hidden("➜", "mark-asked") : null,
    over ? hidden("⚑", "mark-override") : null,
    h("span", { class: "tk" }, p.ticket),
    p.party_size > 1 ? h("span", { class: "mark-size" }, `×${p.party_size}`) : null,
    where === "in" && p.desk ? h("span", { class: "mark-desk" }, `→${p.desk}`) : null,
    p.appointment ? hidden("◆", "mark-appt") : null,
    eta != null ? hidden(`≈${eta}′`, "mark-eta") : null,
    p.remote ? [hidden("⌂", "mark-remote"), h("span", { class: "visually-hidden" }, ` (${tr("dashboard.remote")})`)] : null,
    bookedMark(p),
    // The override is the one mark a guard must not miss, so it is spoken, not only drawn.
    over ? h("span", { class: "visually-hidden" }, ` (${tr("dashboard.overridden")})`) : null);
}

/** The gauge: level badge, headcount / cap, the fill with the room held for bookings and its
 * legend, the rule behind the cap, the outside line. */
function liveParts(doc, level) {
  const pct = doc.cap > 0 ? Math.round((doc.headcount / doc.cap) * 100) : 100;
  const people = outsidePeople(doc);
  const parties = outsideCount(doc);

  const outsideBits = [];
  // Parties waiting elsewhere keep their place but are not bodies at the door: counted apart.
  const remote = Number(doc.outside_remote) || 0;
  if (remote) outsideBits.push(tr("dashboard.atDoorElsewhere", { door: parties - remote, away: remote }));
  if (people !== parties) outsideBits.push(tr("dashboard.people", { n: people }));
  outsideBits.push(doc.queue_line_places != null ? tr("dashboard.lineHolds", { n: doc.queue_line_places }) : tr("dashboard.noLine"));
  if (doc.outside.length) {
    outsideBits.push(tr("dashboard.longestOutside", { m: minutesSince(doc.outside[0].since) }));
    const eta = doc.outside[0].expected_enter_min;
    outsideBits.push(eta != null ? minutesText("dashboard.nextIn", eta) : tr("dashboard.nextUnknown"));
  }
  const basis = doc.cap_basis;
  const sr = (text) => h("span", { class: "visually-hidden" }, text);
  return [
    h("div", { class: "gauge-row" },
      h("p", { class: `level-badge level-${level}` }, h("span", { "aria-hidden": "true" }, LEVEL_ICON[level]), ` ${tr(`dashboard.level.${level}`)}`),
      h("p", { class: "count" }, sr(`${tr("dashboard.insideWord")}: `), h("span", { dataset: { field: "headcount" } }, doc.headcount),
        h("span", { class: "of", "aria-hidden": "true" }, " / "), sr(` ${tr("dashboard.ofCap")} `), h("span", { dataset: { field: "cap" } }, doc.cap),
        " ", h("span", { class: "pct" }, `${pct} %`))),
    gauge(doc),
    gaugeLegend(doc),
    basis ? h("p", { class: "rule-line" }, tr("dashboard.ruleLine", { by: trOr(`dashboard.limitedBy.${basis.limited_by}`, basis.limited_by), d: formatNumber(basis.distancing_m) })) : null,
    h("p", { class: `outside-line${parties ? " has-queue" : ""}${gathering(doc) ? " gathering" : ""}` },
      h("span", { class: "lbl" }, `${tr("dashboard.outsideLabel")}:`), " ", h("strong", { dataset: { field: "outside" } }, parties),
      ` ${tr("dashboard.parties", { n: parties })} `, h("span", { class: "sub" }, `· ${outsideBits.join(" · ")}`)),
  ];
}

/** A labelled line of ticket chips, or "none". */
function ticketLine(label, list) {
  return h("div", { class: "ticket-line" }, h("span", { class: "lbl" }, `${label}:`), " ", list || h("span", { class: "none" }, tr("dashboard.none")));
}

/** Per service: who waits inside and outside, the estimate and the desks; then the tickets inside. */
function tableParts(doc) {
  const services = doc.services || [];
  const order = services.map((s) => s.id);
  for (const id of Object.keys(doc.inside || {})) if (!order.includes(id)) order.push(id);
  const asked = new Set(doc.please_enter);
  const inside = order.flatMap((id) => (doc.inside && doc.inside[id]) || []);
  const wait = (s) => (s.estimated_wait_min != null
    ? minutesText("dashboard.approxMin", s.estimated_wait_min)
    : [h("span", { "aria-hidden": "true", title: tr("dashboard.noEstimate") }, "–"), h("span", { class: "visually-hidden" }, tr("dashboard.noEstimate"))]);
  const num = (value, cls = "num") => h("td", { class: cls }, value);
  const rows = services.map((s) => h("tr", { class: s.open ? "" : "svc-closed" },
    h("th", { scope: "row" }, serviceName(s), s.open ? null : [" ", h("small", {}, `(${tr("dashboard.serviceClosed")})`)]),
    num(s.waiting_inside), num(s.waiting_outside), num(wait(s), "num wait"), num(s.desks_active ?? "–")));
  const heads = [["num", "waitIn"], ["num", "waitOut"], ["num wait", "estWait"], ["num", "desks"]].map(([cls, k]) =>
    h("th", { scope: "col", class: cls, title: tr(`dashboard.${k}`) }, h("span", { "aria-hidden": "true" }, tr(`dashboard.short.${k}`)), h("span", { class: "visually-hidden" }, tr(`dashboard.${k}`))));
  return [
    h("table", { class: "services" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, tr("dashboard.service")), heads)), h("tbody", {}, rows)),
    ticketLine(tr("dashboard.insideTickets"), inside.length ? h("ul", { class: "chips", "aria-label": tr("dashboard.ticketsIn") }, inside.map((p) => chip(p, "in", asked))) : null),
  ];
}

function queueParts(st, doc) {
  if (!doc.outside.length) return ticketLine(tr("dashboard.queueOutside"), null);
  // Beyond the head the service lists (the first 200), the queue is only counted.
  const unlisted = Math.max(0, outsideCount(doc) - doc.outside.length);
  const hiddenCount = unlisted + (st.queueExpanded ? 0 : Math.max(0, doc.outside.length - QUEUE_SHOWN));
  // Every listed ticket stays in the page (searchable, and the test contract names them all);
  // the tail of a long queue is only hidden until the guard asks for it.
  const chips = doc.outside.map((p, i) => {
    const li = chip(p, "out", new Set());
    if (!st.queueExpanded && i >= QUEUE_SHOWN) li.hidden = true;
    return li;
  });
  const line = ticketLine(tr("dashboard.queueOutside"), h("ol", { class: "chips", "aria-label": tr("dashboard.queueOutside") }, chips));
  if (hiddenCount) line.append(" ", h("span", { class: "more-count" }, tr("dashboard.more", { n: hiddenCount })));
  return line;
}

function askedLine(doc) {
  const tickets = doc.please_enter.flatMap((tk, i) => [i ? ", " : null, h("strong", {}, tk)]);
  return [h("p", { class: "asked-line" }, h("span", { class: "lbl" }, h("span", { "aria-hidden": "true" }, "➜"), ` ${tr("dashboard.pleaseEnter")}:`), " ",
    tickets.length ? tickets : h("span", { class: "none" }, tr("dashboard.none"))), comingLine(doc)];
}

/** Asked in while waiting elsewhere, not arrived yet: each with the time its room is held until
 * (then the clock drops it and asks in the next). Nothing when nobody is on the way. */
function comingLine(doc) {
  const coming = doc.coming || [];
  if (!coming.length) return null;
  const inside = Object.values(doc.inside || {}).flat();
  const items = coming.flatMap((tk, i) => {
    const by = inside.find((p) => p.ticket === tk)?.come_back_by;
    return [i ? ", " : null, h("strong", { dataset: { ticket: tk } }, tk), by ? ` (${tr("dashboard.comeBackBy", { time: fmtTime(by, doc.timezone) })})` : null];
  });
  return h("p", { class: "coming-line" }, h("span", { class: "lbl" }, h("span", { "aria-hidden": "true" }, "⌂"), ` ${tr("dashboard.onTheWay")}:`), " ", items);
}

export function renderDetails(st, roomChanged = false) {
  if (!st.el.querySelector(".card-more").open) return;
  fill(st.el.querySelector(".chart-box"), chartParts(st));
  // The room plan only changes with the room document or the language; redrawing it on every
  // live document would be wasted work.
  const roomKey = `${language()}|${st.room ? `${st.room.cap}|${st.room.distancing_m}` : ""}|${st.roomError || ""}|${st.room ? "y" : "n"}`;
  if (roomChanged || st.roomKey !== roomKey) {
    st.roomKey = roomKey;
    fill(st.el.querySelector(".room-box"), roomParts(st));
  }
  fill(st.el.querySelector(".cleaning-box"), cleaningParts(st));
}

export function renderResult(st) {
  const box = st.el.querySelector(".card-result");
  box.className = `card-result ${st.result.ok ? "ok" : "bad"}`;
  box.textContent = st.result.text;
}
