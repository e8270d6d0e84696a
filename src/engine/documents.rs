//! What a station tells people: the status documents built from its state, and the alerts'
//! texts for guards.
//!
//! The document types are plain data in `domain/status.rs`; this file fills them from a
//! [`Station`] at a given instant (opening hours and wait estimates depend on it). The alert
//! conditions are worked out here too, each with the English detail a guard reads, because they
//! read the same numbers the documents show.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

use super::Station;
use super::alerts::{CLEARED_KEPT, Condition};
use super::desks::CALLS_KEPT;
use super::waits::{self, Pace, wait_minutes};
use crate::domain::alert::{Alert, AlertState};
use crate::domain::message::Message;
use crate::domain::status::{
    CLEANING_LISTED, CapBasis, CleaningRecord, INSIDE_LISTED, InsideParty, OPEN_ALERTS_LISTED,
    OUTSIDE_LISTED, OutsideParty, PublicStatus, ServiceStatus, Sign, StationStatus,
};
use crate::domain::{Event, ServiceId, reasons};

/// The largest a serialized party outside can be: its appointment is 64 characters of up to 4
/// bytes in UTF-8 (256), a service id 64, a ticket a prefix and 10 digits, a time 30, the
/// numbers and keys about 120 — ~520, with room to spare.
pub const OUTSIDE_PARTY_MAX: usize = 640;
/// A party inside: as outside, with three times and a 16-byte desk instead of the service.
pub const INSIDE_PARTY_MAX: usize = 768;
/// An alert: a ticket or service and its names, in params and again in the detail (an
/// over-cap cause's reason of up to 200 characters of up to 4 bytes, twice), a device id (up to
/// 256 bytes) that acknowledged it, four times.
pub const ALERT_MAX: usize = 3072;
/// The due surfaces a cleaning alert lists (tracked surfaces in the config's order).
pub const CLEANING_ALERT_SURFACES: usize = 8;
/// A cleaning alert: as any alert, plus its surfaces (a surface of up to 256 bytes, its count
/// and time, ~320 bytes) in params and again in the detail.
pub const CLEANING_ALERT_MAX: usize = ALERT_MAX + 2 * CLEANING_ALERT_SURFACES * 320;
/// A cleaning record: a surface (256) and a time.
pub const CLEANING_MAX: usize = 384;
/// A call: ticket, desk, time.
pub const CALL_MAX: usize = 192;
/// A ticket in `please_enter`, with its comma.
pub const TICKET_MAX: usize = 20;
/// Everything in a document that the config decides rather than the day: names, the cap's
/// basis, every service with its week. The sample's largest station takes ~3 KiB.
pub const CONFIG_PART_MAX: usize = 64 * 1024;

/// The largest status document any state of a station can produce (the full one; the public one
/// is a subset): the config's part plus every list at its bound, each item at its largest. A
/// guard's stream of several stations sends one station's document per message, so this bounds
/// every message a live socket sends, and the sockets' output allowance follows from it.
pub const MAX_DOCUMENT_BYTES: usize = CONFIG_PART_MAX
    + OUTSIDE_LISTED * OUTSIDE_PARTY_MAX
    + INSIDE_LISTED * (INSIDE_PARTY_MAX + TICKET_MAX)
    + (OPEN_ALERTS_LISTED + CLEARED_KEPT) * ALERT_MAX
    // One cleaning alert open at a time, and any of the cleared.
    + (1 + CLEARED_KEPT) * (CLEANING_ALERT_MAX - ALERT_MAX)
    + CLEANING_LISTED * CLEANING_MAX
    + CALLS_KEPT * CALL_MAX;

/// Checks that what `station`'s config puts in every status document (names, the cap's basis,
/// every service with its week) fits [`CONFIG_PART_MAX`], so that [`MAX_DOCUMENT_BYTES`], and
/// with it every live socket's allowance, holds for every state the station can reach. The error
/// names the station and what to shorten.
pub fn check_config_part(station: &Station, now: DateTime<Utc>) -> Result<(), String> {
    let bytes = station.config_part_bytes(now);
    if bytes > CONFIG_PART_MAX {
        return Err(format!(
            "station '{}': what its config puts in every status document (names, services, \
             their weekly hours) is {bytes} bytes, over the {CONFIG_PART_MAX} a live socket \
             allows for it; use shorter names or fewer hour ranges",
            station.config().id
        ));
    }
    Ok(())
}

/// The cause an over-cap alert names when no correction, override or rule change put the
/// headcount over the cap (a config that shrank the room since, say).
const UNRECORDED_CAUSE: &str = "cause.unrecorded";

impl Station {
    /// The bytes of the full document at `now` with every list the day fills left empty: the
    /// part the config alone decides.
    pub fn config_part_bytes(&self, now: DateTime<Utc>) -> usize {
        let mut doc = self.status(now);
        doc.outside.clear();
        doc.inside.clear();
        doc.please_enter.clear();
        doc.alerts.clear();
        doc.cleaning.clear();
        doc.calls.clear();
        serde_json::to_vec(&doc).map_or(usize::MAX, |json| json.len())
    }

    /// The full status document at `now` (opening hours are judged at `now`).
    pub fn status(&self, now: DateTime<Utc>) -> StationStatus {
        let (services, departures_per_s) = self.services_status(now);
        self.status_with(now, services, departures_per_s)
    }

    /// The full status document and the board of linked tickets at `now`, what is published
    /// after every event: the services' status worked out once for both.
    pub fn documents(&self, now: DateTime<Utc>) -> (StationStatus, super::TicketBoard) {
        let (services, departures_per_s) = self.services_status(now);
        let board = self.ticket_board_with(now, services.clone(), departures_per_s);
        (self.status_with(now, services, departures_per_s), board)
    }

    fn status_with(
        &self,
        now: DateTime<Utc>,
        services: Vec<ServiceStatus>,
        departures_per_s: Option<f64>,
    ) -> StationStatus {
        let cfg = &self.config;
        let open = services.iter().any(|s| s.open);
        let state = &self.state;
        StationStatus {
            station: cfg.id.clone(),
            name: cfg.name.clone(),
            district: cfg.district.clone(),
            seq: state.seq,
            as_of: now,
            timezone: cfg.timezone.to_string(),
            open,
            sign: self.sign(open),
            headcount: self.headcount(),
            cap: self.capacity.cap,
            cap_basis: self.cap_basis(),
            corrections: state.corrections,
            queue_line_places: self.queue_line_places,
            outside: self.outside_listing(departures_per_s),
            outside_total: state.outside.len() as u32,
            outside_people: state.outside.iter().map(|p| p.size.get()).sum(),
            outside_at_door: state.outside.iter().filter(|p| !p.remote).count() as u32,
            people_at_door: self.at_door_people(),
            outside_remote: state.outside.iter().filter(|p| p.remote).count() as u32,
            held: self.held(),
            bookings_due: self.bookings_soon(now),
            inside: self.inside_by_service(),
            inside_total: state.inside.len() as u32,
            please_enter: self.asked_in(false),
            coming: self.asked_in(true),
            calls: state.calls.iter().cloned().collect(),
            cleaning: self.cleaning_listing(),
            alerts: self.alerts_listing(),
            open_alerts_total: state.alerts.open().len() as u32,
            services,
        }
    }

    /// Tickets asked in and not yet called, in order: those at hand, or (`remote`) those on
    /// their way from elsewhere.
    fn asked_in(&self, remote: bool) -> Vec<crate::domain::Ticket> {
        self.state
            .inside
            .iter()
            .filter(|p| p.asked_in && p.remote == remote)
            .map(|p| p.ticket)
            .take(INSIDE_LISTED)
            .collect()
    }

    /// The public document at `now`: built from the full one through its field-by-field copy.
    pub fn public_status(&self, now: DateTime<Utc>) -> PublicStatus {
        PublicStatus::from_full(&self.status(now))
    }

    /// Each service at `now`, and how fast the room empties (all desks together, per second), if
    /// any desk's pace is measured: the outside queue moves at that pace.
    pub(super) fn services_status(&self, now: DateTime<Utc>) -> (Vec<ServiceStatus>, Option<f64>) {
        let cfg = &self.config;
        let local = now.with_timezone(&cfg.timezone).naive_local();
        // Each service's measured pace, once: for its own wait and for the queue outside.
        let paces: Vec<Option<Pace>> = cfg
            .services
            .iter()
            .map(|s| self.state.throughput.pace(&s.id, now))
            .collect();
        let services = cfg
            .services
            .iter()
            .zip(&paces)
            .map(|(s, pace)| {
                let (waiting_inside, waiting_outside) = self.waiting_for(&s.id);
                let (last_check_in, taking_check_ins) = self.check_in_window(s, local);
                ServiceStatus {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    name_en: s.name_en.clone(),
                    prefix: s.prefix,
                    open: s.hours.is_open(local),
                    hours_today: s.hours.describe(local.date()),
                    waiting_inside,
                    waiting_outside,
                    estimated_wait_min: pace
                        .map(|pace| wait_minutes(waiting_inside + waiting_outside, pace)),
                    desks_active: self.state.throughput.active_desks(&s.id, now),
                    last_check_in,
                    taking_check_ins,
                    joinable: taking_check_ins
                        && self.check_open_to_joins(s, now).is_ok()
                        && self.check_walk_in_quota(s).is_ok(),
                    bookable: s.booking.is_some(),
                    walk_ins_left: s.walk_in_quota.map(|q| {
                        q.saturating_sub(self.state.walk_ins.get(&s.id).copied().unwrap_or(0))
                    }),
                    week: s.hours.week(),
                }
            })
            .collect();
        let measured: Vec<Pace> = paces.into_iter().flatten().collect();
        let departures_per_s =
            (!measured.is_empty()).then(|| measured.iter().map(Pace::rate).sum());
        (services, departures_per_s)
    }

    /// Today's last check-in for `service` as "HH:MM" (of the opening under way or still to
    /// come), and whether a check-in at `local` is taken — the same margin the engine refuses by.
    fn check_in_window(
        &self,
        service: &crate::config::Service,
        local: NaiveDateTime,
    ) -> (Option<String>, bool) {
        let margin = self.config.operations.last_admission_min;
        let last = service
            .hours
            .range_today(local)
            .and_then(|range| range.last_check_in(margin));
        let minute = (local.hour() * 60 + local.minute()) as u16;
        let taking = service.hours.is_open(local) && last.is_none_or(|last| minute < last);
        let text = last.map(|m| format!("{:02}:{:02}", m / 60, m % 60));
        (text, taking)
    }

    /// Why the cap is what it is.
    fn cap_basis(&self) -> CapBasis {
        let (c, geometry) = (&self.capacity, &self.config.geometry);
        CapBasis {
            area_m2: geometry.area_m2,
            area_cap: c.area_cap,
            seat_cap: c.seat_cap,
            seats: geometry.seats.as_ref().map(Vec::len),
            max_visitors: c.max_visitors,
            distancing_m: c.distancing_m,
            area_model: c.area_model,
            limited_by: c.limited_by,
            exact: c.exact,
        }
    }

    /// The head of the queue outside in order, each with when it may expect to enter at
    /// `departures_per_s`.
    fn outside_listing(&self, departures_per_s: Option<f64>) -> Vec<OutsideParty> {
        self.state
            .outside
            .iter()
            .take(OUTSIDE_LISTED)
            .enumerate()
            .map(|(i, p)| OutsideParty {
                ticket: p.ticket,
                service: p.service.clone(),
                party_size: p.size,
                position: i as u32 + 1,
                since: p.checked_in_at,
                expected_enter_min: departures_per_s
                    .map(|rate| waits::minutes_for(i as u32 + 1, rate)),
                remote: p.remote,
                booked: p.booking.is_some(),
                appointment: p.appointment.as_ref().map(|a| a.as_str().to_owned()),
            })
            .collect()
    }

    /// The parties inside per service (every configured service listed), in order of arrival.
    fn inside_by_service(&self) -> BTreeMap<ServiceId, Vec<InsideParty>> {
        let mut inside: BTreeMap<ServiceId, Vec<InsideParty>> = self
            .config
            .services
            .iter()
            .map(|s| (s.id.clone(), Vec::new()))
            .collect();
        for p in self.state.inside.iter().take(INSIDE_LISTED) {
            inside
                .entry(p.service.clone())
                .or_default()
                .push(InsideParty {
                    ticket: p.ticket,
                    party_size: p.size,
                    checked_in_at: p.checked_in_at,
                    entered_at: p.entered_at.unwrap_or(p.checked_in_at),
                    desk: p.desk.clone(),
                    called_at: p.called_at,
                    overridden: p.overridden,
                    remote: p.remote,
                    come_back_by: p.come_back_by,
                    booked: p.booking.is_some(),
                    appointment: p.appointment.as_ref().map(|a| a.as_str().to_owned()),
                });
        }
        inside
    }

    /// The configured surfaces' cleanings (by name), then the others newest first: the ones
    /// the room plan shows, and what was cleaned lately.
    fn cleaning_listing(&self) -> Vec<CleaningRecord> {
        let records: Vec<CleaningRecord> = self
            .state
            .cleaning
            .iter()
            .map(|(surface, at)| CleaningRecord {
                surface: surface.clone(),
                at: *at,
            })
            .collect();
        let (mut listed, mut others): (Vec<_>, Vec<_>) = records
            .into_iter()
            .partition(|r| self.state.surfaces.contains_key(&r.surface));
        others.sort_by_key(|r| std::cmp::Reverse(r.at));
        listed.extend(others);
        listed.truncate(CLEANING_LISTED);
        listed
    }

    /// The oldest open alerts, then every recently cleared one (a fixed few).
    fn alerts_listing(&self) -> Vec<Alert> {
        let mut open = 0;
        self.state
            .alerts
            .listing()
            .into_iter()
            .filter(|a| {
                let is_open = a.state != AlertState::Cleared;
                open += usize::from(is_open);
                !is_open || open <= OPEN_ALERTS_LISTED
            })
            .collect()
    }

    /// The sign at the door.
    pub(super) fn sign(&self, open: bool) -> Sign {
        if !open {
            Sign::Closed
        } else if self.state.outside.is_empty()
            && self.headcount() + self.held() < self.capacity.cap
        {
            Sign::Enter
        } else {
            Sign::WaitOutside
        }
    }

    /// Parties waiting for `service`: inside and not yet called, and outside.
    fn waiting_for(&self, service: &ServiceId) -> (u32, u32) {
        let inside = self
            .state
            .inside
            .iter()
            .filter(|p| p.service == *service && p.desk.is_none())
            .count() as u32;
        let outside = self
            .state
            .outside
            .iter()
            .filter(|p| p.service == *service)
            .count() as u32;
        (inside, outside)
    }

    /// The alert conditions that hold at `at`, each with what a guard should read.
    pub(super) fn conditions(&self, at: DateTime<Utc>) -> Vec<(Condition, Message)> {
        let mut holding = Vec::new();
        self.cap_conditions(&mut holding);
        self.gathering_condition(&mut holding);
        self.cleaning_condition(at, &mut holding);
        self.long_inside_conditions(at, &mut holding);
        self.long_wait_conditions(at, &mut holding);
        holding
    }

    /// At cap, or over it and why.
    fn cap_conditions(&self, holding: &mut Vec<(Condition, Message)>) {
        let (headcount, cap) = (self.headcount(), self.capacity.cap);
        if headcount > cap {
            let cause = self
                .state
                .over_cap_cause
                .clone()
                .unwrap_or_else(|| Message::new(UNRECORDED_CAUSE));
            holding.push((
                Condition::OverCap,
                Message::new("alert.over_cap")
                    .with("headcount", headcount)
                    .with("cap", cap)
                    .with("cause", cause.to_value()),
            ));
        } else if headcount == cap && cap > 0 {
            holding.push((
                Condition::AtCap,
                Message::new("alert.at_cap")
                    .with("headcount", headcount)
                    .with("cap", cap),
            ));
        }
    }

    /// A crowd outside: as many people as the queue line holds, or the configured number.
    fn gathering_condition(&self, holding: &mut Vec<(Condition, Message)>) {
        let outside_people = self.at_door_people();
        let gathering = self
            .config
            .operations
            .gathering_people
            .or(self.queue_line_places)
            .unwrap_or(10)
            .max(1);
        if outside_people >= gathering {
            holding.push((
                Condition::Gathering,
                Message::new("alert.gathering")
                    .with("people", outside_people)
                    .with("n", outside_people)
                    .with("threshold", gathering),
            ));
        }
    }

    /// Tracked surfaces used by enough visitors, or for long enough, since their last cleaning:
    /// one alert for the station listing them, so a guard cleans the room in one round.
    fn cleaning_condition(&self, at: DateTime<Utc>, holding: &mut Vec<(Condition, Message)>) {
        let ops = &self.config.operations;
        let due: Vec<serde_json::Value> = self
            .state
            .surfaces
            .iter()
            .filter_map(|(surface, used)| {
                let since = used.dirty_since?;
                let minutes = (at - since).num_minutes();
                (used.visitors >= ops.cleaning_every_visitors
                    || minutes >= i64::from(ops.cleaning_every_min))
                .then(|| {
                    serde_json::json!({
                        "surface": surface,
                        "visitors": used.visitors,
                        "since": self.local_clock(since),
                    })
                })
            })
            .take(CLEANING_ALERT_SURFACES)
            .collect();
        if !due.is_empty() {
            holding.push((
                Condition::CleaningDue,
                Message::new("alert.cleaning_due")
                    .with("surfaces", due)
                    .with("every_min", ops.cleaning_every_min)
                    .with("every_visitors", ops.cleaning_every_visitors),
            ));
        }
    }

    /// Tickets inside so long that the party has probably left without checking out.
    fn long_inside_conditions(&self, at: DateTime<Utc>, holding: &mut Vec<(Condition, Message)>) {
        let long_inside_min = self.config.operations.long_inside_min;
        for p in &self.state.inside {
            let entered = p.entered_at.unwrap_or(p.checked_in_at);
            if (at - entered).num_minutes() >= i64::from(long_inside_min) {
                holding.push((
                    Condition::LongInside { ticket: p.ticket },
                    Message::new("alert.long_inside")
                        .with("ticket", p.ticket.to_string())
                        .with("since", self.local_clock(entered)),
                ));
            }
        }
    }

    /// Services whose estimated wait is above the threshold.
    fn long_wait_conditions(&self, at: DateTime<Utc>, holding: &mut Vec<(Condition, Message)>) {
        let long_wait_min = self.config.operations.long_wait_min;
        for s in &self.config.services {
            let Some(pace) = self.state.throughput.pace(&s.id, at) else {
                continue;
            };
            let (inside, outside) = self.waiting_for(&s.id);
            let waiting = inside + outside;
            let minutes = wait_minutes(waiting, pace);
            if minutes > long_wait_min {
                holding.push((
                    Condition::LongWait {
                        service: s.id.clone(),
                    },
                    Message::new("alert.long_wait")
                        .with("service", s.id.as_str())
                        .with("service_name", s.name.as_str())
                        .with("service_name_en", s.name_en.as_str())
                        .with("minutes", minutes)
                        .with("waiting", waiting)
                        .with("desks", pace.desks)
                        .with("threshold", long_wait_min),
                ));
            }
        }
    }

    /// `t` as the station's local wall-clock time, `HH:MM`.
    fn local_clock(&self, t: DateTime<Utc>) -> String {
        t.with_timezone(&self.config.timezone)
            .format("%H:%M")
            .to_string()
    }
}

/// What pushed the headcount over the cap, as the over-cap alert's `cause`: the event that did
/// it, with the cap it left (`cap`). A preset reason is its code, free text as typed.
pub(super) fn over_cap_cause(event: &Event, cap: u32) -> Message {
    match event {
        Event::Correction { reason, .. } => {
            Message::new("cause.correction").with("reason", reasons::param(reason.as_str()))
        }
        Event::Override { reason, .. } => {
            Message::new("cause.override").with("reason", reasons::param(reason.as_str()))
        }
        Event::RuleChanged {
            distancing_m,
            scope,
        } => Message::new("cause.rule_change")
            .with("distancing_m", distancing_m.metres())
            .with("scope", scope.as_str())
            .with("cap", cap),
        _ => Message::new(UNRECORDED_CAUSE),
    }
}
