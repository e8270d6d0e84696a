// Recording cleaning: one dialog per station that lists the surfaces due (ticked, from due.js,
// which reads the grouped alert and the older one per surface alike) and the others, and posts
// one `cleaned` event per ticked surface.
import { newKey, postEvent } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { say, tr } from "/assets/i18n.js";
import { current, expired, fmtTime, serverNow } from "/assets/dashboard/session.js";
import { listOf, surfaceName } from "/assets/dashboard/text.js";
import { renderResult } from "/assets/dashboard/cards.js";
import { closeDialog, openDialog } from "/assets/dashboard/dialogs.js";
import { dueSurfaces } from "/assets/dashboard/due.js";
/** Surfaces offered even when nothing is due, sent in English, the service's own vocabulary (the
 * simulator uses "door handles" too), and shown translated. */
const SURFACES = ["door handles", "counter", "ticket machine", "chairs"];

/** The Idempotency-Key of each surface's last unanswered attempt, by station and surface: a
 * retry after a lost answer reuses it, so a cleaning is never recorded twice. */
const keys = new Map();

/** Every surface worth offering: the due ones first, then the presets and today's cleaned ones. */
function offeredSurfaces(doc, due) {
  const all = [...due.keys()];
  for (const s of [...SURFACES, ...(doc?.cleaning || []).map((c) => c.surface)]) if (!all.includes(s)) all.push(s);
  return all;
}

function choice(surface, due, checked, tz) {
  const note = due
    ? due.visitors != null && due.since ? tr("dashboard.surfaceDueSince", { v: due.visitors, time: fmtTime(Date.parse(due.since), tz) }) : tr("dashboard.surfaceDue")
    : "";
  return h("label", { class: due ? "due" : "" },
    h("input", { type: "checkbox", name: "surface", value: surface, checked }),
    ` ${surfaceName(surface)}`, note ? h("small", {}, ` — ${note}`) : null);
}

/** The check boxes; `ticked` keeps the guard's choices when the language changes mid-dialog. */
function renderChoices(st, ticked) {
  const doc = st.doc;
  const due = dueSurfaces(doc);
  $("surface-choices").replaceChildren(...offeredSurfaces(doc, due).map((s) =>
    choice(s, due.get(s), ticked ? ticked.has(s) : due.has(s), doc?.timezone)));
}

export function openCleaning(st, button) {
  const form = $("clean-form");
  form.dataset.station = st.id;
  $("clean-error").hidden = true;
  $("clean-results").hidden = true;
  $("clean-results").replaceChildren();
  $("surface-other").value = "";
  $("surface-other-choice").checked = false;
  renderChoices(st, null);
  const cleaning = [...(st.doc?.cleaning || [])].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const last = cleaning.length
    ? tr("dashboard.lastCleaned", { list: cleaning.slice(0, 3).map((c) => `${surfaceName(c.surface)} ${fmtTime(Date.parse(c.at), st.doc.timezone)}`).join(", ") })
    : tr("dashboard.neverCleaned");
  $("clean-context").textContent = tr("dashboard.cleanContext", { name: st.name, last });
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = false;
  submit.textContent = tr("dashboard.record");
  openDialog($("clean-dialog"), st.id, button);
  form.querySelector('input[name="surface"]')?.focus();
}

/** The open dialog's choices in the new language, as ticked. */
export function translateCleaning() {
  const st = $("clean-dialog").open && current?.stations.get($("clean-form").dataset.station);
  if (!st) return;
  const ticked = new Set([...$("surface-choices").querySelectorAll("input:checked")].map((i) => i.value));
  renderChoices(st, ticked);
}

/** One surface's `cleaned` event: `{ ok, text }` for the list, `null` once the token is refused. */
async function sendCleaned(session, st, surface) {
  const slot = `${st.id}|${surface}`;
  if (!keys.has(slot)) keys.set(slot, newKey());
  let answer;
  try {
    answer = await postEvent(st.id, session.token, keys.get(slot), { kind: "cleaned", surface });
  } catch {
    return { ok: false, text: tr("dashboard.cleanFail", { s: surfaceName(surface), why: tr("dashboard.netFail") }) };
  }
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  // Keep the key only where the same request may still be recorded or is worth retrying as is.
  if (!inFlight && status < 500) keys.delete(slot);
  if (status === 401) return null;
  if (status >= 200 && status < 300) return { ok: true, text: tr("dashboard.cleanOk", { s: surfaceName(surface) }) + (replayed ? tr("dashboard.replayed") : "") };
  return { ok: false, text: tr("dashboard.cleanFail", { s: surfaceName(surface), why: inFlight ? tr("dashboard.inFlight") : say(body.code, body.params, body.detail || body.title || `HTTP ${status}`) }) };
}

function ticked(form) {
  const surfaces = [...form.querySelectorAll('input[name="surface"]:checked')].map((i) => i.value);
  const other = $("surface-other").value.trim();
  if ($("surface-other-choice").checked && other && !surfaces.includes(other)) surfaces.push(other);
  return surfaces;
}

$("surface-other").addEventListener("input", () => {
  $("surface-other-choice").checked = Boolean($("surface-other").value.trim());
});

/** Sends every ticked surface at once, lists each answer, and closes the dialog only when all
 * were recorded; the recorded ones are unticked so "Record" again retries only the rest. */
$("clean-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const session = current;
  const st = session?.stations.get(form.dataset.station);
  if (!st) return;
  const surfaces = ticked(form);
  if (!surfaces.length) {
    $("clean-error").textContent = tr("dashboard.surfaceMissing");
    $("clean-error").hidden = false;
    (form.querySelector('input[name="surface"]') || $("surface-other")).focus();
    return;
  }
  const submit = form.querySelector('button[type="submit"]');
  submit.disabled = true;
  submit.textContent = tr("dashboard.sending");
  $("clean-error").hidden = true;
  const results = await Promise.all(surfaces.map((s) => sendCleaned(session, st, s)));
  if (current !== session) return;
  submit.disabled = false;
  submit.textContent = tr("dashboard.record");
  if (results.includes(null)) { expired(); return; }
  const done = surfaces.filter((_, i) => results[i].ok);
  for (const input of form.querySelectorAll('input[name="surface"]')) if (done.includes(input.value)) input.checked = false;
  if (done.includes($("surface-other").value.trim())) $("surface-other-choice").checked = false;
  if (done.length === surfaces.length) {
    const at = fmtTime(serverNow(), st.doc?.timezone);
    st.result = { ok: true, text: tr("dashboard.cleanDone", { s: listOf(done.map(surfaceName)), at }), at: Date.now() };
    closeDialog($("clean-dialog"));
    renderResult(st);
    return;
  }
  const list = $("clean-results");
  list.replaceChildren(...results.map((r) => h("li", { class: r.ok ? "ok" : "bad" }, r.text)));
  list.hidden = false;
  $("clean-error").textContent = tr("dashboard.cleanSome");
  $("clean-error").hidden = false;
});
