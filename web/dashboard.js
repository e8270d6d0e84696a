// The guard dashboard: every station in the guard token's scope on one live socket, one card per
// station, sorted so the rooms that need a guard come first, with corrections and cleaning.
import { getJson, live, esc, newKey, postEvent, session, withToken } from "/assets/common.js";

/** Share of the cap from which a room counts as "near full". */
const NEAR = 0.8;
/** A ticket admitted from the queue should walk in within a minute or two; longer than this and
 * the visitor probably did not notice the sign, so the guard should go and fetch them. */
const PLEASE_ENTER_LONG_MS = 2 * 60 * 1000;
/** Cards are re-sorted at most this often, so a busy scope does not make the grid jitter. */
const SORT_EVERY_MS = 3000;
/** Focus or the pointer on a card holds it in place only while the guard is actually using the
 * page: a mouse left resting on a wall screen must not freeze a card's position for good. */
const INTERACTING_MS = 20 * 1000;
/** The first documents arrive as a burst on connect; wait this long to sort them once. */
const FIRST_SORT_DELAY_MS = 200;
/** Time-based conditions (how long a ticket has waited) change without any document. */
const TICK_MS = 15 * 1000;
const HISTORY_EVERY_MS = 60 * 1000;
const WINDOW_MS = 2 * 60 * 60 * 1000;
/** Preset surfaces are sent in English, the service's own vocabulary (the simulator uses
 * "door handles" too), and shown translated. */
const SURFACES = ["door handles", "counter", "ticket machine", "chairs"];
/** Override reasons offered as presets; sent in English like the surfaces, since the reason
 * ends up in the service's (English) over-cap alert detail and in the log. */
const OVERRIDE_REASONS = ["wheelchair user", "urgent travel document", "elderly or unwell"];
/** Outside tickets shown before "show all": the head of the queue is what a guard acts on, and
 * a queue of 70 would otherwise push every other card off the screen. */
const QUEUE_SHOWN = 10;
/** Tickets named in the "asked in but not come in" hint before "+N more". */
const SLOW_NAMED = 4;

const TEXT = {
  nb: {
    locale: "nb-NO",
    title: "Vaktoversikt",
    signInTitle: "Logg inn som vakt",
    signInIntro: "Skriv inn vakt-nøkkelen (token) du har fått. Den lagres bare i denne fanen og glemmes når fanen lukkes.",
    tokenLabel: "Vakt-nøkkel", signIn: "Logg inn", signOut: "Logg ut", checking: "Sjekker nøkkelen …",
    emptyToken: "Skriv inn vakt-nøkkelen.",
    badToken: (d) => `Nøkkelen ble ikke godtatt: ${d}`,
    role: {
      terminal: "Dette er en terminal-nøkkel (skranke) — vaktoversikten krever en vakt-nøkkel.",
      display: "Dette er en nøkkel for en venteromsskjerm — vaktoversikten krever en vakt-nøkkel.",
      admin: "Dette er en administrator-nøkkel — vaktoversikten krever en vakt-nøkkel.",
      other: (r) => `Denne nøkkelen har rollen «${r}» — vaktoversikten krever en vakt-nøkkel.`,
    },
    noStations: "Denne vakt-nøkkelen dekker ingen stasjoner.",
    unreachable: "Fikk ikke kontakt med tjenesten. Prøver igjen om litt …",
    expired: "Nøkkelen gjelder ikke lenger — logg inn på nytt.",
    signedOut: "Du er logget ut.",
    device: (d) => `Enhet: ${d}`,
    live: "Direkte", connecting: "Kobler til …", lost: "Forbindelsen brutt — kobler til igjen …",
    totalsLabel: "Sammendrag",
    stationsN: (n) => `${n} ${n === 1 ? "stasjon" : "stasjoner"}`,
    insideN: (n) => `${n} inne`,
    outsideN: (n) => `${n} ${n === 1 ? "parti" : "partier"} ute`,
    fullN: (n) => `${n} fulle`,
    level: { ok: "OK", near: "NESTEN FULLT", full: "FULLT", over: "OVER GRENSEN" },
    open: "Åpen", closed: "Stengt",
    sign: { enter: "skilt: kom inn", wait_outside: "skilt: vent ute", closed: "skilt: stengt" },
    insideWord: "inne", ofCap: "av", capWord: "grense",
    outsideLabel: "Ute",
    parties: (n) => `${n === 1 ? "parti" : "partier"}`,
    people: (n) => `${n} ${n === 1 ? "person" : "personer"}`,
    lineHolds: (n) => `kølinja har plass til ${n}`,
    noLine: "ingen merket kølinje",
    longestOutside: (m) => `lengst ute: ${m} min`,
    // Hints this screen works out itself; the service's own alerts are in `alertKind`.
    hint: {
      label: "Merknad",
      pleaseEnter: (list) => `Bedt inn, men ikke kommet inn: ${list}. Sjekk at de har sett skiltet.`,
      corrections: (n) => `Korrigert: ${n} ${n === 1 ? "person" : "personer"} inne uten billett.`,
      closedBusy: (h, o) => `Stengt, men ${h} inne og ${o} partier ute.`,
    },
    alertsLabel: "Varsler",
    alertKind: {
      over_cap: "Over grensen", at_cap: "Fullt", gathering: "Samlingsfare",
      cleaning_due: "Rengjøring trengs", long_inside: "Lenge inne", long_wait: "Lang ventetid",
    },
    alertSince: (time, m) => `siden ${time} (${m} min)`,
    alertAcked: (by, time) => `kvittert av ${by} kl. ${time}`,
    alertCleared: (time) => `avsluttet kl. ${time}`,
    ack: "Kvitter", ackLabel: (what, s) => `Kvitter varselet «${what}», ${s}`,
    ackDone: (what, at) => `✓ Varselet «${what}» kvittert kl. ${at}.`,
    recentAlerts: (n) => `Nylig avsluttede varsler (${n})`,
    activeAlertsN: (n) => `${n} ${n === 1 ? "aktivt varsel" : "aktive varsler"}`,
    announceAlert: (s, what, detail) => `${s}: ${what}. ${detail}`,
    minutes: (m) => `${m} min`,
    service: "Tjeneste", waitIn: "Venter inne", waitOut: "Venter ute", ticketsIn: "Billetter inne",
    estWait: "Antatt ventetid", desks: "Aktive skranker", noEstimate: "ingen anslag ennå",
    // Column heads as shown on a narrow card; the full names above are what a screen reader says.
    short: { waitIn: "Inne", waitOut: "Ute", estWait: "Ventetid", desks: "Skranker" },
    approxMin: (m) => `≈ ${m} min`,
    nextIn: (m) => `første inn om ≈ ${m} min`, nextUnknown: "ingen anslag for når første kommer inn",
    expectedIn: (m) => `ventet inn om ≈ ${m} min`,
    overridden: "sluppet inn forbi grensen",
    ruleLine: (by, d) => `Grensen følger av ${by} · avstand ${d} m`,
    serviceClosed: "stengt",
    queueOutside: "Kø ute", pleaseEnter: "Bedt inn", none: "ingen", insideTickets: "Inne",
    showAll: (n) => `Vis hele køen (${n})`, showFewer: "Vis bare de første",
    more: (n) => `+${n} til`,
    correctGroup: "Korriger", correctGroupLabel: "Korriger antall inne",
    plus: "+1", minus: "−1", cleaned: "Rengjort…", override: "Slipp inn…",
    overrideLabel: (s) => `Slipp inn forbi grensen …, ${s}`,
    overrideNobody: (s) => `Slipp inn forbi grensen, ${s} — ingen venter ute`,
    plusLabel: (s) => `+1 person inne uten billett, ${s}`,
    minusLabel: (s) => `−1 person uten billett, ${s}`,
    cleanedLabel: (s) => `Rengjort … — registrer rengjøring, ${s}`,
    moreSummary: "Trend og rom",
    waiting: "Venter på data …",
    stale: (time) => `Ikke oppdatert${time ? ` siden ${time}` : ""} — viser siste kjente tall.`,
    legend: "✓ OK (under 80 %) · ▲ Nesten fullt (80 % eller mer) · ■ Fullt · ✖ Over grensen · P001→2 = hos skranke 2 · ➜ = bedt om å komme inn · ⚑ = sluppet inn forbi grensen · ×2 = to personer på billetten · ◆ = har timeavtale · ≈6′ = ventet inn om ca. 6 min",
    // Correction and cleaning dialogs.
    correctTitle: "Korriger antall inne", correctChange: "Endring",
    plusOne: "+1 person uten billett (f.eks. følgeperson)", minusOne: "−1 (en uten billett har gått)",
    reasonLabel: "Begrunnelse (påkrevd)", reasonHint: "F.eks. «telt ved døra», «følgeperson uten billett».",
    reasonHints: ["telt ved døra", "følgeperson uten billett", "tolk", "en uten billett har gått"],
    reasonMissing: "Skriv en begrunnelse — den lagres i loggen sammen med korreksjonen.",
    correctContext: (name, h, c, k) => `${name}: ${h} inne, grense ${c}. Registrerte personer uten billett: ${k}.`,
    cancel: "Avbryt", record: "Registrer", sending: "Sender …",
    cleanTitle: "Registrer rengjøring", surfaceLegend: "Hva ble rengjort?", surfaceOther: "Annet:",
    surfaceOtherLabel: "Annen flate",
    surfaceMissing: "Velg en flate, eller skriv hva som ble rengjort.",
    surfaceName: { "door handles": "dørhåndtak", counter: "skranke", "ticket machine": "billettautomat", chairs: "stoler" },
    cleanContext: (name, last) => `${name}. ${last}`,
    lastCleaned: (list) => `Sist rengjort: ${list}.`,
    neverCleaned: "Ingen rengjøring registrert i dag.",
    netFail: "Fikk ikke kontakt med tjenesten. Prøv igjen — forespørselen sendes med samme nøkkel, så den telles ikke to ganger.",
    inFlight: "Den forrige innsendingen er fortsatt under behandling. Prøv igjen om et øyeblikk.",
    correctDone: (d, h, at) => `✓ Korreksjon ${d > 0 ? "+1" : "−1"} registrert kl. ${at}. Nå ${h} inne.`,
    overrideTitle: "Slipp inn forbi grensen",
    overrideContext: (name, h, c, n) => `${name}: ${h} inne, grense ${c}, ${n} ${n === 1 ? "parti" : "partier"} ute.`,
    overrideWarn: "Rommet går over grensen. Begrunnelsen lagres i loggen og vises i varselet «Over grensen».",
    overrideWho: "Hvem slippes inn?",
    overrideHead: (tk) => `Første i køen (nå ${tk})`,
    overrideOption: (p, svc, m) => `${p.ticket} — nr. ${p.position}, ${svc}, ute ${m} min${p.party_size > 1 ? `, ${p.party_size} personer` : ""}`,
    overrideReason: "Begrunnelse (påkrevd)", overrideOther: "Annet:", overrideOtherLabel: "Annen begrunnelse",
    overrideReasons: { "wheelchair user": "rullestolbruker", "urgent travel document": "haster med reisedokument", "elderly or unwell": "eldre eller syk" },
    overrideMissing: "Velg en begrunnelse, eller skriv den selv — den lagres i loggen.",
    overrideNone: "Ingen venter ute nå, så ingen kan slippes inn.",
    overrideSubmit: "Slipp inn",
    overrideDone: (tk, h, c, at) => `✓ ${tk} sluppet inn forbi grensen kl. ${at}. Nå ${h} inne, grense ${c}.`,
    cleanDone: (s, at) => `✓ Rengjøring av ${s} registrert kl. ${at}.`,
    replayed: " (var allerede registrert)",
    // Details: chart and room.
    chartTitle: "Siste 2 timer",
    chartHeadcount: "Inne", chartCap: "Grense", chartOutside: "Partier ute", nowWord: "nå",
    chartSummary: (h, hm, c, o, om) => `Siste 2 timer: inne nå ${h} (høyest ${hm}), grense ${c}, partier ute nå ${o} (høyest ${om}).`,
    chartLoading: "Henter historikk …", chartEmpty: "Ingen hendelser de siste 2 timene ennå.",
    chartError: (d) => `Kunne ikke hente historikk: ${d}`,
    roomTitle: "Venterommet",
    roomLoading: "Henter romplan …", roomError: (d) => `Kunne ikke hente romplan: ${d}`,
    limitedBy: { area: "arealet", seats: "stolene", max_visitors: "maks antall besøkende" },
    capLine: (cap, by) => `Grense ${cap} — begrenset av ${by}`,
    areaLine: (a, per, ac, model) => `areal ${a} m² (${per} m² per person, ${model === "hex" ? "tettpakking" : "rutenett"}) → arealgrense ${ac}`,
    seatLine: (sc, k, d) => `stolgrense ${sc} av ${k} stoler ved ${d} m`,
    maxLine: (m) => `maks ${m} besøkende`,
    inexact: "beste funne plassering (søket ble avbrutt), kan være for lav",
    seatMapLabel: (k, u, d) => `Stolplan i målestokk: ${k} stoler, ${u} kan brukes ved ${d} m avstand.`,
    seatUsable: "stol som kan brukes", seatBlocked: (d) => `stol som ikke kan brukes (nærmere enn ${d} m en brukbar stol)`,
    seatCircle: (d) => `${d} m rundt brukbar stol`,
    noSeats: "Ingen stolplan for dette rommet — grensen følger av arealet og eventuelt maks antall.",
    cleaningTitle: "Rengjøring i dag",
  },
  en: {
    locale: "en-GB",
    title: "Guard dashboard",
    signInTitle: "Sign in as guard",
    signInIntro: "Enter the guard token you were given. It is kept only in this tab and forgotten when the tab is closed.",
    tokenLabel: "Guard token", signIn: "Sign in", signOut: "Sign out", checking: "Checking the token …",
    emptyToken: "Enter the guard token.",
    badToken: (d) => `The token was not accepted: ${d}`,
    role: {
      terminal: "This is a terminal (front desk) token — the dashboard needs a guard token.",
      display: "This is a lobby display token — the dashboard needs a guard token.",
      admin: "This is an admin token — the dashboard needs a guard token.",
      other: (r) => `This token has the role “${r}” — the dashboard needs a guard token.`,
    },
    noStations: "This guard token covers no stations.",
    unreachable: "Could not reach the service. Trying again shortly …",
    expired: "The token is no longer valid — please sign in again.",
    signedOut: "You are signed out.",
    device: (d) => `Device: ${d}`,
    live: "Live", connecting: "Connecting …", lost: "Connection lost — reconnecting …",
    totalsLabel: "Summary",
    stationsN: (n) => `${n} ${n === 1 ? "station" : "stations"}`,
    insideN: (n) => `${n} inside`,
    outsideN: (n) => `${n} ${n === 1 ? "party" : "parties"} outside`,
    fullN: (n) => `${n} full`,
    level: { ok: "OK", near: "NEAR FULL", full: "FULL", over: "OVER CAP" },
    open: "Open", closed: "Closed",
    sign: { enter: "sign: enter", wait_outside: "sign: wait outside", closed: "sign: closed" },
    insideWord: "inside", ofCap: "of", capWord: "cap",
    outsideLabel: "Outside",
    parties: (n) => `${n === 1 ? "party" : "parties"}`,
    people: (n) => `${n} ${n === 1 ? "person" : "people"}`,
    lineHolds: (n) => `queue line holds ${n}`,
    noLine: "no marked queue line",
    longestOutside: (m) => `longest outside: ${m} min`,
    hint: {
      label: "Note",
      pleaseEnter: (list) => `Asked in but not come in: ${list}. Check they have seen the sign.`,
      corrections: (n) => `Corrected: ${n} ${n === 1 ? "person" : "people"} inside without a ticket.`,
      closedBusy: (h, o) => `Closed, but ${h} inside and ${o} parties outside.`,
    },
    alertsLabel: "Alerts",
    alertKind: {
      over_cap: "Over cap", at_cap: "At cap", gathering: "Gathering risk",
      cleaning_due: "Cleaning due", long_inside: "Long inside", long_wait: "Long wait",
    },
    alertSince: (time, m) => `since ${time} (${m} min)`,
    alertAcked: (by, time) => `acknowledged by ${by} at ${time}`,
    alertCleared: (time) => `cleared at ${time}`,
    ack: "Acknowledge", ackLabel: (what, s) => `Acknowledge the alert “${what}”, ${s}`,
    ackDone: (what, at) => `✓ Alert “${what}” acknowledged at ${at}.`,
    recentAlerts: (n) => `Recently cleared alerts (${n})`,
    activeAlertsN: (n) => `${n} active ${n === 1 ? "alert" : "alerts"}`,
    announceAlert: (s, what, detail) => `${s}: ${what}. ${detail}`,
    minutes: (m) => `${m} min`,
    service: "Service", waitIn: "Waiting inside", waitOut: "Waiting outside", ticketsIn: "Tickets inside",
    estWait: "Estimated wait", desks: "Active desks", noEstimate: "no estimate yet",
    short: { waitIn: "Inside", waitOut: "Outside", estWait: "Wait", desks: "Desks" },
    approxMin: (m) => `≈ ${m} min`,
    nextIn: (m) => `first in ≈ ${m} min`, nextUnknown: "no estimate of when the first gets in",
    expectedIn: (m) => `expected in ≈ ${m} min`,
    overridden: "let in past the cap",
    ruleLine: (by, d) => `Cap limited by ${by} · distancing ${d} m`,
    serviceClosed: "closed",
    queueOutside: "Queue outside", pleaseEnter: "Asked in", none: "none", insideTickets: "Inside",
    showAll: (n) => `Show the whole queue (${n})`, showFewer: "Show only the first",
    more: (n) => `+${n} more`,
    correctGroup: "Correct", correctGroupLabel: "Correct the headcount",
    plus: "+1", minus: "−1", cleaned: "Cleaned…", override: "Let in…",
    overrideLabel: (s) => `Let in past the cap …, ${s}`,
    overrideNobody: (s) => `Let in past the cap, ${s} — nobody is waiting outside`,
    plusLabel: (s) => `+1 person inside without a ticket, ${s}`,
    minusLabel: (s) => `−1 person without a ticket, ${s}`,
    cleanedLabel: (s) => `Cleaned … — record cleaning, ${s}`,
    moreSummary: "Trend and room",
    waiting: "Waiting for data …",
    stale: (time) => `Not updated${time ? ` since ${time}` : ""} — showing the last known figures.`,
    legend: "✓ OK (below 80 %) · ▲ Near full (80 % or more) · ■ Full · ✖ Over cap · P001→2 = at desk 2 · ➜ = asked to come in · ⚑ = let in past the cap · ×2 = two people on the ticket · ◆ = has an appointment · ≈6′ = expected in about 6 min",
    correctTitle: "Correct the headcount", correctChange: "Change",
    plusOne: "+1 person without a ticket (e.g. a companion)", minusOne: "−1 (someone without a ticket left)",
    reasonLabel: "Reason (required)", reasonHint: "E.g. “counted at the door”, “companion without a ticket”.",
    reasonHints: ["counted at the door", "companion without a ticket", "interpreter", "someone without a ticket left"],
    reasonMissing: "Give a reason — it is logged with the correction.",
    correctContext: (name, h, c, k) => `${name}: ${h} inside, cap ${c}. People without a ticket on record: ${k}.`,
    cancel: "Cancel", record: "Record", sending: "Sending …",
    cleanTitle: "Record cleaning", surfaceLegend: "What was cleaned?", surfaceOther: "Other:",
    surfaceOtherLabel: "Other surface",
    surfaceMissing: "Choose a surface, or type what was cleaned.",
    surfaceName: { "door handles": "door handles", counter: "counter", "ticket machine": "ticket machine", chairs: "chairs" },
    cleanContext: (name, last) => `${name}. ${last}`,
    lastCleaned: (list) => `Last cleaned: ${list}.`,
    neverCleaned: "No cleaning recorded today.",
    netFail: "Could not reach the service. Try again — the request is resent with the same key, so it is never counted twice.",
    inFlight: "The previous attempt is still being processed. Try again in a moment.",
    correctDone: (d, h, at) => `✓ Correction ${d > 0 ? "+1" : "−1"} recorded at ${at}. Now ${h} inside.`,
    overrideTitle: "Let in past the cap",
    overrideContext: (name, h, c, n) => `${name}: ${h} inside, cap ${c}, ${n} ${n === 1 ? "party" : "parties"} outside.`,
    overrideWarn: "The room goes over the cap. The reason is logged and shown in the “Over cap” alert.",
    overrideWho: "Who is let in?",
    overrideHead: (tk) => `First in the queue (now ${tk})`,
    overrideOption: (p, svc, m) => `${p.ticket} — no. ${p.position}, ${svc}, outside ${m} min${p.party_size > 1 ? `, ${p.party_size} people` : ""}`,
    overrideReason: "Reason (required)", overrideOther: "Other:", overrideOtherLabel: "Other reason",
    overrideReasons: { "wheelchair user": "wheelchair user", "urgent travel document": "urgent travel document", "elderly or unwell": "elderly or unwell" },
    overrideMissing: "Choose a reason, or type one — it is logged.",
    overrideNone: "Nobody is waiting outside now, so nobody can be let in.",
    overrideSubmit: "Let in",
    overrideDone: (tk, h, c, at) => `✓ ${tk} let in past the cap at ${at}. Now ${h} inside, cap ${c}.`,
    cleanDone: (s, at) => `✓ Cleaning of ${s} recorded at ${at}.`,
    replayed: " (was already recorded)",
    chartTitle: "Last 2 hours",
    chartHeadcount: "Inside", chartCap: "Cap", chartOutside: "Parties outside", nowWord: "now",
    chartSummary: (h, hm, c, o, om) => `Last 2 hours: inside now ${h} (highest ${hm}), cap ${c}, parties outside now ${o} (highest ${om}).`,
    chartLoading: "Loading history …", chartEmpty: "No events in the last 2 hours yet.",
    chartError: (d) => `Could not load the history: ${d}`,
    roomTitle: "The waiting room",
    roomLoading: "Loading the room plan …", roomError: (d) => `Could not load the room plan: ${d}`,
    limitedBy: { area: "area", seats: "seats", max_visitors: "max visitors" },
    capLine: (cap, by) => `Cap ${cap} — limited by ${by}`,
    areaLine: (a, per, ac, model) => `area ${a} m² (${per} m² per person, ${model === "hex" ? "dense packing" : "grid"}) → area cap ${ac}`,
    seatLine: (sc, k, d) => `seat cap ${sc} of ${k} seats at ${d} m`,
    maxLine: (m) => `max visitors ${m}`,
    inexact: "best placement found (search stopped early), may be too low",
    seatMapLabel: (k, u, d) => `Seat plan to scale: ${k} seats, ${u} usable at ${d} m distance.`,
    seatUsable: "usable seat", seatBlocked: (d) => `unusable seat (closer than ${d} m to a usable one)`,
    seatCircle: (d) => `${d} m around a usable seat`,
    noSeats: "No seat plan for this room — the cap follows from the area and any visitor limit.",
    cleaningTitle: "Cleaning today",
  },
};

const tokenStore = session("guard");
const $ = (id) => document.getElementById(id);
let lang = localStorage.getItem("lang") === "en" ? "en" : "nb";
const t = () => TEXT[lang];

/** Everything about the signed-in session; replaced wholesale on sign-out so late answers from
 * the previous session can recognise they are stale (`session !== current`). */
let current = null;

function newSession(token, me) {
  return {
    token,
    me,
    stations: new Map(),
    districts: new Map(),
    conn: "lost",
    everOpen: false,
    closeLive: null,
    /** Server clock minus this browser's clock, in ms: the demo (and a badly set PC) runs on a
     * different clock, and ages ("asked in 4 min ago") must use the server's. */
    skew: null,
    probing: false,
    sortTimer: null,
    lastSort: 0,
    timers: [],
    dialogStation: null,
  };
}

// ---------------------------------------------------------------- small helpers

function serverNow() {
  return Date.now() + (current?.skew ?? 0);
}

/** Every server timestamp seen is at or before the server's "now" when it arrives, so
 * `stamp − local now` never overstates the skew; the largest one seen is the best estimate. */
function noteServerTime(stamp) {
  if (!current || !Number.isFinite(stamp)) return;
  const observed = stamp - Date.now();
  current.skew = current.skew === null ? observed : Math.max(current.skew, observed);
}

function fmtNumber(n) {
  return new Intl.NumberFormat(t().locale, { maximumFractionDigits: 2 }).format(n);
}

function fmtTime(ms, timezone, seconds = false) {
  try {
    return new Intl.DateTimeFormat(t().locale, {
      hour: "2-digit", minute: "2-digit", ...(seconds ? { second: "2-digit" } : {}), hour12: false, timeZone: timezone || undefined,
    }).format(new Date(ms));
  } catch {
    return new Date(ms).toISOString().slice(11, seconds ? 19 : 16);
  }
}

function minutesSince(stamp) {
  return Math.max(0, Math.floor((serverNow() - Date.parse(stamp)) / 60000));
}

function serviceName(service) {
  return lang === "en" ? service.name_en || service.name : service.name;
}

function surfaceName(surface) {
  return t().surfaceName[surface] || surface;
}

function levelOf(doc) {
  if (!doc) return null;
  if (doc.headcount > doc.cap) return "over";
  if (doc.headcount >= doc.cap) return "full";
  if (doc.headcount >= NEAR * doc.cap) return "near";
  return "ok";
}

const LEVEL_ICON = { ok: "✓", near: "▲", full: "■", over: "✖" };

function hasAlert(doc, kind, state) {
  return (doc.alerts || []).some((a) => a.kind === kind && (state ? a.state === state : a.state !== "cleared"));
}

/** The service decides when a crowd outside is a gathering risk (it counts people, and a
 * station may set its own threshold), so the card follows its alert rather than guessing. */
function gathering(doc) {
  return hasAlert(doc, "gathering");
}

/** Urgency, most urgent first: an over-cap or gathering alert nobody has acknowledged yet >
 * over cap > at cap > a crowd outside > anyone outside > fullest room; then more active
 * alerts, the fuller room, the longer queue, and the name for a stable order. */
function urgencyCompare(a, b) {
  const rank = (st) => {
    const doc = st.doc;
    if (!doc) return 9;
    if (hasAlert(doc, "over_cap", "active")) return 0;
    if (hasAlert(doc, "gathering", "active")) return 1;
    const level = levelOf(doc);
    if (level === "over") return 2;
    if (level === "full") return 3;
    if (gathering(doc)) return 4;
    if (doc.outside.length > 0) return 5;
    return 6;
  };
  // Within a rank, a crowd outside as well makes it worse, then anything else unacknowledged.
  const crowd = (st) => (st.doc && gathering(st.doc) ? 0 : 1);
  const active = (st) => (st.doc ? (st.doc.alerts || []).filter((x) => x.state === "active").length : 0);
  const ratio = (st) => (st.doc ? st.doc.headcount / Math.max(st.doc.cap, 1) : -1);
  const outside = (st) => (st.doc ? st.doc.outside.length : 0);
  return rank(a) - rank(b) || crowd(a) - crowd(b) || active(b) - active(a) || ratio(b) - ratio(a)
    || outside(b) - outside(a) || a.name.localeCompare(b.name, "nb");
}

// ---------------------------------------------------------------- language

function applyLanguage() {
  document.documentElement.lang = lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => {
    const value = t()[el.dataset.i18n];
    if (typeof value === "string") el.textContent = value;
  });
  document.title = `${t().title} — lobbywatch`;
  $("lang").textContent = lang === "nb" ? "English" : "Norsk";
  $("lang").setAttribute("aria-label", lang === "nb" ? "Switch to English" : "Bytt til norsk");
  $("legend").textContent = t().legend;
  $("reason-hints").innerHTML = t().reasonHints.map((h) => `<option value="${esc(h)}"></option>`).join("");
  $("surface-choices").innerHTML = SURFACES.map((s, i) =>
    `<label><input type="radio" name="surface" value="${esc(s)}"${i === 0 ? " checked" : ""}> ${esc(surfaceName(s))}</label>`).join("");
  // No preset is pre-selected: the reason is what the log and the over-cap alert will say, so
  // the guard must choose it.
  $("override-choices").innerHTML = OVERRIDE_REASONS.map((r) =>
    `<label><input type="radio" name="override-reason" value="${esc(r)}"> ${esc(t().overrideReasons[r] || r)}</label>`).join("");
  if (current) {
    renderHeader();
    for (const st of current.stations.values()) {
      translateCard(st);
      renderCard(st);
    }
  }
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message) {
  $("app").hidden = true;
  $("sign-in-panel").hidden = false;
  $("sign-out").hidden = true;
  $("conn").hidden = true;
  $("totals").hidden = true;
  $("device").hidden = true;
  const error = $("sign-in-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("sign-in").disabled = false;
}

/** Validates a token with /me and, for a guard token, starts the dashboard. A token from this
 * tab's storage that the service cannot check yet (network down) is kept and retried. */
async function signIn(token, fromStorage) {
  const error = $("sign-in-error");
  $("sign-in").disabled = true;
  error.hidden = false;
  error.textContent = t().checking;
  let me;
  try {
    me = await getJson("/api/v1/me", token);
  } catch (e) {
    if (e.status === undefined || e.status >= 500) {
      showSignIn(t().unreachable);
      if (fromStorage) setTimeout(() => { if (!current && tokenStore.get() === token) signIn(token, true); }, 5000);
      return;
    }
    tokenStore.clear();
    showSignIn(e.status === 401 ? t().badToken(e.message) : e.message);
    return;
  }
  if (me.role !== "guard") {
    tokenStore.clear();
    showSignIn(t().role[me.role] || t().role.other(me.role));
    return;
  }
  if (!me.stations || me.stations.length === 0) {
    tokenStore.clear();
    showSignIn(t().noStations);
    return;
  }
  tokenStore.set(token);
  $("token").value = "";
  start(token, me);
}

function signOut(message) {
  if (current) {
    if (current.closeLive) current.closeLive();
    current.timers.forEach((id) => clearInterval(id));
    clearTimeout(current.sortTimer);
  }
  current = null;
  tokenStore.clear();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  $("cards").innerHTML = "";
  showSignIn(message || t().signedOut);
  $("token").focus();
}

// ---------------------------------------------------------------- the signed-in dashboard

function start(token, me) {
  current = newSession(token, me);
  const session = current;
  $("sign-in-panel").hidden = true;
  $("sign-in-error").hidden = true;
  $("app").hidden = false;
  $("sign-out").hidden = false;
  $("conn").hidden = false;
  $("totals").hidden = false;
  $("device").hidden = false;
  $("cards").classList.toggle("few", me.stations.length <= 4);
  $("cards").innerHTML = "";
  for (const s of me.stations) {
    const st = { id: s.id, name: s.name, district: s.district, doc: null, stale: false, staleSince: 0,
      history: null, historyLoading: false, historyError: null, room: null, roomLoading: false, roomError: null,
      result: null, alertsSeen: null, acking: new Set(), roomFor: null, roomAgain: false };
    st.el = buildCard(st, me.stations.length <= 4);
    session.stations.set(s.id, st);
    $("cards").append(st.el);
  }
  renderHeader();
  setConn("lost");
  // District names for the cards; the documents carry only the district id.
  getJson("/api/v1/stations").then((directory) => {
    if (current !== session) return;
    for (const d of directory.districts) session.districts.set(d.id, d.name);
    for (const st of session.stations.values()) translateCard(st);
  }).catch(() => { /* the id is shown instead; nothing a guard needs to act on */ });
  session.closeLive = live(withToken("/api/v1/live", token), onDocument, setConn);
  syncClock(session);
  session.timers.push(setInterval(() => {
    for (const st of session.stations.values()) if (st.doc) renderCard(st);
    // A card held in place while the guard used it falls into order once they stop.
    scheduleSort();
  }, TICK_MS));
  session.timers.push(setInterval(() => {
    for (const st of session.stations.values()) if (st.el.querySelector(".card-more").open) loadHistory(st);
    syncClock(session);
  }, HISTORY_EVERY_MS));
}

/** A document's `as_of` is when its station last changed, which in a quiet station can be
 * long ago, so it only bounds the server's clock from below. A history answer's `to` is the
 * server's "now": one small request keeps ages ("asked in 3 min ago", alert ages) right even
 * when every station is quiet. */
async function syncClock(session) {
  const first = session.stations.keys().next().value;
  if (!first) return;
  try {
    const h = await getJson(`/api/v1/stations/${encodeURIComponent(first)}/history`, session.token);
    if (current === session) noteServerTime(Date.parse(h.to));
  } catch {
    /* the documents' own times are the fallback */
  }
}

function setConn(state) {
  if (!current) return;
  current.conn = state;
  const conn = $("conn");
  conn.dataset.state = state;
  conn.className = `conn ${state}`;
  if (state === "open") {
    if (current.everOpen) {
      // Back after a drop: what happened meanwhile is only in the history.
      for (const st of current.stations.values()) if (st.el.querySelector(".card-more").open) loadHistory(st);
    }
    current.everOpen = true;
    current.probing = false;
    conn.textContent = `● ${t().live}`;
  } else {
    conn.textContent = current.everOpen ? `⚠ ${t().lost}` : `… ${t().connecting}`;
    // The figures were right until the socket dropped, so that is the time to show.
    const lostAt = serverNow();
    for (const st of current.stations.values()) {
      if (st.doc && !st.stale) {
        st.stale = true;
        st.staleSince = lostAt;
        renderCard(st);
      }
    }
    probeToken();
  }
}

/** The socket cannot tell "token revoked" from "network down" (a refused upgrade looks like a
 * drop), so after a drop ask /me once: a 401 means sign in again, anything else keep retrying. */
async function probeToken() {
  const session = current;
  if (!session || session.probing) return;
  session.probing = true;
  try {
    await getJson("/api/v1/me", session.token);
  } catch (e) {
    if (current === session && (e.status === 401 || e.status === 403)) {
      signOut(t().expired);
      return;
    }
  }
  // Ask again on the next drop only after this one has been answered.
  setTimeout(() => { if (current === session) session.probing = false; }, 10000);
}

function onDocument(doc) {
  const session = current;
  if (!session || !doc || typeof doc.station !== "string") return;
  let st = session.stations.get(doc.station);
  if (!st) return; // the socket only sends stations in scope; ignore anything else
  // A document older than the one shown (seq, then as_of) would undo a newer state. After a
  // reconnect (card stale) the first document is taken as it is: the service may have restarted.
  if (st.doc && !st.stale && (doc.seq < st.doc.seq || (doc.seq === st.doc.seq && Date.parse(doc.as_of) < Date.parse(st.doc.as_of)))) {
    st.stale = false;
    renderCard(st);
    return;
  }
  noteServerTime(Date.parse(doc.as_of));
  announceChanges(st, doc);
  st.doc = doc;
  st.stale = false;
  appendLivePoint(st, doc);
  // An admin may change the distancing rule at run time: the seats usable under it (and the
  // cap) change, so a room plan fetched under the old rule is fetched again.
  if ((st.room || st.roomLoading) && st.roomFor !== roomBasisKey(doc)) loadRoom(st, true);
  renderCard(st);
  renderHeader();
  scheduleSort();
}

/** Alerts worth interrupting a screen-reader user for. Cleaning and long-inside alerts come by
 * the handful (one per surface) and are on screen and in the header count anyway. */
const ANNOUNCED = new Set(["over_cap", "gathering", "at_cap", "long_wait"]);

/** Announce (politely) each such alert the service raises, never the ones already open when the
 * dashboard connected: those are on screen, and 17 stations' worth at once would be noise. */
function announceChanges(st, doc) {
  const seen = new Set((doc.alerts || []).map(alertKey));
  const before = st.alertsSeen;
  st.alertsSeen = seen;
  if (!before) return;
  const messages = (doc.alerts || [])
    .filter((a) => a.state === "active" && ANNOUNCED.has(a.kind) && !before.has(alertKey(a)))
    .map((a) => t().announceAlert(st.name, alertTitle(st, a), a.detail));
  if (messages.length) $("announce").textContent = messages.join(" ");
}

// ---------------------------------------------------------------- header

function renderHeader() {
  if (!current) return;
  $("device").textContent = t().device(current.me.device);
  let inside = 0, outside = 0, full = 0, active = 0;
  for (const st of current.stations.values()) {
    if (!st.doc) continue;
    inside += st.doc.headcount;
    outside += st.doc.outside.length;
    const level = levelOf(st.doc);
    if (level === "full" || level === "over") full += 1;
    active += (st.doc.alerts || []).filter((a) => a.state === "active").length;
  }
  const totals = $("totals");
  totals.setAttribute("aria-label", t().totalsLabel);
  totals.innerHTML = [
    `<li>${esc(t().stationsN(current.stations.size))}</li>`,
    `<li>${esc(t().insideN(inside))}</li>`,
    `<li>${esc(t().outsideN(outside))}</li>`,
    `<li class="${full ? "has-full" : ""}">${full ? "■ " : ""}${esc(t().fullN(full))}</li>`,
    `<li class="${active ? "has-full" : ""}">${active ? "⚠ " : ""}${esc(t().activeAlertsN(active))}</li>`,
  ].join("");
  if (current.conn === "open") $("conn").textContent = `● ${t().live}`;
  else $("conn").textContent = current.everOpen ? `⚠ ${t().lost}` : `… ${t().connecting}`;
}

// ---------------------------------------------------------------- cards

function buildCard(st, detailsOpen) {
  const el = document.createElement("article");
  el.className = "station-card loading";
  el.dataset.station = st.id;
  const base = `card-${st.id}`;
  el.setAttribute("aria-labelledby", `${base}-name`);
  // The live parts (.card-live, .card-table, .hints, .queue-box, .asked-box) are re-rendered on
  // every document and hold nothing focusable. The alert list is updated in place, keyed by alert,
  // so an Acknowledge button keeps focus across documents; the action buttons and <details> are
  // built once, so focus and open state survive.
  el.innerHTML = `
    <header class="card-head">
      <h2 class="card-name" id="${esc(base)}-name">${esc(st.name)}</h2>
      <p class="card-sub"><span class="card-district"></span> <span class="card-open"></span></p>
    </header>
    <p class="card-stale" hidden></p>
    <div class="card-live"><p class="note">${esc(t().waiting)}</p></div>
    <section class="alerts-box" aria-labelledby="${esc(base)}-alerts">
      <h3 class="visually-hidden" id="${esc(base)}-alerts"></h3>
      <ul class="alerts open-alerts"></ul>
      <ul class="hints"></ul>
      <details class="alerts-recent" hidden>
        <summary></summary>
        <ul class="alerts recent-alerts"></ul>
      </details>
    </section>
    <div class="card-table"></div>
    <div class="queue-box" id="${esc(base)}-queue"></div>
    <button type="button" class="queue-toggle" aria-expanded="false" aria-controls="${esc(base)}-queue" hidden></button>
    <div class="asked-box"></div>
    <div class="card-actions" role="group">
      <span class="act-label" id="${esc(base)}-act"></span>
      <button type="button" data-action="correct-plus">+1</button>
      <button type="button" data-action="correct-minus">−1</button>
      <button type="button" data-action="override" disabled></button>
      <button type="button" data-action="cleaned"></button>
    </div>
    <p class="card-result" role="status" aria-live="polite"></p>
    <details class="card-more">
      <summary></summary>
      <div class="more-body">
        <section class="chart-box"></section>
        <section class="room-box"></section>
        <section class="cleaning-box"></section>
      </div>
    </details>`;
  const details = el.querySelector(".card-more");
  details.addEventListener("toggle", () => {
    if (details.open) {
      loadHistory(st);
      loadRoom(st);
      renderDetails(st);
    }
  });
  el.querySelector(".queue-toggle").addEventListener("click", () => {
    st.queueExpanded = !st.queueExpanded;
    renderCard(st);
  });
  if (detailsOpen) details.open = true;
  translateCard(st, el);
  return el;
}

/** The parts of a card that change only with the language (or the district names). */
function translateCard(st, el = st.el) {
  const districtName = current?.districts.get(st.district) || st.district;
  el.querySelector(".card-district").textContent = districtName;
  const group = el.querySelector(".card-actions");
  const label = group.querySelector(".act-label");
  label.textContent = `${t().correctGroup}:`;
  group.setAttribute("aria-label", t().correctGroupLabel);
  // Visible text stays in the accessible name ("+1"); the station name tells 17 cards apart.
  group.querySelector('[data-action="correct-plus"]').setAttribute("aria-label", t().plusLabel(st.name));
  group.querySelector('[data-action="correct-minus"]').setAttribute("aria-label", t().minusLabel(st.name));
  const override = group.querySelector('[data-action="override"]');
  override.textContent = t().override;
  const cleaned = group.querySelector('[data-action="cleaned"]');
  cleaned.textContent = t().cleaned;
  cleaned.setAttribute("aria-label", t().cleanedLabel(st.name));
  el.querySelector(".card-more > summary").textContent = t().moreSummary;
  el.querySelector(".alerts-box > h3").textContent = t().alertsLabel;
}

function renderCard(st) {
  const el = st.el;
  const doc = st.doc;
  const stale = el.querySelector(".card-stale");
  el.classList.toggle("stale", st.stale);
  stale.hidden = !st.stale;
  if (st.stale) {
    stale.textContent = `⚠ ${t().stale(st.staleSince ? fmtTime(st.staleSince, doc?.timezone) : "")}`;
  }
  if (st.result) renderResult(st);
  if (!doc) return;
  el.classList.remove("loading");
  const level = levelOf(doc);
  el.dataset.level = level;
  const open = el.querySelector(".card-open");
  open.className = `card-open ${doc.open ? "is-open" : "is-closed"}`;
  open.textContent = `${doc.open ? "●" : "○"} ${doc.open ? t().open : t().closed} · ${t().sign[doc.sign] || doc.sign}`;
  el.querySelector(".card-live").innerHTML = liveHtml(st, doc, level);
  renderAlerts(st);
  el.querySelector(".hints").innerHTML = hintsHtml(doc);
  el.querySelector(".card-table").innerHTML = tableHtml(doc);
  el.querySelector(".queue-box").innerHTML = queueHtml(st, doc);
  el.querySelector(".asked-box").innerHTML = askedHtml(doc);
  const toggle = el.querySelector(".queue-toggle");
  toggle.hidden = doc.outside.length <= QUEUE_SHOWN;
  toggle.setAttribute("aria-expanded", String(Boolean(st.queueExpanded)));
  toggle.textContent = st.queueExpanded ? t().showFewer : t().showAll(doc.outside.length);
  // Letting someone in past the cap needs someone outside. If the button had focus when the
  // queue emptied, focus moves to the next action rather than being lost with the disabled one.
  const override = el.querySelector('[data-action="override"]');
  const nobody = doc.outside.length === 0;
  if (nobody && document.activeElement === override) el.querySelector('[data-action="cleaned"]').focus();
  override.disabled = nobody;
  override.setAttribute("aria-label", nobody ? t().overrideNobody(st.name) : t().overrideLabel(st.name));
  if (el.querySelector(".card-more").open) renderDetails(st);
}

// ---------------------------------------------------------------- alerts

/** Alerts raised by one event share its seq as their id, so the kind and subject are needed
 * too to tell two apart. */
function alertKey(a) {
  return `${a.id}|${a.kind}|${a.surface ?? a.ticket ?? a.service ?? ""}`;
}

const ALERT_ICON = { over_cap: "✖", at_cap: "■", gathering: "⚠", cleaning_due: "✧", long_inside: "◷", long_wait: "⌛" };
const ALERT_SEVERITY = { over_cap: "stop", gathering: "stop", at_cap: "warn", long_wait: "warn", cleaning_due: "info", long_inside: "info" };

/** "Cleaning due: door handles", "Long wait: Passport" — the kind in the page's language and its
 * subject, which the detail (English, from the service) also names. */
function alertTitle(st, a) {
  const kind = t().alertKind[a.kind] || a.kind;
  let subject = "";
  if (a.surface) subject = surfaceName(a.surface);
  else if (a.ticket) subject = a.ticket;
  else if (a.service) {
    const svc = (st.doc?.services || []).find((s) => s.id === a.service);
    subject = svc ? serviceName(svc) : a.service;
  }
  return subject ? `${kind}: ${subject}` : kind;
}

/** How many lines of the service's detail a card shows (hover or a screen reader gets it all):
 * the over-cap detail says why the room is over, so it is never cut. "sr": not drawn at all —
 * at cap repeats the card's badge and numbers, and a busy station has a cleaning alert per
 * surface whose title already says what to clean; drawn, they would push the queue off screen. */
const DETAIL_LINES = { over_cap: 0, gathering: 2, long_wait: 2, long_inside: 1, at_cap: "sr", cleaning_due: "sr" };
/** Within a card, the alerts a guard must act on first come first. */
const ALERT_ORDER = { over_cap: 0, gathering: 1, at_cap: 2, long_wait: 3, long_inside: 4, cleaning_due: 5 };

function alertBodyHtml(st, a) {
  const tx = t();
  const tz = st.doc?.timezone;
  const when = a.state === "cleared"
    ? `${fmtTime(Date.parse(a.since), tz)}–${fmtTime(Date.parse(a.cleared_at), tz)}`
    : tx.alertSince(fmtTime(Date.parse(a.since), tz), minutesSince(a.since));
  const acked = a.acknowledged_by
    ? `<span class="alert-acked"><span aria-hidden="true">✓</span> ${esc(tx.alertAcked(a.acknowledged_by, a.acknowledged_at ? fmtTime(Date.parse(a.acknowledged_at), tz) : "?"))}</span>`
    : "";
  const lines = a.state === "cleared" ? 1 : DETAIL_LINES[a.kind] ?? 2;
  const detailClass = lines === "sr" ? " visually-hidden" : lines ? ` clamp-${lines}` : "";
  // The detail is the service's own text, in English: marked so a screen reader reads it so.
  return `<span class="icon" aria-hidden="true">${ALERT_ICON[a.kind] || "!"}</span>
    <span class="alert-text"><span class="alert-head"><strong class="alert-title">${esc(alertTitle(st, a))}</strong> <span class="alert-meta">· ${esc(when)}</span></span>
      <span class="alert-detail${detailClass}" lang="en">${esc(a.detail)}</span>${acked}</span>`;
}

/** Updates the open alerts in place (one <li> per alert, keyed), so a focused Acknowledge
 * button survives the document that follows; the cleared ones go in a collapsed list. */
function renderAlerts(st) {
  const doc = st.doc;
  const list = st.el.querySelector(".open-alerts");
  const alerts = doc.alerts || [];
  const open = alerts.filter((a) => a.state !== "cleared")
    .sort((x, y) => (ALERT_ORDER[x.kind] ?? 9) - (ALERT_ORDER[y.kind] ?? 9) || Date.parse(x.since) - Date.parse(y.since));
  const cleared = alerts.filter((a) => a.state === "cleared");
  const existing = new Map([...list.children].map((li) => [li.dataset.key, li]));
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const wanted = [];
  for (const a of open) {
    const key = alertKey(a);
    let li = existing.get(key);
    if (!li) {
      li = document.createElement("li");
      li.dataset.key = key;
      // Focus lands here when its Acknowledge button goes away under the guard's hand.
      li.tabIndex = -1;
      li.innerHTML = `<div class="alert-body"></div>`;
    }
    existing.delete(key);
    li.className = `alert ${ALERT_SEVERITY[a.kind] || "warn"} is-${a.state}`;
    li.dataset.alert = String(a.id);
    li.dataset.kind = a.kind;
    li.dataset.state = a.state;
    const body = alertBodyHtml(st, a);
    li.title = a.detail;
    const bodyEl = li.querySelector(".alert-body");
    if (bodyEl.innerHTML !== body) bodyEl.innerHTML = body;
    let button = li.querySelector('button[data-action="acknowledge"]');
    if (a.state === "active") {
      if (!button) {
        button = document.createElement("button");
        button.type = "button";
        button.dataset.action = "acknowledge";
        li.append(button);
      }
      button.textContent = t().ack;
      button.setAttribute("aria-label", t().ackLabel(alertTitle(st, a), st.name));
      button.setAttribute("aria-disabled", String(Boolean(st.acking?.has(key))));
    } else if (button) {
      if (document.activeElement === button) li.focus();
      button.remove();
    }
    wanted.push(li);
  }
  for (const li of existing.values()) {
    // A focused alert that cleared: keep focus in the card's alert area rather than on <body>.
    if (li.contains(document.activeElement)) {
      const box = st.el.querySelector(".alerts-box");
      box.tabIndex = -1;
      box.focus();
    }
    li.remove();
  }
  // Reorder only when the order really changed: moving a node takes focus out of it.
  if (wanted.some((li, i) => list.children[i] !== li)) {
    list.append(...wanted);
    if (focused && document.contains(focused) && document.activeElement !== focused) focused.focus();
  }
  list.hidden = open.length === 0;

  const recent = st.el.querySelector(".alerts-recent");
  recent.hidden = cleared.length === 0;
  recent.querySelector("summary").textContent = t().recentAlerts(cleared.length);
  const recentHtml = cleared.map((a) =>
    `<li class="alert is-cleared" title="${esc(a.detail)}" data-alert="${esc(a.id)}" data-kind="${esc(a.kind)}" data-state="cleared"><div class="alert-body">${alertBodyHtml(st, a)}</div></li>`).join("");
  const recentList = recent.querySelector(".recent-alerts");
  if (recentList.innerHTML !== recentHtml) recentList.innerHTML = recentHtml;
}

/** What this screen notices that the service does not raise as an alert; drawn apart (dotted,
 * "Note") so nobody looks for an Acknowledge button on them. */
function hintsHtml(doc) {
  const tx = t();
  const hints = [];
  const enteredAt = new Map();
  for (const list of Object.values(doc.inside || {})) for (const p of list) enteredAt.set(p.ticket, p.entered_at);
  const slow = doc.please_enter
    .map((ticket) => ({ ticket, since: enteredAt.get(ticket) }))
    .filter((p) => p.since && serverNow() - Date.parse(p.since) >= PLEASE_ENTER_LONG_MS);
  if (slow.length) {
    const named = slow.slice(0, SLOW_NAMED).map((p) => `${p.ticket} (${tx.minutes(minutesSince(p.since))})`);
    if (slow.length > SLOW_NAMED) named.push(tx.more(slow.length - SLOW_NAMED));
    hints.push(["➜", tx.hint.pleaseEnter(named.join(", "))]);
  }
  if (doc.corrections > 0) hints.push(["✎", tx.hint.corrections(doc.corrections)]);
  if (!doc.open && (doc.headcount > 0 || doc.outside.length > 0)) {
    hints.push(["○", tx.hint.closedBusy(doc.headcount, doc.outside.length)]);
  }
  return hints.map(([icon, text]) =>
    `<li class="hint"><span class="icon" aria-hidden="true">${icon}</span> <span class="hint-label">${esc(tx.hint.label)}:</span> ${esc(text)}</li>`).join("");
}

// ---------------------------------------------------------------- card parts

/** One ticket as a chip: ticket number, then party size, desk, appointment and expected entry as
 * small marks. */
function chip(p, where, asked) {
  const tx = t();
  const isAsked = where === "in" && asked.has(p.ticket);
  const over = where === "in" && p.overridden;
  const eta = where === "out" ? p.expected_enter_min : undefined;
  let after = "";
  if (p.party_size > 1) after += `<span class="mark-size">×${p.party_size}</span>`;
  if (where === "in" && p.desk) after += `<span class="mark-desk">→${esc(p.desk)}</span>`;
  if (p.appointment) after += `<span class="mark-appt" aria-hidden="true">◆</span>`;
  if (eta != null) after += `<span class="mark-eta" aria-hidden="true">≈${eta}′</span>`;
  const title = [
    p.ticket,
    p.party_size > 1 ? tx.people(p.party_size) : "",
    where === "in" && p.desk ? `→ ${p.desk}` : "",
    isAsked ? tx.pleaseEnter : "",
    over ? tx.overridden : "",
    where === "out" ? `#${p.position}, ${tx.minutes(minutesSince(p.since))}` : "",
    where === "out" ? (eta != null ? tx.expectedIn(eta) : tx.noEstimate) : "",
    p.appointment || "",
  ].filter(Boolean).join(" · ");
  const cls = ["chip", where === "out" ? "out" : "", where === "in" && p.desk ? "called" : "", isAsked ? "asked" : "", over ? "overridden" : ""].filter(Boolean).join(" ");
  // The override is the one mark a guard must not miss, so it is spoken, not only drawn.
  const lead = (isAsked ? `<span class="mark-asked" aria-hidden="true">➜</span>` : "")
    + (over ? `<span class="mark-override" aria-hidden="true">⚑</span>` : "");
  const spoken = over ? `<span class="visually-hidden"> (${esc(tx.overridden)})</span>` : "";
  return `<li class="${cls}" data-ticket="${esc(p.ticket)}" title="${esc(title)}">${lead}<span class="tk">${esc(p.ticket)}</span>${after}${spoken}</li>`;
}

function liveHtml(st, doc, level) {
  const tx = t();
  const pct = doc.cap > 0 ? Math.round((doc.headcount / doc.cap) * 100) : 100;
  const fill = Math.min(100, pct);
  const people = doc.outside.reduce((n, p) => n + p.party_size, 0);

  const outsideBits = [];
  if (people !== doc.outside.length) outsideBits.push(tx.people(people));
  outsideBits.push(doc.queue_line_places != null ? tx.lineHolds(doc.queue_line_places) : tx.noLine);
  if (doc.outside.length) {
    outsideBits.push(tx.longestOutside(minutesSince(doc.outside[0].since)));
    const eta = doc.outside[0].expected_enter_min;
    outsideBits.push(eta != null ? tx.nextIn(eta) : tx.nextUnknown);
  }
  const basis = doc.cap_basis;
  const rule = basis
    ? `<p class="rule-line">${esc(tx.ruleLine(tx.limitedBy[basis.limited_by] || basis.limited_by, fmtNumber(basis.distancing_m)))}</p>`
    : "";

  return `
    <div class="gauge-row">
      <p class="level-badge level-${level}"><span aria-hidden="true">${LEVEL_ICON[level]}</span> ${esc(tx.level[level])}</p>
      <p class="count"><span class="visually-hidden">${esc(tx.insideWord)}: </span><span data-field="headcount">${doc.headcount}</span><span class="of" aria-hidden="true"> / </span><span class="visually-hidden"> ${esc(tx.ofCap)} </span><span data-field="cap">${doc.cap}</span> <span class="pct">${pct} %</span></p>
    </div>
    <div class="gauge" aria-hidden="true"><div class="gauge-fill" style="width:${fill}%"></div><div class="gauge-near"></div></div>
    ${rule}
    <p class="outside-line${doc.outside.length ? " has-queue" : ""}${gathering(doc) ? " gathering" : ""}">
      <span class="lbl">${esc(tx.outsideLabel)}:</span> <strong data-field="outside">${doc.outside.length}</strong> ${esc(tx.parties(doc.outside.length))}
      <span class="sub">· ${outsideBits.map(esc).join(" · ")}</span>
    </p>`;
}

function tableHtml(doc) {
  const tx = t();
  const services = doc.services || [];
  const order = services.map((s) => s.id);
  for (const id of Object.keys(doc.inside || {})) if (!order.includes(id)) order.push(id);
  const asked = new Set(doc.please_enter);
  const inside = order.flatMap((id) => (doc.inside && doc.inside[id]) || []);
  const wait = (s) => (s.estimated_wait_min != null
    ? esc(tx.approxMin(s.estimated_wait_min))
    : `<span aria-hidden="true" title="${esc(tx.noEstimate)}">–</span><span class="visually-hidden">${esc(tx.noEstimate)}</span>`);
  const rows = services.map((s) => `<tr class="${s.open ? "" : "svc-closed"}">
      <th scope="row">${esc(serviceName(s))}${s.open ? "" : ` <small>(${esc(tx.serviceClosed)})</small>`}</th>
      <td class="num">${s.waiting_inside}</td><td class="num">${s.waiting_outside}</td>
      <td class="num wait">${wait(s)}</td><td class="num">${s.desks_active ?? "–"}</td></tr>`).join("");
  return `
    <table class="services">
      <thead><tr><th scope="col">${esc(tx.service)}</th>${[["num", "waitIn"], ["num", "waitOut"], ["num wait", "estWait"], ["num", "desks"]]
        .map(([cls, k]) => `<th scope="col" class="${cls}" title="${esc(tx[k])}"><span aria-hidden="true">${esc(tx.short[k])}</span><span class="visually-hidden">${esc(tx[k])}</span></th>`).join("")}</tr></thead>
      <tbody>${rows}</tbody>
    </table>
    <div class="ticket-line"><span class="lbl">${esc(tx.insideTickets)}:</span>
      ${inside.length ? `<ul class="chips" aria-label="${esc(tx.ticketsIn)}">${inside.map((p) => chip(p, "in", asked)).join("")}</ul>` : `<span class="none">${esc(tx.none)}</span>`}
    </div>`;
}

function queueHtml(st, doc) {
  const tx = t();
  if (!doc.outside.length) {
    return `<div class="ticket-line"><span class="lbl">${esc(tx.queueOutside)}:</span> <span class="none">${esc(tx.none)}</span></div>`;
  }
  const hiddenCount = st.queueExpanded ? 0 : Math.max(0, doc.outside.length - QUEUE_SHOWN);
  // Every ticket stays in the document (searchable, and the test contract names them all); the
  // tail of a long queue is only hidden until the guard asks for it.
  const chips = doc.outside.map((p, i) => {
    const html = chip(p, "out", new Set());
    return !st.queueExpanded && i >= QUEUE_SHOWN ? html.replace("<li ", "<li hidden ") : html;
  }).join("");
  return `<div class="ticket-line"><span class="lbl">${esc(tx.queueOutside)}:</span>
    <ol class="chips" aria-label="${esc(tx.queueOutside)}">${chips}</ol>${hiddenCount ? ` <span class="more-count">${esc(tx.more(hiddenCount))}</span>` : ""}</div>`;
}

function askedHtml(doc) {
  const tx = t();
  return `<p class="asked-line"><span class="lbl"><span aria-hidden="true">➜</span> ${esc(tx.pleaseEnter)}:</span> ${doc.please_enter.length
    ? doc.please_enter.map((tk) => `<strong>${esc(tk)}</strong>`).join(", ")
    : `<span class="none">${esc(tx.none)}</span>`}</p>`;
}

// ---------------------------------------------------------------- sorting

function scheduleSort() {
  const session = current;
  if (!session || session.sortTimer) return;
  const wait = Math.max(FIRST_SORT_DELAY_MS, session.lastSort + SORT_EVERY_MS - Date.now());
  session.sortTimer = setTimeout(() => {
    session.sortTimer = null;
    if (current !== session) return;
    session.lastSort = Date.now();
    resort();
  }, wait);
}

let lastInput = 0;
for (const type of ["pointermove", "pointerdown", "keydown", "focusin", "wheel"]) {
  window.addEventListener(type, () => { lastInput = Date.now(); }, { passive: true, capture: true });
}

/** A card the guard is using stays where it is: its dialog open, or — while the guard is active —
 * focus inside it or the pointer on it. The other cards are sorted around it. */
function isPinned(el) {
  if (current && current.dialogStation === el.dataset.station) return true;
  if (Date.now() - lastInput > INTERACTING_MS) return false;
  const active = document.activeElement;
  return (active && active !== document.body && el.contains(active)) || el.matches(":hover");
}

function resort() {
  const container = $("cards");
  const now = [...container.children];
  const pinned = new Set(now.filter(isPinned));
  const ranked = [...current.stations.values()].filter((st) => !pinned.has(st.el)).sort(urgencyCompare).map((st) => st.el);
  const desired = now.map((el) => (pinned.has(el) ? el : null));
  let k = 0;
  for (let i = 0; i < desired.length; i++) if (!desired[i]) desired[i] = ranked[k++];
  if (desired.every((el, i) => el === now[i])) return;

  const animate = !matchMedia("(prefers-reduced-motion: reduce)").matches;
  const before = animate ? new Map(now.map((el) => [el, el.getBoundingClientRect()])) : null;
  // Move only unpinned cards: each is placed just before the next pinned card (or at the end),
  // so a pinned card keeps its index, its grid cell and its focus.
  let segment = [];
  for (const el of desired) {
    if (pinned.has(el)) {
      if (segment.length) el.before(...segment);
      segment = [];
    } else {
      segment.push(el);
    }
  }
  if (segment.length) container.append(...segment);
  if (!animate) return;
  for (const el of desired) {
    const a = before.get(el);
    const b = el.getBoundingClientRect();
    const dx = a.left - b.left, dy = a.top - b.top;
    if (dx || dy) el.animate([{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "none" }], { duration: 350, easing: "ease-out" });
  }
}

// ---------------------------------------------------------------- details: history chart

async function loadHistory(st) {
  const session = current;
  if (!session || st.historyLoading) return;
  st.historyLoading = true;
  try {
    const h = await getJson(`/api/v1/stations/${encodeURIComponent(st.id)}/history`, session.token);
    if (current !== session) return;
    noteServerTime(Date.parse(h.to));
    st.history = h.points.map((p) => ({ t: Date.parse(p.at), headcount: p.headcount, cap: p.cap, outside: p.outside }));
    st.historyError = null;
    if (st.doc) appendLivePoint(st, st.doc);
  } catch (e) {
    if (current !== session) return;
    if (e.status === 401) { signOut(t().expired); return; }
    st.historyError = e.message;
  } finally {
    st.historyLoading = false;
  }
  renderDetails(st);
}

/** Live documents extend the fetched history between the 60-second refreshes. */
function appendLivePoint(st, doc) {
  if (!st.history) return;
  const point = { t: Date.parse(doc.as_of), headcount: doc.headcount, cap: doc.cap, outside: doc.outside.length };
  const last = st.history[st.history.length - 1];
  if (last) {
    if (point.t < last.t) return;
    if (last.headcount === point.headcount && last.cap === point.cap && last.outside === point.outside) return;
  }
  st.history.push(point);
  // Keep one point at or before the window's start, as the service does, so the lines start at the left edge.
  const start = serverNow() - WINDOW_MS;
  while (st.history.length > 1 && st.history[1].t <= start) st.history.shift();
}

function chartHtml(st) {
  const tx = t();
  if (st.historyError && !st.history) return `<p class="error">${esc(tx.chartError(st.historyError))}</p>`;
  if (!st.history) return `<p class="note">${esc(tx.chartLoading)}</p>`;
  const points = st.history;
  const tz = st.doc?.timezone;
  // Drawn at the box's real width (redrawn on resize) so labels keep their size on any screen.
  const boxWidth = st.el.querySelector(".chart-box").clientWidth;
  const W = Math.max(260, Math.min(900, Math.round(boxWidth) || 340)), H = 150, L = 30, R = 22, T = 10, B = 22;
  const to = serverNow(), from = to - WINDOW_MS;
  const x = (ms) => L + ((Math.min(Math.max(ms, from), to) - from) / (to - from)) * (W - L - R);
  let top = 1;
  for (const p of points) top = Math.max(top, p.cap, p.headcount, p.outside);
  // A round step giving at most 5 intervals; the top of the axis is a multiple of it, so every
  // labelled line is a round number and labels never collide.
  const step = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000].find((s) => top / s <= 5) || Math.ceil(top / 5);
  const yMax = Math.ceil((top + 0.01) / step) * step;
  const y = (v) => T + (1 - v / yMax) * (H - T - B);

  const path = (key) => {
    let d = "";
    for (let i = 0; i < points.length; i++) {
      const end = i + 1 < points.length ? points[i + 1].t : to;
      if (end < from) continue;
      const v = y(points[i][key]).toFixed(1);
      d += d ? `V${v}` : `M${x(points[i].t).toFixed(1)},${v}`;
      d += `H${x(end).toFixed(1)}`;
    }
    return d;
  };

  const grid = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(`<line class="grid" x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}"/><text class="tick" x="${L - 4}" y="${y(v) + 3.5}" text-anchor="end">${v}</text>`);
  }
  // Half-hour marks; aligned in UTC, which is also the local half hour for whole- and
  // half-hour UTC offsets (all of Norway).
  const half = 30 * 60 * 1000;
  for (let m = Math.ceil(from / half) * half; m <= to; m += half) {
    grid.push(`<line class="grid" x1="${x(m)}" x2="${x(m)}" y1="${T}" y2="${H - B}"/><text class="tick" x="${x(m)}" y="${H - 6}" text-anchor="middle">${esc(fmtTime(m, tz))}</text>`);
  }
  const now = points.length ? points[points.length - 1] : null;
  const maxOf = (k) => points.reduce((n, p) => (p.t >= from || p === points[0] ? Math.max(n, p[k]) : n), 0);
  const summary = now
    ? tx.chartSummary(now.headcount, maxOf("headcount"), now.cap, now.outside, maxOf("outside"))
    : tx.chartEmpty;
  const swatch = (cls) => `<svg class="swatch" width="26" height="10" aria-hidden="true"><line class="${cls}" x1="1" x2="25" y1="5" y2="5"/></svg>`;
  // Markers at the right edge: the current values stay visible even when the history is only
  // minutes old and its lines are a few pixels long.
  const ends = now
    ? [["s-outside", now.outside], ["s-headcount", now.headcount], ["s-cap", now.cap]]
      .map(([cls, v]) => `<circle class="end ${cls}" cx="${x(to)}" cy="${y(v)}" r="3.5"/>`).join("")
    : "";
  const nowText = (v) => (now ? ` (${tx.nowWord} ${v})` : "");
  return `
    <h3>${esc(tx.chartTitle)}</h3>
    ${points.length ? "" : `<p class="note">${esc(tx.chartEmpty)}</p>`}
    <svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(summary)}">
      ${grid.join("")}
      <line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>
      ${/* cap last: dashed on top, so it stays visible where the headcount runs along it */ ""}
      ${points.length ? `<path class="s-outside" d="${path("outside")}"/><path class="s-headcount" d="${path("headcount")}"/><path class="s-cap" d="${path("cap")}"/>${ends}` : ""}
    </svg>
    <ul class="legend">
      <li>${swatch("s-headcount")} ${esc(tx.chartHeadcount + nowText(now?.headcount))}</li>
      <li>${swatch("s-cap")} ${esc(tx.chartCap + nowText(now?.cap))}</li>
      <li>${swatch("s-outside")} ${esc(tx.chartOutside + nowText(now?.outside))}</li>
    </ul>
    ${st.historyError ? `<p class="error">${esc(tx.chartError(st.historyError))}</p>` : ""}`;
}

// ---------------------------------------------------------------- details: room plan

/** What the room plan depends on that a live document shows: the rule and the cap. */
function roomBasisKey(doc) {
  return doc ? `${doc.cap_basis?.distancing_m}|${doc.cap}` : null;
}

async function loadRoom(st, again = false) {
  const session = current;
  if (!session || (st.room && !again)) return;
  if (st.roomLoading) {
    // A rule change while the plan is on its way: ask once more when this answer is in.
    st.roomAgain = true;
    return;
  }
  st.roomLoading = true;
  st.roomAgain = false;
  st.roomFor = roomBasisKey(st.doc);
  try {
    st.room = await getJson(`/api/v1/stations/${encodeURIComponent(st.id)}/room`);
    st.roomError = null;
  } catch (e) {
    st.roomError = e.message;
  } finally {
    st.roomLoading = false;
  }
  if (current !== session) return;
  if (st.roomAgain) {
    loadRoom(st, true);
    return;
  }
  renderDetails(st, true);
}

function capCaption(room) {
  const tx = t();
  const d = fmtNumber(room.distancing_m);
  const per = fmtNumber(room.area_model === "hex" ? (Math.sqrt(3) / 2) * room.distancing_m ** 2 : room.distancing_m ** 2);
  const parts = [tx.capLine(room.cap, tx.limitedBy[room.limited_by] || room.limited_by)];
  parts.push(tx.areaLine(fmtNumber(room.area_m2), per, room.area_cap, room.area_model));
  if (room.seats && room.seat_cap != null) parts.push(tx.seatLine(room.seat_cap, room.seats.length, d));
  if (room.max_visitors != null) parts.push(tx.maxLine(room.max_visitors));
  let text = parts.join("; ");
  if (room.exact === false) text += ` (${tx.inexact})`;
  return text;
}

function roomHtml(st) {
  const tx = t();
  if (st.roomError && !st.room) return `<p class="error">${esc(tx.roomError(st.roomError))}</p>`;
  if (!st.room) return `<p class="note">${esc(tx.roomLoading)}</p>`;
  const room = st.room;
  const caption = capCaption(room);
  if (!room.seats || room.seats.length === 0) {
    return `<h3>${esc(tx.roomTitle)}</h3><p class="cap-caption">${esc(caption)}.</p><p class="note">${esc(tx.noSeats)}</p>`;
  }
  const d = room.distancing_m;
  const seats = room.seats;
  const usable = new Set(room.usable_seats || []);
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  for (const [sx, sy] of seats) {
    minX = Math.min(minX, sx); maxX = Math.max(maxX, sx); minY = Math.min(minY, sy); maxY = Math.max(maxY, sy);
  }
  // Nearest neighbour distance decides the drawn seat size, so dense rows do not overlap.
  let nearest = Infinity;
  for (let i = 0; i < seats.length && i < 500; i++) {
    for (let j = i + 1; j < seats.length; j++) {
      nearest = Math.min(nearest, Math.hypot(seats[i][0] - seats[j][0], seats[i][1] - seats[j][1]));
    }
  }
  const seatM = Math.min(0.45, Number.isFinite(nearest) ? nearest * 0.75 : 0.45);
  // Pad by the distancing radius so every circle fits; scale metres to pixels uniformly.
  const worldW = maxX - minX + 2 * d, worldH = maxY - minY + 2 * d;
  const s = Math.min(340 / worldW, 220 / worldH);
  const W = worldW * s, barH = 26, H = worldH * s + barH;
  const px = (mx) => (mx - minX + d) * s, py = (my) => (my - minY + d) * s;
  const circles = [], marks = [];
  seats.forEach(([sx, sy], i) => {
    const cx = px(sx), cy = py(sy), half = (seatM * s) / 2;
    if (usable.has(i)) {
      circles.push(`<circle class="reach" cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${(d * s).toFixed(1)}"/>`);
      marks.push(`<rect class="seat usable" x="${(cx - half).toFixed(1)}" y="${(cy - half).toFixed(1)}" width="${(2 * half).toFixed(1)}" height="${(2 * half).toFixed(1)}" rx="1.5"/>`
        + `<text class="tickmark" x="${cx.toFixed(1)}" y="${(cy + half * 0.6).toFixed(1)}" text-anchor="middle" font-size="${Math.max(7, half * 1.7).toFixed(1)}">✓</text>`);
    } else {
      marks.push(`<rect class="seat blocked" x="${(cx - half).toFixed(1)}" y="${(cy - half).toFixed(1)}" width="${(2 * half).toFixed(1)}" height="${(2 * half).toFixed(1)}" rx="1.5"/>`);
    }
  });
  const barY = H - 10;
  const scaleBar = `<g class="scalebar"><line x1="8" x2="${8 + s}" y1="${barY}" y2="${barY}"/><line x1="8" x2="8" y1="${barY - 4}" y2="${barY + 4}"/><line x1="${8 + s}" x2="${8 + s}" y1="${barY - 4}" y2="${barY + 4}"/><text x="${12 + s}" y="${barY + 4}">1 m</text></g>`;
  const dText = fmtNumber(d);
  return `
    <h3>${esc(tx.roomTitle)}</h3>
    <svg class="room" viewBox="0 0 ${W.toFixed(1)} ${H.toFixed(1)}" style="max-width:${Math.ceil(W)}px" role="img" aria-label="${esc(tx.seatMapLabel(seats.length, usable.size, dText))}">
      ${circles.join("")}${marks.join("")}${scaleBar}
    </svg>
    <ul class="legend">
      <li><svg class="swatch" width="14" height="14" aria-hidden="true"><rect class="seat usable" x="1" y="1" width="12" height="12" rx="1.5"/><text class="tickmark" x="7" y="11" text-anchor="middle" font-size="10">✓</text></svg> ${esc(tx.seatUsable)}</li>
      <li><svg class="swatch" width="14" height="14" aria-hidden="true"><rect class="seat blocked" x="1" y="1" width="12" height="12" rx="1.5"/></svg> ${esc(tx.seatBlocked(dText))}</li>
      <li><svg class="swatch" width="14" height="14" aria-hidden="true"><circle class="reach" cx="7" cy="7" r="6"/></svg> ${esc(tx.seatCircle(dText))}</li>
    </ul>
    <p class="cap-caption">${esc(caption)}.</p>`;
}

function cleaningHtml(st) {
  const tx = t();
  const list = [...(st.doc?.cleaning || [])].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const tz = st.doc?.timezone;
  return `<h3>${esc(tx.cleaningTitle)}</h3>${list.length
    ? `<ul class="cleaning">${list.map((c) => `<li>${esc(surfaceName(c.surface))} — ${esc(fmtTime(Date.parse(c.at), tz))} (${esc(tx.minutes(minutesSince(c.at)))})</li>`).join("")}</ul>`
    : `<p class="note">${esc(tx.neverCleaned)}</p>`}`;
}

function renderDetails(st, roomChanged = false) {
  if (!st.el.querySelector(".card-more").open) return;
  st.el.querySelector(".chart-box").innerHTML = chartHtml(st);
  // The room plan only changes with the room document or the language; redrawing it on every
  // live document would be wasted work.
  const roomKey = `${lang}|${st.room ? `${st.room.cap}|${st.room.distancing_m}` : ""}|${st.roomError || ""}|${st.room ? "y" : "n"}`;
  if (roomChanged || st.roomKey !== roomKey) {
    st.roomKey = roomKey;
    st.el.querySelector(".room-box").innerHTML = roomHtml(st);
  }
  st.el.querySelector(".cleaning-box").innerHTML = cleaningHtml(st);
}

// ---------------------------------------------------------------- actions

/** The last attempt per dialog: a retry of the same event at the same station reuses its
 * Idempotency-Key, so an answer lost on the way back is never recorded twice. */
const pending = { correct: null, clean: null, override: null, ack: null };

function keyFor(slot, station, event) {
  const body = JSON.stringify(event);
  const last = pending[slot];
  if (last && last.station === station && last.body === body) return last.key;
  pending[slot] = { station, body, key: newKey() };
  return pending[slot].key;
}

let opener = null;

function openDialog(dialog, station, button) {
  current.dialogStation = station;
  opener = button;
  dialog.showModal();
}

function closeDialog(dialog) {
  if (dialog.open) dialog.close();
}

for (const dialog of [$("correct-dialog"), $("clean-dialog"), $("override-dialog")]) {
  dialog.addEventListener("close", () => {
    if (current) current.dialogStation = null;
    if (opener && document.contains(opener)) opener.focus();
    opener = null;
    scheduleSort();
  });
  dialog.querySelector(".cancel").addEventListener("click", () => closeDialog(dialog));
}

function openCorrection(st, delta, button) {
  const form = $("correct-form");
  form.dataset.station = st.id;
  form.querySelector(`input[name="delta"][value="${delta}"]`).checked = true;
  $("correct-reason").value = "";
  $("correct-error").hidden = true;
  const doc = st.doc;
  $("correct-context").textContent = doc
    ? t().correctContext(st.name, doc.headcount, doc.cap, doc.corrections)
    : st.name;
  form.querySelector('button[type="submit"]').disabled = false;
  form.querySelector('button[type="submit"]').textContent = t().record;
  openDialog($("correct-dialog"), st.id, button);
  $("correct-reason").focus();
}

function openCleaning(st, button) {
  const form = $("clean-form");
  form.dataset.station = st.id;
  $("clean-error").hidden = true;
  $("surface-other").value = "";
  const first = form.querySelector('input[name="surface"]');
  if (first) first.checked = true;
  const cleaning = [...(st.doc?.cleaning || [])].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const last = cleaning.length
    ? t().lastCleaned(cleaning.slice(0, 3).map((c) => `${surfaceName(c.surface)} ${fmtTime(Date.parse(c.at), st.doc.timezone)}`).join(", "))
    : t().neverCleaned;
  $("clean-context").textContent = t().cleanContext(st.name, last);
  form.querySelector('button[type="submit"]').disabled = false;
  form.querySelector('button[type="submit"]').textContent = t().record;
  openDialog($("clean-dialog"), st.id, button);
  first?.focus();
}

function openOverride(st, button) {
  const form = $("override-form");
  const doc = st.doc;
  form.dataset.station = st.id;
  $("override-error").hidden = true;
  $("override-other").value = "";
  for (const radio of form.querySelectorAll('input[name="override-reason"]')) radio.checked = false;
  const outside = doc?.outside || [];
  $("override-context").textContent = doc
    ? t().overrideContext(st.name, doc.headcount, doc.cap, outside.length)
    : st.name;
  // The head of the queue is the default and is sent without a ticket, so the service lets in
  // whoever is first when the request arrives; a named ticket is for a particular party (the
  // wheelchair user at the back of the line).
  const svcName = (id) => {
    const svc = (doc?.services || []).find((s) => s.id === id);
    return svc ? serviceName(svc) : id;
  };
  const select = $("override-ticket");
  select.innerHTML = outside.length
    ? `<option value="">${esc(t().overrideHead(outside[0].ticket))}</option>`
      + outside.map((p) => `<option value="${esc(p.ticket)}">${esc(t().overrideOption(p, svcName(p.service), minutesSince(p.since)))}</option>`).join("")
    : "";
  const submit = form.querySelector('button[type="submit"]');
  submit.textContent = t().overrideSubmit;
  submit.disabled = outside.length === 0;
  if (!outside.length) {
    $("override-error").textContent = t().overrideNone;
    $("override-error").hidden = false;
  }
  openDialog($("override-dialog"), st.id, button);
  select.focus();
}

/** Acknowledging needs no dialog: the alert says what it is about, and a second guard
 * acknowledging the same alert is refused by the service with who did it first. */
async function acknowledge(st, li, button) {
  const session = current;
  const key = li.dataset.key;
  if (st.acking.has(key)) return;
  const id = Number(li.dataset.alert);
  const what = li.querySelector(".alert-title")?.textContent || "";
  const event = { kind: "acknowledge", alert: id };
  st.acking.add(key);
  button.setAttribute("aria-disabled", "true");
  const ikey = keyFor("ack", st.id, event);
  let answer;
  try {
    answer = await postEvent(st.id, session.token, ikey, event);
  } catch {
    answer = null;
  }
  st.acking.delete(key);
  if (current !== session) return;
  if (document.contains(button)) button.setAttribute("aria-disabled", "false");
  if (!answer) {
    st.result = { ok: false, text: t().netFail, at: Date.now() };
    renderResult(st);
    return;
  }
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  if (!inFlight && status < 500) pending.ack = null;
  if (status === 401) { signOut(t().expired); return; }
  if (status >= 200 && status < 300) {
    st.result = { ok: true, text: t().ackDone(what, fmtTime(serverNow(), st.doc?.timezone)) + (replayed ? t().replayed : ""), at: Date.now() };
  } else {
    st.result = { ok: false, text: inFlight ? t().inFlight : `⚠ ${body.detail || body.title || `HTTP ${status}`}`, at: Date.now() };
  }
  renderResult(st);
}

$("cards").addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || !current) return;
  const st = current.stations.get(button.closest(".station-card").dataset.station);
  if (!st) return;
  const action = button.dataset.action;
  if (action === "correct-plus") openCorrection(st, 1, button);
  else if (action === "correct-minus") openCorrection(st, -1, button);
  else if (action === "cleaned") openCleaning(st, button);
  else if (action === "override") openOverride(st, button);
  else if (action === "acknowledge") acknowledge(st, button.closest("[data-alert]"), button);
});

/** Sends one event from a dialog and reports the answer: success closes the dialog and shows the
 * result on the card; a refusal stays in the dialog with the service's own explanation. */
async function submitEvent(slot, form, errorBox, event, describe) {
  const session = current;
  const st = session?.stations.get(form.dataset.station);
  if (!st) return;
  const submit = form.querySelector('button[type="submit"]');
  const label = submit.textContent;
  submit.disabled = true;
  submit.textContent = t().sending;
  errorBox.hidden = true;
  const key = keyFor(slot, st.id, event);
  let answer;
  try {
    answer = await postEvent(st.id, session.token, key, event);
  } catch {
    answer = null;
  }
  if (current !== session) return;
  submit.disabled = false;
  submit.textContent = label;
  if (!answer) {
    errorBox.textContent = t().netFail;
    errorBox.hidden = false;
    return;
  }
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  // Keep the key only where the same request may still be recorded or is worth retrying as is.
  if (!inFlight && status < 500) pending[slot] = null;
  if (status === 401) { signOut(t().expired); return; }
  if (status >= 200 && status < 300) {
    st.result = { ok: true, text: describe(body, replayed), at: Date.now() };
    closeDialog(form.closest("dialog"));
    renderResult(st);
    return;
  }
  errorBox.textContent = inFlight ? t().inFlight : body.detail || body.title || `HTTP ${status}`;
  errorBox.hidden = false;
}

function renderResult(st) {
  const box = st.el.querySelector(".card-result");
  box.className = `card-result ${st.result.ok ? "ok" : "bad"}`;
  box.textContent = st.result.text;
}

$("correct-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const reason = $("correct-reason").value.trim();
  if (!reason) {
    $("correct-error").textContent = t().reasonMissing;
    $("correct-error").hidden = false;
    $("correct-reason").focus();
    return;
  }
  const delta = Number(form.querySelector('input[name="delta"]:checked').value);
  submitEvent("correct", form, $("correct-error"), { kind: "correction", delta, reason }, (body, replayed) => {
    const tz = current.stations.get(form.dataset.station)?.doc?.timezone;
    return t().correctDone(delta, body.headcount, fmtTime(serverNow(), tz)) + (replayed ? t().replayed : "");
  });
});

$("override-other").addEventListener("input", () => {
  if ($("override-other").value.trim()) $("override-other-choice").checked = true;
});

$("override-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const chosen = form.querySelector('input[name="override-reason"]:checked');
  const reason = chosen && chosen.value ? chosen.value : $("override-other").value.trim();
  if (!reason) {
    $("override-error").textContent = t().overrideMissing;
    $("override-error").hidden = false;
    (form.querySelector('input[name="override-reason"]') || $("override-other")).focus();
    return;
  }
  const ticket = $("override-ticket").value;
  const overrideEvent = ticket ? { kind: "override", ticket, reason } : { kind: "override", reason };
  submitEvent("override", form, $("override-error"), overrideEvent, (body, replayed) => {
    const tz = current.stations.get(form.dataset.station)?.doc?.timezone;
    return t().overrideDone(body.ticket || ticket, body.headcount, body.cap, fmtTime(serverNow(), tz)) + (replayed ? t().replayed : "");
  });
});

$("surface-other").addEventListener("input", () => {
  if ($("surface-other").value.trim()) $("surface-other-choice").checked = true;
});

$("clean-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const chosen = form.querySelector('input[name="surface"]:checked');
  const surface = chosen && chosen.value ? chosen.value : $("surface-other").value.trim();
  if (!surface) {
    $("clean-error").textContent = t().surfaceMissing;
    $("clean-error").hidden = false;
    $("surface-other").focus();
    return;
  }
  submitEvent("clean", form, $("clean-error"), { kind: "cleaned", surface }, (body, replayed) => {
    const tz = current.stations.get(form.dataset.station)?.doc?.timezone;
    return t().cleanDone(surfaceName(surface), fmtTime(serverNow(), tz)) + (replayed ? t().replayed : "");
  });
});

// ---------------------------------------------------------------- wiring

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const token = $("token").value.trim();
  if (!token) {
    showSignIn(t().emptyToken);
    $("token").focus();
    return;
  }
  signIn(token, false);
});

$("sign-out").addEventListener("click", () => signOut());

$("lang").addEventListener("click", () => {
  lang = lang === "nb" ? "en" : "nb";
  localStorage.setItem("lang", lang);
  applyLanguage();
});

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (current) for (const st of current.stations.values()) renderDetails(st, true);
  }, 200);
});

applyLanguage();
const stored = tokenStore.get();
if (stored) {
  $("sign-in-panel").hidden = true;
  signIn(stored, true);
} else {
  showSignIn("");
}
