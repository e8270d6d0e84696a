// The front-desk terminal: check parties in, check them out, call the next ticket — and never lose
// or double one of those actions, even while the service is unreachable.
//
// Every action goes through the outbox (outbox.js): it is written to localStorage (with its own
// Idempotency-Key) BEFORE anything is sent, and one sender sends the outbox strictly in order.
// A retry reuses the entry's key, so the service applies each action exactly once however many
// times it is sent. The live socket only ever *shows* state; it never decides whether an action
// happened.
//
// This module wires the parts in terminal/ and starts the page:
//   state.js        the shared state (station, token, /me, live document, recent results) and the
//                   outbox with its sender
//   view.js         clocks, focus-keeping redraws, error lines, an action in words
//   render.js       header, status, check-in buttons, last ticket / last call, recent calls
//   lists.js        inside and outside lists with their buttons
//   outbox-view.js  the outbox banner, held actions, results, the sign-in form's note
//   actions.js      check-in, check-out, no-show, call next, recall, transfer; their answers
//   discard.js      discarding another device's waiting actions
//   current.js      the desk's current visitor, served-for timer, the service's clock
//   call-confirm.js "call next" asks first while the desk has a called ticket; recall
//   transfer.js     moving a waiting ticket to another service
//   undo.js         a no-show waits a few seconds with "Undo" before it is queued
//   availability.js whether a service takes check-ins now, and why not
//   slip.js         the issued ticket's link (QR code, short link) and its printed slip
//   booking.js      checking a booked party in by its code or reference; early/late against its slot
//   camera.js       reading a booking's QR code with the camera, where the browser can
//   remote.js       parties waiting elsewhere and those on the way in, marked "Arrived"
//   session.js      signing in and out, the live socket
//   controls.js     the controls and keyboard shortcuts
//   text.js         the texts (the catalogue's "terminal" section) and the icons
import { getJson } from "/assets/common.js";
import { languagePicker, loadCatalogue } from "/assets/i18n.js";
import { outbox, readOutbox, retryNow, sendSoon, sender, senderHooks, station, state } from "/assets/terminal/state.js";
import { applyLanguage, renderCalled, renderHeader, renderIssued } from "/assets/terminal/render.js";
import { renderLists } from "/assets/terminal/lists.js";
import { renderOutbox, renderSignInOutbox } from "/assets/terminal/outbox-view.js";
import { restoreRecent, settle } from "/assets/terminal/actions.js";
import { wireDiscard } from "/assets/terminal/discard.js";
import { resumeOrSignIn, tokenRefused, wireSignIn } from "/assets/terminal/session.js";
import { wireControls } from "/assets/terminal/controls.js";
import { wireCallConfirm } from "/assets/terminal/call-confirm.js";
import { wireTransfer } from "/assets/terminal/transfer.js";
import { renderUndo, wireUndo } from "/assets/terminal/undo.js";
import { renderCurrent } from "/assets/terminal/current.js";
import { wireSlip } from "/assets/terminal/slip.js";
import { settleBooking, wireBooking } from "/assets/terminal/booking.js";
import { wireCamera } from "/assets/terminal/camera.js";

senderHooks.answer = (entry, answer) => {
  settle(entry, answer);
  settleBooking(entry, answer);
};
senderHooks.tokenRefused = tokenRefused;
senderHooks.change = (running) => {
  renderOutbox();
  if (running) return;
  renderLists();
  renderIssued();
  renderCalled();
};

wireSignIn();
wireControls();
wireDiscard();
wireCallConfirm();
wireTransfer();
wireUndo();
wireSlip();
wireBooking();
wireCamera();
languagePicker(applyLanguage);

// The sender wakes up whenever there is a reason to believe the service is reachable again.
window.addEventListener("online", retryNow);
// Another tab of this station changed the outbox: show it, and help send it.
window.addEventListener("storage", (e) => {
  if (e.key !== outbox.slot) return;
  renderOutbox();
  renderLists();
  renderSignInOutbox();
  if (state.token) sendSoon();
});
// Counts the "next attempt in N s" down while waiting; ticks the served-for timer and the
// no-shows' undo countdowns.
setInterval(() => {
  if (state.token && sender.trouble && readOutbox().length) renderOutbox();
  renderCurrent();
  if (state.noShowSoon.size) renderUndo();
}, 1000);

restoreRecent();
// The texts come first: every message the desk shows is in the chosen language.
loadCatalogue("terminal").then(() => {
  applyLanguage();
  // The station's name for the header and the sign-in messages, from the public directory (no
  // token needed); a failure only leaves the id showing.
  getJson("/api/v1/stations").then((directory) => {
    for (const district of directory.districts || []) {
      const found = (district.stations || []).find((s) => s.id === station);
      if (found && !state.cache?.name) {
        state.cache = { ...(state.cache || {}), name: found.name };
        renderHeader();
      }
    }
  }).catch(() => {});
  resumeOrSignIn();
});
