// The public page's "join the queue from where you are": for a service the station opens to
// joins now (`joinable` in the public document), a button → party size → POST …/join → the
// ticket number and a link to its page (/t/{code}). The code is the visitor's capability: it is
// kept in this browser's localStorage (so the page finds "my ticket" again today) and nowhere
// else — never in the address bar of this page, never sent anywhere but to its own page.
import { $, h } from "/assets/dom.js";
import { say, tr } from "/assets/i18n.js";

const SLOT = "lobbywatch.myTicket";
const MAX_PARTY = 10;

/** The ticket this browser joined, if it is from today: `{ ticket, url, station, day }`. */
export function storedTicket() {
  try {
    const kept = JSON.parse(localStorage.getItem(SLOT) || "null");
    return kept && kept.day === today() ? kept : null;
  } catch {
    return null;
  }
}

function keep(ticket, url, station) {
  try {
    localStorage.setItem(SLOT, JSON.stringify({ ticket, url, station, day: today() }));
  } catch {
    /* no storage: the link on screen is still there to open */
  }
}

/** The visitor's own date: a ticket ends with the day's close-out, so yesterday's is dropped. */
function today() {
  return new Date().toLocaleDateString("en-CA");
}

/** Where we are: idle (the button), choosing (party size), sending, or done (the ticket). */
const view = { step: "idle", answer: null, error: null, station: null };

/** Draws the join section for `station`/`service` as the latest document says (`live`: the
 * service's entry in it, or null before the first document). */
export function renderJoin(station, service, live) {
  const section = $("join");
  const place = `${station?.id}/${service?.id}`;
  if (view.station !== place) Object.assign(view, { step: "idle", answer: null, error: null, station: place });
  const offered = Boolean(live?.joinable) || view.step === "done";
  section.hidden = !offered;
  renderMine();
  if (!offered) return;
  $("join-start").hidden = view.step !== "idle";
  $("join-form").hidden = view.step !== "choosing" && view.step !== "sending";
  $("join-submit").disabled = view.step === "sending";
  $("join-submit").textContent = view.step === "sending" ? tr("public.joinBusy") : tr("public.joinSubmit");
  $("join-error").hidden = !view.error;
  $("join-error").textContent = view.error ?? "";
  renderDone();
}

/** The link back to today's ticket, at the top of the page. */
function renderMine() {
  const mine = storedTicket();
  $("my-ticket").hidden = !mine;
  if (mine) {
    $("my-ticket").replaceChildren(h("a", { href: mine.url, class: "my-ticket-link" }, tr("public.myTicket", { ticket: mine.ticket })));
  }
}

function renderDone() {
  const done = $("join-done");
  const answer = view.answer;
  done.hidden = view.step !== "done";
  if (!answer) { done.replaceChildren(); return; }
  const where = answer.state === "inside" ? tr("public.joinComeNow") : tr("public.joinQueued", { n: answer.position ?? 1 });
  done.replaceChildren(
    h("p", { class: "join-ticket", dataset: { ticket: answer.ticket } }, tr("public.joinDone", { ticket: answer.ticket })),
    h("p", {}, where),
    h("a", { id: "join-link", class: "button", href: answer.ticket_link.url }, tr("public.openTicket")),
  );
}

/** Wires the section's controls; `current()` gives `{ station, service, redraw }` now. */
export function wireJoin(current) {
  const party = $("join-party");
  party.replaceChildren(...Array.from({ length: MAX_PARTY }, (_, i) => h("option", { value: String(i + 1) }, String(i + 1))));
  $("join-start").addEventListener("click", () => {
    Object.assign(view, { step: "choosing", error: null });
    current().redraw();
    party.focus();
  });
  $("join-cancel").addEventListener("click", () => {
    Object.assign(view, { step: "idle", error: null });
    current().redraw();
    $("join-start").focus();
  });
  $("join-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const { station, service, redraw } = current();
    if (!station || !service || view.step === "sending") return;
    Object.assign(view, { step: "sending", error: null });
    redraw();
    await send(station, service, Number(party.value));
    redraw();
    if (view.step === "done") $("join-link")?.focus();
  });
}

async function send(station, service, partySize) {
  try {
    const response = await fetch(`/api/v1/stations/${encodeURIComponent(station.id)}/join`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ service: service.id, party_size: partySize }),
      cache: "no-store",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      keep(body.ticket, body.ticket_link.url, station.id);
      Object.assign(view, { step: "done", answer: body });
    } else {
      // The refusal in the reader's language (the service's English `detail` where the page's
      // catalogue has no text for its code).
      Object.assign(view, { step: "choosing", error: say(body.code, body.params, body.detail) || `${response.status}` });
    }
  } catch {
    Object.assign(view, { step: "choosing", error: tr("public.joinUnreachable") });
  }
}
