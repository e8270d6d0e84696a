// The front-desk terminal's texts, from the "terminal" section of the language catalogue
// (web/lang/*.json, through i18n.js's tr), and its icons. `t()` gives the texts under the names
// the page's modules use: a plain text is looked up by its own name; a text with values is a
// function here that names them, so every call site stays short and every key is literal
// (the catalogue test checks that each one exists).
import { s } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";

const ROLE_KEYS = { display: "terminal.roleDisplay", admin: "terminal.roleAdmin" };

/** Texts that take values (or choose between texts). */
const WITH_VALUES = {
  errRole: (role) => tr("terminal.errRole", { who: ROLE_KEYS[role] ? tr(ROLE_KEYS[role]) : tr("terminal.roleOther", { role }) }),
  errStation: (names, here) => (names ? tr("terminal.errStation", { names, here }) : tr("terminal.errNoStation", { here })),
  outboxSignedOut: (n) => tr("terminal.outboxSignedOut", { n }),
  outboxSignedOutBy: (n, device) => tr("terminal.outboxSignedOutBy", { n, device }),
  errTokenRefused: (detail, n) => (detail ? tr("terminal.tokenRefusedWhy", { detail }) : tr("terminal.tokenRefused"))
    + (n ? ` ${tr("terminal.tokenRefusedWaiting", { n })}` : ""),
  heldBy: (n, device) => tr("terminal.heldBy", { n, device }),
  discardFor: (device) => tr("terminal.discardFor", { device }),
  discardTitle: (n, device) => tr("terminal.discardTitle", { n, device }),
  discardText: (device) => tr("terminal.discardText", { device }),
  discardConfirm: (n) => tr("terminal.discardConfirm", { n }),
  rDiscarded: (what, device) => tr("terminal.rDiscarded", { what, device }),
  heldFor: (device) => tr("terminal.heldFor", { device }),
  nextTry: (seconds) => ` ${tr("terminal.nextTry", { s: seconds })}`,
  stale: (time) => tr("terminal.stale", { time }),
  waitingIn: (inside, outside) => tr("terminal.waitingIn", { inside, outside }),
  persons: (n) => tr("terminal.persons", { n }),
  estimate: (m) => (m < 1 ? tr("terminal.estimateUnderMinute") : tr("terminal.estimate", { m })),
  enterIn: (m) => (m < 1 ? tr("terminal.enterSoon") : tr("terminal.enterIn", { m })),
  queuedFor: (device) => tr("terminal.queuedFor", { device }),
  position: (p) => tr("terminal.position", { p }),
  calledTo: (desk) => tr("terminal.calledTo", { desk }),
  enteredAt: (time) => tr("terminal.enteredAt", { time }),
  since: (time) => tr("terminal.since", { time }),
  calledNow: (desk) => tr("terminal.calledNow", { desk }),
  toDesk: (desk) => tr("terminal.toDesk", { desk }),
  rIn: (ticket, service) => tr("terminal.rIn", { ticket, service }),
  rOut: (ticket, service, p) => tr("terminal.rOut", { ticket, service, p }),
  rCheckedOut: (ticket) => tr("terminal.rCheckedOut", { ticket }),
  rNoShow: (ticket) => tr("terminal.rNoShow", { ticket }),
  rCalled: (ticket, desk) => tr("terminal.rCalled", { ticket, desk }),
  rAdmitted: (list) => tr("terminal.rAdmitted", { list }),
  rRefused: (what) => tr("terminal.rRefused", { what }),
  queuedAt: (time) => tr("terminal.queuedAt", { time }),
  servedFor: (time) => tr("terminal.servedFor", { time }),
  callConfirmTitle: (ticket, desk) => tr("terminal.callConfirmTitle", { ticket, desk }),
  callConfirmText: (ticket, ago) => tr("terminal.callConfirmText", { ticket, ago }),
  transferTitle: (ticket) => tr("terminal.transferTitle", { ticket }),
  noShowSoon: (ticket, seconds) => tr("terminal.noShowSoon", { ticket, s: seconds }),
  undone: (ticket) => tr("terminal.undone", { ticket }),
  lastCheckIn: (time) => tr("terminal.lastCheckIn", { time }),
  pastLastCheckIn: (time) => tr("terminal.pastLastCheckIn", { time }),
  rRecalled: (ticket, desk) => tr("terminal.rRecalled", { ticket, desk }),
  rTransferred: (ticket, service) => tr("terminal.rTransferred", { ticket, service }),
  qrAlt: (ticket) => tr("terminal.qrAlt", { ticket }),
  rArrived: (ticket) => tr("terminal.rArrived", { ticket }),
  comeBackBy: (time) => tr("terminal.comeBackBy", { time }),
  bookingSlot: (time) => tr("terminal.bookingSlot", { time }),
  bookingEarly: (m) => tr("terminal.bookingEarly", { m }),
  bookingLate: (m) => tr("terminal.bookingLate", { m }),
  rBookingIn: (ticket) => tr("terminal.rBookingIn", { ticket }),
  cameraFailed: (why) => tr("terminal.cameraFailed", { why }),
};

/** Texts grouped the way the page uses them. */
const GROUPS = {
  kinds: () => ({
    check_in: tr("terminal.kindCheckIn"), check_out: tr("terminal.kindCheckOut"), no_show: tr("terminal.kindNoShow"),
    call: tr("terminal.kindCall"), recall: tr("terminal.kindRecall"), transfer: tr("terminal.kindTransfer"),
    arrived: tr("terminal.kindArrived"), booking_arrived: tr("terminal.kindBookingArrived"),
  }),
  outboxText: () => ({
    ok: tr("terminal.outboxOk"), sending: tr("terminal.outboxSending"), down: tr("terminal.outboxDown"),
    busy: tr("terminal.outboxBusy"), held: (n) => tr("terminal.outboxHeld", { n }),
  }),
  // The keys are the same in every language; what they do is translated.
  shortcuts: () => ["1 – 9", "+ / −", "N", "R", "/", "Enter", "Esc"].map((key, i) => [key, tr("terminal.shortcuts")[i]]),
};

const TEXTS = new Proxy({}, {
  get: (_, name) => WITH_VALUES[name] ?? GROUPS[name]?.() ?? tr(`terminal.${String(name)}`),
});

/** The terminal's texts in the page's language. */
export const t = () => TEXTS;

// Inline SVG icons: emoji fonts are missing on many kiosk/Linux PCs, and an icon that renders as
// an empty box would leave colour as the only signal.
const ICONS = {
  check: [["path", { d: "M4 12.5l5 5L20 6.5" }]],
  cross: [["path", { d: "M6 6l12 12M18 6L6 18" }]],
  stop: [["path", { d: "M8 2.5h8l5.5 5.5v8L16 21.5H8L2.5 16V8z" }], ["path", { d: "M7.5 12h9" }]],
  clock: [["circle", { cx: "12", cy: "12", r: "9" }], ["path", { d: "M12 7v5l3.5 2.5" }]],
  call: [["path", { d: "M3 9.5v5h4l5 4.5v-14L7 9.5z" }], ["path", { d: "M16 8.5a5 5 0 0 1 0 7M19 5.5a9 9 0 0 1 0 13" }]],
  enter: [["path", { d: "M4 12h14M13 6l6 6-6 6" }]],
  warn: [["path", { d: "M12 3L2 21h20z" }], ["path", { d: "M12 10v5M12 18v.01" }]],
  sync: [["path", { d: "M20 12a8 8 0 1 1-2.3-5.6" }], ["path", { d: "M20 4v5h-5" }]],
  // A map pin: the party is somewhere else.
  away: [["path", { d: "M12 21s-6.5-6.2-6.5-11a6.5 6.5 0 0 1 13 0c0 4.8-6.5 11-6.5 11z" }], ["circle", { cx: "12", cy: "10", r: "2.3" }]],
};

/** One icon as an `<svg>` element, hidden from screen readers (the text next to it says it). */
export function icon(name) {
  return s("svg", { class: `i i-${name}`, viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    ICONS[name].map(([tag, attrs]) => s(tag, attrs)));
}
