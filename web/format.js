// How every page writes times, dates, durations, numbers, opening hours and service names, in
// the current language (i18n.js). One version of each, so the pages cannot drift apart.
import { direction, locale, namesIn } from "/assets/i18n.js";

function intl(options, at, timeZone, lang) {
  const date = new Date(at);
  try {
    return new Intl.DateTimeFormat(lang, { ...options, timeZone: timeZone || undefined }).format(date);
  } catch {
    // An unknown time zone (or none known yet): the PC's own clock is the best left to show.
    return new Intl.DateTimeFormat(lang, options).format(date);
  }
}

/**
 * "09:41" (or "09:41:07" with `seconds`) for `at` (ms or an ISO string) on the clock of
 * `timeZone` — a station's times are shown on the station's clock; without a zone, the PC's.
 * Empty for a missing or unreadable time.
 */
export function formatTime(at, { timeZone, seconds = false, lang = locale() } = {}) {
  if (at == null || at === "" || Number.isNaN(new Date(at).getTime())) return "";
  const options = { hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}), hour12: false };
  return intl(options, at, timeZone, lang);
}

/** "mandag 3. mars" / "Monday 3 March" for `at` on the clock of `timeZone`. */
export function formatDate(at, { timeZone, lang = locale() } = {}) {
  return intl({ weekday: "long", day: "numeric", month: "long" }, at, timeZone, lang);
}

/** Whole minutes from `stamp` (ISO) to `now` (ms), never negative. */
export function minutesSince(stamp, now = Date.now()) {
  return Math.max(0, Math.floor((now - Date.parse(stamp)) / 60000));
}

/** A number with at most `digits` decimals in the page's language ("1,5" / "1.5"). */
export function formatNumber(n, digits = 2) {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

/** Opening hours as the service sends them ("09:00-15:00, 16:00-18:00") with proper en dashes;
 * on a right-to-left page kept left to right as a whole (an isolate), so 08:00–15:30 does not read
 * as 15:30–08:00. */
export function hoursText(hours) {
  const text = String(hours ?? "").replaceAll("-", "–");
  return direction() === "rtl" && text ? `\u2066${text}\u2069` : text;
}

/** A service's name in the page's language: the Norwegian name for Norwegian, the English one
 * (when the config has one) for every other language. */
export function serviceName(service) {
  return namesIn() === "en" ? service.name_en || service.name : service.name;
}
