// The page language, bokmål or English: one choice for every page (kept in localStorage under
// "lang", so a visitor who switched the public page to English finds the terminal in English
// too), one switch button (#lang), and one way of putting a page's texts in place. Each page
// keeps its own table of texts ({ nb: {...}, en: {...} }); this module says which half is used.

const SLOT = "lang";

function stored() {
  try {
    return localStorage.getItem(SLOT) === "en" ? "en" : "nb";
  } catch {
    return "nb";
  }
}

let current = stored();

/** "nb" or "en". */
export function language() {
  return current;
}

/** The locale for numbers, dates and times in the current language. */
export function locale() {
  return current === "en" ? "en-GB" : "nb-NO";
}

/** `t()` for a page's text table: the half of `texts` in the current language. */
export function translator(texts) {
  return () => texts[current];
}

/**
 * Puts the texts of `texts` in the current language into the page: every `[data-i18n]` element's
 * text, every `[data-i18n-label]` element's aria-label, `<html lang>` and the switch button (which
 * names the *other* language). Then calls `onChange` for whatever the page draws itself.
 */
export function applyTexts(texts, onChange = () => {}) {
  const t = texts[current];
  document.documentElement.lang = current;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const value = t[el.dataset.i18n];
    if (typeof value === "string") el.textContent = value;
  });
  document.querySelectorAll("[data-i18n-label]").forEach((el) => {
    const value = t[el.dataset.i18nLabel];
    if (typeof value === "string") el.setAttribute("aria-label", value);
  });
  const button = document.getElementById("lang");
  if (button) {
    button.textContent = current === "nb" ? "English" : "Norsk";
    button.setAttribute("aria-label", current === "nb" ? "Switch to English" : "Bytt til norsk");
  }
  onChange();
}

/** Wires the #lang button: a click switches the language, remembers it and calls `onSwitch`
 * (the page's own "apply the language", which ends in applyTexts). */
export function languageSwitch(onSwitch) {
  document.getElementById("lang").addEventListener("click", () => {
    current = current === "nb" ? "en" : "nb";
    try {
      localStorage.setItem(SLOT, current);
    } catch {
      /* the switch still works for this page */
    }
    onSwitch();
  });
}
