// A visitor's own booking page (/b/<code>): where and when, the party size and the status in plain
// words; the code as text (in groups of four, to read aloud) and as QR for the front desk; and
// moving it to another free time (booking/move.js) or cancelling it (asked twice).
//
// The code in the address is the capability: it goes to this booking's own API routes and to
// nothing else. The route serves this page with no-store and no-referrer.
import { applyCatalogue, languagePicker, loadCatalogue, say, tr } from "/assets/i18n.js";
import { formatDate, formatTime, serviceName } from "/assets/format.js";
import { $ } from "/assets/dom.js";
import { openMove, wireMove } from "/assets/booking/move.js";

const REFRESH_MS = 60_000;

const page = { code: decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] ?? ""), view: null, missing: false };

/** The booking's API address (`/api/v1/bookings/{code}`), with an optional tail. */
export function bookingPath(tail = "") {
  return `/api/v1/bookings/${encodeURIComponent(page.code)}${tail}`;
}

/** "AbCd EfGh …": the code in groups of four. */
export function grouped(code) {
  return (code.match(/.{1,4}/g) || []).join(" ");
}

/** Asks the service for the booking; a refusal (unknown, malformed, another's) is one 404. */
async function load() {
  try {
    const response = await fetch(bookingPath(), { cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (response.ok) Object.assign(page, { view: body, missing: false });
    else if (response.status === 404) Object.assign(page, { view: null, missing: true });
    else showMessage(say(body.code, body.params, body.detail) || `${response.status}`, true);
  } catch {
    showMessage(tr("booking.unreachable"), true);
  }
  render();
}

/** The status in words: headline and detail. */
function describe(view) {
  const timeZone = view.timezone;
  const time = formatTime(view.slot, { timeZone });
  const texts = {
    booked: [tr("booking.booked"), tr("booking.bookedDetail", { time })],
    due: [tr("booking.due"), tr("booking.dueDetail", { time })],
    arrived: [tr("booking.arrived"), tr("booking.arrivedDetail")],
    no_show: [tr("booking.noShow"), tr("booking.noShowDetail")],
    cancelled: [tr("booking.cancelled"), tr("booking.cancelledDetail")],
  };
  return texts[view.status] || [view.status, ""];
}

function render() {
  const view = page.view;
  document.title = `${tr("booking.title")} — lobbywatch`;
  if (page.missing) {
    $("state").dataset.status = "unknown";
    $("headline").textContent = tr("booking.unknown");
    $("detail").textContent = tr("booking.unknownDetail");
    for (const id of ["when", "code-card", "actions"]) $(id).hidden = true;
    return;
  }
  if (!view) return;
  const [headline, detail] = describe(view);
  $("station-name").textContent = view.station_name;
  $("state").dataset.status = view.status;
  $("headline").textContent = headline;
  $("detail").textContent = detail;
  renderWhen(view);
  const open = view.status === "booked" || view.status === "due";
  $("code-card").hidden = !open;
  if (open) {
    $("qr").src = `/b/${encodeURIComponent(page.code)}/qr.svg`;
    $("qr").alt = tr("booking.qrAlt");
    $("code").textContent = grouped(page.code);
  }
  $("actions").hidden = !view.can_change;
}

function renderWhen(view) {
  const timeZone = view.timezone;
  $("when").hidden = false;
  $("service").textContent = serviceName({ name: view.service_name, name_en: view.service_name_en });
  $("day").textContent = formatDate(view.slot, { timeZone });
  $("time").textContent = `${formatTime(view.slot, { timeZone })}–${formatTime(view.slot_end, { timeZone })}`;
  $("party").textContent = tr("booking.persons", { n: view.party_size });
  $("address-row").hidden = !view.address;
  $("address").textContent = view.address || "";
}

export function showMessage(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
}

/** A changed booking (moved or cancelled) from the service's answer; a refusal in words. */
export async function change(method, tail, body) {
  try {
    const response = await fetch(bookingPath(tail), {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      showMessage(say(answer.code, answer.params, answer.detail) || `${response.status}`, true);
      return false;
    }
    page.view = answer;
    render();
    return true;
  } catch {
    showMessage(tr("booking.unreachable"), true);
    return false;
  }
}

function wireCancel() {
  const ask = (asking) => {
    $("cancel").hidden = asking;
    $("cancel-confirm").hidden = !asking;
    (asking ? $("cancel-no") : $("cancel")).focus();
  };
  $("cancel").addEventListener("click", () => ask(true));
  $("cancel-no").addEventListener("click", () => ask(false));
  $("cancel-yes").addEventListener("click", async () => {
    $("cancel-yes").disabled = true;
    const done = await change("DELETE", "");
    $("cancel-yes").disabled = false;
    $("cancel-confirm").hidden = true;
    $("cancel").hidden = false;
    if (done) {
      showMessage(tr("booking.cancelDone"));
      $("headline").focus();
    }
  });
}

languagePicker(() => applyCatalogue(render));
wireCancel();
wireMove(change, showMessage);
$("move").addEventListener("click", () => openMove(page.view));
loadCatalogue("booking").then(() => {
  applyCatalogue(render);
  return load();
}).then(() => $("headline").focus());
// The status changes with the clock (due, no-show) and at the desk (arrived).
setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
document.addEventListener("visibilitychange", () => { if (!document.hidden) load(); });
