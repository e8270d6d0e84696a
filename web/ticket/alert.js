// Getting a visitor's attention when it is their turn, in every way a browser allows while the
// page is open: a beep (Web Audio), vibration, the title flashing, a system notification (if the
// visitor allowed it with the page's button) — and the screen reader's assertive announcement,
// which ticket.js writes into #alert. Browsers only play sound after a touch, so the first touch
// anywhere on the page readies the audio.

let audio = null;
let flashing = null;

/** Readies the audio on the visitor's first touch or key (a browser's rule for sound). */
export function readySoundOnFirstTouch() {
  const ready = () => {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) audio = new Context();
    audio?.resume?.();
  };
  document.addEventListener("pointerdown", ready, { once: true });
  document.addEventListener("keydown", ready, { once: true });
}

/** Three rising beeps. */
function beep() {
  if (!audio) return;
  const start = audio.currentTime + 0.05;
  [880, 988, 1175].forEach((hz, i) => {
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, start + i * 0.35);
    gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.35 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.35 + 0.3);
    tone.connect(gain).connect(audio.destination);
    tone.start(start + i * 0.35);
    tone.stop(start + i * 0.35 + 0.32);
  });
}

/** Alternates the tab's title with `text` until the visitor looks (or for a minute). */
function flashTitle(text, normal) {
  stopFlashing(normal);
  let on = false;
  const started = Date.now();
  flashing = setInterval(() => {
    on = !on;
    document.title = on ? `● ${text}` : normal();
    if (Date.now() - started > 60000 || (document.visibilityState === "visible" && document.hasFocus())) {
      stopFlashing(normal);
    }
  }, 1000);
}

function stopFlashing(normal) {
  if (flashing) clearInterval(flashing);
  flashing = null;
  document.title = normal();
}

function notify(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  try {
    new Notification(title, { body, tag, renotify: true, requireInteraction: true });
  } catch {
    /* a browser that only notifies from a service worker: the other signals still reach them */
  }
}

/** Every signal at once for `headline` (and `detail`); `normal()` gives the page's own title. */
export function alertVisitor(headline, detail, tag, normal) {
  beep();
  navigator.vibrate?.([300, 150, 300, 150, 600]);
  flashTitle(headline, normal);
  notify(headline, detail, tag);
}

/** Whether the notification button has anything left to ask: supported and not yet decided. */
export function canAskToNotify() {
  return "Notification" in window && Notification.permission === "default";
}

/** Asks the browser for permission to notify; resolves to "granted", "denied" or "default". */
export async function askToNotify() {
  if (!("Notification" in window)) return "denied";
  return Notification.requestPermission();
}
