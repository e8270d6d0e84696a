// A radio button drawn as a large choice button (the booking flow's days and times): a real
// <input type="radio"> with its <label>, so arrow keys, focus and screen readers work as usual.
import { h } from "/assets/dom.js";

/** One choice of the radio group `name`. */
export function radio(name, value, label, checked) {
  const id = `${name}-${value.replace(/[^0-9A-Za-z]/g, "")}`;
  return h("div", { class: "choice" },
    h("input", { type: "radio", name, id, value, checked }),
    h("label", { for: id }, label));
}
