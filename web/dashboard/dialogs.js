// The guard's actions on a card: correct the headcount, let a party in past the cap (each a
// dialog; cleaning has its own module) and acknowledge an alert (no dialog). Every event carries
// an Idempotency-Key that a retry of the same event reuses, so nothing is recorded twice.
import { newKey, postEvent } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { serviceName } from "/assets/format.js";
import { say, tr } from "/assets/i18n.js";
import { current, expired, fmtTime, minutesSince, serverNow } from "/assets/dashboard/session.js";
import { outsideCount, scheduleSort } from "/assets/dashboard/sort.js";
import { renderResult } from "/assets/dashboard/cards.js";
import { openCleaning, translateCleaning } from "/assets/dashboard/cleaning.js";
/** Preset reasons, sent as the service's codes (src/domain/reasons.rs) so the log and the
 * over-cap alert keep the choice, not its words, and every page shows it in its own language. */
const OVERRIDE_REASONS = ["wheelchair_user", "urgent_travel_document", "elderly_or_unwell"];
const CORRECTION_REASONS = ["counted_at_door", "companion_without_ticket", "interpreter", "untracked_left"];

/** A preset reason in the page's language. */
function reasonWords(code) {
  return tr(`messages.reason.${code}`);
}

/** A typed correction reason: the code of the suggestion it is, else the text as typed. */
function correctionReason(typed) {
  return CORRECTION_REASONS.find((code) => reasonWords(code) === typed) ?? typed;
}

/** The dialogs' choices in the page's language (the values sent are codes and English surfaces). */
export function translateDialogs() {
  $("reason-hints").replaceChildren(...CORRECTION_REASONS.map((code) => h("option", { value: reasonWords(code) })));
  translateCleaning();
  // No preset is pre-selected: the reason is what the log and the over-cap alert will say, so
  // the guard must choose it.
  $("override-choices").replaceChildren(...OVERRIDE_REASONS.map((reason) =>
    h("label", {}, h("input", { type: "radio", name: "override-reason", value: reason }), ` ${reasonWords(reason)}`)));
}

/** The last attempt per dialog: a retry of the same event at the same station reuses its
 * Idempotency-Key, so an answer lost on the way back is never recorded twice. */
const pending = { correct: null, override: null, ack: null };

function keyFor(slot, station, event) {
  const body = JSON.stringify(event);
  const last = pending[slot];
  if (last && last.station === station && last.body === body) return last.key;
  pending[slot] = { station, body, key: newKey() };
  return pending[slot].key;
}

let opener = null;

export function openDialog(dialog, station, button) {
  current.dialogStation = station;
  opener = button;
  dialog.showModal();
}

export function closeDialog(dialog) {
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
  // −1 takes back a person counted without a ticket; with none on record the engine refuses it.
  const noneUncounted = !(st.doc?.corrections > 0);
  form.querySelector('input[name="delta"][value="-1"]').disabled = noneUncounted;
  $("minus-hint").hidden = !noneUncounted;
  form.querySelector(`input[name="delta"][value="${noneUncounted ? 1 : delta}"]`).checked = true;
  $("correct-reason").value = "";
  $("correct-error").hidden = true;
  const doc = st.doc;
  $("correct-context").textContent = doc
    ? tr("dashboard.correctContext", { name: st.name, h: doc.headcount, c: doc.cap, k: doc.corrections })
    : st.name;
  form.querySelector('button[type="submit"]').disabled = false;
  form.querySelector('button[type="submit"]').textContent = tr("dashboard.record");
  openDialog($("correct-dialog"), st.id, button);
  $("correct-reason").focus();
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
    ? tr("dashboard.overrideContext", { name: st.name, h: doc.headcount, c: doc.cap, n: outsideCount(doc) })
    : st.name;
  // The head of the queue is the default and is sent without a ticket, so the service lets in
  // whoever is first when the request arrives; a named ticket is for a particular party (the
  // wheelchair user at the back of the line).
  const svcName = (id) => {
    const svc = (doc?.services || []).find((s) => s.id === id);
    return svc ? serviceName(svc) : id;
  };
  const select = $("override-ticket");
  select.replaceChildren(...(outside.length
    ? [h("option", { value: "" }, tr("dashboard.overrideHead", { tk: outside[0].ticket })),
      ...outside.map((p) => h("option", { value: p.ticket }, tr("dashboard.overrideOption", { ticket: p.ticket, position: p.position, svc: svcName(p.service), m: minutesSince(p.since) })
        + (p.party_size > 1 ? tr("dashboard.overrideOptionSize", { n: p.party_size }) : "")))]
    : []));
  const submit = form.querySelector('button[type="submit"]');
  submit.textContent = tr("dashboard.overrideSubmit");
  submit.disabled = outside.length === 0;
  if (!outside.length) {
    $("override-error").textContent = tr("dashboard.overrideNone");
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
    st.result = { ok: false, text: tr("dashboard.netFail"), at: Date.now() };
    renderResult(st);
    return;
  }
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  if (!inFlight && status < 500) pending.ack = null;
  if (status === 401) { expired(); return; }
  if (status >= 200 && status < 300) {
    st.result = { ok: true, text: tr("dashboard.ackDone", { what, at: fmtTime(serverNow(), st.doc?.timezone) }) + (replayed ? tr("dashboard.replayed") : ""), at: Date.now() };
  } else {
    st.result = { ok: false, text: inFlight ? tr("dashboard.inFlight") : `⚠ ${say(body.code, body.params, body.detail || body.title || `HTTP ${status}`)}`, at: Date.now() };
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
  submit.textContent = tr("dashboard.sending");
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
    errorBox.textContent = tr("dashboard.netFail");
    errorBox.hidden = false;
    return;
  }
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  // Keep the key only where the same request may still be recorded or is worth retrying as is.
  if (!inFlight && status < 500) pending[slot] = null;
  if (status === 401) { expired(); return; }
  if (status >= 200 && status < 300) {
    st.result = { ok: true, text: describe(body, replayed), at: Date.now() };
    closeDialog(form.closest("dialog"));
    renderResult(st);
    return;
  }
  errorBox.textContent = inFlight ? tr("dashboard.inFlight") : say(body.code, body.params, body.detail || body.title || `HTTP ${status}`);
  errorBox.hidden = false;
}

$("correct-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const form = event.currentTarget;
  const reason = correctionReason($("correct-reason").value.trim());
  if (!reason) {
    $("correct-error").textContent = tr("dashboard.reasonMissing");
    $("correct-error").hidden = false;
    $("correct-reason").focus();
    return;
  }
  const delta = Number(form.querySelector('input[name="delta"]:checked').value);
  submitEvent("correct", form, $("correct-error"), { kind: "correction", delta, reason }, (body, replayed) => {
    const tz = current.stations.get(form.dataset.station)?.doc?.timezone;
    return tr("dashboard.correctDone", { d: delta > 0 ? "+1" : "−1", h: body.headcount, at: fmtTime(serverNow(), tz) }) + (replayed ? tr("dashboard.replayed") : "");
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
    $("override-error").textContent = tr("dashboard.overrideMissing");
    $("override-error").hidden = false;
    (form.querySelector('input[name="override-reason"]') || $("override-other")).focus();
    return;
  }
  const ticket = $("override-ticket").value;
  const overrideEvent = ticket ? { kind: "override", ticket, reason } : { kind: "override", reason };
  submitEvent("override", form, $("override-error"), overrideEvent, (body, replayed) => {
    const tz = current.stations.get(form.dataset.station)?.doc?.timezone;
    return tr("dashboard.overrideDone", { tk: body.ticket || ticket, h: body.headcount, c: body.cap, at: fmtTime(serverNow(), tz) }) + (replayed ? tr("dashboard.replayed") : "");
  });
});
