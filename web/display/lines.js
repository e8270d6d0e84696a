// The display's two lines: every text is shown in bokmål and, under it, in the screen's second
// language — English unless the screen was opened with `?second=<code>` (any language of the
// catalogue that covers the display: nn, pl, uk, ar, …), which is remembered in this screen's
// storage, so a kiosk keeps its language across reloads. The texts are the catalogue's "display"
// section (web/lang/*.json). A right-to-left second line gets `dir="rtl"`, and the catalogue
// isolates the ticket codes, desks and numbers put into it, so "P007" never turns into "700P".
import { h } from "/assets/dom.js";
import { languages, loadCatalogue, translatorFor } from "/assets/i18n.js";

const FIRST = "nb";
const SECOND_SLOT = "lobbywatch.display.second";

const lines = {
  second: "en",
  dir: "ltr",
  first: (key) => key,
  other: (key) => key,
};

function remembered() {
  try {
    return localStorage.getItem(SECOND_SLOT);
  } catch {
    return null; // a locked-down kiosk: the address alone decides
  }
}

/** The second language: the address's `?second=`, else the one this screen remembers, else
 * English. A code the catalogue does not offer for the display is ignored. */
function chooseSecond(offered) {
  const known = (code) => offered.some((l) => l.code === code);
  const asked = new URLSearchParams(location.search).get("second");
  if (asked && known(asked)) {
    try {
      localStorage.setItem(SECOND_SLOT, asked);
    } catch {
      /* shown now, not remembered */
    }
    return asked;
  }
  const kept = remembered();
  return kept && known(kept) ? kept : "en";
}

/** Loads both languages' texts; before anything is drawn. A wall screen often boots before its
 * network is up: until the texts can be fetched it keeps trying (the page's own bokmål/English
 * markup shows meanwhile), rather than staying dark until someone reloads it. */
export async function loadLines() {
  for (let delay = 1000; ; delay = Math.min(delay * 2, 10_000)) {
    try {
      await loadCatalogue("display");
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  const offered = languages();
  lines.second = chooseSecond(offered);
  lines.dir = offered.find((l) => l.code === lines.second)?.dir ?? "ltr";
  lines.first = await translatorFor(FIRST);
  lines.other = await translatorFor(lines.second);
}

/** The second line's language code and direction. */
export function secondLanguage() {
  return lines.second;
}
export function secondDir() {
  return lines.dir;
}

/** `display.<key>` in the first language, as text (titles, labels for screen readers). */
export function firstText(key, params = {}) {
  return lines.first(`display.${key}`, params);
}

/** `display.<key>` in the second language, as text. */
export function secondText(key, params = {}) {
  return lines.other(`display.${key}`, params);
}

/** `key` on both lines: a first-language span, a separator, and a second-language span with its
 * own `lang` and `dir`. Text only: nothing from the service is ever parsed as HTML. */
export function bilingual(key, params = {}) {
  return [h("span", { class: "nb", lang: FIRST }, firstText(key, params)),
    h("span", { class: "sep", "aria-hidden": "true" }, " / "),
    h("span", { class: "en", lang: lines.second, dir: lines.dir }, secondText(key, params))];
}

/** The static labels of the page: `[data-first]` and `[data-second]` elements get their key's
 * text in each language (and the second its `lang` and `dir`). */
export function applyLines() {
  document.querySelectorAll("[data-first]").forEach((el) => {
    el.textContent = firstText(el.dataset.first);
  });
  document.querySelectorAll("[data-second]").forEach((el) => {
    el.lang = lines.second;
    el.dir = lines.dir;
    el.textContent = secondText(el.dataset.second);
  });
}
