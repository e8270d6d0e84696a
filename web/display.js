// The lobby display: a wall screen in the waiting room, read from five metres, nothing to click.
// It listens to the station's PUBLIC live socket only — never the full document — so it cannot
// show an appointment reference even by mistake.
//
// Its parts are in display/: board.js (the live socket and everything drawn), fit.js (shrinking
// the panels to the screen), sound.js (chime and spoken announcement) and words.js (how a call is
// said aloud). This module imports nothing up front: the board is loaded only when the display's
// markup is present, so this module — and the pure helpers re-exported here (numberNb, numberEn,
// announcement) — can also be imported outside the page, e.g. by a Node test. The re-export's
// path is relative for that reason: it resolves to /assets/display/words.js in the browser and to
// web/display/words.js on disk.
export { announcement, numberEn, numberNb } from "./display/words.js";

if (typeof document !== "undefined" && document.getElementById("board") && document.getElementById("sign")) {
  import("/assets/display/board.js").then(({ start }) => start());
}
