// The dashboard's words. Its texts are the "dashboard" section of the language catalogue
// (web/lang/{code}.json, read with `tr`); this module names what the service says in English —
// surfaces, what limits a cap, a role — in the page's language, keeping the service's word when the
// catalogue has none (a surface typed by hand, a value from a newer service).
import { has, locale, tr } from "/assets/i18n.js";

/** The text at `key`, or `fallback` when the catalogue has none. */
export function trOr(key, fallback) {
  return has(key) ? tr(key) : fallback;
}

/** A surface the service names in English ("door handles"), in the page's language. */
export function surfaceName(surface) {
  return trOr(`dashboard.surfaceName.${surface}`, surface);
}

/** "dørhåndtak, skranke og stoler": a list in the page's language. */
export function listOf(items) {
  return new Intl.ListFormat(locale(), { style: "long", type: "conjunction" }).format(items);
}
