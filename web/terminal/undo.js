// A no-show waits a few seconds in this tab before it goes into the outbox, with an "Undo": the
// clerk pressed it on the wrong row as often as not. Until then nothing is stored or sent, so
// Undo means the service never heard of it. (Reloading the page in those seconds also drops it.)
import { $, h } from "/assets/dom.js";
import { state, t } from "/assets/terminal/state.js";
import { ticketAction } from "/assets/terminal/actions.js";
import { renderLists } from "/assets/terminal/lists.js";

export const UNDO_MS = 5000;

/** Marks `ticket` as no-show after UNDO_MS unless undone. */
export function noShowWithUndo(ticket) {
  if (state.noShowSoon.has(ticket)) return;
  const timer = setTimeout(() => {
    state.noShowSoon.delete(ticket);
    ticketAction("no_show", ticket);
    renderUndo();
  }, UNDO_MS);
  state.noShowSoon.set(ticket, { until: Date.now() + UNDO_MS, timer });
  $("undo-note").textContent = t().noShowSoon(ticket, UNDO_MS / 1000);
  renderUndo();
  renderLists();
  $("undo-bar").querySelector(`[data-undo="${CSS.escape(ticket)}"]`)?.focus();
}

function undo(ticket) {
  const pending = state.noShowSoon.get(ticket);
  if (!pending) return;
  clearTimeout(pending.timer);
  state.noShowSoon.delete(ticket);
  $("undo-note").textContent = t().undone(ticket);
  renderUndo();
  renderLists();
}

/** The waiting no-shows, each with its countdown and Undo button. A row stays the same element
 * while it counts down (only its text changes), so focus and a half-done click are not lost. */
export function renderUndo() {
  const rows = $("undo-rows");
  for (const row of [...rows.children]) if (!state.noShowSoon.has(row.dataset.ticket)) row.remove();
  for (const [ticket, { until }] of state.noShowSoon) {
    const left = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    let row = rows.querySelector(`[data-ticket="${CSS.escape(ticket)}"]`);
    if (!row) {
      row = h("div", { class: "undo-row", dataset: { ticket } },
        h("span", { class: "undo-text", "aria-hidden": "true" }),
        h("button", { type: "button", dataset: { undo: ticket }, "aria-label": `${t().undo} ${t().noShow} ${ticket}` }, t().undo));
      rows.append(row);
    }
    row.querySelector(".undo-text").textContent = t().noShowSoon(ticket, left);
  }
  $("undo-bar").hidden = state.noShowSoon.size === 0;
}

export function wireUndo() {
  $("undo-bar").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-undo]");
    if (button) undo(button.dataset.undo);
  });
}
