// The page for a mistyped station (/display/<x>, /terminal/<x>; served with status 404): says
// which address has no station, in the reader's language (the catalogue's "common" section), and
// links to the public page, where every station is listed. The name is put in as text, never as
// markup.
import { applyCatalogue, loadCatalogue, tr } from "/assets/i18n.js";

/** The station part of the address, as typed. */
function typed() {
  const raw = location.pathname.split("/").filter(Boolean)[1] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

loadCatalogue("common").then(() => applyCatalogue(() => {
  document.getElementById("missing-what").textContent = tr("common.missingWhat", { station: typed() });
  document.title = `${tr("common.missingTitle")} — lobbywatch`;
}));
