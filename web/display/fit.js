// Fitting the board to the screen: each panel's content is scaled down (its `--s`, see
// display.css) until nothing overflows, so a big group let in at once, a wide ticket with a long
// desk name, or a small screen is shrunk rather than cut off.
import { $, h } from "/assets/dom.js";
import { firstText, secondText } from "/assets/display/lines.js";

const FIT_SCALES = [1, 0.9, 0.8, 0.7, 0.62, 0.55, 0.48, 0.42];
const PLEASE_ENTER_LAST_STEP = 4; // 0.62 × 8vmin: still readable from the back of the room

const overflows = (panel) => panel.scrollHeight > panel.clientHeight + 1 || panel.scrollWidth > panel.clientWidth + 1;

/** Scales `el` down step by step until its panel has no overflow. `data-size` tells which step
 * was needed. */
function fit(el, lastStep = FIT_SCALES.length - 1) {
  const panel = el.closest(".panel");
  for (let step = 0; step <= lastStep; step += 1) {
    el.style.setProperty("--s", String(FIT_SCALES[step]));
    el.dataset.size = String(step);
    if (!overflows(panel)) return;
  }
}

/** "Please enter" shrinks only as far as stays readable across the room; past that the list
 * keeps its order (the first asked in first) and the ones that do not fit give way to a "+N"
 * marker at the end, so nobody reads a later ticket as called before an earlier one. */
function fitPleaseEnter() {
  const list = $("please-enter");
  list.querySelector(".more")?.remove();
  const chips = [...list.querySelectorAll("li[data-ticket]")];
  chips.forEach((chip) => { chip.hidden = false; });
  fit(list, PLEASE_ENTER_LAST_STEP);
  const panel = list.closest(".panel");
  if (!overflows(panel)) return;
  const more = h("li", { class: "ticket-chip more", dir: "ltr" });
  list.append(more);
  let dropped = 0;
  for (const chip of chips.slice(1).reverse()) {
    chip.hidden = true;
    dropped += 1;
    more.textContent = `+${dropped}`;
    more.setAttribute("aria-label", `${firstText("more", { n: dropped })} / ${secondText("more", { n: dropped })}`);
    if (!overflows(panel)) break;
  }
}

/** Fits every panel; after each document and whenever the window changes size. */
export function fitAll() {
  ["sign", "current-call", "recent-calls"].forEach((id) => fit($(id)));
  fit(document.querySelector(".figures-panel"));
  fitPleaseEnter();
}
