// The lobby display: a wall screen in the waiting room, read from five metres, nothing to click.
// It listens to the station's PUBLIC live socket only — never the full document — so it cannot
// show an appointment reference even by mistake.
//
// The pure helpers (numberNb, numberEn, announcement) are exported so they can be unit-checked;
// the page itself only starts when the display's markup is present, and common.js and format.js
// are imported lazily there, so this module can also be imported outside the page (e.g. by a Node test).

// ---------------------------------------------------------------------------------------------
// Spoken numbers

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

// ---------------------------------------------------------------------------------------------
// The page

const HIGHLIGHT_MS = 10_000;
const SOUND_KEY = "lobbywatch.display.sound";
// A reconnect can deliver several calls made while the screen was offline; reading out a long
// backlog would only confuse people, so at most the newest few are announced.
const MAX_ANNOUNCED_AT_ONCE = 3;
// The display PC's clock may be wrong (or, in the demo, the service runs on a shifted clock);
// when a fresh change shows the service's clock differs by more than this, the screen follows it.
const CLOCK_TOLERANCE_MS = 30_000;
const FIT_SCALES = [1, 0.9, 0.8, 0.7, 0.62, 0.55, 0.48, 0.42];
const PLEASE_ENTER_LAST_STEP = 4; // 0.62 × 8vmin: still readable from the back of the room

const overflows = (panel) => panel.scrollHeight > panel.clientHeight + 1 || panel.scrollWidth > panel.clientWidth + 1;

// Inline SVG rather than emoji: a kiosk PC may have no colour-emoji font, and a tofu box on the
// one sign that matters most is not acceptable. The shape carries the meaning as much as colour.
const ICONS = {
  enter: `<svg viewBox="0 0 100 100" focusable="false"><circle cx="50" cy="50" r="44" fill="none" stroke="currentColor" stroke-width="9"/><path d="M28 52 L44 68 L74 34" fill="none" stroke="currentColor" stroke-width="11" stroke-linecap="round" stroke-linejoin="round"/></svg>`,
  wait_outside: `<svg viewBox="0 0 100 100" focusable="false"><path d="M30 4 H70 L96 30 V70 L70 96 H30 L4 70 V30 Z" fill="none" stroke="currentColor" stroke-width="7" stroke-linejoin="round"/><g fill="currentColor"><rect x="30" y="27" width="9" height="33" rx="4.5"/><rect x="40.5" y="20" width="9" height="38" rx="4.5"/><rect x="51" y="22" width="9" height="36" rx="4.5"/><rect x="61.5" y="29" width="9" height="31" rx="4.5"/><path d="M30 52 H70.5 V66 Q70.5 82 54 82 H48 Q38 82 32 74 L21 58 Q18 53 22.5 51 Q26.5 49.5 29.5 54 Z"/></g></svg>`,
  closed: `<svg viewBox="0 0 100 100" focusable="false"><path d="M32 46 V32 Q32 14 50 14 Q68 14 68 32 V46" fill="none" stroke="currentColor" stroke-width="9"/><rect x="20" y="44" width="60" height="44" rx="7" fill="currentColor"/><circle cx="50" cy="62" r="6" fill="#3b414a"/><rect x="47" y="62" width="6" height="14" rx="3" fill="#3b414a"/></svg>`,
};
const SIGNS = {
  enter: { nb: "KOM INN", en: "ENTER" },
  wait_outside: { nb: "VENT UTE", en: "WAIT OUTSIDE" },
  closed: { nb: "STENGT", en: "CLOSED" },
};

const $ = (id) => document.getElementById(id);

/** A bilingual fragment "nb / en" built with textContent, so nothing from the service is ever
 * parsed as HTML. */
function bilingual(nb, en) {
  const fragment = document.createDocumentFragment();
  const nbSpan = document.createElement("span");
  nbSpan.className = "nb";
  nbSpan.textContent = nb;
  const sep = document.createElement("span");
  sep.className = "sep";
  sep.setAttribute("aria-hidden", "true");
  sep.textContent = " / ";
  const enSpan = document.createElement("span");
  enSpan.className = "en";
  enSpan.lang = "en";
  enSpan.textContent = en;
  fragment.append(nbSpan, sep, enSpan);
  return fragment;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

const callKey = (call) => `${call.ticket}|${call.desk}|${call.at}`;

function start(live, { formatTime, formatDate }) {
  const station = stationFromPath();
  const state = {
    doc: null,
    seen: null, // keys of the calls already on screen; null until the first document
    connected: false,
    docsSinceOpen: 0,
    lastSeq: -1,
    clockOffset: 0,
    highlightTimer: null,
    highlightKey: null,
    shown: {}, // what each part of the screen was last rendered from
  };

  if (!station) {
    showOffline("Ingen stasjon i adressen", "No station in the address", "Bruk /display/<stasjon> · Use /display/<station>");
    return;
  }
  document.title = `${station} — Lobbyskjerm`;

  const sound = setUpSound();

  live(`/api/v1/stations/${encodeURIComponent(station)}/public/live`, (doc) => {
    if (!doc || typeof doc !== "object" || !Array.isArray(doc.calls)) return;
    followServiceClock(doc);
    state.docsSinceOpen += 1;
    state.lastSeq = Number(doc.seq);
    const fresh = newCalls(doc.calls);
    state.doc = doc;
    render();
    if (fresh.length) {
      if (fresh.some((c) => callKey(c) === callKey(doc.calls[0]))) highlight(callKey(doc.calls[0]));
      // Oldest first, so the room hears them in the order the desks called them.
      fresh.slice(0, MAX_ANNOUNCED_AT_ONCE).reverse().forEach((c) => sound.announce(c));
    }
  }, (connection) => {
    state.connected = connection === "open";
    state.docsSinceOpen = 0;
    if (state.connected) hideOffline();
    else if (state.doc) showOffline("Forbindelsen er brutt — kobler til igjen …", "Connection lost — reconnecting …", "");
    else showOffline(`Ingen kontakt med stasjonen «${station}» — prøver igjen …`, `No contact with station «${station}» — retrying …`,
      "Sjekk nettverket og adressen · Check the network and the address");
  });

  tickClock();
  setInterval(tickClock, 1000);
  // The fitting depends on the panel's size, which changes with the window (or a rotated tablet).
  window.addEventListener("resize", fitAll);
  hideIdleCursor();
  keepScreenAwake();

  /** The calls in `calls` not seen before, newest first. The first document only records what is
   * there: those calls were made before the screen came on and are not announced. */
  function newCalls(calls) {
    const keys = calls.map(callKey);
    if (state.seen === null) {
      state.seen = new Set(keys);
      return [];
    }
    const fresh = calls.filter((c) => !state.seen.has(callKey(c)));
    // Only the last ten calls are ever sent, so the set is trimmed to those to stay small.
    state.seen = new Set(keys);
    return fresh;
  }

  /** The first document after a (re)connect may be old (`as_of` is the time of the last change),
   * so only a change pushed while connected tells what the service's clock says now. */
  function followServiceClock(doc) {
    if (state.docsSinceOpen === 0 || !(Number(doc.seq) > state.lastSeq)) return;
    const serviceNow = Date.parse(doc.as_of);
    if (Number.isNaN(serviceNow)) return;
    const offset = serviceNow - Date.now();
    if (Math.abs(offset - state.clockOffset) > CLOCK_TOLERANCE_MS) state.clockOffset = offset;
  }

  function changed(part, value) {
    const text = JSON.stringify(value);
    if (state.shown[part] === text) return false;
    state.shown[part] = text;
    return true;
  }

  function highlight(key) {
    state.highlightKey = key;
    clearTimeout(state.highlightTimer);
    const el = $("current-call");
    el.classList.remove("fresh");
    void el.offsetWidth; // restart the pulse when a second call arrives within the ten seconds
    el.classList.add("fresh");
    state.highlightTimer = setTimeout(() => {
      state.highlightKey = null;
      el.classList.remove("fresh");
    }, HIGHLIGHT_MS);
  }

  function render() {
    const doc = state.doc;
    document.body.classList.remove("nodata");
    if (doc.name) {
      $("station-name").textContent = doc.name;
      document.title = `${doc.name} — Lobbyskjerm`;
    }
    // Live regions re-announce whatever is rewritten, so a part is only rebuilt when it changed.
    const pleaseEnter = Array.isArray(doc.please_enter) ? doc.please_enter : [];
    if (changed("sign", doc.sign)) renderSign(doc.sign);
    if (changed("current", doc.calls[0] ?? null)) renderCurrentCall(doc.calls[0]);
    if (changed("please", pleaseEnter)) renderPleaseEnter(pleaseEnter);
    if (changed("recent", doc.calls.slice(0, 5))) renderRecent(doc.calls.slice(0, 5));
    renderFigures(doc);
    tickClock();
    fitAll();
  }

  function renderSign(sign) {
    const el = $("sign");
    const known = SIGNS[sign] ? sign : "closed";
    el.dataset.sign = sign ?? "";
    el.className = `sign ${known}`;
    el.querySelector(".sign-icon").innerHTML = ICONS[known];
    const text = el.querySelector(".sign-text");
    text.replaceChildren(bilingual(SIGNS[known].nb, SIGNS[known].en));
  }

  function renderCurrentCall(call) {
    const el = $("current-call");
    if (!call) {
      el.removeAttribute("data-ticket");
      el.classList.remove("fresh");
      const none = element("span", "none");
      none.append(bilingual("Ingen opprop ennå", "No calls yet"));
      el.replaceChildren(none);
      return;
    }
    el.dataset.ticket = call.ticket;
    if (state.highlightKey && state.highlightKey !== callKey(call)) el.classList.remove("fresh");
    const ticket = element("span", "ticket", call.ticket);
    const arrow = element("span", "arrow", "→");
    arrow.setAttribute("aria-hidden", "true");
    const desk = element("span", "desk");
    desk.append(bilingual(`Skranke ${call.desk}`, `Desk ${call.desk}`));
    el.replaceChildren(ticket, arrow, desk);
  }

  function renderPleaseEnter(tickets) {
    const list = $("please-enter");
    list.replaceChildren(...tickets.map((t) => {
      const li = element("li", "ticket-chip", t);
      li.dataset.ticket = t;
      return li;
    }));
    $("please-enter-none").hidden = tickets.length > 0;
  }

  /** Scales an element down (its `--s`, see display.css) until its panel has no overflow: a big
   * group let in at once, a wide ticket with a long desk name, or a small screen is shrunk rather
   * than cut off. `data-size` tells which step was needed. */
  function fit(el, lastStep = FIT_SCALES.length - 1) {
    const panel = el.closest(".panel");
    for (let step = 0; step <= lastStep; step += 1) {
      el.style.setProperty("--s", String(FIT_SCALES[step]));
      el.dataset.size = String(step);
      if (!overflows(panel)) return;
    }
  }

  /** "Please enter" shrinks only as far as stays readable across the room; past that the oldest
   * tickets give way to a "+N" marker. Those were let in earliest and have most likely come in
   * already, while the newest are the ones people outside are looking for. */
  function fitPleaseEnter() {
    const list = $("please-enter");
    list.querySelector(".more")?.remove();
    const chips = [...list.querySelectorAll("li[data-ticket]")];
    chips.forEach((chip) => { chip.hidden = false; });
    fit(list, PLEASE_ENTER_LAST_STEP);
    const panel = list.closest(".panel");
    if (!overflows(panel)) return;
    const more = element("li", "ticket-chip more");
    list.prepend(more);
    let dropped = 0;
    for (const chip of chips.slice(0, -1)) {
      chip.hidden = true;
      dropped += 1;
      more.textContent = `+${dropped}`;
      more.setAttribute("aria-label", `${dropped} tidligere / ${dropped} earlier`);
      if (!overflows(panel)) break;
    }
  }

  function fitAll() {
    ["sign", "current-call", "recent-calls"].forEach((id) => fit($(id)));
    fit(document.querySelector(".figures-panel"));
    fitPleaseEnter();
  }

  function renderRecent(calls) {
    $("recent-calls").replaceChildren(...calls.map((call, i) => {
      const li = element("li", i === 0 ? "latest" : "");
      li.dataset.ticket = call.ticket;
      const arrow = element("span", "arrow", "→");
      arrow.setAttribute("aria-hidden", "true");
      const desk = element("span", "desk", call.desk);
      // A screen reader gets "P007, skranke 3" rather than a bare number.
      const spoken = element("span", "visually-hidden", "skranke ");
      desk.prepend(spoken);
      li.append(element("span", "ticket", call.ticket), arrow, desk);
      return li;
    }));
  }

  function renderFigures(doc) {
    const headcount = Number(doc.headcount) || 0;
    const cap = Number(doc.cap) || 0;
    $("occupancy").textContent = `${headcount} / ${cap}`;
    const ratio = cap > 0 ? Math.min(1, headcount / cap) : 1;
    const fill = $("meter-fill");
    fill.style.width = `${Math.round(ratio * 100)}%`;
    fill.className = headcount >= cap ? "full" : ratio >= 0.75 ? "high" : "";
    $("outside-count").textContent = String(Array.isArray(doc.outside) ? doc.outside.length : 0);
    const distance = Number(doc.distancing_m);
    const distancing = $("distancing");
    if (distance > 0) {
      const nb = distance.toLocaleString("nb-NO", { maximumFractionDigits: 1 });
      const en = distance.toLocaleString("en-GB", { maximumFractionDigits: 1 });
      distancing.replaceChildren(bilingual(`Hold ${nb} m avstand`, `Keep ${en} m apart`));
    } else {
      distancing.replaceChildren();
    }
  }

  function tickClock() {
    const now = new Date(Date.now() + state.clockOffset);
    const timeZone = state.doc?.timezone || "Europe/Oslo";
    // The wall clock is in bokmål whatever the visitors' language: the screen is bilingual.
    const time = formatTime(now, { timeZone, lang: "nb-NO" });
    const date = formatDate(now, { timeZone, lang: "nb-NO" });
    if ($("clock").textContent !== time) {
      $("clock").textContent = time;
      $("clock").dateTime = now.toISOString();
    }
    if ($("date").textContent !== date) $("date").textContent = date;
  }
}

function stationFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  const at = parts.indexOf("display");
  const raw = at >= 0 ? parts[at + 1] : null;
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function showOffline(nb, en, hint) {
  $("offline-nb").textContent = nb;
  $("offline-en").textContent = en;
  $("offline-hint").textContent = hint;
  $("offline-hint").hidden = !hint;
  $("offline").hidden = false;
  document.body.classList.add("stale");
}

function hideOffline() {
  $("offline").hidden = true;
  document.body.classList.remove("stale");
}

// ---------------------------------------------------------------------------------------------
// Sound: a two-tone chime (WebAudio) and a spoken announcement (Web Speech), nb then en.

function setUpSound() {
  const button = $("sound");
  let context = null;
  let enabled = false;
  const queue = [];
  let playing = false;

  const audioContext = () => {
    if (!context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (Context) context = new Context();
    }
    return context;
  };

  // Called from the button's click: the user gesture is what lets the browser play sound.
  async function enable() {
    localStorage.setItem(SOUND_KEY, "on");
    const ctx = audioContext();
    try {
      await ctx?.resume();
    } catch {
      /* no audio output: speech may still work */
    }
    if ("speechSynthesis" in window) {
      // A silent utterance inside the gesture unlocks speech for later, gesture-less calls.
      const primer = new SpeechSynthesisUtterance(" ");
      primer.volume = 0;
      primer.lang = "nb-NO";
      speechSynthesis.speak(primer);
    }
    enabled = true;
    offer(false);
    document.removeEventListener("pointerdown", enableOnGesture, true);
    document.removeEventListener("keydown", enableOnGesture, true);
  }

  // Once chosen, any touch or key on the screen after a reload turns sound back on.
  function enableOnGesture() {
    enable();
  }

  button.addEventListener("click", enable);

  function offer(shown) {
    button.hidden = !shown;
    document.body.classList.toggle("sound-offered", shown);
    window.dispatchEvent(new Event("resize")); // the panels' room changed: refit
  }

  if (localStorage.getItem(SOUND_KEY) === "on") {
    // A kiosk started with --autoplay-policy=no-user-gesture-required lets this run straight
    // away; an ordinary browser keeps it suspended until a gesture, so the button comes back.
    const ctx = audioContext();
    const check = () => {
      if (ctx && ctx.state === "running") {
        enabled = true;
        offer(false);
      } else {
        offer(true);
        document.addEventListener("pointerdown", enableOnGesture, true);
        document.addEventListener("keydown", enableOnGesture, true);
      }
    };
    if (ctx) ctx.resume().then(check, check);
    else check();
  } else {
    offer(true);
  }

  if ("speechSynthesis" in window) {
    // Voices load asynchronously in Chromium; asking once early fills the list.
    speechSynthesis.getVoices();
    speechSynthesis.addEventListener?.("voiceschanged", () => speechSynthesis.getVoices());
  }

  function chime() {
    const ctx = context;
    if (!ctx || ctx.state !== "running") return Promise.resolve();
    const t0 = ctx.currentTime + 0.05;
    // "Ding-dong": E5 then C5, each a sine with a quiet octave overtone and a bell-like decay.
    [[659.25, 0], [523.25, 0.5]].forEach(([frequency, offset]) => {
      [[frequency, 0.35], [frequency * 2, 0.08]].forEach(([f, level]) => {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = f;
        gain.gain.setValueAtTime(0.0001, t0 + offset);
        gain.gain.exponentialRampToValueAtTime(level, t0 + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + offset + 1.3);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t0 + offset);
        osc.stop(t0 + offset + 1.35);
      });
    });
    return new Promise((resolve) => setTimeout(resolve, 1500));
  }

  function pickVoice(prefixes) {
    const voices = speechSynthesis.getVoices();
    const norm = (lang) => String(lang || "").toLowerCase().replace("_", "-");
    for (const prefix of prefixes) {
      const voice = voices.find((v) => norm(v.lang) === prefix || norm(v.lang).startsWith(`${prefix}-`));
      if (voice) return voice;
    }
    return null;
  }

  function say(text, lang, prefixes) {
    return new Promise((resolve) => {
      if (!("speechSynthesis" in window)) return resolve();
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = lang; // set even without a matching voice, so the engine picks its best
      const voice = pickVoice(prefixes);
      if (voice) utterance.voice = voice;
      utterance.rate = 0.9;
      let timer = null;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      // Some engines never fire `end`; never let one stuck utterance block later calls.
      timer = setTimeout(done, 10_000);
      utterance.onend = done;
      utterance.onerror = done;
      speechSynthesis.speak(utterance);
    });
  }

  async function drain() {
    playing = true;
    while (queue.length) {
      const call = queue.shift();
      if (!enabled) continue;
      const words = announcement(call.ticket, call.desk);
      await chime();
      await say(words.nb, "nb-NO", ["nb-no", "nb", "no-no", "no"]);
      await say(words.en, "en-GB", ["en-gb", "en"]);
    }
    playing = false;
  }

  return {
    announce(call) {
      if (!enabled) return;
      queue.push(call);
      if (!playing) drain();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Kiosk niceties

/** The mouse pointer is hidden after a few idle seconds: nobody should see it on a wall. */
function hideIdleCursor() {
  let timer = null;
  const wake = () => {
    document.body.classList.remove("idle");
    clearTimeout(timer);
    timer = setTimeout(() => document.body.classList.add("idle"), 3000);
  };
  document.addEventListener("pointermove", wake);
  wake();
}

/** Keeps the screen from sleeping where the browser allows it (secure contexts only). */
function keepScreenAwake() {
  if (!navigator.wakeLock) return;
  const request = () => navigator.wakeLock.request("screen").catch(() => {});
  request();
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") request();
  });
}

if (typeof document !== "undefined" && document.getElementById("board") && document.getElementById("sign")) {
  Promise.all([import("/assets/common.js"), import("/assets/format.js")])
    .then(([{ live }, format]) => start(live, format));
}
