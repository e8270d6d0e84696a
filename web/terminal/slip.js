// The issued ticket's link for the visitor's phone, and its printed slip.
//
// After a check-in the answer carries `ticket_link {id, code, url}`; the card under the ticket box
// shows its QR code (drawn by the service: /t/{code}/qr.svg, nothing fetched from elsewhere), the
// short link as text, the paper choice and "Print slip". The slip itself (#slip) is seen only by
// the printer (slip.css): station, service, ticket number, check-in time, QR code, short link,
// and a line telling the visitor to follow the ticket on the phone — in bokmål and English both,
// whatever the desk's language, because the slip goes home with the visitor.
//
// The paper (58 mm or 80 mm receipt roll, or A4) is remembered per browser: a printer belongs to
// the PC, not to a station or a clerk.
import { $, h } from "/assets/dom.js";
import { formatTime } from "/assets/format.js";
import { translatorFor } from "/assets/i18n.js";
import { services, state, stationName, t } from "/assets/terminal/state.js";

const PAPER_SLOT = "lobbywatch.slip.paper";
const PAPERS = ["58", "80", "a4"];
const DEFAULT_PAPER = "80";
/** A4's page margin, in mm; receipts are printed edge to edge (the printer has its own). */
const A4_MARGIN_MM = 15;
/** CSS pixels per millimetre. */
const PX_PER_MM = 96 / 25.4;

/** The slip's two languages' texts, loaded once: (key) => text. */
let slipTexts = null;
function loadSlipTexts() {
  slipTexts ??= Promise.all([translatorFor("nb"), translatorFor("en")]);
  return slipTexts;
}

/** The paper this PC prints on. */
function paper() {
  let stored = null;
  try { stored = localStorage.getItem(PAPER_SLOT); } catch { /* private mode: the default */ }
  return PAPERS.includes(stored) ? stored : DEFAULT_PAPER;
}

function rememberPaper(value) {
  try { localStorage.setItem(PAPER_SLOT, value); } catch { /* chosen for this page only */ }
}

/** The origin visitors reach the service at: the configured `[web] public_url`, else this page's. */
function publicOrigin() {
  return document.querySelector('meta[name="public-url"]')?.content || location.origin;
}

/** The link as printed and read out: host and path, without the scheme a phone adds itself. */
export function shortLink(link) {
  return `${publicOrigin()}${link.url}`.replace(/^https?:\/\//, "");
}

/** The QR code's address: the service draws it for the code, pointing at the same origin. */
function qrSource(link) {
  return `/t/${encodeURIComponent(link.code)}/qr.svg`;
}

/** The issued ticket when it has a link to show: answered, with `ticket_link` and its code (a
 * replay after the desk's token was rotated carries only the link's id: nothing to print). */
function linkedTicket() {
  const it = state.recent.issued;
  return it && it.link?.code && it.link?.url && (it.state === "inside" || it.state === "outside") ? it : null;
}

/** The card under the ticket box: QR code, short link, paper and "Print slip" — or hidden. */
export function renderTicketLink() {
  const it = linkedTicket();
  $("ticket-link").hidden = !it;
  document.body.classList.toggle("slip-ready", Boolean(it));
  if (!it) return;
  const src = qrSource(it.link);
  // Set only when it changed: every redraw would otherwise fetch the image again.
  if ($("ticket-qr").getAttribute("src") !== src) $("ticket-qr").setAttribute("src", src);
  $("ticket-qr").alt = t().qrAlt(it.ticket);
  $("ticket-url").textContent = shortLink(it.link);
  $("ticket-link").dataset.ticket = it.ticket;
  $("slip-paper").value = paper();
  ensureSlip(it, paper());
}

/** One service's names for the slip: the Norwegian one, and the English one when it differs. */
function serviceNames(id) {
  const s = services().find((x) => x.id === id);
  if (!s) return id;
  return s.name_en && s.name_en !== s.name ? `${s.name} · ${s.name_en}` : s.name;
}

/** When the desk checked the party in, on the station's clock, with the date (a slip is kept):
 * "30.11.2026 09:41", read the same in bokmål and English. */
function checkedInAt(it) {
  const at = it.at || new Date().toISOString();
  const timeZone = state.doc?.timezone || undefined;
  let date;
  try {
    date = new Intl.DateTimeFormat("nb-NO", { day: "2-digit", month: "2-digit", year: "numeric", timeZone }).format(new Date(at));
  } catch {
    date = new Intl.DateTimeFormat("nb-NO", { day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(at));
  }
  return `${date} ${formatTime(at, { timeZone, lang: "nb-NO" })}`;
}

/** What the slip was last drawn for, and the drawing in progress. */
const drawn = { key: null, done: Promise.resolve() };

/** Draws `it`'s slip on `paperSize` unless it is drawn already; the slip is kept ready, so
 * "Print slip" and Ctrl+P print at once. */
function ensureSlip(it, paperSize) {
  const key = `${it.key}|${it.ticket}|${paperSize}`;
  if (drawn.key !== key) {
    drawn.key = key;
    drawn.done = drawSlip(it, paperSize, key);
  }
  return drawn.done;
}

/** Draws the slip for `it` on `paperSize` (slip.css shows it only in print), unless another
 * drawing (`key`) took its place meanwhile. */
async function drawSlip(it, paperSize, key) {
  const [nb, en] = await loadSlipTexts();
  if (drawn.key !== key) return;
  const both = (key) => [h("span", { lang: "nb" }, nb(key)), " / ", h("span", { lang: "en" }, en(key))];
  const slip = $("slip");
  slip.dataset.paper = paperSize;
  slip.dataset.ticket = it.ticket;
  slip.dataset.ready = "false";
  slip.replaceChildren(
    h("p", { class: "slip-station" }, stationName()),
    h("p", { class: "slip-service" }, serviceNames(it.service)),
    h("p", { class: "slip-label" }, both("terminal.slipTicket")),
    h("p", { class: "slip-ticket" }, it.ticket),
    h("p", { class: "slip-time" }, both("terminal.slipCheckedIn"), h("br"), checkedInAt(it)),
    h("img", { class: "slip-qr", src: qrSource(it.link), alt: "" }),
    h("p", { class: "slip-url" }, shortLink(it.link)),
    h("p", { class: "slip-follow", lang: "nb" }, nb("terminal.slipFollow")),
    h("p", { class: "slip-follow", lang: "en" }, en("terminal.slipFollow")),
  );
  // Measured once the QR code is in: the receipt is cut to the slip's length.
  await slip.querySelector(".slip-qr").decode().catch(() => {});
  if (drawn.key !== key) return;
  setPageSize(paperSize, slip);
  slip.dataset.ready = "true";
}

/** The printed page: A4 with a margin, or a receipt exactly as wide as the roll and as long as
 * the slip (a roll has no page length of its own; a fixed one would feed blank paper). */
function setPageSize(paperSize, slip) {
  const lengthMm = Math.ceil(slip.getBoundingClientRect().height / PX_PER_MM) + 2;
  $("slip-page").textContent = paperSize === "a4"
    ? `@page { size: A4; margin: ${A4_MARGIN_MM}mm; }`
    : `@page { size: ${paperSize}mm ${lengthMm}mm; margin: 0; }`;
}

/** Prints the issued ticket's slip on the chosen paper (the browser's print dialog). */
async function printSlip() {
  const it = linkedTicket();
  if (!it) return;
  await ensureSlip(it, paper());
  window.print();
}

/** The paper choice and the "Print slip" button. */
export function wireSlip() {
  $("slip-paper").value = paper();
  $("slip-paper").addEventListener("change", () => {
    rememberPaper($("slip-paper").value);
    renderTicketLink();
  });
  $("print-slip").addEventListener("click", () => { printSlip(); });
}
