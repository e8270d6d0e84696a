// How a call is said aloud on the lobby display: ticket numbers and desks in bokmål and British
// English words. Pure functions with no imports, so they can be checked anywhere (a Node test
// included) without the page.

const NB_SMALL = ["null", "en", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve", "tolv",
  "tretten", "fjorten", "femten", "seksten", "sytten", "atten", "nitten"];
const NB_TENS = ["", "", "tjue", "tretti", "førti", "femti", "seksti", "sytti", "åtti", "nitti"];

/** A number 0–999 in Norwegian bokmål words: 7 → "sju", 21 → "tjueen", 105 → "hundre og fem",
 * 221 → "to hundre og tjueen". Anything else comes back as digits (the synthesizer reads those). */
export function numberNb(n) {
  const value = Number(n);
  if (!Number.isInteger(value) || value < 0 || value > 999) return String(n);
  if (value < 20) return NB_SMALL[value];
  if (value < 100) return NB_TENS[Math.floor(value / 10)] + (value % 10 ? NB_SMALL[value % 10] : "");
  const hundreds = Math.floor(value / 100);
  const rest = value % 100;
  // "hundre", not "ett hundre": that is how a ticket number is said aloud.
  const head = hundreds === 1 ? "hundre" : `${NB_SMALL[hundreds]} hundre`;
  return rest ? `${head} og ${numberNb(rest)}` : head;
}

const EN_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
  "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/** A number 0–999 in British English words: 7 → "seven", 105 → "one hundred and five". */
export function numberEn(n) {
  const value = Number(n);
  if (!Number.isInteger(value) || value < 0 || value > 999) return String(n);
  if (value < 20) return EN_SMALL[value];
  if (value < 100) return EN_TENS[Math.floor(value / 10)] + (value % 10 ? `-${EN_SMALL[value % 10]}` : "");
  const head = `${EN_SMALL[Math.floor(value / 100)]} hundred`;
  return value % 100 ? `${head} and ${numberEn(value % 100)}` : head;
}

/** "P007" → { letters: "P", number: 7 }; null when the ticket has another shape. */
function splitTicket(ticket) {
  const match = /^(\p{L}*)[\s-]*(\d+)$/u.exec(String(ticket ?? "").trim());
  return match ? { letters: match[1], number: Number(match[2]) } : null;
}

/** What is said for a new call, Norwegian and English: ("P007", "3") →
 * { nb: "P sju, skranke tre", en: "P seven, desk three" }. Leading zeros are dropped; a multi-letter
 * prefix is spelled ("ID" → "I D"); a desk that is not a plain number is spoken as it is. */
export function announcement(ticket, desk) {
  const parts = splitTicket(ticket);
  const spoken = (words) => {
    if (!parts) return String(ticket ?? "").trim();
    const letters = parts.letters.split("").join(" ");
    return [letters, words(parts.number)].filter(Boolean).join(" ");
  };
  const deskText = String(desk ?? "").trim();
  const numericDesk = /^\d+$/.test(deskText);
  const nbDesk = numericDesk ? numberNb(Number(deskText)) : deskText;
  const enDesk = numericDesk ? numberEn(Number(deskText)) : deskText;
  return { nb: `${spoken(numberNb)}, skranke ${nbDesk}`, en: `${spoken(numberEn)}, desk ${enDesk}` };
}
