// A card's room plan — how the cap follows from the area, the seats and the distancing rule, with
// the seat map to scale — and today's cleaning.
import { getJson } from "/assets/common.js";
import { h, s } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";
import { formatNumber } from "/assets/format.js";
import { current, fmtTime, minutesSince } from "/assets/dashboard/session.js";
import { surfaceName, trOr } from "/assets/dashboard/text.js";
import { renderDetails } from "/assets/dashboard/cards.js";
export /** What the room plan depends on that a live document shows: the rule and the cap. */
function roomBasisKey(doc) {
  return doc ? `${doc.cap_basis?.distancing_m}|${doc.cap}` : null;
}

export async function loadRoom(st, again = false) {
  const session = current;
  if (!session || (st.room && !again)) return;
  if (st.roomLoading) {
    // A rule change while the plan is on its way: ask once more when this answer is in.
    st.roomAgain = true;
    return;
  }
  st.roomLoading = true;
  st.roomAgain = false;
  st.roomFor = roomBasisKey(st.doc);
  try {
    st.room = await getJson(`/api/v1/stations/${encodeURIComponent(st.id)}/room`);
    st.roomError = null;
  } catch (e) {
    st.roomError = e.message;
  } finally {
    st.roomLoading = false;
  }
  if (current !== session) return;
  if (st.roomAgain) {
    loadRoom(st, true);
    return;
  }
  renderDetails(st, true);
}

function capCaption(room) {
  const d = formatNumber(room.distancing_m);
  const per = formatNumber(room.area_model === "hex" ? (Math.sqrt(3) / 2) * room.distancing_m ** 2 : room.distancing_m ** 2);
  const parts = [tr("dashboard.capLine", { cap: room.cap, by: trOr(`dashboard.limitedBy.${room.limited_by}`, room.limited_by) })];
  parts.push(tr("dashboard.areaLine", { a: formatNumber(room.area_m2), per, ac: room.area_cap, model: tr(`dashboard.areaModel.${room.area_model === "hex" ? "hex" : "grid"}`) }));
  if (room.seats && room.seat_cap != null) parts.push(tr("dashboard.seatLine", { sc: room.seat_cap, k: room.seats.length, d }));
  if (room.max_visitors != null) parts.push(tr("dashboard.maxLine", { m: room.max_visitors }));
  let text = parts.join("; ");
  if (room.exact === false) text += ` (${tr("dashboard.inexact")})`;
  return text;
}

/** The room section's contents: title, the seat map and its legend, how the cap comes about. */
export function roomParts(st) {
  if (st.roomError && !st.room) return [h("p", { class: "error" }, tr("dashboard.roomError", { d: st.roomError }))];
  if (!st.room) return [h("p", { class: "note" }, tr("dashboard.roomLoading"))];
  const room = st.room;
  const caption = h("p", { class: "cap-caption" }, `${capCaption(room)}.`);
  if (!room.seats || room.seats.length === 0) {
    return [h("h3", {}, tr("dashboard.roomTitle")), caption, h("p", { class: "note" }, tr("dashboard.noSeats"))];
  }
  const dText = formatNumber(room.distancing_m);
  const swatch = (...shapes) => s("svg", { class: "swatch", width: 14, height: 14, "aria-hidden": "true" }, shapes);
  const square = (cls) => s("rect", { class: `seat ${cls}`, x: 1, y: 1, width: 12, height: 12, rx: 1.5 });
  return [
    h("h3", {}, tr("dashboard.roomTitle")),
    seatMap(room),
    h("ul", { class: "legend" },
      h("li", {}, swatch(square("usable"), s("text", { class: "tickmark", x: 7, y: 11, "text-anchor": "middle", "font-size": 10 }, "✓")), ` ${tr("dashboard.seatUsable")}`),
      h("li", {}, swatch(square("blocked")), ` ${tr("dashboard.seatBlocked", { d: dText })}`),
      h("li", {}, swatch(s("circle", { class: "reach", cx: 7, cy: 7, r: 6 })), ` ${tr("dashboard.seatCircle", { d: dText })}`)),
    caption,
  ];
}

/** The seats to scale: usable ones ticked with their distancing circle, the others blocked, and
 * a 1 m scale bar. */
function seatMap(room) {
  const d = room.distancing_m;
  const seats = room.seats;
  const usable = new Set(room.usable_seats || []);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [sx, sy] of seats) {
    minX = Math.min(minX, sx); maxX = Math.max(maxX, sx); minY = Math.min(minY, sy); maxY = Math.max(maxY, sy);
  }
  // Nearest neighbour distance decides the drawn seat size, so dense rows do not overlap.
  let nearest = Infinity;
  for (let i = 0; i < seats.length && i < 500; i++) {
    for (let j = i + 1; j < seats.length; j++) {
      nearest = Math.min(nearest, Math.hypot(seats[i][0] - seats[j][0], seats[i][1] - seats[j][1]));
    }
  }
  const seatM = Math.min(0.45, Number.isFinite(nearest) ? nearest * 0.75 : 0.45);
  // Pad by the distancing radius so every circle fits; scale metres to pixels uniformly.
  const worldW = maxX - minX + 2 * d, worldH = maxY - minY + 2 * d;
  const scale = Math.min(340 / worldW, 220 / worldH);
  const W = worldW * scale, barH = 26, H = worldH * scale + barH;
  const px = (mx) => (mx - minX + d) * scale, py = (my) => (my - minY + d) * scale;
  const circles = [], marks = [];
  const half = (seatM * scale) / 2;
  seats.forEach(([sx, sy], i) => {
    const cx = px(sx), cy = py(sy);
    const kind = usable.has(i) ? "usable" : "blocked";
    marks.push(s("rect", { class: `seat ${kind}`, x: (cx - half).toFixed(1), y: (cy - half).toFixed(1), width: (2 * half).toFixed(1), height: (2 * half).toFixed(1), rx: 1.5 }));
    if (kind === "usable") {
      circles.push(s("circle", { class: "reach", cx: cx.toFixed(1), cy: cy.toFixed(1), r: (d * scale).toFixed(1) }));
      marks.push(s("text", { class: "tickmark", x: cx.toFixed(1), y: (cy + half * 0.6).toFixed(1), "text-anchor": "middle", "font-size": Math.max(7, half * 1.7).toFixed(1) }, "✓"));
    }
  });
  const barY = H - 10;
  const scaleBar = s("g", { class: "scalebar" },
    s("line", { x1: 8, x2: 8 + scale, y1: barY, y2: barY }),
    s("line", { x1: 8, x2: 8, y1: barY - 4, y2: barY + 4 }),
    s("line", { x1: 8 + scale, x2: 8 + scale, y1: barY - 4, y2: barY + 4 }),
    s("text", { x: 12 + scale, y: barY + 4 }, "1 m"));
  return s("svg", { class: "room", viewBox: `0 0 ${W.toFixed(1)} ${H.toFixed(1)}`, style: `max-width:${Math.ceil(W)}px`, role: "img",
    "aria-label": tr("dashboard.seatMapLabel", { k: seats.length, u: usable.size, d: formatNumber(d) }) }, circles, marks, scaleBar);
}

/** Today's cleaning, newest first. */
export function cleaningParts(st) {
  const list = [...(st.doc?.cleaning || [])].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const tz = st.doc?.timezone;
  return [h("h3", {}, tr("dashboard.cleaningTitle")), list.length
    ? h("ul", { class: "cleaning" }, list.map((c) => h("li", {}, `${surfaceName(c.surface)} — ${fmtTime(Date.parse(c.at), tz)} (${tr("dashboard.minutes", { m: minutesSince(c.at) })})`)))
    : h("p", { class: "note" }, tr("dashboard.neverCleaned"))];
}
