// Acknowledging several alerts in one action: the ones ticked on the cards, or every active alert
// on the cards shown. One `acknowledge` event per alert, each with its own Idempotency-Key (kept
// for a retry while its answer is unknown), and one line per alert saying how it went.
import { newKey, postEvent } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { say, tr } from "/assets/i18n.js";
import { current, expired } from "/assets/dashboard/session.js";
import { renderAlerts } from "/assets/dashboard/alerts.js";

/** The Idempotency-Key of each alert's unanswered acknowledgement, by station and alert id. */
const keys = new Map();

/** Every active alert on the cards shown, as `{ st, li, pick }`; `ticked` keeps the ticked ones. */
function targets(ticked) {
  if (!current) return [];
  const found = [];
  for (const st of current.stations.values()) {
    if (st.el.hidden) continue;
    for (const li of st.el.querySelectorAll('.open-alerts li[data-state="active"]')) {
      const pick = li.querySelector("input.alert-pick");
      if (pick && (!ticked || pick.checked)) found.push({ st, li, pick });
    }
  }
  return found;
}

/** The two buttons' counts; called after every document, filter change and tick. */
export function renderBulk() {
  const ticked = targets(true).length;
  const shown = targets(false).length;
  $("ack-selected").textContent = tr("dashboard.ackSelected", { n: ticked });
  $("ack-selected").disabled = ticked === 0;
  $("ack-shown").textContent = tr("dashboard.ackAllShown", { n: shown });
  $("ack-shown").disabled = shown === 0;
}

/** One alert's acknowledgement: `{ ok, text }`, or null once the token is refused. */
async function acknowledgeOne(session, { st, li }) {
  const id = Number(li.dataset.alert);
  const what = li.querySelector(".alert-title")?.textContent || "";
  const slot = `${st.id}|${id}`;
  if (!keys.has(slot)) keys.set(slot, newKey());
  const alertKey = li.dataset.key;
  st.acking.add(alertKey);
  let answer = null;
  try {
    answer = await postEvent(st.id, session.token, keys.get(slot), { kind: "acknowledge", alert: id });
  } catch {
    /* reported below; the key is kept for the retry */
  } finally {
    st.acking.delete(alertKey);
  }
  if (!answer) return { ok: false, text: tr("dashboard.bulkFail", { s: st.name, what, why: tr("dashboard.netFail") }) };
  const { status, body, replayed } = answer;
  const inFlight = status === 409 && body.type === "/problems/request-in-flight";
  if (!inFlight && status < 500) keys.delete(slot);
  if (status === 401) return null;
  if (status >= 200 && status < 300) return { ok: true, text: tr("dashboard.bulkOk", { s: st.name, what }) + (replayed ? tr("dashboard.replayed") : "") };
  return { ok: false, text: tr("dashboard.bulkFail", { s: st.name, what, why: inFlight ? tr("dashboard.inFlight") : say(body.code, body.params, body.detail || body.title || `HTTP ${status}`) }) };
}

async function acknowledgeAll(list) {
  const session = current;
  if (!session || !list.length) return;
  const box = $("bulk-result");
  box.hidden = false;
  box.replaceChildren(h("li", {}, tr("dashboard.bulkSending", { n: list.length })));
  for (const button of [$("ack-selected"), $("ack-shown")]) button.disabled = true;
  const results = await Promise.all(list.map((target) => acknowledgeOne(session, target)));
  if (current !== session) return;
  if (results.includes(null)) { expired(); return; }
  list.forEach((target, i) => { if (results[i].ok) target.pick.checked = false; });
  const ok = results.filter((r) => r.ok).length;
  box.replaceChildren(h("li", { class: "summary" }, tr("dashboard.bulkDone", { ok, n: list.length })),
    ...results.map((r) => h("li", { class: r.ok ? "ok" : "bad" }, r.text)));
  for (const st of new Set(list.map((target) => target.st))) if (st.doc) renderAlerts(st);
  renderBulk();
}

$("ack-selected").addEventListener("click", () => acknowledgeAll(targets(true)));
$("ack-shown").addEventListener("click", () => acknowledgeAll(targets(false)));
$("cards").addEventListener("change", (event) => {
  if (event.target.matches("input.alert-pick")) renderBulk();
});
