// Unit tests of the dashboard's reading of alerts: the cleaning alert grouped per station
// (`params.surfaces`) and the older one per surface (`surface`) give the same due surfaces and
// titles, and a closed station's hints are worked out. tests/api/browser/dashboard.rs opens
// dashboard.test.html in headless Chromium (served only by `--web-dir`, never embedded) and reads
// the results: each test is an `li[data-test]` with `data-result` "pass" or "fail".
import { loadCatalogue } from "/assets/i18n.js";
import { dueSurfaces } from "/assets/dashboard/due.js";
import { alertTitle, hints } from "/assets/dashboard/alerts.js";
import { assertEqual, runAll, test } from "/tests/runner.js";

const SINCE = "2026-11-30T08:40:00Z";

/** A station document with just what these tests read. */
function doc(alerts, extra = {}) {
  return { alerts, open: true, headcount: 0, outside: [], please_enter: [], inside: {}, corrections: 0, services: [], ...extra };
}

const grouped = (state = "active") => ({
  id: 7, kind: "cleaning_due", state, since: SINCE, detail: "door handles, counter: due",
  params: { surfaces: [{ surface: "door handles", visitors: 52, since: SINCE }, { surface: "counter", visitors: 50, since: SINCE }] },
});
const single = (id, surface, state = "active") => ({ id, kind: "cleaning_due", state, since: SINCE, detail: `${surface}: due`, surface });

test("a grouped cleaning alert names every surface with its visitors", () => {
  const due = dueSurfaces(doc([grouped()]));
  assertEqual([...due.keys()], ["door handles", "counter"], "surfaces");
  assertEqual(due.get("door handles").visitors, 52, "visitors");
});

test("alerts per surface give the same surfaces, a cleared one none", () => {
  const due = dueSurfaces(doc([single(1, "door handles"), single(2, "counter", "acknowledged"), single(3, "chairs", "cleared")]));
  assertEqual([...due.keys()], ["door handles", "counter"], "surfaces");
});

test("a cleared grouped alert leaves nothing due", () => {
  assertEqual(dueSurfaces(doc([grouped("cleared")])).size, 0, "due");
});

test("a grouped cleaning alert's title lists its surfaces in bokmål", () => {
  const a = grouped();
  assertEqual(alertTitle({ doc: doc([a]) }, a), "Rengjøring trengs: dørhåndtak og skranke", "title");
});

test("an alert per surface keeps its one surface in the title", () => {
  const a = single(1, "ticket machine");
  assertEqual(alertTitle({ doc: doc([a]) }, a), "Rengjøring trengs: billettautomat", "title");
});

test("a closed station with people inside and outside gets its hint", () => {
  const closed = doc([], { open: false, headcount: 2, outside: [{ ticket: "P009", party_size: 1, since: SINCE }] });
  const text = hints(closed).map((li) => li.textContent).join(" | ");
  if (!text.includes("Stengt, men 2 inne og 1 parti ute.")) throw new Error(`hints: ${text}`);
});

await loadCatalogue("dashboard");
runAll();
