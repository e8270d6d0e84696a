// Which cards are shown: a search by station or district name and "only stations with alerts or
// full". On a phone 17 cards make a page metres long, so there the filter starts on "only those
// that need a guard", and the line above the cards says how many are hidden, with "Show all".
import { $, h } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";
import { current } from "/assets/dashboard/session.js";
import { levelOf } from "/assets/dashboard/sort.js";
/** Where the cards stack in one column (dashboard.css uses the same width). */
const PHONE = "(max-width: 40rem)";

/** Lower case without accents, and ø/æ/å spelled out, so "gronland" finds Grønland on any keyboard. */
function fold(text) {
  return text.toLocaleLowerCase("nb").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
    .replaceAll("ø", "o").replaceAll("æ", "ae").replaceAll("å", "a");
}

/** A station needs a guard when it is full or over cap or has an alert nobody acknowledged. */
export function needsAttention(doc) {
  if (!doc) return false;
  const level = levelOf(doc);
  return level === "full" || level === "over" || (doc.alerts || []).some((a) => a.state === "active");
}

function matches(st, query) {
  if (!query) return true;
  const district = current.districts.get(st.district) || st.district;
  return fold(`${st.name} ${district} ${st.id}`).includes(query);
}

/** Shows and hides the cards. A card holding focus stays until the guard leaves it, so an
 * acknowledged last alert does not whisk the card away under their hand. */
export function applyFilter() {
  if (!current) return;
  const query = fold($("station-filter").value.trim());
  const attention = $("attention-only").checked;
  let shown = 0;
  for (const st of current.stations.values()) {
    const wanted = matches(st, query) && (!attention || needsAttention(st.doc));
    const keep = !wanted && st.el.contains(document.activeElement);
    st.el.hidden = !(wanted || keep);
    if (!st.el.hidden) shown += 1;
  }
  const total = current.stations.size;
  $("filter-count").textContent = tr("dashboard.shownN", { k: shown, n: total });
  $("show-all").hidden = shown === total;
  $("filter-empty").hidden = shown > 0;
}

/** The station names to pick from, and the filter's starting point for this screen. */
export function startFilter() {
  $("station-names").replaceChildren(...[...current.stations.values()].map((st) => h("option", { value: st.name })));
  $("station-filter").value = "";
  $("attention-only").checked = window.matchMedia(PHONE).matches && current.stations.size > 1;
  applyFilter();
}

$("station-filter").addEventListener("input", applyFilter);
$("attention-only").addEventListener("change", applyFilter);
$("show-all").addEventListener("click", () => {
  $("station-filter").value = "";
  $("attention-only").checked = false;
  applyFilter();
  $("station-filter").focus();
});
