// A ticket's view (GET /api/v1/tickets/{code}) in plain words: which moment it is (`mode`, for
// the page's colours and its alerts), the headline and the detail line. Only words here: what
// the page does with them is in ticket.js.
import { tr } from "/assets/i18n.js";
import { formatTime } from "/assets/format.js";

/** The moments a visitor must act on: the page alerts when one begins. */
export const ACT_NOW = new Set(["walk", "come_in", "called"]);

/** `{ mode, headline, detail }` for `view`. */
export function describe(view) {
  switch (view.state) {
    case "waiting":
      return waiting(view);
    case "come_in":
      return {
        mode: "come_in",
        headline: tr("ticket.comeIn"),
        detail: view.remote && view.come_back_by
          ? tr("ticket.heldUntil", { time: formatTime(view.come_back_by, { timeZone: view.timezone }) })
          : tr("ticket.comeInDetail"),
      };
    case "inside":
      return { mode: "inside", headline: tr("ticket.inside"), detail: tr("ticket.insideDetail") };
    case "called":
      return { mode: "called", headline: tr("ticket.called", { desk: view.desk ?? "" }), detail: tr("ticket.calledDetail") };
    case "served":
      return ended(tr("ticket.served"), "");
    case "no_show":
      return ended(tr("ticket.noShow"), tr("ticket.endedHint"));
    case "left":
      return ended(tr("ticket.left"), tr("ticket.endedHint"));
    case "come_back_missed":
      return ended(tr("ticket.comeBackMissed"), tr("ticket.endedHint"));
    case "closed":
      return ended(tr("ticket.closed"), tr("ticket.closedDetail"));
    default:
      return { mode: "inside", headline: view.state, detail: "" };
  }
}

function waiting(view) {
  if (view.start_walking) {
    return { mode: "walk", headline: tr("ticket.startWalking"), detail: tr("ticket.startWalkingDetail", { n: view.ahead ?? 0 }) };
  }
  const headline = view.ahead === 0 ? tr("ticket.youAreNext") : tr("ticket.ahead", { n: view.ahead ?? 0 });
  const when = view.expected_enter_min == null
    ? tr("ticket.noEstimate")
    : tr("ticket.expected", { n: view.expected_enter_min });
  const detail = view.remote ? `${when} ${tr("ticket.waitingElsewhere")}` : when;
  return { mode: "waiting", headline, detail };
}

function ended(headline, detail) {
  return { mode: "ended", headline, detail };
}

/** The station's sign at the door, in words. */
export function signText(sign) {
  return { enter: tr("ticket.signEnter"), wait_outside: tr("ticket.signWaitOutside"), closed: tr("ticket.signClosed") }[sign] ?? "";
}
