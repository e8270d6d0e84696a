// A radio button drawn as a large choice button (the booking flow's days and times): a real
// <input type="radio"> with its <label>, so arrow keys, focus and screen readers work as usual;
// and a day's short label, so two weeks of days fit a phone's screen.
import { h } from "/assets/dom.js";
import { locale } from "/assets/i18n.js";

/** "man. 1. des." / "Mon 1 Dec": the day of `instant` on the clock of `timeZone`. */
export function dayLabel(instant, timeZone) {
  return new Intl.DateTimeFormat(locale(), { weekday: "short", day: "numeric", month: "short", timeZone }).format(new Date(instant));
}

/** One choice of the radio group `name`. */
export function radio(name, value, label, checked) {
  const id = `${name}-${value.replace(/[^0-9A-Za-z]/g, "")}`;
  return h("div", { class: "choice" },
    h("input", { type: "radio", name, id, value, checked }),
    h("label", { for: id }, label));
}
