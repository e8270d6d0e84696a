// How urgent a station is (its level and alerts) and the order of the cards: the rooms that need
// a guard come first, re-sorted calmly, and never moving the card the guard is using.
import { $ } from "/assets/dom.js";
import { current } from "/assets/dashboard/session.js";
/** Share of the cap from which a room counts as "near full". */
const NEAR = 0.8;
/** Cards are re-sorted at most this often, so a busy scope does not make the grid jitter. */
const SORT_EVERY_MS = 3000;
/** Focus or the pointer on a card holds it in place only while the guard is actually using the
 * page: a mouse left resting on a wall screen must not freeze a card's position for good. */
const INTERACTING_MS = 20 * 1000;
/** The first documents arrive as a burst on connect; wait this long to sort them once. */
const FIRST_SORT_DELAY_MS = 200;

export function levelOf(doc) {
  if (!doc) return null;
  if (doc.headcount > doc.cap) return "over";
  if (doc.headcount >= doc.cap) return "full";
  if (doc.headcount >= NEAR * doc.cap) return "near";
  return "ok";
}

export function hasAlert(doc, kind, state) {
  return (doc.alerts || []).some((a) => a.kind === kind && (state ? a.state === state : a.state !== "cleared"));
}

/** The service decides when a crowd outside is a gathering risk (it counts people, and a
 * station may set its own threshold), so the card follows its alert rather than guessing. */
/** Parties outside: all of them. A document lists only the head of a long queue (the first
 * 200) and counts the rest in `outside_total`. */
export function outsideCount(doc) {
  return doc.outside_total ?? doc.outside.length;
}

/** People outside, in all the parties (listed or not). */
export function outsidePeople(doc) {
  return doc.outside_people ?? doc.outside.reduce((n, p) => n + p.party_size, 0);
}

export function gathering(doc) {
  return hasAlert(doc, "gathering");
}

/** Urgency, most urgent first: an over-cap or gathering alert nobody has acknowledged yet >
 * over cap > at cap > a crowd outside > anyone outside > fullest room; then more active
 * alerts, the fuller room, the longer queue, and the name for a stable order. */
export function urgencyCompare(a, b) {
  const rank = (st) => {
    const doc = st.doc;
    if (!doc) return 9;
    if (hasAlert(doc, "over_cap", "active")) return 0;
    if (hasAlert(doc, "gathering", "active")) return 1;
    const level = levelOf(doc);
    if (level === "over") return 2;
    if (level === "full") return 3;
    if (gathering(doc)) return 4;
    if (outsideCount(doc) > 0) return 5;
    return 6;
  };
  // Within a rank, a crowd outside as well makes it worse, then anything else unacknowledged.
  const crowd = (st) => (st.doc && gathering(st.doc) ? 0 : 1);
  const active = (st) => (st.doc ? (st.doc.alerts || []).filter((x) => x.state === "active").length : 0);
  const ratio = (st) => (st.doc ? st.doc.headcount / Math.max(st.doc.cap, 1) : -1);
  const outside = (st) => (st.doc ? outsideCount(st.doc) : 0);
  return rank(a) - rank(b) || crowd(a) - crowd(b) || active(b) - active(a) || ratio(b) - ratio(a)
    || outside(b) - outside(a) || a.name.localeCompare(b.name, "nb");
}

export function scheduleSort() {
  const session = current;
  if (!session || session.sortTimer) return;
  const wait = Math.max(FIRST_SORT_DELAY_MS, session.lastSort + SORT_EVERY_MS - Date.now());
  session.sortTimer = setTimeout(() => {
    session.sortTimer = null;
    if (current !== session) return;
    session.lastSort = Date.now();
    resort();
  }, wait);
}

let lastInput = 0;
for (const type of ["pointermove", "pointerdown", "keydown", "focusin", "wheel"]) {
  window.addEventListener(type, () => { lastInput = Date.now(); }, { passive: true, capture: true });
}

/** A card the guard is using stays where it is: its dialog open, or — while the guard is active —
 * focus inside it or the pointer on it. The other cards are sorted around it. */
function isPinned(el) {
  if (current && current.dialogStation === el.dataset.station) return true;
  if (Date.now() - lastInput > INTERACTING_MS) return false;
  const active = document.activeElement;
  return (active && active !== document.body && el.contains(active)) || el.matches(":hover");
}

function resort() {
  const container = $("cards");
  const now = [...container.children];
  const pinned = new Set(now.filter(isPinned));
  const ranked = [...current.stations.values()].filter((st) => !pinned.has(st.el)).sort(urgencyCompare).map((st) => st.el);
  const desired = now.map((el) => (pinned.has(el) ? el : null));
  let k = 0;
  for (let i = 0; i < desired.length; i++) if (!desired[i]) desired[i] = ranked[k++];
  if (desired.every((el, i) => el === now[i])) return;

  const animate = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  const before = animate ? new Map(now.map((el) => [el, el.getBoundingClientRect()])) : null;
  // Move only unpinned cards: each is placed just before the next pinned card (or at the end),
  // so a pinned card keeps its index, its grid cell and its focus.
  let segment = [];
  for (const el of desired) {
    if (pinned.has(el)) {
      if (segment.length) el.before(...segment);
      segment = [];
    } else {
      segment.push(el);
    }
  }
  if (segment.length) container.append(...segment);
  if (!animate) return;
  for (const el of desired) {
    const a = before.get(el);
    const b = el.getBoundingClientRect();
    const dx = a.left - b.left, dy = a.top - b.top;
    if (dx || dy) el.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }], { duration: 350, easing: "ease-out" });
  }
}
