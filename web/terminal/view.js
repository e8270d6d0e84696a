// Small helpers every part of the terminal's page uses: its two clocks, redrawing a list without
// losing keyboard focus, a field's error line, a flash, and an action in words.
import { replaceIfChanged } from "/assets/dom.js";
import { formatTime } from "/assets/format.js";
import { serviceName, state, t } from "/assets/terminal/state.js";

/** A time of the station on the station's clock (our own timestamps use the PC's: fmtLocal). */
export function fmtTime(iso) {
  return formatTime(iso, { timeZone: state.doc?.timezone });
}
export function fmtLocal(iso) {
  return formatTime(iso, { seconds: true });
}

/** What has keyboard focus inside `container`, as something findable again after a redraw:
 * the same service button, or the same action on the same ticket (and that row's place). */
function focusedControl(container) {
  const active = document.activeElement;
  if (!active || active === document.body || !container.contains(active)) return null;
  if (active.dataset.service) return { service: active.dataset.service };
  const row = active.closest("[data-ticket]");
  if (!row || !active.dataset.action) return null;
  const rows = [...container.querySelectorAll("[data-ticket]")];
  return { ticket: row.dataset.ticket, action: active.dataset.action, index: rows.indexOf(row) };
}

/** Puts the focus back on `restore` (from focusedControl) after `container` was redrawn. */
function refocus(container, restore) {
  if (restore.service) {
    container.querySelector(`button[data-service="${CSS.escape(restore.service)}"]`)?.focus();
    return;
  }
  // Same ticket and action if it is still there; otherwise (it was just checked out, or is being
  // sent) the same action on the ticket that took its place, so a clerk working down the list
  // with the keyboard keeps their place.
  const same = container.querySelector(`[data-ticket="${CSS.escape(restore.ticket)}"] [data-action="${CSS.escape(restore.action)}"]`);
  if (same) { same.focus(); return; }
  const rows = [...container.querySelectorAll("[data-ticket]")];
  const order = [...rows.slice(restore.index), ...rows.slice(0, restore.index).reverse()];
  for (const row of order) {
    if (row.dataset.ticket === restore.ticket) continue;
    const button = row.querySelector(`[data-action="${CSS.escape(restore.action)}"]`) || row.querySelector("[data-action]");
    if (button) { button.focus(); return; }
  }
  container.closest("section")?.querySelector("h2")?.focus();
}

/**
 * Replaces a container's children only when they changed, and keeps keyboard focus on the same
 * control (same ticket + action, or same service) across the replacement: the live document
 * arrives several times a minute and must not throw a clerk's focus back to the top of the page.
 */
export function patch(container, ...nodes) {
  const restore = focusedControl(container);
  if (replaceIfChanged(container, ...nodes) && restore) refocus(container, restore);
}

export function showError(id, message) {
  const el = document.getElementById(id);
  el.hidden = !message;
  el.textContent = message || "";
}

export function flash(el) {
  if (!el) return;
  el.classList.remove("flash");
  void el.offsetWidth; // restart the animation
  el.classList.add("flash");
}

/** An outbox event in words: "Innsjekk Pass, 2 personer", "Opprop (skranke 3)", "Utsjekk P007". */
export function describeEvent(e) {
  const kind = t().kinds[e.kind] || e.kind;
  if (e.kind === "check_in") return `${kind} ${serviceName(e.service)}${e.party_size > 1 ? `, ${t().persons(e.party_size)}` : ""}`;
  if (e.kind === "call") return `${kind} (${t().toDesk(e.desk)}${e.service ? `, ${serviceName(e.service)}` : ""})`;
  if (e.kind === "recall") return `${kind} ${e.ticket} (${t().toDesk(e.desk)})`;
  if (e.kind === "transfer") return `${kind} ${e.ticket} → ${serviceName(e.service)}`;
  // A booking's code is never shown back: it is the visitor's key to the booking.
  if (e.kind === "booking_arrived") return `${kind}${e.external_ref ? ` ${e.external_ref}` : ""}`;
  return `${kind} ${e.ticket || ""}`;
}
