// Building page elements from data. Everything a server sends is put into the page as text
// (`textContent`, attributes), never parsed as markup, so a name, a reason or an alert detail can
// never become HTML. Shared by every page.

const SVG_NS = "http://www.w3.org/2000/svg";

/** What each container last showed, as serialized by replaceIfChanged. */
const rendered = new WeakMap();

/** Sets one attribute or property; `null`, `undefined` and `false` leave it out. */
function set(el, name, value) {
  if (value == null || value === false) return;
  if (name === "class") el.setAttribute("class", value);
  else if (name === "dataset") Object.assign(el.dataset, value);
  else if (name === "style") el.setAttribute("style", value);
  else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
  else el.setAttribute(name, value === true ? "" : String(value));
}

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs || {})) set(el, name, value);
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false || child === "") continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** `h("li", { class: "chip", dataset: { ticket } }, "P001", h("span", {}, "×2"))`: an HTML
 * element with attributes and children (nodes or text; nested arrays are flattened, empty ones
 * skipped). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** The same for SVG elements (charts, the room plan, icons). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces `el`'s children with `children` (nested arrays flattened; null, false and "" left
 * out, where replaceChildren would write "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  return build(el, {}, children);
}

/**
 * Replaces `container`'s children with `nodes` only when the result differs from what it shows,
 * and returns whether it did. Live documents arrive several times a minute: rebuilding an
 * unchanged list would make screen readers announce it again and drop keyboard focus. The
 * comparison serializes the new nodes (it never parses anything).
 */
export function replaceIfChanged(container, ...nodes) {
  const scratch = document.createElement("div");
  scratch.append(...nodes.flat(Infinity).filter((n) => n != null && n !== false));
  const markup = scratch.innerHTML;
  if (rendered.get(container) === markup) return false;
  container.replaceChildren(...scratch.childNodes);
  rendered.set(container, markup);
  return true;
}

/** Makes the next replaceIfChanged of `container` redraw it (the language changed, say). */
export function forgetRendered(container) {
  rendered.delete(container);
}

/** The element with this id. */
export const $ = (id) => document.getElementById(id);
