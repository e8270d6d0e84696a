// A card's 2-hour chart: the history fetched from the service every minute (and after a
// reconnect), extended by the live documents in between, drawn at the box's real width.
import { getJson } from "/assets/common.js";
import { h, s } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";
import { current, expired, fmtTime, noteServerTime, serverNow } from "/assets/dashboard/session.js";
import { outsideCount } from "/assets/dashboard/sort.js";
import { renderDetails } from "/assets/dashboard/cards.js";
const WINDOW_MS = 2 * 60 * 60 * 1000;

export async function loadHistory(st) {
  const session = current;
  if (!session || st.historyLoading) return;
  st.historyLoading = true;
  try {
    const h = await getJson(`/api/v1/stations/${encodeURIComponent(st.id)}/history`, session.token);
    if (current !== session) return;
    noteServerTime(Date.parse(h.to));
    st.history = h.points.map((p) => ({ t: Date.parse(p.at), headcount: p.headcount, cap: p.cap, outside: p.outside }));
    st.historyError = null;
    if (st.doc) appendLivePoint(st, st.doc);
  } catch (e) {
    if (current !== session) return;
    if (e.status === 401) { expired(); return; }
    st.historyError = e.message;
  } finally {
    st.historyLoading = false;
  }
  renderDetails(st);
}

/** Live documents extend the fetched history between the 60-second refreshes. */
export function appendLivePoint(st, doc) {
  if (!st.history) return;
  const point = { t: Date.parse(doc.as_of), headcount: doc.headcount, cap: doc.cap, outside: outsideCount(doc) };
  const last = st.history[st.history.length - 1];
  if (last) {
    if (point.t < last.t) return;
    if (last.headcount === point.headcount && last.cap === point.cap && last.outside === point.outside) return;
  }
  st.history.push(point);
  // Keep one point at or before the window's start, as the service does, so the lines start at the left edge.
  const start = serverNow() - WINDOW_MS;
  while (st.history.length > 1 && st.history[1].t <= start) st.history.shift();
}

/** The chart section's contents: title, the SVG chart and its legend (or why there is none). */
export function chartParts(st) {
  if (st.historyError && !st.history) return [h("p", { class: "error" }, tr("dashboard.chartError", { d: st.historyError }))];
  if (!st.history) return [h("p", { class: "note" }, tr("dashboard.chartLoading"))];
  const points = st.history;
  const tz = st.doc?.timezone;
  // Drawn at the box's real width (redrawn on resize) so labels keep their size on any screen.
  const boxWidth = st.el.querySelector(".chart-box").clientWidth;
  const W = Math.max(260, Math.min(900, Math.round(boxWidth) || 340)), H = 150, L = 30, R = 22, T = 10, B = 22;
  const to = serverNow(), from = to - WINDOW_MS;
  const x = (ms) => L + ((Math.min(Math.max(ms, from), to) - from) / (to - from)) * (W - L - R);
  let top = 1;
  for (const p of points) top = Math.max(top, p.cap, p.headcount, p.outside);
  // A round step giving at most 5 intervals; the top of the axis is a multiple of it, so every
  // labelled line is a round number and labels never collide.
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((size) => top / size <= 5) || Math.ceil(top / 5);
  const yMax = Math.ceil((top + 0.01) / step) * step;
  const y = (v) => T + (1 - v / yMax) * (H - T - B);

  const path = (key) => {
    let d = "";
    for (let i = 0; i < points.length; i++) {
      const end = i + 1 < points.length ? points[i + 1].t : to;
      if (end < from) continue;
      const v = y(points[i][key]).toFixed(1);
      d += d ? `V${v}` : `M${x(points[i].t).toFixed(1)},${v}`;
      d += `H${x(end).toFixed(1)}`;
    }
    return d;
  };

  const grid = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(s("line", { class: "grid", x1: L, x2: W - R, y1: y(v), y2: y(v) }), s("text", { class: "tick", x: L - 4, y: y(v) + 3.5, "text-anchor": "end" }, v));
  }
  // Half-hour marks; aligned in UTC, which is also the local half hour for whole- and
  // half-hour UTC offsets (all of Norway).
  const half = 30 * 60 * 1000;
  for (let m = Math.ceil(from / half) * half; m <= to; m += half) {
    grid.push(s("line", { class: "grid", x1: x(m), x2: x(m), y1: T, y2: H - B }), s("text", { class: "tick", x: x(m), y: H - 6, "text-anchor": "middle" }, fmtTime(m, tz)));
  }
  const now = points.length ? points[points.length - 1] : null;
  const maxOf = (k) => points.reduce((n, p) => (p.t >= from || p === points[0] ? Math.max(n, p[k]) : n), 0);
  const summary = now
    ? tr("dashboard.chartSummary", { h: now.headcount, hm: maxOf("headcount"), c: now.cap, o: now.outside, om: maxOf("outside") })
    : tr("dashboard.chartEmpty");
  const swatch = (cls) => s("svg", { class: "swatch", width: 26, height: 10, "aria-hidden": "true" }, s("line", { class: cls, x1: 1, x2: 25, y1: 5, y2: 5 }));
  // Markers at the right edge: the current values stay visible even when the history is only
  // minutes old and its lines are a few pixels long.
  const ends = now
    ? [["s-outside", now.outside], ["s-headcount", now.headcount], ["s-cap", now.cap]]
      .map(([cls, v]) => s("circle", { class: `end ${cls}`, cx: x(to), cy: y(v), r: 3.5 }))
    : [];
  const nowText = (v) => (now ? ` (${tr("dashboard.nowWord")} ${v})` : "");
  // The cap last: dashed on top, so it stays visible where the headcount runs along it.
  const lines = points.length
    ? [...["outside", "headcount", "cap"].map((key) => s("path", { class: `s-${key}`, d: path(key) })), ...ends]
    : [];
  return [
    h("h3", {}, tr("dashboard.chartTitle")),
    points.length ? null : h("p", { class: "note" }, tr("dashboard.chartEmpty")),
    s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": summary },
      grid, s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }), lines),
    h("ul", { class: "legend" },
      h("li", {}, swatch("s-headcount"), ` ${tr("dashboard.chartHeadcount") + nowText(now?.headcount)}`),
      h("li", {}, swatch("s-cap"), ` ${tr("dashboard.chartCap") + nowText(now?.cap)}`),
      h("li", {}, swatch("s-outside"), ` ${tr("dashboard.chartOutside") + nowText(now?.outside)}`)),
    st.historyError ? h("p", { class: "error" }, tr("dashboard.chartError", { d: st.historyError })) : null,
  ];
}
