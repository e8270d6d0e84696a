// The display's sound: a two-tone chime (WebAudio) and a spoken announcement (Web Speech), bokmål
// then English, for each new call. Browsers only play sound after a user gesture, so the screen
// offers an "Enable sound" button. Once chosen, it is remembered in this screen's localStorage:
// after a reload sound is on at once where the browser allows autoplay (a kiosk started with
// --autoplay-policy=no-user-gesture-required); where it does not, the screen says so honestly
// ("sound is on, but the browser is waiting for a touch") and the first touch or key turns it on.
import { fill } from "/assets/dom.js";
import { bilingual } from "/assets/display/lines.js";
import { announcement } from "/assets/display/words.js";

const SOUND_KEY = "lobbywatch.display.sound";
// How long a resume() may take before the browser counts as blocking autoplay: Chromium leaves
// the promise pending (neither resolved nor rejected) until a gesture.
const AUTOPLAY_WAIT_MS = 800;
const NB_VOICES = ["nb-no", "nb", "no-no", "no"];
const EN_VOICES = ["en-gb", "en"];

const sound = {
  context: null, // the AudioContext, made on first need
  enabled: false,
  queue: [], // calls waiting to be announced
  playing: false,
};

function audioContext() {
  if (!sound.context) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (Context) sound.context = new Context();
  }
  return sound.context;
}

/** The sound's state on screen: "on" (no button), "off" (the "Enable sound" button) or
 * "blocked" (chosen, but the browser waits for a touch: the button says so). `body[data-sound]`
 * tells which. */
function show(mode) {
  const button = document.getElementById("sound");
  button.hidden = mode === "on";
  button.classList.toggle("blocked", mode === "blocked");
  fill(document.getElementById("sound-label"), bilingual(mode === "blocked" ? "soundBlocked" : "enableSound"));
  document.body.dataset.sound = mode;
  document.body.classList.toggle("sound-offered", mode !== "on");
  window.dispatchEvent(new Event("resize")); // the panels' room changed: refit
}

function remember() {
  try {
    localStorage.setItem(SOUND_KEY, "on");
  } catch {
    /* on for this page load only */
  }
}

function chosen() {
  try {
    return localStorage.getItem(SOUND_KEY) === "on";
  } catch {
    return false;
  }
}

/** A silent utterance inside the gesture unlocks speech for later, gesture-less calls. */
function primeSpeech() {
  if (!("speechSynthesis" in window)) return;
  const primer = new SpeechSynthesisUtterance(" ");
  primer.volume = 0;
  primer.lang = "nb-NO";
  speechSynthesis.speak(primer);
}

// Called from a click, touch or key: the user gesture is what lets the browser play sound.
async function enable() {
  remember();
  const ctx = audioContext();
  try {
    await ctx?.resume();
  } catch {
    /* no audio output: speech may still work */
  }
  primeSpeech();
  sound.enabled = true;
  show("on");
  document.removeEventListener("pointerdown", enableOnGesture, true);
  document.removeEventListener("keydown", enableOnGesture, true);
}

// Once chosen, any touch or key on the screen after a reload turns sound back on.
function enableOnGesture() {
  enable();
}

/** Sound was chosen before this reload. A kiosk that allows autoplay runs it straight away; an
 * ordinary browser keeps it suspended until a gesture, so the screen says it is waiting for one,
 * and the first touch or key anywhere turns it on. */
function resumeChosenSound() {
  const ctx = audioContext();
  const settled = new Promise((resolve) => setTimeout(resolve, AUTOPLAY_WAIT_MS));
  const check = () => {
    if (sound.enabled) return; // a gesture came first
    if (ctx && ctx.state === "running") {
      sound.enabled = true;
      show("on");
    } else {
      show("blocked");
      document.addEventListener("pointerdown", enableOnGesture, true);
      document.addEventListener("keydown", enableOnGesture, true);
    }
  };
  Promise.race([ctx ? ctx.resume() : Promise.resolve(), settled]).then(check, check);
}

/** "Ding-dong": E5 then C5, each a sine with a quiet octave overtone and a bell-like decay.
 * Resolves when it has rung out. */
function chime() {
  const ctx = sound.context;
  if (!ctx || ctx.state !== "running") return Promise.resolve();
  const t0 = ctx.currentTime + 0.05;
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

/** The first installed voice whose language matches one of `prefixes`, in their order. */
function pickVoice(prefixes) {
  const voices = speechSynthesis.getVoices();
  const norm = (lang) => String(lang || "").toLowerCase().replace("_", "-");
  for (const prefix of prefixes) {
    const voice = voices.find((v) => norm(v.lang) === prefix || norm(v.lang).startsWith(`${prefix}-`));
    if (voice) return voice;
  }
  return null;
}

/** Speaks `text`; resolves when done (or after ten seconds, whatever the engine does). */
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

/** Announces the queued calls one after the other. */
async function drain() {
  sound.playing = true;
  while (sound.queue.length) {
    const call = sound.queue.shift();
    if (!sound.enabled) continue;
    const words = announcement(call.ticket, call.desk);
    await chime();
    await say(words.nb, "nb-NO", NB_VOICES);
    await say(words.en, "en-GB", EN_VOICES);
  }
  sound.playing = false;
}

/** Sets up the button and the chosen setting; returns `{ announce(call) }`, which chimes and
 * reads a call out when sound is on (and does nothing when it is not). */
export function setUpSound() {
  document.getElementById("sound").addEventListener("click", enable);
  if (chosen()) resumeChosenSound();
  else show("off");
  if ("speechSynthesis" in window) {
    // Voices load asynchronously in Chromium; asking once early fills the list.
    speechSynthesis.getVoices();
    speechSynthesis.addEventListener?.("voiceschanged", () => speechSynthesis.getVoices());
  }
  return {
    announce(call) {
      if (!sound.enabled) return;
      sound.queue.push(call);
      if (!sound.playing) drain();
    },
  };
}
