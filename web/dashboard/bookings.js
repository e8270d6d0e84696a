// Bookings on a station's card: the gauge split into inside | held for bookings | free (so a guard
// sees why the sign says WAIT with chairs still empty), its legend, and the next bookings due
// (time, service, party size, whether room is held for them now) from the document's
// `bookings_due`. The guard acts on none of it; it explains the count and what comes next.
import { h } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";
import { serviceName } from "/assets/format.js";
import { fmtTime } from "/assets/dashboard/session.js";

/** Widths in percent of the gauge's two filled parts; they never add up to more than 100. */
export function gaugeWidths(headcount, held, cap) {
  if (!(cap > 0)) return { inside: 100, held: 0 };
  const inside = Math.min(100, (headcount / cap) * 100);
  return { inside, held: Math.min(100 - inside, (held / cap) * 100) };
}

/** The gauge: the headcount's fill, then the held room's hatched part. Drawn only; the legend
 * below says the same in words. */
export function gauge(doc) {
  const held = Number(doc.held) || 0;
  const widths = gaugeWidths(doc.headcount, held, doc.cap);
  return h("div", { class: "gauge", "aria-hidden": "true" },
    h("div", { class: "gauge-fill", style: `width:${widths.inside}%` }),
    held ? h("div", { class: "gauge-held", style: `left:${widths.inside}%;width:${widths.held}%` }) : null,
    h("div", { class: "gauge-near" }));
}

/** "■ 12 inside · ▨ 4 held for bookings · □ 4 free": shown while room is held or bookings are
 * due, read out as the gauge's text. */
export function gaugeLegend(doc) {
  const held = Number(doc.held) || 0;
  if (!held && !(doc.bookings_due || []).length) return null;
  const free = Math.max(0, doc.cap - doc.headcount - held);
  const item = (cls, text) => h("li", {}, h("span", { class: `swatch ${cls}`, "aria-hidden": "true" }), text);
  return h("ul", { class: "gauge-legend", "aria-label": tr("dashboard.gaugeLegend") },
    item("sw-inside", tr("dashboard.legendInside", { n: doc.headcount })),
    item("sw-held", h("span", { dataset: { field: "held" } }, tr("dashboard.legendHeld", { n: held }))),
    item("sw-free", tr("dashboard.legendFree", { n: free })));
}

/** One booking due: "10:00 Passport 2 people held". */
function bookingRow(b, service, timezone) {
  return h("li", { class: `booking-due${b.held ? " is-held" : ""}`, dataset: { booking: b.booking } },
    h("span", { class: "bk-time" }, fmtTime(b.slot, timezone)), " ",
    h("span", { class: "bk-service" }, service ? serviceName(service) : b.service),
    " ", h("span", { class: "bk-size" }, tr("dashboard.people", { n: b.party_size })),
    " ", h("span", { class: "bk-held" }, b.held ? tr("dashboard.bookingHeld") : tr("dashboard.bookingNotHeld")));
}

/** Bookings listed on a card: those held now and the next few; a card of 17 stays short. */
const SHOWN = 5;

/** "Next bookings": the bookings due today, by slot (all those room is held for, then up to
 * [`SHOWN`]), the rest counted; nothing for a station without any. */
export function nextBookings(doc) {
  const due = doc.bookings_due || [];
  if (!due.length) return null;
  const names = new Map((doc.services || []).map((s) => [s.id, s]));
  const shown = due.filter((b, i) => b.held || i < SHOWN);
  const rows = shown.map((b) => bookingRow(b, names.get(b.service), doc.timezone));
  const rest = due.length - shown.length;
  return h("div", { class: "bookings-due" },
    h("span", { class: "lbl" }, `${tr("dashboard.nextBookings")}:`),
    h("ul", { class: "bookings-list", "aria-label": tr("dashboard.nextBookings") }, rows),
    rest ? h("span", { class: "more-count" }, tr("dashboard.more", { n: rest })) : null);
}

/** The mark of a booked party on its ticket chip: drawn, and spoken. */
export function bookedMark(p) {
  if (!p.booked) return null;
  return [h("span", { class: "mark-booked", "aria-hidden": "true" }, "✓B"), h("span", { class: "visually-hidden" }, ` (${tr("dashboard.booked")})`)];
}
