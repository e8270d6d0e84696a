// The public page: district → station → service, opening hours, and how busy it is, live.
import { getJson, live } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { applyTexts, language, languageSwitch, translator } from "/assets/i18n.js";
import { formatDate, hoursText, serviceName } from "/assets/format.js";

const TEXT = {
  nb: {
    title: "Åpningstider og kø", intro: "Velg politidistrikt, sted og tjeneste for å se åpningstider og hvor travelt det er nå.",
    district: "Politidistrikt", station: "Sted", service: "Tjeneste", inside: "Inne nå", queued: "I kø ute",
    waitingService: "Venter på tjenesten", hours: "Åpningstider", closed: "Stengt", openNow: "Åpent nå", closedNow: "Stengt nå",
    enter: "Kom inn", wait: "Vent ute", closedSign: "Stengt", days: ["Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag"],
    changes: "De neste 14 dagene", noChanges: "Vanlige åpningstider alle dager de neste 14 dagene.",
    closedBecause: (why) => `stengt (${why})`,
    rule: (d) => `Avstandskrav: ${d} m. Antall inne er begrenset etter romstørrelse og stoler.`,
    live: "Direkte", lost: "Forbindelsen brutt — kobler til igjen …", today: "i dag",
    estimate: "Beregnet ventetid", minutes: (n) => `ca. ${n} min`, noEstimate: "Ikke beregnet ennå",
    estimateNote: "Beregnet ut fra hvor lenge de siste besøkende var ved skranken og hvor mange skranker som betjener tjenesten nå.",
    lessThanMinute: "under ett minutt", unknownSign: "Ukjent nå",
    staleNote: "Forbindelsen er brutt. Skiltet viser ikke hvordan det er nå — kobler til igjen …",
    address: "Adresse", lastCheckIn: (at) => `Siste innsjekk i dag: ${at}`,
    noMoreCheckIns: "Tar ikke imot flere i dag", noMoreCheckInsSign: "Ingen flere i dag",
  },
  en: {
    title: "Opening hours and queue", intro: "Choose police district, station and service to see opening hours and how busy it is now.",
    district: "Police district", station: "Station", service: "Service", inside: "Inside now", queued: "Queued outside",
    waitingService: "Waiting for this service", hours: "Opening hours", closed: "Closed", openNow: "Open now", closedNow: "Closed now",
    enter: "Enter", wait: "Wait outside", closedSign: "Closed", days: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    changes: "The next 14 days", noChanges: "Regular hours every day for the next 14 days.",
    closedBecause: (why) => `closed (${why})`,
    rule: (d) => `Distancing: ${d} m. The number inside is limited by the room's size and chairs.`,
    live: "Live", lost: "Connection lost — reconnecting …", today: "today",
    estimate: "Estimated wait", minutes: (n) => `about ${n} min`, noEstimate: "No estimate yet",
    estimateNote: "Estimated from how long recent visitors spent at the desk and how many desks serve this service now.",
    lessThanMinute: "less than a minute", unknownSign: "Unknown now",
    staleNote: "Connection lost. The sign may not show how it is now — reconnecting …",
    address: "Address", lastCheckIn: (at) => `Last check-in today: ${at}`,
    noMoreCheckIns: "No more check-ins today", noMoreCheckInsSign: "None today",
  },
};
const DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

let directory = null;
let latest = null;
let closeLive = null;
/** The live socket: null until it first opens or fails, then "open" or "lost". While it is lost
 * the last document may be old, so the page must not present its sign as the current one. */
let connection = null;
/** The coming 14 dates of the chosen service, from /api/v1/opening-hours. */
let upcoming = null;
const t = translator(TEXT);

function applyLanguage() {
  applyTexts(TEXT, () => {
    document.title = `${t().title} — lobbywatch`;
    fillServices(false);
    render();
  });
}

function selected() {
  const district = directory?.districts.find((d) => d.id === $("district").value);
  const station = district?.stations.find((s) => s.id === $("station").value);
  const service = station?.services.find((s) => s.id === $("service").value);
  return { district, station, service };
}

function options(select, items, label, keep) {
  const previous = select.value;
  select.replaceChildren(...items.map((i) => h("option", { value: i.id }, label(i))));
  if (keep && items.some((i) => i.id === previous)) select.value = previous;
}

function fillDistricts() {
  options($("district"), directory.districts, (d) => d.name, true);
  const wanted = new URLSearchParams(location.hash.slice(1));
  if (wanted.get("district")) $("district").value = wanted.get("district");
  fillStations(false);
  if (wanted.get("station")) $("station").value = wanted.get("station");
  fillServices(false);
  if (wanted.get("service")) $("service").value = wanted.get("service");
  choose();
}

function fillStations(andChoose = true) {
  const { district } = selected();
  options($("station"), district ? district.stations : [], (s) => s.name, false);
  if (andChoose) { fillServices(false); choose(); }
}

function fillServices(andChoose = true) {
  const { station } = selected();
  options($("service"), station ? station.services : [], serviceName, true);
  if (andChoose) choose();
}

function choose() {
  const { district, station, service } = selected();
  if (!station || !service) return;
  history.replaceState(null, "", `#district=${district.id}&station=${station.id}&service=${service.id}`);
  if (closeLive) closeLive();
  latest = null;
  connection = null;
  closeLive = live(`/api/v1/stations/${station.id}/public/live`, (doc) => {
    latest = doc;
    render();
  }, (state) => {
    connection = state;
    render();
  });
  upcoming = null;
  const wanted = `${station.id}/${service.id}`;
  getJson(`/api/v1/opening-hours?station=${encodeURIComponent(station.id)}&service=${encodeURIComponent(service.id)}`)
    .then((answer) => {
      // Ignore an answer that arrives after the visitor chose something else.
      const now = selected();
      if (`${now.station?.id}/${now.service?.id}` !== wanted) return;
      upcoming = answer.stations[0]?.services[0]?.dates ?? [];
      render();
    })
    .catch(() => { upcoming = []; render(); });
  render();
}

/** Only the dates that differ from the weekly hours: holidays and announced changes. */
function renderChanges() {
  const list = $("changes");
  if (!upcoming) { list.replaceChildren(); return; }
  const changes = upcoming.filter((d) => d.basis.kind !== "weekly");
  if (!changes.length) {
    list.replaceChildren(h("li", { class: "note" }, t().noChanges));
    return;
  }
  list.replaceChildren(...changes.map((d) => {
    const date = formatDate(`${d.date}T12:00:00Z`);
    const why = d.basis.kind === "holiday" ? (language() === "en" ? d.basis.name_en : d.basis.name) : d.basis.reason;
    const hours = d.open ? `${hoursText(d.hours.join(", "))} (${why})` : t().closedBecause(why);
    return h("li", { dataset: { date: d.date } }, h("strong", {}, date), `: ${hours}`);
  }));
}

function render() {
  const { service } = selected();
  if (!service) return;
  renderChanges();
  $("result").hidden = false;
  const todayIndex = latest ? todayIn(latest.timezone) : -1;
  $("hours").replaceChildren(...service.week.map((day, i) => {
    const hours = day.ranges.length ? hoursText(day.ranges.join(", ")) : t().closed;
    const today = i === todayIndex;
    return h("tr", { class: today ? "today" : "", dataset: { day: DAY_KEYS[i] } },
      h("th", { scope: "row" }, t().days[i], today ? [" ", h("small", {}, `(${t().today})`)] : null), h("td", {}, hours));
  }));
  renderAddress();
  renderConnection();
  if (!latest) return;
  const live = latest.services.find((s) => s.id === service.id);
  renderSign(live);
  $("occupancy").textContent = `${latest.headcount} / ${latest.cap}`;
  $("queued").textContent = String(latest.outside_total ?? latest.outside.length);
  $("waiting").textContent = live ? String(live.waiting_inside + live.waiting_outside) : "–";
  // No number is better than a made-up one: the service sends null until it has measured.
  const minutes = live ? live.estimated_wait_min : null;
  $("estimate").textContent = estimateText(minutes);
  $("estimate").title = t().estimateNote;
  $("estimate").classList.toggle("none", minutes == null);
  renderOpenNow(live);
  $("rule").textContent = t().rule(latest.distancing_m);
}

/** "about 4 min"; under a minute is "less than a minute", never "about 0 min". */
function estimateText(minutes) {
  if (minutes == null) return t().noEstimate;
  return minutes < 1 ? t().lessThanMinute : t().minutes(minutes);
}

/** What the sign says for `live` (the chosen service in the latest document). A lost connection
 * makes it unknown: the last ENTER may no longer be true. A service past its last check-in is
 * unavailable even while the station is open. */
function signOf(live) {
  if (connection !== "open") return "unknown";
  if (!live || !live.open) return "closed";
  if (live.taking_check_ins === false) return "no_more";
  return latest.sign;
}

function renderSign(live) {
  const sign = signOf(live);
  const text = {
    enter: `✓ ${t().enter}`, wait_outside: `■ ${t().wait}`, closed: `× ${t().closedSign}`,
    no_more: `× ${t().noMoreCheckInsSign}`, unknown: `? ${t().unknownSign}`,
  }[sign] ?? `? ${t().unknownSign}`;
  $("sign").textContent = text;
  $("sign").className = `sign ${sign}`;
  $("sign").dataset.sign = sign;
}

/** Open now and today's hours; the last check-in and whether it has passed. */
function renderOpenNow(live) {
  const open = Boolean(live?.open);
  $("open-now").textContent = open ? `${t().openNow} (${hoursText(live.hours_today)})` : t().closedNow;
  $("open-now").className = `open-now ${open ? "yes" : "no"}`;
  const last = open ? live.last_check_in : null;
  const past = open && live.taking_check_ins === false;
  $("last-check-in").hidden = !last && !past;
  $("last-check-in").textContent = [last ? t().lastCheckIn(last) : "", past ? t().noMoreCheckIns : ""].filter(Boolean).join(" — ");
  $("last-check-in").classList.toggle("past", past);
}

function renderAddress() {
  const { station } = selected();
  const address = station?.address;
  $("address").hidden = !address;
  if (address) $("address").replaceChildren(h("span", { class: "label" }, `${t().address}: `), address);
}

/** Where the sign is: a lost connection says so prominently, and the figures are dimmed. */
function renderConnection() {
  const lost = connection === "lost";
  $("stale").hidden = !lost;
  $("stale").textContent = lost ? t().staleNote : "";
  $("result").classList.toggle("stale", lost);
  $("conn").textContent = connection === "open" ? `● ${t().live}` : lost ? t().lost : "";
  $("conn").className = `conn ${connection ?? ""}`;
}

/** Monday-based index of today in the station's timezone, from the document's clock. */
function todayIn(timezone) {
  const weekday = new Intl.DateTimeFormat("en-GB", { weekday: "short", timeZone: timezone }).format(new Date(latest.as_of));
  return ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(weekday);
}

$("district").addEventListener("change", () => fillStations());
$("station").addEventListener("change", () => fillServices());
$("service").addEventListener("change", () => choose());
languageSwitch(applyLanguage);

getJson("/api/v1/stations")
  .then((d) => {
    directory = d;
    fillDistricts();
    applyLanguage();
  })
  .catch((e) => {
    $("error").hidden = false;
    $("error").textContent = e.message;
  });
