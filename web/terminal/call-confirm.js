// "Call next" when the desk still has a called visitor: a slip as often as not (the visitor did
// not hear the call, or the clerk pressed N twice). The dialog offers Recall — announce the same
// ticket again — or "Call next anyway"; either way the current ticket stays as it is, and Esc or
// "Cancel" does nothing at all.
import { $ } from "/assets/dom.js";
import { t } from "/assets/terminal/state.js";
import { callNext, checkedDesk, recall } from "/assets/terminal/actions.js";
import { currentParty, elapsedSince } from "/assets/terminal/current.js";

let asked = null; // { desk, ticket } while the dialog is open

/** "Call next" from the button or the N key: asks first when this desk has a called ticket. */
export function askBeforeCall() {
  const desk = checkedDesk();
  if (!desk) return;
  const party = currentParty(desk);
  if (!party) {
    callNext();
    return;
  }
  asked = { desk, ticket: party.ticket };
  $("call-dialog-title").textContent = t().callConfirmTitle(party.ticket, desk);
  $("call-dialog-text").textContent = t().callConfirmText(party.ticket, elapsedSince(party.called_at));
  $("call-dialog").returnValue = "";
  $("call-dialog").showModal();
}

/** Recalls the desk's current ticket (the Recall button and the R key). */
export function recallCurrent() {
  const desk = checkedDesk();
  const party = desk && currentParty(desk);
  if (party) recall(desk, party.ticket);
}

export function closeCallDialog() {
  asked = null;
  if ($("call-dialog").open) $("call-dialog").close("cancel");
}

export function wireCallConfirm() {
  $("call-dialog").addEventListener("close", () => {
    const chosen = asked;
    asked = null;
    const choice = $("call-dialog").returnValue;
    if (chosen && choice === "recall") recall(chosen.desk, chosen.ticket);
    if (chosen && choice === "next") callNext();
    $("call-next").focus();
  });
  $("recall").addEventListener("click", (e) => {
    if (e.detail > 1) return; // a double-click is one recall
    recallCurrent();
  });
}
