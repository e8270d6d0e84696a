// The page for a mistyped station (/display/<x>, /terminal/<x>; served with status 404): says
// which address has no station, in the reader's language, and links to the public page, where
// every station is listed. The station's name is put in as text, never as markup.
import { applyTexts, translator } from "/assets/i18n.js";

const TEXT = {
  nb: {
    "common.missingTitle": "Fant ikke stedet",
    missingWhat: (x) => `Det finnes ingen stasjon som heter «${x}».`,
    "common.missingHint": "Sjekk adressen: stedets navn skrives med små bokstaver og bindestrek, for eksempel /display/oslo-gronland.",
    "common.missingHome": "Til oversikten over steder og åpningstider",
  },
  en: {
    "common.missingTitle": "Station not found",
    missingWhat: (x) => `There is no station called “${x}”.`,
    "common.missingHint": "Check the address: a station's name is written in lower case with hyphens, for example /display/oslo-gronland.",
    "common.missingHome": "To the list of stations and opening hours",
  },
};
const t = translator(TEXT);

/** The station part of the address, as typed. */
function typed() {
  const raw = location.pathname.split("/").filter(Boolean)[1] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

applyTexts(TEXT, () => {
  document.getElementById("missing-what").textContent = t().missingWhat(typed());
  document.title = `${t()["common.missingTitle"]} — lobbywatch`;
});
