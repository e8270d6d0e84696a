// The display's two lines: every text is shown in bokmål and, under it, in the screen's second
// language — English unless the screen was opened with `?second=<code>` (e.g. pl, uk, ar), which
// is remembered in this screen's storage, so a kiosk keeps its language across reloads.
// A right-to-left second language gets `dir="rtl"`; ticket codes, desks and numbers inside it are
// isolated (<bdi dir="ltr">) so "P007" never turns into "700P".
import { h } from "/assets/dom.js";
import { DISPLAY_TEXTS } from "/assets/display/text.js";

const FIRST = "nb";
const SECOND_SLOT = "lobbywatch.display.second";
const RTL = new Set(["ar", "fa", "he", "ur"]);
// Numbers in each language's separators, in Western digits throughout (as on the tickets).
const LOCALES = { nb: "nb-NO", nn: "nn-NO", en: "en-GB", pl: "pl-PL", uk: "uk-UA", ar: "ar-u-nu-latn" };

function remembered() {
  try {
    return localStorage.getItem(SECOND_SLOT);
  } catch {
    return null; // a locked-down kiosk: the address alone decides
  }
}

/** The second language: the address's `?second=`, else the one this screen remembers, else
 * English. An unknown code is ignored rather than showing keys. */
function chooseSecond() {
  const asked = new URLSearchParams(location.search).get("second");
  if (asked && DISPLAY_TEXTS[asked]) {
    try {
      localStorage.setItem(SECOND_SLOT, asked);
    } catch {
      /* shown now, not remembered */
    }
    return asked;
  }
  const kept = remembered();
  return kept && DISPLAY_TEXTS[kept] ? kept : "en";
}

const second = chooseSecond();

/** The second line's language code. */
export function secondLanguage() {
  return second;
}

/** "ltr" or "rtl" for the second line. */
export function secondDir() {
  return RTL.has(second) ? "rtl" : "ltr";
}

function paramText(code, value) {
  return typeof value === "number"
    ? value.toLocaleString(LOCALES[code] ?? "en-GB", { maximumFractionDigits: 1 })
    : String(value);
}

/** The text at `key` in `code` as nodes: placeholders become isolated left-to-right pieces. */
function nodes(code, key, params = {}) {
  const template = DISPLAY_TEXTS[code]?.[key] ?? DISPLAY_TEXTS.en[key] ?? key;
  return template.split(/(\{\w+\})/).filter(Boolean).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name || !(name in params)) return part;
    return h("bdi", { dir: "ltr" }, paramText(code, params[name]));
  });
}

/** The text at `key` in the first language, as plain text (titles, labels for screen readers). */
export function firstText(key, params = {}) {
  return nodes(FIRST, key, params).map((n) => (typeof n === "string" ? n : n.textContent)).join("");
}

/** The text at `key` in the second language, as plain text. */
export function secondText(key, params = {}) {
  return nodes(second, key, params).map((n) => (typeof n === "string" ? n : n.textContent)).join("");
}

/** `key` on both lines: a first-language span, a separator, and a second-language span with its
 * own `lang` and `dir`. Text only: nothing from the service is ever parsed as HTML. */
export function bilingual(key, params = {}) {
  return [h("span", { class: "nb", lang: FIRST }, nodes(FIRST, key, params)),
    h("span", { class: "sep", "aria-hidden": "true" }, " / "),
    secondSpan(key, params)];
}

function secondSpan(key, params) {
  return h("span", { class: "en", lang: second, dir: secondDir() }, nodes(second, key, params));
}

/** The static labels of the page: `[data-first]` and `[data-second]` elements get their key's
 * text in each language (and the second its `lang` and `dir`). */
export function applyLines() {
  document.querySelectorAll("[data-first]").forEach((el) => {
    el.replaceChildren(...nodes(FIRST, el.dataset.first));
  });
  document.querySelectorAll("[data-second]").forEach((el) => {
    el.lang = second;
    el.dir = secondDir();
    el.replaceChildren(...nodes(second, el.dataset.second));
  });
}
