// The page language and its texts. One choice for every page (kept in localStorage under "lang",
// so a visitor who switched the public page to English finds the terminal in English too), one
// language picker (#lang), and one way of putting a page's texts in place.
//
// The texts live in the catalogue, one file per language: web/lang/{code}.json (see
// web/lang/README.md). A file's "meta" says its name, direction, locale and which sections (pages)
// it covers; staff pages are offered in fewer languages than the visitors' pages. A page calls
// `loadCatalogue("public")` once, then `tr("public.title")`, `say(code, params, detail)` for what
// the service writes, and `applyCatalogue()` for the `[data-i18n]` elements.

const SLOT = "lang";
const FALLBACK = "nb";

function storedChoice() {
  // A link may name the language (`?lang=pl`: a poster's QR code for Polish visitors); it is then
  // remembered like a choice made with the picker.
  const asked = new URLSearchParams(location.search).get("lang");
  if (asked) {
    remember(asked);
    return asked;
  }
  try {
    return localStorage.getItem(SLOT) || FALLBACK;
  } catch {
    return FALLBACK;
  }
}

function remember(code) {
  try {
    localStorage.setItem(SLOT, code);
  } catch {
    /* the choice still holds for this page */
  }
}

/** The languages offered (from /assets/lang/index.json), the page's section, and the loaded files. */
let offered = [];
let section = null;
let current = storedChoice();
let texts = null;
let fallbackTexts = null;

/** The code of the language in use ("nb", "nn", "en", "pl", "uk", "ar", …). */
export function language() {
  return current;
}

function meta() {
  if (texts) return texts.meta;
  // A page with its own { nb, en } table: English or bokmål.
  return current === "en" ? { locale: "en-GB", dir: "ltr", names: "en" } : { locale: "nb-NO", dir: "ltr", names: "nb" };
}

/** The locale for numbers, dates and times in the current language. */
export function locale() {
  return meta().locale;
}

/** "ltr" or "rtl". */
export function direction() {
  return meta().dir;
}

/** Which of a config's two names (Norwegian `name` or English `name_en`) this language shows. */
export function namesIn() {
  return meta().names;
}

async function fetchLanguage(code) {
  const answer = await fetch(`/assets/lang/${encodeURIComponent(code)}.json`);
  if (!answer.ok) throw new Error(`language ${code}: HTTP ${answer.status}`);
  return answer.json();
}

/**
 * Loads the catalogue for a page: which languages cover `pageSection`, the chosen one (the stored
 * choice when it covers this page, else bokmål) and bokmål as the fallback for a missing text.
 */
export async function loadCatalogue(pageSection) {
  section = pageSection;
  const index = await (await fetch("/assets/lang/index.json")).json();
  offered = index.languages.filter((l) => l.sections.includes(pageSection));
  fallbackTexts = await fetchLanguage(FALLBACK);
  await useLanguage(storedChoice());
}

async function useLanguage(code) {
  const chosen = offered.some((l) => l.code === code) ? code : FALLBACK;
  texts = chosen === FALLBACK ? fallbackTexts : await fetchLanguage(chosen);
  current = chosen;
}

function lookup(table, key) {
  return key.split(".").reduce((node, part) => (node == null ? undefined : node[part]), table);
}

const PLURAL_FORMS = ["zero", "one", "two", "few", "many", "other"];

function isPlural(value) {
  return value && typeof value === "object" && !Array.isArray(value) && "other" in value
    && Object.keys(value).every((k) => PLURAL_FORMS.includes(k));
}

/** One parameter as text: numbers in the language's digits and separators, and — in a
 * right-to-left language — isolated, so a ticket code or a Latin name keeps its own direction. */
function paramText(value, loc, rtl) {
  const text = typeof value === "number"
    ? new Intl.NumberFormat(loc, { maximumFractionDigits: 2 }).format(value)
    : String(value ?? "");
  return rtl ? `\u2068${text}\u2069` : text;
}

function fill(template, params, loc, rtl) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? paramText(params[name], loc, rtl) : whole));
}

function render(table, key, params) {
  const m = table?.meta ?? meta();
  let value = lookup(table, key);
  if (isPlural(value)) value = value[new Intl.PluralRules(m.locale).select(Number(params.n ?? 0))] ?? value.other;
  if (Array.isArray(value)) return value;
  return typeof value === "string" ? fill(value, params, m.locale, m.dir === "rtl") : undefined;
}

/**
 * The text at `key` ("section.name" or deeper) in the current language with `{name}` placeholders
 * filled from `params`; a plural text picks its form by `params.n`. An array (the weekdays) comes
 * back as it is. A missing text falls back to bokmål, then to the key itself (and the catalogue
 * test makes sure neither happens).
 */
export function tr(key, params = {}) {
  return render(texts, key, params) ?? render(fallbackTexts, key, params) ?? key;
}

/** Whether the current language has a text at `key`. */
export function has(key) {
  return lookup(texts, key) !== undefined || lookup(fallbackTexts, key) !== undefined;
}

function isMessage(value) {
  return value && typeof value === "object" && !Array.isArray(value) && typeof value.code === "string";
}

/** One param as a sentence part: a nested message (an over-cap alert's cause, a preset reason)
 * in this language; a list item that is a plain object (a due surface) by `messages.<name>.item`. */
function sayParam(name, value) {
  if (isMessage(value)) return say(value.code, value.params, value.detail ?? "");
  if (Array.isArray(value)) {
    const items = value.map((item) => (item && typeof item === "object" && !isMessage(item)
      ? say(`${name}.item`, item, "") : sayParam(name, item)));
    return new Intl.ListFormat(locale(), { type: "conjunction" }).format(items.map(String));
  }
  return value;
}

/** The params of a message ready to fill in: each part rendered, and a name with an English
 * twin (`service_name` / `service_name_en`) in the language's choice of the two. */
function sayParams(params) {
  const out = {};
  const english = namesIn() === "en";
  for (const [name, value] of Object.entries(params ?? {})) {
    const twin = params[`${name}_en`];
    out[name] = sayParam(name, english && twin !== undefined ? twin : value);
  }
  return out;
}

/**
 * What the service wrote (an alert, a refusal, a problem), in the page's language: the catalogue's
 * `messages.<code>` filled with `params`, or the service's English `detail` when this page's
 * catalogue does not know the code (a newer service than the page).
 */
export function say(code, params, detail) {
  const key = `messages.${code}`;
  if (!code || !has(key)) return detail ?? "";
  return tr(key, sayParams(params));
}

/** Another language's texts (the lobby display's second line): `(key, params) => text`. */
export async function translatorFor(code) {
  const table = code === current ? texts : code === FALLBACK ? fallbackTexts : await fetchLanguage(code);
  return (key, params = {}) => render(table, key, params) ?? render(fallbackTexts, key, params) ?? key;
}

/** The languages the loaded page is offered in: [{ code, name, dir, … }]. */
export function languages() {
  return offered;
}

/**
 * Puts the current language's texts into the page: every `[data-i18n]` element's text, every
 * `[data-i18n-label]` element's aria-label, every `[data-i18n-placeholder]`'s placeholder,
 * `<html lang dir>` and the picker. Then calls `onChange` for whatever the page draws itself.
 */
export function applyCatalogue(onChange = () => {}) {
  document.documentElement.lang = current;
  document.documentElement.dir = direction();
  const put = (attribute, apply) => document.querySelectorAll(`[${attribute}]`).forEach((el) => {
    const key = el.getAttribute(attribute);
    if (has(key)) apply(el, tr(key));
  });
  put("data-i18n", (el, text) => { el.textContent = text; });
  put("data-i18n-label", (el, text) => el.setAttribute("aria-label", text));
  put("data-i18n-placeholder", (el, text) => el.setAttribute("placeholder", text));
  fillPicker();
  onChange();
}

function fillPicker() {
  const picker = document.getElementById("lang");
  if (!(picker instanceof HTMLSelectElement)) return;
  if (picker.options.length !== offered.length) {
    // Each language named in itself, so a visitor finds their own in a list they cannot read.
    picker.replaceChildren(...offered.map((l) => {
      const option = new Option(l.name, l.code);
      option.lang = l.code;
      option.dir = l.dir;
      return option;
    }));
  }
  picker.value = current;
}

/** Wires the #lang picker: choosing a language loads it, remembers it and calls `onSwitch`
 * (the page's own "apply the language", which ends in applyCatalogue). */
export function languagePicker(onSwitch) {
  const picker = document.getElementById("lang");
  picker.addEventListener("change", async () => {
    remember(picker.value);
    await useLanguage(picker.value);
    onSwitch();
  });
}

// ---- The pages not yet moved to the catalogue: their own { nb, en } tables. ----

/** `t()` for a page's own text table: the half in the current language (bokmål for others). */
export function translator(table) {
  return () => table[current === "en" ? "en" : "nb"];
}

/** `applyCatalogue` for a page's own { nb, en } table and its nb ⇄ en button. */
export function applyTexts(table, onChange = () => {}) {
  const half = current === "en" ? "en" : "nb";
  const t = table[half];
  document.documentElement.lang = half;
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
    button.textContent = half === "nb" ? "English" : "Norsk";
    button.setAttribute("aria-label", half === "nb" ? "Switch to English" : "Bytt til norsk");
  }
  onChange();
}

/** The nb ⇄ en button of a page with its own table. */
export function languageSwitch(onSwitch) {
  current = storedChoice() === "en" ? "en" : "nb";
  document.getElementById("lang").addEventListener("click", () => {
    current = current === "en" ? "nb" : "en";
    remember(current);
    onSwitch();
  });
}
