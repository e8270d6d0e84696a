// Scanning a booking's QR code with the desk's camera, where the browser has a BarcodeDetector
// (Chrome on Android, ChromeOS and macOS; not Firefox, not Chrome on Linux or Windows): the button
// only shows where it can work. A QR code read is put in the booking field and checked in exactly
// as if a handheld scanner had typed it; the camera is stopped as soon as the dialog closes.
import { $ } from "/assets/dom.js";
import { t } from "/assets/terminal/state.js";
import { showError } from "/assets/terminal/view.js";

const SCAN_EVERY_MS = 250;

let stream = null;
let timer = null;

function available() {
  return "BarcodeDetector" in window && Boolean(navigator.mediaDevices?.getUserMedia);
}

function stop() {
  clearInterval(timer);
  timer = null;
  for (const track of stream?.getTracks() || []) track.stop();
  stream = null;
  $("camera-video").srcObject = null;
}

/** Reads frames until a QR code is found; then it is the field's value and the form is sent. */
function scan(detector) {
  timer = setInterval(async () => {
    const video = $("camera-video");
    if (video.readyState < 2) return;
    const found = await detector.detect(video).catch(() => []);
    if (!found.length || !timer) return;
    $("booking-field").value = found[0].rawValue;
    $("camera-dialog").close();
    $("booking-form").requestSubmit();
  }, SCAN_EVERY_MS);
}

async function open() {
  const dialog = $("camera-dialog");
  dialog.showModal();
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    $("camera-video").srcObject = stream;
    await $("camera-video").play();
    scan(new window.BarcodeDetector({ formats: ["qr_code"] }));
  } catch (e) {
    dialog.close();
    showError("booking-error", t().cameraFailed(e.message || e.name));
  }
}

export function wireCamera() {
  $("camera-scan").hidden = !available();
  $("camera-scan").addEventListener("click", open);
  $("camera-dialog").addEventListener("close", () => {
    stop();
    $("booking-field").focus();
  });
}
