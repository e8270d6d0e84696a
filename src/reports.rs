//! Reports and long-range history, computed from the log by the same engine that ran the day.
//!
//! Every local day starts empty — the first event of a day closes out what the previous day left,
//! and the day's own close-out empties the room after closing — so a day (or a range of days)
//! is rebuilt exactly by replaying its events on an empty station under the rule in force when it
//! began. Replaying a busy day is a few thousand engine steps: well under 100 ms.
//!
//! Bookings are the one thing a day inherits: a booking made last week holds room today. So the
//! bookings' own events of the days before (made, moved, cancelled; see [`earlier_bookings`])
//! are replayed first, uncounted, and the day's due, arrived and no-show events find them.

mod bookings;

pub use bookings::BookingDay;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::config::{self, Rules};
use crate::domain::{DistrictId, Event, Recorded, ServiceId, StationId, Ticket};
use crate::engine::bookings::Booking;
use crate::engine::history::Sample;
use crate::engine::{Mode, Outcome, Station};
use bookings::BookingTally;

/// The rule in force after `last_change` (the last `rule_changed` before the replayed range).
pub fn rules_at(configured: Rules, last_change: Option<&Recorded>) -> Rules {
    match last_change.map(|r| &r.event) {
        Some(Event::RuleChanged { distancing_m, .. }) => Rules {
            distancing_m: distancing_m.metres(),
            ..configured
        },
        _ => configured,
    }
}

/// How far before a day its bookings may have been made: the booking horizon and a day.
pub fn booking_lookback(config: &config::Station) -> TimeDelta {
    if config.services.iter().all(|s| s.booking.is_none()) {
        return TimeDelta::zero();
    }
    TimeDelta::days(i64::from(config.bookings.horizon_days) + 1)
}

/// Of the events logged before a day, the bookings' own (made, moved, cancelled): what that day
/// inherits. A `booking_due` logged just before midnight is left out, so a slot in the first
/// `hold_min` after midnight is reported as held only from midnight — no office is open then.
pub fn earlier_bookings(events: Vec<Recorded>) -> Vec<Recorded> {
    events
        .into_iter()
        .filter(|r| r.event.is_bookings())
        .collect()
}

/// Replays `earlier` (the bookings a day inherits) and then `events` on an empty station,
/// calling `visit` after each accepted one of `events`.
fn replay(
    config: &Arc<config::Station>,
    rules: &Rules,
    (earlier, events): (&[Recorded], &[Recorded]),
    mut visit: impl FnMut(&Recorded, &Outcome, &Station),
) -> Station {
    let mut station = Station::new(config.clone(), rules);
    for r in earlier {
        let _ = station.apply(&r.event, r.at, Mode::Replay);
    }
    for r in events {
        // Logged events were accepted once; one that no longer applies (a config change since)
        // is skipped here rather than failing the report.
        if let Ok(outcome) = station.apply(&r.event, r.at, Mode::Replay) {
            visit(r, &outcome, &station);
        }
    }
    station
}

/// Headcount, cap and outside queue at every `step` from `from` (inclusive) to `to`
/// (exclusive). `events` must start at the beginning of `from`'s local day, `earlier` hold the
/// bookings it inherits.
pub fn series(
    config: &Arc<config::Station>,
    rules: &Rules,
    (earlier, events): (&[Recorded], &[Recorded]),
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    step: TimeDelta,
) -> Vec<Sample> {
    // The state after each event, in order.
    let mut changes: Vec<Sample> = Vec::with_capacity(events.len());
    replay(config, rules, (earlier, events), |r, _, station| {
        changes.push(Sample {
            at: r.at,
            headcount: station.headcount(),
            cap: station.cap(),
            outside: station.outside_tickets().len() as u32,
        });
    });
    let mut current = Sample {
        at: from,
        headcount: 0,
        cap: config.capacity(rules).cap,
        outside: 0,
    };
    let mut applied = changes.iter().peekable();
    let mut points = Vec::new();
    let mut t = from;
    while t < to {
        while let Some(change) = applied.next_if(|c| c.at <= t) {
            current = *change;
        }
        points.push(Sample { at: t, ..current });
        t += step;
    }
    points
}

/// One service's day at one station.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ServiceDay {
    pub service: ServiceId,
    pub name_en: String,
    /// People checked in (party sizes summed).
    pub visitors: u32,
    /// Tickets issued.
    pub parties: u32,
    /// Tickets called to a desk.
    pub called: u32,
    pub no_shows: u32,
    /// Tickets that joined the queue before arriving (the public page's join; also in
    /// `parties`).
    pub joins: u32,
    /// Tickets that waited elsewhere: joined before arriving, or went away from the door.
    pub remote: u32,
    /// Remote tickets asked in that did not arrive within `come_back_min` (apart from
    /// `no_shows`, which a desk records).
    pub remote_no_shows: u32,
    /// Tickets that left the queue from their own page.
    pub left: u32,
    /// Minutes from check-in to call, median and 90th percentile; `null` when nobody was called.
    pub wait_p50_min: Option<f64>,
    pub wait_p90_min: Option<f64>,
    pub bookings: BookingDay,
}

/// One station's day.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StationDay {
    pub station: StationId,
    pub name: String,
    pub district: DistrictId,
    pub date: NaiveDate,
    pub events: u32,
    pub max_occupancy: u32,
    pub minutes_at_cap: f64,
    pub minutes_over_cap: f64,
    /// Minutes during which room held for due bookings kept the head of the queue out although
    /// it would have fitted by headcount alone.
    pub minutes_held_turned_away: f64,
    pub cleanings: u32,
    pub overrides: u32,
    /// Tickets left at the end of the day and closed out.
    pub closed_out: u32,
    pub services: Vec<ServiceDay>,
}

/// The report of one local day, `[start, end)`, counted up to `now` (a day in progress is
/// reported so far), from the day's `events` and the `earlier` bookings it inherits.
pub fn day(
    config: &Arc<config::Station>,
    rules: &Rules,
    date: NaiveDate,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    (earlier, events): (&[Recorded], &[Recorded]),
) -> StationDay {
    let mut count = DayCount::new(config, rules, date, (start, end.min(now)));
    replay(config, rules, (earlier, events), |r, outcome, station| {
        count.event(r, outcome, station);
    });
    count.finish(config)
}

/// A day's report as its events replay: the station's figures so far, each service's tally,
/// and the state in force since the last event.
struct DayCount {
    report: StationDay,
    tallies: BTreeMap<ServiceId, Tally>,
    /// Each ticket issued today: its service and when it was issued.
    issued: HashMap<Ticket, (ServiceId, DateTime<Utc>)>,
    /// Tickets counted as remote already (one that went away twice counts once).
    remote: HashSet<Ticket>,
    /// The counted part of the day: its start, and its end or now, whichever is first.
    start: DateTime<Utc>,
    until: DateTime<Utc>,
    /// The state in force: since when, headcount and cap.
    span: (DateTime<Utc>, u32, u32),
    /// The service of the head of the queue while held room turns it away.
    turned_away: Option<ServiceId>,
}

/// One service's figures so far.
#[derive(Default)]
struct Tally {
    visitors: u32,
    parties: u32,
    called: u32,
    no_shows: u32,
    joins: u32,
    remote: u32,
    remote_no_shows: u32,
    left: u32,
    waits_s: Vec<i64>,
    bookings: BookingTally,
}

impl DayCount {
    fn new(
        config: &config::Station,
        rules: &Rules,
        date: NaiveDate,
        (start, until): (DateTime<Utc>, DateTime<Utc>),
    ) -> DayCount {
        DayCount {
            report: StationDay {
                station: config.id.clone(),
                name: config.name.clone(),
                district: config.district.clone(),
                date,
                events: 0,
                max_occupancy: 0,
                minutes_at_cap: 0.0,
                minutes_over_cap: 0.0,
                minutes_held_turned_away: 0.0,
                cleanings: 0,
                overrides: 0,
                closed_out: 0,
                services: Vec::new(),
            },
            tallies: BTreeMap::new(),
            issued: HashMap::new(),
            remote: HashSet::new(),
            start,
            until,
            span: (start, 0, config.capacity(rules).cap),
            turned_away: None,
        }
    }

    /// Counts one accepted event; `station` is the state after it.
    fn event(&mut self, r: &Recorded, outcome: &Outcome, station: &Station) {
        self.report.events += 1;
        self.close_span(r.at);
        self.span = (r.at, station.headcount(), station.cap());
        self.turned_away = head_turned_away(station);
        self.report.max_occupancy = self.report.max_occupancy.max(station.headcount());
        self.report.closed_out += outcome.closed_out.len() as u32;
        match &r.event {
            Event::CheckIn {
                service,
                party_size,
                ..
            } => {
                let t = self.tallies.entry(service.clone()).or_default();
                t.visitors += party_size.get();
                t.parties += 1;
                t.bookings.walk_in();
                if let Some(ticket) = outcome.ticket {
                    self.issued.insert(ticket, (service.clone(), r.at));
                }
            }
            Event::Join {
                service,
                party_size,
                ..
            } => {
                let t = self.tallies.entry(service.clone()).or_default();
                t.visitors += party_size.get();
                t.parties += 1;
                t.joins += 1;
                t.bookings.walk_in();
                if let Some(ticket) = outcome.ticket {
                    self.issued.insert(ticket, (service.clone(), r.at));
                    self.count_remote(ticket);
                }
            }
            Event::Away { ticket } => self.count_remote(*ticket),
            Event::ComeBackMissed { ticket } => {
                if let Some(t) = self.tally_of(ticket) {
                    t.remote_no_shows += 1;
                }
            }
            Event::Leave { ticket } => {
                if let Some(t) = self.tally_of(ticket) {
                    t.left += 1;
                }
            }
            Event::Call { .. } => {
                if let Some((service, at)) = outcome.ticket.and_then(|t| self.issued.get(&t)) {
                    let t = self.tallies.entry(service.clone()).or_default();
                    t.called += 1;
                    t.waits_s.push((r.at - *at).num_seconds());
                }
            }
            Event::NoShow { ticket } => {
                if let Some((service, _)) = self.issued.get(ticket) {
                    self.tallies.entry(service.clone()).or_default().no_shows += 1;
                }
            }
            // Its call and its no-show count for the service it was moved to.
            Event::Transfer { ticket, service } => {
                if let Some((issued_for, _)) = self.issued.get_mut(ticket) {
                    *issued_for = service.clone();
                }
            }
            Event::BookingMade { booking, .. }
            | Event::BookingMoved { booking, .. }
            | Event::BookingCancelled { booking, .. }
            | Event::BookingArrived { booking }
            | Event::BookingNoShow { booking } => {
                if let Some(b) = station.booking(booking) {
                    self.booking_event(r, outcome, b);
                }
            }
            Event::Cleaned { .. } => self.report.cleanings += 1,
            Event::Override { .. } => self.report.overrides += 1,
            _ => {}
        }
    }

    /// Counts a booking's event; an arrival is also a party checked in whose ticket is followed
    /// like a walk-in's.
    fn booking_event(&mut self, r: &Recorded, outcome: &Outcome, booking: &Booking) {
        let t = self.tallies.entry(booking.service.clone()).or_default();
        t.bookings.booking_event(&r.event, r.at, booking.slot);
        if matches!(r.event, Event::BookingArrived { .. }) {
            t.visitors += booking.size.get();
            t.parties += 1;
            if let Some(ticket) = outcome.ticket {
                self.issued.insert(ticket, (booking.service.clone(), r.at));
            }
        }
    }

    /// The tally of the service `ticket` was issued for (or moved to), if issued today.
    fn tally_of(&mut self, ticket: &Ticket) -> Option<&mut Tally> {
        let (service, _) = self.issued.get(ticket)?;
        Some(self.tallies.entry(service.clone()).or_default())
    }

    /// Counts `ticket` as one that waited elsewhere, once.
    fn count_remote(&mut self, ticket: Ticket) {
        if self.remote.insert(ticket) {
            if let Some(t) = self.tally_of(&ticket) {
                t.remote += 1;
            }
        }
    }

    /// Adds the state in force, from its start to `to` (both within the counted part of the
    /// day), to the minutes at or over the cap and those held room turned the queue's head away.
    fn close_span(&mut self, to: DateTime<Utc>) {
        let (since, headcount, cap) = self.span;
        let ms = (to.min(self.until) - since.max(self.start))
            .num_milliseconds()
            .max(0);
        let minutes = ms as f64 / 60_000.0;
        if let Some(service) = self.turned_away.clone() {
            self.report.minutes_held_turned_away += minutes;
            self.tallies
                .entry(service)
                .or_default()
                .bookings
                .turned_away(ms);
        }
        if headcount > cap {
            self.report.minutes_over_cap += minutes;
        } else if headcount == cap && cap > 0 {
            self.report.minutes_at_cap += minutes;
        }
    }

    /// The report: the last span counted to the end, minutes rounded, and a row for each of
    /// the station's services in configured order.
    fn finish(mut self, config: &config::Station) -> StationDay {
        self.close_span(self.until);
        let mut report = self.report;
        report.minutes_at_cap = round1(report.minutes_at_cap);
        report.minutes_over_cap = round1(report.minutes_over_cap);
        report.minutes_held_turned_away = round1(report.minutes_held_turned_away);
        report.services = config
            .services
            .iter()
            .map(|s| self.tallies.remove(&s.id).unwrap_or_default().into_day(s))
            .collect();
        report
    }
}

/// The service of the head of `station`'s queue when held room is what keeps it out.
fn head_turned_away(station: &Station) -> Option<ServiceId> {
    if !station.held_room_turns_away() {
        return None;
    }
    let (head, _) = *station.outside_parties().first()?;
    station
        .config()
        .services
        .iter()
        .find(|s| s.prefix == head.prefix())
        .map(|s| s.id.clone())
}

impl Tally {
    /// The service's row of the report, waits as percentiles.
    fn into_day(mut self, service: &config::Service) -> ServiceDay {
        self.waits_s.sort_unstable();
        ServiceDay {
            service: service.id.clone(),
            name_en: service.name_en.clone(),
            visitors: self.visitors,
            parties: self.parties,
            called: self.called,
            no_shows: self.no_shows,
            joins: self.joins,
            remote: self.remote,
            remote_no_shows: self.remote_no_shows,
            left: self.left,
            wait_p50_min: percentile_min(&self.waits_s, 50),
            wait_p90_min: percentile_min(&self.waits_s, 90),
            bookings: self.bookings.into_day(service),
        }
    }
}

/// The nearest-rank percentile of sorted seconds, in minutes to one decimal.
fn percentile_min(sorted_s: &[i64], p: usize) -> Option<f64> {
    if sorted_s.is_empty() {
        return None;
    }
    let rank = (p * sorted_s.len()).div_ceil(100).max(1);
    Some(round1(sorted_s[rank - 1] as f64 / 60.0))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The CSV form of daily reports: one row per station and service (the station's occupancy
/// figures repeated on each of its rows, so every row stands alone in a spreadsheet).
pub fn to_csv(days: &[StationDay]) -> String {
    let mut out = String::from(
        "date,district,station,service,visitors,parties,called,no_shows,wait_p50_min,wait_p90_min,max_occupancy,minutes_at_cap,minutes_over_cap,cleanings,overrides,closed_out,joins,remote,remote_no_shows,left,",
    );
    out.push_str(bookings::CSV_HEADER);
    out.push('\n');
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for d in days {
        for s in &d.services {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                d.date,
                d.district,
                d.station,
                s.service,
                s.visitors,
                s.parties,
                s.called,
                s.no_shows,
                opt(s.wait_p50_min),
                opt(s.wait_p90_min),
                d.max_occupancy,
                d.minutes_at_cap,
                d.minutes_over_cap,
                d.cleanings,
                d.overrides,
                d.closed_out,
                s.joins,
                s.remote,
                s.remote_no_shows,
                s.left,
                bookings::csv_cells(&s.bookings)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_remote_parties_their_no_shows_and_leaving_are_counted_per_service() {
        use crate::domain::ticket_link::LinkCode;
        use crate::domain::{DeviceId, PartySize};
        let config = config::Config::sample();
        let station = Arc::new(
            config
                .stations
                .iter()
                .find(|s| s.remote.join)
                .unwrap()
                .clone(),
        );
        let service = &station.services[0];
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let join = Event::Join {
            service: service.id.clone(),
            party_size: PartySize::new(2).unwrap(),
            link: LinkCode::generate().hash(),
        };
        // Both join an empty room (asked in from afar); the first never comes, the second
        // leaves from its page.
        let events = [
            join.clone(),
            join,
            Event::ComeBackMissed {
                ticket: Ticket::new(service.prefix, 1),
            },
            Event::Leave {
                ticket: Ticket::new(service.prefix, 2),
            },
        ];
        let recorded: Vec<Recorded> = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| Recorded {
                station: station.id.clone(),
                seq: i as u64 + 1,
                at: at + TimeDelta::minutes(i as i64),
                device: DeviceId::parse("public").unwrap(),
                event,
            })
            .collect();
        let date = at.date_naive();
        let day_span = (at - TimeDelta::hours(9), at + TimeDelta::hours(15));
        let report = day(
            &station,
            &config.rules,
            date,
            day_span,
            at + TimeDelta::hours(1),
            (&[], &recorded),
        );
        let row = &report.services[0];
        assert_eq!((row.parties, row.visitors), (2, 4));
        assert_eq!((row.joins, row.remote), (2, 2));
        assert_eq!((row.remote_no_shows, row.left), (1, 1));
    }

    #[test]
    fn percentiles_are_nearest_rank_in_minutes() {
        let s: Vec<i64> = (1..=10).map(|m| m * 60).collect();
        assert_eq!(percentile_min(&s, 50), Some(5.0));
        assert_eq!(percentile_min(&s, 90), Some(9.0));
        assert_eq!(percentile_min(&[90], 90), Some(1.5));
        assert_eq!(percentile_min(&[], 50), None);
    }
}
