// The desk's controls and keyboard: party size, the check-in buttons, the lists' check-out /
// no-show / transfer / arrived buttons, the ticket field, "call next" with its desk, "send now" — and the
// single-key shortcuts (1–9, + / −, N, R, /) listed on the page. A double-click's second click is never a
// second action.
import { $, h } from "/assets/dom.js";
import { DESK_RE, DESK_SLOT, TICKET_RE, retryNow, services, t } from "/assets/terminal/state.js";
import { flash, showError } from "/assets/terminal/view.js";
import { checkIn, setParty, ticketAction } from "/assets/terminal/actions.js";
import { askBeforeCall, recallCurrent } from "/assets/terminal/call-confirm.js";
import { openTransfer } from "/assets/terminal/transfer.js";
import { noShowWithUndo } from "/assets/terminal/undo.js";
import { availability } from "/assets/terminal/availability.js";

const partySize = () => Number($("party-size").value);

function wireCheckIn() {
  $("party-size").replaceChildren(...Array.from({ length: 10 }, (_, i) => h("option", { value: i + 1 }, i + 1)));
  $("party-minus").addEventListener("click", () => setParty(partySize() - 1));
  $("party-plus").addEventListener("click", () => setParty(partySize() + 1));
  $("service-buttons").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-service]");
    if (!button || button.disabled) return;
    // The second click of a double-click (detail 2+) is a slip, not a second party.
    if (e.detail > 1) return;
    checkIn(button.dataset.service);
  });
}

/** The ticket typed in the field, or null (with the error shown) when it is not a ticket. */
function ticketFromField() {
  const value = $("ticket-field").value.trim().toUpperCase();
  if (!TICKET_RE.test(value)) {
    showError("ticket-error", t().ticketInvalid);
    $("ticket-field").setAttribute("aria-invalid", "true");
    $("ticket-field").focus();
    return null;
  }
  showError("ticket-error", null);
  $("ticket-field").removeAttribute("aria-invalid");
  return value;
}

/** A list row's button: a no-show waits out its undo, a transfer asks for the service. */
function rowAction(action, row) {
  const ticket = row.dataset.ticket;
  if (action === "no_show") noShowWithUndo(ticket);
  else if (action === "transfer") openTransfer(ticket, row.dataset.service);
  else ticketAction(action, ticket);
}

function wireTickets() {
  // Check-out / no-show from the lists: one delegated handler, the ticket comes from the row.
  for (const list of ["inside-list", "outside-list", "coming-list"]) {
    $(list).addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      if (!button || e.detail > 1) return;
      const row = button.closest("[data-ticket]");
      if (row) rowAction(button.dataset.action, row);
    });
  }
  $("ticket-field").addEventListener("input", () => {
    showError("ticket-error", null);
    $("ticket-field").removeAttribute("aria-invalid");
  });
  $("ticket-form").addEventListener("submit", (e) => {
    e.preventDefault(); // Enter in the ticket field = check out
    const ticket = ticketFromField();
    if (ticket && ticketAction("check_out", ticket)) $("ticket-field").value = "";
  });
  $("ticket-no-show").addEventListener("click", () => {
    const ticket = ticketFromField();
    if (!ticket) return;
    noShowWithUndo(ticket);
    $("ticket-field").value = "";
  });
}

function wireCall() {
  $("call-form").addEventListener("submit", (e) => {
    e.preventDefault();
    askBeforeCall();
  });
  // The second click of a double-click on "Call next" would call a second person to the desk.
  $("call-next").addEventListener("click", (e) => {
    if (e.detail > 1) e.preventDefault();
  });
  $("desk").value = localStorage.getItem(DESK_SLOT) || "1";
  $("desk").addEventListener("change", () => {
    const desk = $("desk").value.trim();
    if (DESK_RE.test(desk)) localStorage.setItem(DESK_SLOT, desk);
  });
}

/** The single-key shortcuts, outside any field and while no dialog is open. */
function onKey(e) {
  if ($("app").hidden || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  // A key pressed in a dialog is meant for it, not for the page behind it.
  if (document.querySelector("dialog[open]")) return;
  const target = e.target;
  if (target instanceof Element && target.closest("input, select, textarea, [contenteditable]")) {
    // Esc leaves the field so the single-key shortcuts work again.
    if (e.key === "Escape") target.blur();
    return;
  }
  if (/^[1-9]$/.test(e.key)) {
    const service = services()[Number(e.key) - 1];
    if (service && availability(service).ok) {
      e.preventDefault();
      checkIn(service.id);
    }
  } else if (e.key === "+" || e.key === "-" || e.key === "−") {
    e.preventDefault();
    setParty(partySize() + (e.key === "+" ? 1 : -1));
    flash($("party-size"));
  } else if (e.key === "n" || e.key === "N") {
    e.preventDefault();
    askBeforeCall();
  } else if (e.key === "r" || e.key === "R") {
    e.preventDefault();
    recallCurrent();
  } else if (e.key === "/") {
    e.preventDefault();
    $("ticket-field").focus();
    $("ticket-field").select();
  }
}

export function wireControls() {
  wireCheckIn();
  wireTickets();
  wireCall();
  $("retry-now").addEventListener("click", retryNow);
  document.addEventListener("keydown", onKey);
}
