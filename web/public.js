// The public page: district → station → service, opening hours, and how busy it is, live; joining
// the queue from elsewhere (public/join.js) and booking a time (public/booking.js).
import { getJson, live } from "/assets/common.js";
import { $, h } from "/assets/dom.js";
import { applyCatalogue, loadCatalogue, languagePicker, namesIn, tr } from "/assets/i18n.js";
import { formatDate, hoursText, serviceName } from "/assets/format.js";
import { renderJoin, wireJoin } from "/assets/public/join.js";
import { renderBooking, wireBooking } from "/assets/public/booking.js";

const DAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

let directory = null;
let latest = null;
let closeLive = null;
/** The live socket: null until it first opens or fails, then "open" or "lost". While it is lost
 * the last document may be old, so the page must not present its sign as the current one. */
let connection = null;
/** The coming 14 dates of the chosen service, from /api/v1/opening-hours. */
let upcoming = null;

function applyLanguage() {
  applyCatalogue(() => {
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
    list.replaceChildren(h("li", { class: "note" }, tr("public.noChanges")));
    return;
  }
  list.replaceChildren(...changes.map((d) => {
    const date = formatDate(`${d.date}T12:00:00Z`);
    const why = d.basis.kind === "holiday" ? (namesIn() === "en" ? d.basis.name_en : d.basis.name) : d.basis.reason;
    const hours = d.open ? `${hoursText(d.hours.join(", "))} (${why})` : tr("public.closedBecause", { why });
    return h("li", { dataset: { date: d.date } }, h("strong", {}, date), `: ${hours}`);
  }));
}

function render() {
  const { station, service } = selected();
  if (!service) return;
  renderChanges();
  $("result").hidden = false;
  const todayIndex = latest ? todayIn(latest.timezone) : -1;
  $("hours").replaceChildren(...service.week.map((day, i) => {
    const hours = day.ranges.length ? hoursText(day.ranges.join(", ")) : tr("public.closed");
    const today = i === todayIndex;
    return h("tr", { class: today ? "today" : "", dataset: { day: DAY_KEYS[i] } },
      h("th", { scope: "row" }, tr("public.days")[i], today ? [" ", h("small", {}, `(${tr("public.today")})`)] : null), h("td", {}, hours));
  }));
  renderAddress();
  renderConnection();
  const live = latest?.services.find((s) => s.id === service.id);
  // Joining needs the service's word that it is open to joins now: not offered while offline.
  renderJoin(station, service, connection === "open" ? live : null);
  renderBooking(selected().district, station, service, latest);
  if (!latest) return;
  renderSign(live);
  $("occupancy").textContent = `${latest.headcount} / ${latest.cap}`;
  // The queue at the door: parties waiting elsewhere keep their place but are not there.
  $("queued").textContent = String(latest.outside_at_door ?? latest.outside_total ?? latest.outside.length);
  $("waiting").textContent = live ? String(live.waiting_inside + live.waiting_outside) : "–";
  // No number is better than a made-up one: the service sends null until it has measured.
  const minutes = live ? live.estimated_wait_min : null;
  $("estimate").textContent = estimateText(minutes);
  $("estimate").title = tr("public.estimateNote");
  $("estimate").classList.toggle("none", minutes == null);
  renderOpenNow(live);
  $("rule").textContent = tr("public.rule", { d: latest.distancing_m });
}

/** "about 4 min"; under a minute is "less than a minute", never "about 0 min". */
function estimateText(minutes) {
  if (minutes == null) return tr("public.noEstimate");
  return minutes < 1 ? tr("public.lessThanMinute") : tr("public.minutes", { n: minutes });
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
    enter: `✓ ${tr("public.enter")}`, wait_outside: `■ ${tr("public.wait")}`, closed: `× ${tr("public.closedSign")}`,
    no_more: `× ${tr("public.noMoreCheckInsSign")}`, unknown: `? ${tr("public.unknownSign")}`,
  }[sign] ?? `? ${tr("public.unknownSign")}`;
  $("sign").textContent = text;
  $("sign").className = `sign ${sign}`;
  $("sign").dataset.sign = sign;
}

/** Open now and today's hours; the last check-in and whether it has passed. */
function renderOpenNow(live) {
  const open = Boolean(live?.open);
  $("open-now").textContent = open ? `${tr("public.openNow")} (${hoursText(live.hours_today)})` : tr("public.closedNow");
  $("open-now").className = `open-now ${open ? "yes" : "no"}`;
  const last = open ? live.last_check_in : null;
  const past = open && live.taking_check_ins === false;
  $("last-check-in").hidden = !last && !past;
  $("last-check-in").textContent = [last ? tr("public.lastCheckIn", { at: last }) : "", past ? tr("public.noMoreCheckIns") : ""].filter(Boolean).join(" — ");
  $("last-check-in").classList.toggle("past", past);
}

function renderAddress() {
  const { station } = selected();
  const address = station?.address;
  $("address").hidden = !address;
  if (address) $("address").replaceChildren(h("span", { class: "label" }, `${tr("public.address")}: `), address);
}

/** Where the sign is: a lost connection says so prominently, and the figures are dimmed. */
function renderConnection() {
  const lost = connection === "lost";
  $("stale").hidden = !lost;
  $("stale").textContent = lost ? tr("public.staleNote") : "";
  $("result").classList.toggle("stale", lost);
  $("conn").textContent = connection === "open" ? `● ${tr("public.live")}` : lost ? tr("public.lost") : "";
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
languagePicker(applyLanguage);
wireJoin(() => ({ ...selected(), redraw: render }));
wireBooking(() => ({ ...selected(), redraw: render }), (stationId) => {
  $("station").value = stationId;
  fillServices();
});

loadCatalogue("public")
  .then(() => getJson("/api/v1/stations"))
  .then((d) => {
    directory = d;
    fillDistricts();
    applyLanguage();
  })
  .catch((e) => {
    $("error").hidden = false;
    $("error").textContent = e.message;
  });
