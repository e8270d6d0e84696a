// Unit tests of the pages' booking parts that decide something: what the desk's booking field
// names (a code, the booking page's URL, a reference), early/late against the slot, the gauge's
// held part, the display's reasons for WAIT with chairs free, the proof of work's bit count and
// search, and slots grouped by the station's day. tests/api/browser/booking.rs opens
// booking.test.html in headless Chromium (served only by `--web-dir`) and reads the results.
import { loadCatalogue } from "/assets/i18n.js";
import { bookingNamed, punctuality } from "/assets/terminal/booking.js";
import { gaugeWidths } from "/assets/dashboard/bookings.js";
import { waitReasons } from "/assets/display/bookings.js";
import { leadingZeroBits, solve } from "/assets/public/pow.js";
import { byDay } from "/assets/public/slots.js";
import { assertEqual, runAll, test } from "/tests/runner.js";

const CODE = "AbCdEfGhIjKlMnOpQrStUv-_";

test("a typed code, grouped or not, names the booking by its code", () => {
  assertEqual(bookingNamed(CODE), { code: CODE }, "plain");
  assertEqual(bookingNamed(" AbCd EfGh IjKl MnOp QrSt Uv-_ "), { code: CODE }, "grouped");
});

test("the booking page's whole URL from a scanner names its code", () => {
  assertEqual(bookingNamed(`https://lobby.example/b/${CODE}`), { code: CODE }, "https");
  assertEqual(bookingNamed(`/b/${CODE}?from=qr`), { code: CODE }, "path with query");
});

test("anything else a reference may be is the office's reference; the rest is nothing", () => {
  assertEqual(bookingNamed("BK-2026.114"), { external_ref: "BK-2026.114" }, "reference");
  assertEqual(bookingNamed("not/a code!"), null, "neither");
  assertEqual(bookingNamed(""), null, "empty");
});

test("arrival against the slot: early, late, on time", () => {
  const slot = "2026-11-30T10:00:00Z";
  assertEqual(punctuality(slot, "2026-11-30T09:48:10Z"), "12 min tidlig", "early");
  assertEqual(punctuality(slot, "2026-11-30T10:03:00Z"), "3 min sent", "late");
  assertEqual(punctuality(slot, "2026-11-30T10:00:20Z"), "presis", "on time");
});

test("the gauge's held part follows the headcount and never runs past the end", () => {
  assertEqual(gaugeWidths(10, 4, 20), { inside: 50, held: 20 }, "half and a fifth");
  assertEqual(gaugeWidths(18, 4, 20), { inside: 90, held: 10 }, "cut at the end");
  assertEqual(gaugeWidths(22, 2, 20), { inside: 100, held: 0 }, "over cap");
});

test("WAIT with chairs free says how many places are held, then the head party's size", () => {
  const doc = { sign: "wait_outside", cap: 10, headcount: 6, held: 2, outside: [{ party_size: 3 }] };
  assertEqual(waitReasons(doc), [["heldForBookings", { n: 2 }], ["roomForNext", { room: 2, size: 3 }]], "both");
  assertEqual(waitReasons({ ...doc, headcount: 10 }), [], "full: nothing to explain");
  assertEqual(waitReasons({ ...doc, sign: "enter" }), [], "enter");
  assertEqual(waitReasons({ ...doc, held: 0, outside: [{ party_size: 5 }] }), [["roomForNext", { room: 4, size: 5 }]], "no held room");
});

test("leading zero bits are counted across bytes", () => {
  assertEqual(leadingZeroBits(new Uint8Array([0, 0x0f, 0xff])), 12, "8 + 4");
  assertEqual(leadingZeroBits(new Uint8Array([0x80])), 0, "none");
  assertEqual(leadingZeroBits(new Uint8Array([0, 0])), 16, "all");
});

test("the proof of work finds a nonce whose hash has the bits", async () => {
  const nonce = await solve("test-challenge", 8);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`test-challenge:${nonce}`)));
  if (leadingZeroBits(hash) < 8) throw new Error(`nonce ${nonce} has ${leadingZeroBits(hash)} bits`);
  assertEqual(/^\d+$/.test(nonce), true, "decimal");
});

test("slots are grouped by the station's day, not the browser's", () => {
  const slots = [{ start: "2026-11-30T22:45:00Z" }, { start: "2026-11-30T23:15:00Z" }, { start: "2026-12-01T08:00:00Z" }];
  const days = byDay(slots, "Europe/Oslo");
  assertEqual(days.map((d) => [d.date, d.slots.length]), [["2026-11-30", 1], ["2026-12-01", 2]], "Oslo's days");
});

await loadCatalogue("terminal");
runAll();
