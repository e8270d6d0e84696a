// Moving a booking to another free time: the booking's station's free slots for its service
// (GET …/slots), grouped by the station's day into day and time radio groups, then
// POST /api/v1/bookings/{code}/move. The page's `change` sends it and redraws from the answer.
import { $ } from "/assets/dom.js";
import { tr } from "/assets/i18n.js";
import { formatTime } from "/assets/format.js";
import { dayLabel, radio } from "/assets/choices.js";
import { byDay, freeSlots } from "/assets/public/slots.js";

const form = { days: null, date: null, slot: null, timezone: null };
let page = { change: async () => false, showMessage: () => {} };

function renderForm() {
  const { days, timezone } = form;
  $("move-loading").hidden = days !== null;
  $("move-none").hidden = !(days && days.length === 0);
  $("move-days").hidden = !days?.length;
  $("move-day-list").replaceChildren(...(days || []).map((d) => radio("move-day", d.date, dayLabel(d.slots[0].start, timezone), d.date === form.date)));
  const day = days?.find((d) => d.date === form.date);
  $("move-times").hidden = !day;
  $("move-time-list").replaceChildren(...(day ? day.slots : []).map((s) => radio("move-time", s.start, formatTime(s.start, { timeZone: timezone }), s.start === form.slot)));
}

function show(open) {
  $("move").hidden = open;
  $("move-form").hidden = !open;
}

/** Opens the form for `view` (the booking) and loads the free times, less its own. */
export async function openMove(view) {
  Object.assign(form, { days: null, date: null, slot: null, timezone: view.timezone });
  show(true);
  renderForm();
  try {
    const answer = await freeSlots(view.station, view.service);
    form.days = byDay((answer.slots || []).filter((s) => s.start !== view.slot), form.timezone);
    form.date = form.days[0]?.date ?? null;
  } catch {
    form.days = [];
    page.showMessage(tr("booking.unreachable"), true);
  }
  renderForm();
  document.querySelector('input[name="move-day"]:checked')?.focus();
}

/** Wires the form; `change(method, tail, body)` sends a change and redraws the page. */
export function wireMove(change, showMessage) {
  page = { change, showMessage };
  $("move-form").addEventListener("change", (e) => {
    if (e.target.name === "move-day") Object.assign(form, { date: e.target.value, slot: null });
    else if (e.target.name === "move-time") form.slot = e.target.value;
    else return;
    renderForm();
    document.querySelector(`input[name="${e.target.name}"]:checked`)?.focus();
  });
  $("move-cancel").addEventListener("click", () => {
    show(false);
    $("move").focus();
  });
  $("move-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!form.slot) {
      showMessage(tr("booking.pickTime"), true);
      return;
    }
    $("move-confirm").disabled = true;
    const done = await change("POST", "/move", { slot: form.slot });
    $("move-confirm").disabled = false;
    if (done) {
      show(false);
      showMessage(tr("booking.moveDone"));
      $("headline").focus();
    }
  });
}
