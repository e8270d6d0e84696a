//! Entry points for fuzzing: event decoding and the engine, driven by arbitrary bytes.
//!
//! The cargo-fuzz targets in `fuzz/` call these (`cargo +nightly fuzz run decode_events` and
//! `… engine_ops`), and a property test in the ordinary suite feeds them random bytes on stable,
//! so they are exercised in CI too. Each panics only when the code under test is wrong: decoding
//! must never panic and must give a field-named error or an event that round-trips through the
//! log format; the engine must keep its invariants and replay its own log to the same state —
//! bookings made, moved, cancelled and arriving among the walk-ins, the clock making them due and
//! no-shows, with the held room always the due bookings' sizes and no booking admitted twice.

use std::sync::Arc;

use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::capacity::{AreaModel, RoomGeometry};
use crate::config::{self, Operations, Rules};
use crate::domain::booking::{BookingId, ExternalRef};
use crate::domain::event::{Distance, EventWire, Reason, Text};
use crate::domain::{DeskId, DeviceId, DistrictId, Event, PartySize, ServiceId, StationId, Ticket};
use crate::engine::{Mode, Station};
use crate::hours::{Schedule, WeeklyHours, parse_day};

/// Decodes `data` as a posted event body, exactly as the events route does.
pub fn decode_events(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(wire) = serde_json::from_value::<EventWire>(value) else {
        return;
    };
    let sender = DeviceId::parse("fuzz-desk").expect("valid id");
    if let Ok(event) = wire.into_event(&sender) {
        // What is accepted must survive the log: written and read back unchanged.
        let stored = serde_json::to_string(&event).expect("events serialize");
        let back: Event = serde_json::from_str(&stored).expect("logged events read back");
        assert_eq!(back, event);
    }
}

/// A small station open weekdays 08:00–11:30 and 12:00–15:00, with a seat plan.
fn station() -> Station {
    let mut days: [Vec<crate::hours::Range>; 7] = Default::default();
    for day in days.iter_mut().take(5) {
        *day = parse_day("08:00-11:30,12:00-15:00").expect("valid hours");
    }
    let service = |id: &str, prefix| config::Service {
        id: ServiceId::parse(id).expect("valid id"),
        name: id.to_owned(),
        name_en: id.to_owned(),
        prefix,
        hours: Schedule::weekly(WeeklyHours::from_days(days.clone())),
        booking: Some(config::ServiceBooking {
            slot_min: 15,
            bookable_desks: 2,
        }),
        walk_in_quota: None,
    };
    let cfg = config::Station {
        id: StationId::parse("fuzz").expect("valid id"),
        district: DistrictId::parse("oslo").expect("valid id"),
        name: "Fuzz".into(),
        address: None,
        timezone: chrono_tz::Europe::Oslo,
        geometry: RoomGeometry {
            area_m2: 20.0,
            seats: Some((0..8).map(|i| [f64::from(i) * 0.7, 0.0]).collect()),
            max_visitors: None,
        },
        queue_line_m: Some(8.0),
        services: vec![service("passport", 'P'), service("residence", 'U')],
        operations: Operations::default(),
        webhook: None,
        remote: config::Remote {
            join: true,
            join_quota: 5,
            ..config::Remote::default()
        },
        bookings: config::BookingRules::default(),
    };
    Station::new(
        Arc::new(cfg),
        &Rules {
            distancing_m: 2.0,
            area_model: AreaModel::Grid,
        },
    )
}

/// Reads `data` as a sequence of operations (one byte picks the kind, the next its argument, a
/// third the minutes that pass) and applies them live; checks the invariants after each and that
/// a replay of the accepted events gives the same state.
pub fn engine_ops(data: &[u8]) {
    let mut s = station();
    // Monday 23 November 2026, 07:00 UTC (08:00 in Oslo).
    let mut at: DateTime<Utc> = DateTime::from_timestamp(1_795_417_200, 0).expect("valid time");
    let mut log: Vec<(Event, DateTime<Utc>)> = Vec::new();
    let mut tickets: Vec<Ticket> = Vec::new();
    let mut bookings: Vec<BookingId> = Vec::new();
    let mut arrivals: HashSet<BookingId> = HashSet::new();
    for chunk in data.chunks(3) {
        let [kind, arg, minutes] = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        at += Duration::minutes(i64::from(minutes % 30));
        let picks = Picks {
            tickets: &tickets,
            bookings: &bookings,
        };
        let Some(event) = operation(kind, arg, picks, &s, at) else {
            continue;
        };
        if let Ok(outcome) = s.apply(&event, at, Mode::Live) {
            if let (Event::CheckIn { .. } | Event::BookingArrived { .. }, Some(t)) =
                (&event, outcome.ticket)
            {
                tickets.push(t);
            }
            match &event {
                Event::BookingMade { booking, .. } => bookings.push(booking.clone()),
                Event::BookingArrived { booking } => {
                    assert!(arrivals.insert(booking.clone()), "a booking admitted twice");
                }
                _ => {}
            }
            log.push((event, at));
        }
        assert_invariants(&s);
    }
    let mut replayed = station();
    for (event, when) in &log {
        replayed
            .apply(event, *when, Mode::Replay)
            .expect("accepted events replay");
    }
    assert_eq!(replayed.status(at), s.status(at));
}

/// What the operations pick from: the tickets issued and the bookings made so far.
#[derive(Clone, Copy)]
struct Picks<'a> {
    tickets: &'a [Ticket],
    bookings: &'a [BookingId],
}

/// The event that operation `kind` with argument `arg` makes at `at`: one of the desk's events,
/// a booking's, or what the station has due; `None` when it needs a ticket or a booking and
/// none was issued, or nothing is due.
fn operation(kind: u8, arg: u8, picks: Picks<'_>, s: &Station, at: DateTime<Utc>) -> Option<Event> {
    let tickets = picks.tickets;
    let picked = || {
        tickets
            .get(usize::from(arg) % tickets.len().max(1))
            .copied()
    };
    let booking = || {
        let made = picks.bookings;
        made.get(usize::from(arg) % made.len().max(1)).cloned()
    };
    let service = if arg % 2 == 0 {
        "passport"
    } else {
        "residence"
    };
    let party_size = PartySize::new(u32::from(arg % 4) + 1).expect("1..=4");
    let link = || crate::domain::ticket_link::LinkCode::generate().hash();
    Some(match kind % 23 {
        19 => booking_made(arg, party_size, s, at),
        20 => Event::BookingMoved {
            booking: booking()?,
            slot: quarter_after(at, arg / 4),
        },
        21 => Event::BookingCancelled {
            booking: booking()?,
            release_at: at + Duration::minutes(i64::from(arg % 5)),
        },
        22 => Event::BookingArrived {
            booking: booking()?,
        },
        0..=2 => Event::CheckIn {
            service: ServiceId::parse(service).expect("valid id"),
            party_size,
            appointment: None,
            link: (arg % 3 == 0).then(link),
        },
        11 => Event::Join {
            service: ServiceId::parse(service).expect("valid id"),
            party_size,
            link: link(),
        },
        12 => Event::Away { ticket: picked()? },
        13 => Event::Arrived { ticket: picked()? },
        14 => Event::MoreTime { ticket: picked()? },
        15 => Event::Leave { ticket: picked()? },
        16 => Event::Recall {
            desk: DeskId::parse(&format!("{}", arg % 3 + 1)).expect("valid desk"),
            ticket: picked()?,
        },
        17 => Event::Transfer {
            ticket: picked()?,
            service: ServiceId::parse(service).expect("valid id"),
        },
        3 => Event::CheckOut { ticket: picked()? },
        4 => Event::NoShow { ticket: picked()? },
        5 => Event::Call {
            desk: DeskId::parse(&format!("{}", arg % 3 + 1)).expect("valid desk"),
            service: None,
        },
        6 => Event::Correction {
            delta: crate::domain::event::Delta::new(if arg % 2 == 0 { 1 } else { -1 }).expect("±1"),
            reason: Text::parse("fuzz").expect("valid text"),
        },
        7 => Event::Override {
            ticket: if arg % 3 == 0 { None } else { picked() },
            reason: Text::parse("fuzz").expect("valid text"),
        },
        8 => Event::RuleChanged {
            distancing_m: Distance::parse([1.0, 1.5, 2.0, 3.0][usize::from(arg % 4)])
                .expect("in range"),
            scope: Reason::parse("national").expect("valid text"),
        },
        9 => Event::Cleaned {
            surface: Text::parse("counter").expect("valid text"),
        },
        _ => s.due(at)?,
    })
}

/// A booking of passport for a quarter hour up to two hours ahead, named after how many the
/// station keeps (so each is new).
fn booking_made(arg: u8, party_size: PartySize, s: &Station, at: DateTime<Utc>) -> Event {
    let reference = format!("fuzz-{}", s.bookings().count());
    let external_ref = ExternalRef::parse(&reference).expect("valid reference");
    Event::BookingMade {
        booking: BookingId::of_external(&external_ref),
        service: ServiceId::parse("passport").expect("valid id"),
        slot: quarter_after(at, arg % 8),
        party_size,
        code: None,
        external_ref: Some(external_ref),
        browser: None,
    }
}

/// The start of the `n`-th quarter hour after the one `at` is in.
fn quarter_after(at: DateTime<Utc>, n: u8) -> DateTime<Utc> {
    let quarter = Duration::minutes(15);
    let this = at.duration_trunc(quarter).expect("in range");
    this + quarter * (i32::from(n) + 1)
}

/// Every party inside is counted once in the headcount (with the corrections), no ticket is
/// both inside and outside, and the held room is exactly the due bookings' sizes.
fn assert_invariants(s: &Station) {
    let held: u32 = s
        .bookings()
        .filter(|b| b.is_held())
        .map(|b| b.size.get())
        .sum();
    assert_eq!(s.held(), held);
    let parties: u32 = s.inside_parties().iter().map(|p| p.1).sum();
    assert_eq!(s.headcount(), parties + s.corrections());
    let inside = s.inside_tickets();
    assert!(
        s.outside_tickets().iter().all(|t| !inside.contains(t)),
        "a ticket in two places"
    );
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn decoding_arbitrary_bytes_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            super::decode_events(&data);
        }

        #[test]
        fn decoding_json_shaped_input_never_panics(
            kind in prop_oneof![Just("check_in"), Just("check_out"), Just("call"), Just("no_show"), Just("correction"), Just("cleaned"), Just("override"), Just("acknowledge"), Just("close_out"), Just("x")],
            field in prop_oneof![Just("service"), Just("party_size"), Just("ticket"), Just("desk"), Just("delta"), Just("reason"), Just("surface"), Just("alert"), Just("by")],
            value in prop_oneof![Just("\"passport\"".to_owned()), Just("\"P007\"".to_owned()), Just("3".to_owned()), Just("-1".to_owned()), Just("1e99".to_owned()), Just("null".to_owned()), "\"[^\"\\\\]{0,300}\"".prop_map(|s| s)],
        ) {
            let body = format!("{{\"kind\":\"{kind}\",\"{field}\":{value}}}");
            super::decode_events(body.as_bytes());
        }

        #[test]
        fn the_engine_survives_arbitrary_operations(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            super::engine_ops(&data);
        }
    }
}
