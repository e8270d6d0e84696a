// Whether a service takes check-ins (and transfers) now, and if not, why — so a button for a
// service that is closed or past its last check-in is disabled with the reason on it before
// anyone taps it, instead of being refused after.
import { t } from "/assets/terminal/state.js";

/** `{ ok, reason }` for service `s` of the status document. `taking_check_ins` (false past the
 * last check-in of the day, or while closed) is the service's word when the document has it. */
export function availability(s) {
  if (!s.open) return { ok: false, reason: t().closed };
  if (s.taking_check_ins === false) {
    return { ok: false, reason: s.last_check_in ? t().pastLastCheckIn(s.last_check_in) : t().closed };
  }
  return { ok: true, reason: null };
}
