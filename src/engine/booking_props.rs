//! A property test of bookings and walk-ins mixed over a simulated day: random bookings made,
//! moved, cancelled and arriving early, on time or late, the clock making them due and
//! no-shows through [`Station::due`], among walk-in check-ins, joins, calls, check-outs,
//! no-shows, corrections and a guard's overrides. After every event it checks the hold rule's
//! invariants against a tiny model of each booking's fate; at the end, that a replay of the log
//! reaches the same state.
//!
//! The examples of each rule are in `booking_tests.rs`; this file looks for the mix nobody wrote
//! down.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::booking_tests::{booking_station, id, made};
use super::bookings::BookingStatus;
use super::tests::{check_in, rules_2m, t0};
use super::*;
use crate::domain::PartySize;
use crate::domain::booking::BookingId;
use crate::domain::event::{Delta, Text};
use crate::domain::ticket_link::LinkCode;

/// The residence service's walk-ins per day: small, so the quota is reached.
const RESIDENCE_QUOTA: u32 = 4;

#[derive(Debug, Clone)]
enum Op {
    /// A booking of `size` for the `quarter`-th quarter hour after the next.
    Make {
        quarter: u8,
        size: u32,
    },
    Move {
        n: usize,
        quarter: u8,
    },
    Cancel(usize),
    /// A booking's party checks in now: early, on time or late is where the clock stands.
    Arrive(usize),
    /// `minutes` pass; everything the clock makes due is logged.
    Tick(u8),
    WalkIn {
        passport: bool,
        size: u32,
    },
    Join {
        size: u32,
    },
    Call(u8),
    CheckOut(usize),
    NoShow(usize),
    Correction(i32),
    Override(Option<usize>),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..8, 1u32..=4).prop_map(|(quarter, size)| Op::Make { quarter, size }),
        1 => (0usize..20, 0u8..8).prop_map(|(n, quarter)| Op::Move { n, quarter }),
        1 => (0usize..20).prop_map(Op::Cancel),
        3 => (0usize..20).prop_map(Op::Arrive),
        3 => (1u8..=20).prop_map(Op::Tick),
        4 => (any::<bool>(), 1u32..=3).prop_map(|(passport, size)| Op::WalkIn { passport, size }),
        1 => (1u32..=3).prop_map(|size| Op::Join { size }),
        2 => (1u8..4).prop_map(Op::Call),
        3 => (0usize..40).prop_map(Op::CheckOut),
        1 => (0usize..40).prop_map(Op::NoShow),
        1 => (-2i32..=2).prop_filter("non-zero", |d| *d != 0).prop_map(Op::Correction),
        1 => proptest::option::of(0usize..40).prop_map(Op::Override),
    ]
}

/// A booking's fate as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Booked,
    Due,
    Arrived,
    NoShow,
    Cancelled,
}

impl Fate {
    fn of(status: &BookingStatus) -> Fate {
        match status {
            BookingStatus::Booked => Fate::Booked,
            BookingStatus::Due { .. } => Fate::Due,
            BookingStatus::Arrived { .. } => Fate::Arrived,
            BookingStatus::NoShow { .. } => Fate::NoShow,
            BookingStatus::Cancelled { .. } => Fate::Cancelled,
        }
    }

    fn is_open(self) -> bool {
        matches!(self, Fate::Booked | Fate::Due)
    }
}

/// The model: each booking's size, slot and fate, the tickets issued, walk-ins per service,
/// and whether the room is over its cap by a guard's hand.
#[derive(Debug, Default)]
struct Model {
    bookings: BTreeMap<BookingId, (u32, DateTime<Utc>, Fate)>,
    /// In the order made, for the ops to pick from.
    made: Vec<BookingId>,
    tickets: Vec<Ticket>,
    residence_walk_ins: u32,
    over_cap_by_guard: bool,
}

impl Model {
    fn booking(&self, n: usize) -> Option<BookingId> {
        self.made.get(n % self.made.len().max(1)).cloned()
    }

    fn ticket(&self, n: usize) -> Option<Ticket> {
        self.tickets.get(n % self.tickets.len().max(1)).copied()
    }

    fn fate(&self, id: &BookingId) -> Option<Fate> {
        self.bookings.get(id).map(|b| b.2)
    }

    fn set_fate(&mut self, id: &BookingId, fate: Fate) {
        if let Some(b) = self.bookings.get_mut(id) {
            b.2 = fate;
        }
    }

    /// People held: the sizes of the bookings due and not arrived.
    fn held(&self) -> u32 {
        let due = self.bookings.values().filter(|b| b.2 == Fate::Due);
        due.map(|b| b.0).sum()
    }
}

/// Where the `quarter`-th quarter hour after the next one starts, as of `at`.
fn slot_after(at: DateTime<Utc>, quarter: u8) -> DateTime<Utc> {
    let quarter_hour = Duration::minutes(15);
    let next = at.duration_trunc(quarter_hour).expect("in range") + quarter_hour;
    next + quarter_hour * i32::from(quarter)
}

/// The event `op` makes at `at`, or `None` when it needs a booking or ticket there is none of
/// (a `Tick` is handled by the caller).
fn event_of(op: &Op, m: &Model, at: DateTime<Utc>, made_so_far: u32) -> Option<Event> {
    let size = |n: u32| PartySize::new(n).expect("1..=4");
    Some(match op {
        Op::Make { quarter, size: n } => made(made_so_far, slot_after(at, *quarter), *n),
        Op::Move { n, quarter } => Event::BookingMoved {
            booking: m.booking(*n)?,
            slot: slot_after(at, *quarter),
        },
        Op::Cancel(n) => Event::BookingCancelled {
            booking: m.booking(*n)?,
            release_at: at + Duration::minutes(3),
        },
        Op::Arrive(n) => Event::BookingArrived {
            booking: m.booking(*n)?,
        },
        Op::WalkIn { passport, size: n } => {
            check_in(if *passport { "passport" } else { "residence" }, *n)
        }
        Op::Join { size: n } => Event::Join {
            service: ServiceId::parse("passport").expect("valid id"),
            party_size: size(*n),
            link: LinkCode::generate().hash(),
        },
        Op::Call(desk) => Event::Call {
            desk: DeskId::parse(&desk.to_string()).expect("valid desk"),
            service: None,
        },
        Op::CheckOut(n) => Event::CheckOut {
            ticket: m.ticket(*n)?,
        },
        Op::NoShow(n) => Event::NoShow {
            ticket: m.ticket(*n)?,
        },
        Op::Correction(d) => Event::Correction {
            delta: Delta::new(*d).expect("small"),
            reason: Text::parse("counted at the door").expect("valid text"),
        },
        Op::Override(n) => Event::Override {
            ticket: n.and_then(|n| m.ticket(n)),
            reason: Text::parse("wheelchair_user").expect("valid text"),
        },
        Op::Tick(_) => return None,
    })
}

/// A bookable station of `cap` that takes joins and caps residence walk-ins.
fn mixed_station(cap: u32) -> Station {
    let mut cfg = booking_station(cap).config().clone();
    cfg.remote.join = true;
    cfg.remote.join_quota = 50;
    cfg.services[1].walk_in_quota = Some(RESIDENCE_QUOTA);
    Station::new(Arc::new(cfg), &rules_2m())
}

/// Checks what the engine decided about a booking's event against the model: arriving,
/// cancelling and moving only an open booking, a walk-in refused only past its quota.
fn check_verdict(
    event: &Event,
    result: &Result<Outcome, Refusal>,
    m: &Model,
) -> Result<(), TestCaseError> {
    match event {
        Event::BookingArrived { booking } | Event::BookingCancelled { booking, .. } => {
            let open = m.fate(booking).is_some_and(Fate::is_open);
            prop_assert_eq!(
                result.is_ok(),
                open,
                "{} of a booking {:?}",
                event.kind(),
                m.fate(booking)
            );
        }
        Event::BookingMoved { booking, .. } if !m.fate(booking).is_some_and(Fate::is_open) => {
            prop_assert!(result.is_err(), "moved a closed booking");
        }
        Event::CheckIn { service, .. } if service.as_str() == "residence" => {
            let quota_refused = matches!(result, Err(Refusal::WalkInQuota(_)));
            prop_assert_eq!(quota_refused, m.residence_walk_ins >= RESIDENCE_QUOTA);
        }
        _ => {}
    }
    Ok(())
}

/// Brings the model up to an accepted event.
fn follow(m: &mut Model, event: &Event, outcome: &Outcome) {
    if let Some(ticket) = outcome.ticket {
        if !m.tickets.contains(&ticket) {
            m.tickets.push(ticket);
        }
    }
    match event {
        Event::BookingMade {
            booking,
            slot,
            party_size,
            ..
        } => {
            m.bookings
                .insert(booking.clone(), (party_size.get(), *slot, Fate::Booked));
            m.made.push(booking.clone());
        }
        Event::BookingMoved { booking, slot } => {
            if let Some(b) = m.bookings.get_mut(booking) {
                (b.1, b.2) = (*slot, Fate::Booked);
            }
        }
        Event::BookingCancelled { booking, .. } => m.set_fate(booking, Fate::Cancelled),
        Event::BookingDue { booking } => m.set_fate(booking, Fate::Due),
        Event::BookingArrived { booking } => m.set_fate(booking, Fate::Arrived),
        Event::BookingNoShow { booking } => m.set_fate(booking, Fate::NoShow),
        Event::CheckIn { service, .. } if service.as_str() == "residence" => {
            m.residence_walk_ins += 1;
        }
        _ => {}
    }
}

/// Whether `outcome` let a party in by the rule (not by a guard's override).
fn admitted(event: &Event, outcome: &Outcome) -> bool {
    let entered_by_rule = matches!(
        event,
        Event::CheckIn { .. } | Event::Join { .. } | Event::BookingArrived { .. }
    ) && outcome.state == Some(Place::Inside);
    entered_by_rule || !outcome.admitted.is_empty()
}

/// The invariants after an accepted event: the cap (unless a guard went past it), the cap with
/// the held room after an admission, the held room equal to the model's, every booking's fate
/// the model's, and no ticket in two places.
fn check_invariants(
    s: &Station,
    m: &mut Model,
    event: &Event,
    outcome: &Outcome,
) -> Result<(), TestCaseError> {
    let cap = s.cap();
    let guard_went_past = match event {
        Event::Override { .. } => true,
        Event::Correction { delta, .. } => delta.get() > 0,
        _ => false,
    };
    if guard_went_past && s.headcount() > cap {
        m.over_cap_by_guard = true;
    }
    if s.headcount() <= cap {
        m.over_cap_by_guard = false;
    }
    prop_assert!(
        m.over_cap_by_guard || s.headcount() <= cap,
        "{} over the cap",
        event.kind()
    );
    if admitted(event, outcome) {
        prop_assert!(
            s.headcount() + s.held() <= cap,
            "{} admitted past the held room: {} + {} > {}",
            event.kind(),
            s.headcount(),
            s.held(),
            cap
        );
    }
    prop_assert_eq!(s.held(), m.held());
    let open: u32 = m
        .bookings
        .values()
        .filter(|b| b.2.is_open())
        .map(|b| b.0)
        .sum();
    prop_assert!(s.held() <= open, "more held than booked");
    for (id, (size, slot, fate)) in &m.bookings {
        let b = s.booking(id).expect("kept until the next day");
        prop_assert_eq!(
            (b.size.get(), b.slot, Fate::of(&b.status)),
            (*size, *slot, *fate)
        );
    }
    let inside = s.inside_tickets();
    prop_assert!(
        s.outside_tickets().iter().all(|t| !inside.contains(t)),
        "a ticket in two places"
    );
    Ok(())
}

/// After the clock was asked at `at`: no open booking is past its grace, and every open one
/// within `hold_min` of its slot is held.
fn check_clock(s: &Station, m: &Model, at: DateTime<Utc>) -> Result<(), TestCaseError> {
    let rules = s.config().bookings;
    let (grace, hold) = (
        Duration::minutes(i64::from(rules.grace_min)),
        Duration::minutes(i64::from(rules.hold_min)),
    );
    for (size, slot, fate) in m.bookings.values() {
        if fate.is_open() {
            prop_assert!(*slot + grace > at, "a no-show not logged");
            prop_assert!(
                *slot - hold > at || *fate == Fate::Due,
                "a due booking (party of {}) not held",
                size
            );
        }
    }
    Ok(())
}

/// The accepted events and when.
type Log = Vec<(Event, DateTime<Utc>)>;

/// Runs `ops` on a station of `cap`, checking after every event; returns the accepted log.
fn run(cap: u32, ops: &[Op]) -> Result<(Station, Log), TestCaseError> {
    let mut s = mixed_station(cap);
    let mut m = Model::default();
    let mut log = Vec::new();
    let mut at = t0();
    let mut made_so_far = 0;
    for op in ops {
        at += Duration::seconds(30);
        let ticking = matches!(op, Op::Tick(_));
        let mut next = match op {
            // The day is long enough; past it, bookings of the day before are forgotten.
            Op::Tick(_) if at - t0() > Duration::hours(10) => continue,
            Op::Tick(minutes) => {
                at += Duration::minutes(i64::from(*minutes));
                s.due(at)
            }
            _ => event_of(op, &m, at, made_so_far),
        };
        while let Some(event) = next.take() {
            made_so_far += u32::from(matches!(event, Event::BookingMade { .. }));
            let result = s.apply(&event, at, Mode::Live);
            check_verdict(&event, &result, &m)?;
            prop_assert!(
                !ticking || result.is_ok(),
                "the clock's {} refused",
                event.kind()
            );
            if let Ok(outcome) = &result {
                follow(&mut m, &event, outcome);
                check_invariants(&s, &mut m, &event, outcome)?;
                log.push((event.clone(), at));
                prop_assert_eq!(outcome.seq, log.len() as u64);
            }
            if ticking {
                // The clock is asked again until nothing more is due.
                next = s.due(at);
            }
        }
        if ticking {
            check_clock(&s, &m, at)?;
        }
    }
    Ok((s, log))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn bookings_and_walk_ins_mixed_keep_the_hold_rule_and_replay_to_the_same_state(
        cap in 2u32..8,
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let (live, log) = run(cap, &ops)?;
        let mut replayed = mixed_station(cap);
        for (event, at) in &log {
            replayed.apply(event, *at, Mode::Replay).expect("accepted events replay");
        }
        prop_assert_eq!(replayed.snapshot(), live.snapshot());
        let now = log.last().map_or_else(t0, |(_, at)| *at);
        prop_assert_eq!(replayed.status(now), live.status(now));
    }
}

#[test]
fn a_day_of_bookings_and_walk_ins_exercises_every_fate() {
    // Two bookings at the next quarter hour: one arrives late within grace, one never comes;
    // a third is cancelled; walk-ins and calls around them.
    let ops = [
        Op::Make {
            quarter: 0,
            size: 2,
        },
        Op::Make {
            quarter: 0,
            size: 1,
        },
        Op::Make {
            quarter: 3,
            size: 1,
        },
        Op::WalkIn {
            passport: true,
            size: 1,
        },
        Op::Cancel(2),
        Op::Tick(15),
        Op::WalkIn {
            passport: false,
            size: 2,
        },
        Op::Tick(5),
        Op::Arrive(0),
        Op::Tick(15),
        Op::Call(1),
        Op::CheckOut(0),
    ];
    let (s, log) = run(5, &ops).expect("the invariants hold");
    let fates: Vec<Fate> = (0..3)
        .map(|n| Fate::of(&s.booking(&id(n)).unwrap().status))
        .collect();
    assert_eq!(fates, [Fate::Arrived, Fate::NoShow, Fate::Cancelled]);
    assert!(
        log.iter()
            .any(|(e, _)| matches!(e, Event::BookingDue { .. }))
    );
}
