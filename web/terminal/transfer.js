// Transferring a waiting ticket to another service's queue: the clerk picks the service in a
// small dialog (a service that cannot take it now is shown disabled, with the reason), and the
// ticket keeps its number and its turn by check-in time.
import { $, h } from "/assets/dom.js";
import { services, t } from "/assets/terminal/state.js";
import { serviceName as nameOf } from "/assets/format.js";
import { transfer } from "/assets/terminal/actions.js";
import { availability } from "/assets/terminal/availability.js";

let moving = null; // { ticket } while the dialog is open

function serviceChoice(s, from) {
  const { ok, reason } = availability(s);
  const same = s.id === from;
  const disabled = !ok || same;
  const id = `transfer-to-${s.id}`;
  return h("div", { class: `transfer-choice${disabled ? " unavailable" : ""}` },
    h("input", { type: "radio", name: "transfer-service", id, value: s.id, disabled, "aria-describedby": disabled ? `${id}-why` : null }),
    h("label", { for: id }, `${s.prefix ? `${s.prefix} · ` : ""}${nameOf(s)}`),
    disabled ? h("small", { id: `${id}-why`, class: "note" }, same ? t().currentService : reason) : null);
}

/** Opens the dialog for `ticket`, which now waits for service `from`. */
export function openTransfer(ticket, from) {
  moving = { ticket };
  $("transfer-title").textContent = t().transferTitle(ticket);
  $("transfer-text").textContent = t().transferText;
  const legend = $("transfer-services").querySelector("legend");
  $("transfer-services").replaceChildren(legend, ...services().map((s) => serviceChoice(s, from)));
  const first = $("transfer-services").querySelector("input:not([disabled])");
  if (first) first.checked = true;
  $("transfer-confirm").disabled = !first;
  $("transfer-dialog").returnValue = "";
  $("transfer-dialog").showModal();
  (first || $("transfer-cancel")).focus();
}

export function closeTransferDialog() {
  moving = null;
  if ($("transfer-dialog").open) $("transfer-dialog").close("cancel");
}

export function wireTransfer() {
  $("transfer-dialog").addEventListener("close", () => {
    const chosen = moving;
    moving = null;
    const picked = $("transfer-services").querySelector("input:checked:not([disabled])");
    if (chosen && picked && $("transfer-dialog").returnValue === "transfer") transfer(chosen.ticket, picked.value);
  });
}
