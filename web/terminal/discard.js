// Discarding another device's waiting actions: explicit, confirmed in a dialog, and recorded in
// the results. Only the entries the dialog showed are discarded, and only those still not sent.
import { $, h } from "/assets/dom.js";
import { heldGroups, isMine, outbox, readOutbox, saveRecent, state, t } from "/assets/terminal/state.js";
import { describeEvent, fmtLocal } from "/assets/terminal/view.js";
import { addResult, publicEvent } from "/assets/terminal/actions.js";
import { renderAll } from "/assets/terminal/render.js";

let discarding = null; // { device, keys } while the dialog is open

function openDiscardDialog(device) {
  const entries = heldGroups().get(device) || [];
  if (!entries.length) return;
  // Only the entries shown now: anything queued or sent after this moment is not part of it.
  discarding = { device, keys: entries.map((e) => e.key) };
  const n = entries.length;
  $("discard-title").textContent = t().discardTitle(n, device);
  $("discard-text").textContent = t().discardText(device);
  $("discard-list").replaceChildren(...entries.map((e) => h("li", {}, `${describeEvent(e.event)} `,
    h("small", {}, `(${t().queuedAt(fmtLocal(e.queuedAt))})`))));
  $("discard-confirm").textContent = t().discardConfirm(n);
  $("discard-dialog").returnValue = "";
  $("discard-dialog").showModal();
}

/** Closes the dialog without discarding anything (signing out does). */
export function closeDiscardDialog() {
  discarding = null;
  if ($("discard-dialog").open) $("discard-dialog").close("cancel");
}

function discardHeld({ device, keys }) {
  const wanted = new Set(keys);
  const list = readOutbox();
  // Re-checked against the stored outbox: that device may have sent some from another tab meanwhile.
  const gone = list.filter((e) => wanted.has(e.key) && !isMine(e));
  const goneKeys = new Set(gone.map((e) => e.key));
  outbox.write(list.filter((e) => !goneKeys.has(e.key)));
  const at = new Date().toISOString();
  const recent = state.recent;
  for (const entry of gone) {
    addResult({ key: entry.key, event: publicEvent(entry.event), ok: false, status: 0, discardedFrom: device,
      detail: null, queuedAt: entry.queuedAt, at });
    if (recent.issued?.key === entry.key) recent.issued = { ...recent.issued, state: "discarded" };
    if (recent.called?.key === entry.key) recent.called = { ...recent.called, state: "discarded" };
  }
  saveRecent();
  renderAll();
}

/** The "Discard …" buttons of the outbox banner and the confirmation dialog. */
export function wireDiscard() {
  $("outbox-held").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-discard]");
    if (button) openDiscardDialog(button.dataset.discard);
  });
  $("discard-dialog").addEventListener("close", () => {
    const chosen = discarding;
    discarding = null;
    if (chosen && $("discard-dialog").returnValue === "discard") discardHeld(chosen);
    // The dialog gives focus back to the button that opened it; after a discard that button is
    // gone, so the keyboard lands on the outbox banner instead of the top of the page.
    if (!$("app").hidden && (!document.activeElement || document.activeElement === document.body)) $("outbox-banner").focus();
  });
}
