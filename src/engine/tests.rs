//! Engine tests: the rules as examples, and a property test against a tiny model.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::capacity::{AreaModel, RoomGeometry};
use crate::config::{Rules, Service};
use crate::domain::event::{Delta, Text};
use crate::domain::message::Message;
use crate::domain::{DistrictId, PartySize, StationId};
use crate::hours::{Schedule, WeeklyHours, parse_day};

/// A station with a room of `cap` visitors at 2 m (area cap = area / 4) and two services open
/// around the clock.
pub(super) fn station(cap: u32) -> Station {
    station_with_hours(cap, WeeklyHours::always())
}

pub(super) fn station_with_hours(cap: u32, hours: WeeklyHours) -> Station {
    let service = |id: &str, prefix| Service {
        id: ServiceId::parse(id).unwrap(),
        name: id.to_owned(),
        name_en: id.to_owned(),
        prefix,
        hours: Schedule::weekly(hours.clone()),
        booking: None,
        walk_in_quota: None,
    };
    let cfg = config::Station {
        id: StationId::parse("test").unwrap(),
        district: DistrictId::parse("oslo").unwrap(),
        name: "Test politistasjon".into(),
        address: None,
        timezone: chrono_tz::Europe::Oslo,
        geometry: RoomGeometry {
            area_m2: f64::from(cap) * 4.0,
            seats: None,
            max_visitors: None,
        },
        queue_line_m: Some(10.0),
        services: vec![service("passport", 'P'), service("residence", 'U')],
        operations: config::Operations::default(),
        webhook: None,
        remote: config::Remote::default(),
        bookings: Default::default(),
    };
    let s = Station::new(Arc::new(cfg), &rules_2m());
    assert_eq!(s.cap(), cap);
    s
}

pub(super) fn rules_2m() -> Rules {
    Rules {
        distancing_m: 2.0,
        area_model: AreaModel::Grid,
    }
}

/// Wednesday 25 November 2026, 10:00 in Oslo.
pub(super) fn t0() -> DateTime<Utc> {
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(2026, 11, 25, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

pub(super) fn check_in(service: &str, size: u32) -> Event {
    Event::CheckIn {
        service: ServiceId::parse(service).unwrap(),
        party_size: PartySize::new(size).unwrap(),
        appointment: None,
        link: None,
    }
}
pub(super) fn check_out(t: &str) -> Event {
    Event::CheckOut {
        ticket: Ticket::parse(t).unwrap(),
    }
}
fn no_show(t: &str) -> Event {
    Event::NoShow {
        ticket: Ticket::parse(t).unwrap(),
    }
}
pub(super) fn call(desk: &str, service: Option<&str>) -> Event {
    Event::Call {
        desk: DeskId::parse(desk).unwrap(),
        service: service.map(|s| ServiceId::parse(s).unwrap()),
    }
}
fn correction(d: i32) -> Event {
    Event::Correction {
        delta: Delta::new(d).unwrap(),
        reason: Text::parse("counted at the door").unwrap(),
    }
}
pub(super) fn t(s: &str) -> Ticket {
    Ticket::parse(s).unwrap()
}

#[test]
fn check_in_enters_when_there_is_room() {
    let mut s = station(3);
    let o = s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap();
    assert_eq!(o.ticket, Some(t("P001")));
    assert_eq!(o.state, Some(Place::Inside));
    assert_eq!(o.position, None);
    assert_eq!((o.headcount, o.cap, o.seq), (2, 3, 1));
}

#[test]
fn check_in_waits_outside_when_the_room_is_full() {
    let mut s = station(2);
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap();
    let o = s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    assert_eq!(o.state, Some(Place::Outside));
    assert_eq!(o.position, Some(1));
    assert_eq!(o.headcount, 2);
    let o = s
        .apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    assert_eq!((o.ticket, o.position), (Some(t("U001")), Some(2)));
}

#[test]
fn nobody_overtakes_the_queue_even_when_they_would_fit() {
    let mut s = station(3);
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap(); // P001 inside, 2/3
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap(); // P002 outside (would be 4)
    let o = s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap(); // fits, but P002 is first
    assert_eq!(o.state, Some(Place::Outside));
    assert_eq!(s.outside_tickets(), vec![t("P002"), t("P003")]);
}

#[test]
fn room_freeing_up_admits_the_head_of_the_queue_and_asks_it_in() {
    let mut s = station(2);
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let o = s.apply(&check_out("P001"), t0(), Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P002"), t("P003")]);
    assert_eq!(o.headcount, 2);
    let status = s.status(t0());
    assert_eq!(status.please_enter, vec![t("P002"), t("P003")]);
    // Being called takes a ticket off the "please enter" list.
    s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    assert_eq!(s.status(t0()).please_enter, vec![t("P003")]);
}

#[test]
fn a_large_party_at_the_head_blocks_until_it_fits() {
    let mut s = station(3);
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap(); // P001 in
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap(); // P002 in, 3/3
    s.apply(&check_in("passport", 3), t0(), Mode::Live).unwrap(); // P003 out
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap(); // P004 out
    let o = s.apply(&check_out("P002"), t0(), Mode::Live).unwrap();
    assert!(o.admitted.is_empty(), "P004 must not overtake P003");
    let o = s.apply(&check_out("P001"), t0(), Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P003")]);
}

#[test]
fn calls_take_the_longest_waiting_ticket_and_never_the_same_twice() {
    let mut s = station(10);
    for service in ["passport", "residence", "passport"] {
        s.apply(&check_in(service, 1), t0(), Mode::Live).unwrap();
    }
    let a = s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    let b = s.apply(&call("2", None), t0(), Mode::Live).unwrap();
    let c = s
        .apply(&call("3", Some("passport")), t0(), Mode::Live)
        .unwrap();
    assert_eq!(a.ticket, Some(t("P001")));
    assert_eq!(b.ticket, Some(t("U001")));
    assert_eq!(c.ticket, Some(t("P002")));
    assert_eq!(
        s.apply(&call("4", None), t0(), Mode::Live),
        Err(Refusal::NothingToCall(Message::new("nothing_to_call.any")))
    );
    let calls = s.status(t0()).calls;
    assert_eq!(calls[0].ticket, t("P002"));
    assert_eq!(calls[0].desk.as_str(), "3");
}

#[test]
fn calls_are_kept_to_the_last_ten() {
    let mut s = station(20);
    for _ in 0..12 {
        s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
        s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    }
    let calls = s.status(t0()).calls;
    assert_eq!(calls.len(), CALLS_KEPT);
    assert_eq!(calls[0].ticket, t("P012"));
}

#[test]
fn check_out_of_a_ticket_outside_or_unknown_is_refused_and_changes_nothing() {
    let mut s = station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let before = s.status(t0());
    assert_eq!(
        s.apply(&check_out("P002"), t0(), Mode::Live),
        Err(Refusal::TicketOutside(t("P002")))
    );
    assert_eq!(
        s.apply(&check_out("P009"), t0(), Mode::Live),
        Err(Refusal::UnknownTicket(t("P009")))
    );
    assert_eq!(s.status(t0()), before);
}

#[test]
fn a_no_show_outside_leaves_the_queue() {
    let mut s = station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&no_show("P002"), t0(), Mode::Live).unwrap();
    assert_eq!(s.outside_tickets(), vec![t("P003")]);
    let o = s.apply(&no_show("P001"), t0(), Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P003")]);
}

#[test]
fn corrections_count_people_but_never_go_below_zero() {
    let mut s = station(3);
    assert!(matches!(
        s.apply(&correction(-1), t0(), Mode::Live),
        Err(Refusal::CorrectionBelowZero(_))
    ));
    let o = s.apply(&correction(4), t0(), Mode::Live).unwrap();
    assert_eq!(o.headcount, 4, "a guard's count may exceed the cap");
    let o = s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    assert_eq!(
        o.state,
        Some(Place::Outside),
        "admissions stop while over the cap"
    );
    let o = s.apply(&correction(-2), t0(), Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P001")]);
    assert_eq!(o.headcount, 3);
}

#[test]
fn a_closed_service_refuses_check_in_live_but_replays_what_was_accepted() {
    let mut days: [Vec<crate::hours::Range>; 7] = Default::default();
    days[2] = parse_day("08:00-09:00").unwrap(); // Wednesday only, closed at 10:00
    let mut s = station_with_hours(5, WeeklyHours::from_days(days));
    match s.apply(&check_in("passport", 1), t0(), Mode::Live) {
        Err(r @ Refusal::ServiceClosed(_)) => {
            let why = r.to_string();
            assert!(why.contains("closed now"), "{why}");
            assert!(why.contains("opens Wednesday at 08:00"), "{why}");
            let m = r.message();
            assert_eq!(m.code, "service_closed.now");
            assert_eq!(m.params["service"], "passport");
            assert_eq!(m.params["opens"]["code"], "opens.on_day");
            assert_eq!(
                m.params["opens"]["params"]["weekday"]["code"],
                "weekday.wednesday"
            );
        }
        other => panic!("expected a closed refusal, got {other:?}"),
    }
    assert_eq!(s.seq(), 0);
    assert!(
        s.apply(&check_in("passport", 1), t0(), Mode::Replay)
            .is_ok()
    );
}

#[test]
fn a_party_larger_than_the_cap_is_refused() {
    let mut s = station(2);
    assert!(matches!(
        s.apply(&check_in("passport", 3), t0(), Mode::Live),
        Err(Refusal::PartyTooLarge(_))
    ));
}

#[test]
fn unknown_services_are_refused() {
    let mut s = station(2);
    assert_eq!(
        s.apply(&check_in("visa", 1), t0(), Mode::Live),
        Err(Refusal::UnknownService(ServiceId::parse("visa").unwrap()))
    );
}

#[test]
fn tickets_are_numbered_per_service_and_restart_each_day() {
    let mut s = station(10);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let u = s
        .apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    assert_eq!(u.ticket, Some(t("U001")));
    let next_day = t0() + Duration::days(1);
    let o = s
        .apply(&check_in("passport", 1), next_day, Mode::Live)
        .unwrap();
    assert_eq!(o.ticket, Some(t("P001")));
    assert_eq!(o.closed_out, vec![t("P001"), t("P002"), t("U001")]);
    assert_eq!(o.headcount, 1);
}

#[test]
fn the_public_document_carries_no_appointment_reference() {
    let mut s = station(1);
    for _ in 0..2 {
        let e = Event::CheckIn {
            service: ServiceId::parse("passport").unwrap(),
            party_size: PartySize::ONE,
            appointment: Some(Text::parse("CANARY-4711").unwrap()),
            link: None,
        };
        s.apply(&e, t0(), Mode::Live).unwrap();
    }
    let full = serde_json::to_string(&s.status(t0())).unwrap();
    let public = serde_json::to_string(&s.public_status(t0())).unwrap();
    assert!(full.contains("CANARY-4711"));
    assert!(!public.contains("CANARY-4711"));
}

// ---- property test against a tiny model ------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    CheckIn { service: bool, size: u32 },
    CheckOut(usize),
    NoShow(usize),
    Call(u8, Option<bool>),
    Correction(i32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 1u32..=4).prop_map(|(service, size)| Op::CheckIn { service, size }),
        3 => (0usize..40).prop_map(Op::CheckOut),
        1 => (0usize..40).prop_map(Op::NoShow),
        2 => (1u8..4, proptest::option::of(any::<bool>())).prop_map(|(d, s)| Op::Call(d, s)),
        1 => (-3i32..=3).prop_filter("non-zero", |d| *d != 0).prop_map(Op::Correction),
    ]
}

/// The rules in their simplest form: who is inside, who is outside, in what order.
#[derive(Debug, Default)]
struct Model {
    cap: u32,
    inside: Vec<(Ticket, u32)>,
    outside: VecDeque<(Ticket, u32)>,
    corrections: u32,
}

impl Model {
    fn headcount(&self) -> u32 {
        self.inside.iter().map(|p| p.1).sum::<u32>() + self.corrections
    }
    fn admit(&mut self) {
        while let Some(&(ticket, size)) = self.outside.front() {
            if self.headcount() + size > self.cap {
                break;
            }
            self.outside.pop_front();
            self.inside.push((ticket, size));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_engine_follows_the_model_and_keeps_its_invariants(
        cap in 1u32..6,
        ops in proptest::collection::vec(op(), 1..80),
        cut in 0usize..80,
    ) {
        let mut s = station(cap);
        let mut m = Model { cap, ..Model::default() };
        let mut log: Vec<(Event, DateTime<Utc>)> = Vec::new();
        let mut issued: Vec<Ticket> = Vec::new();
        let mut called: Vec<Ticket> = Vec::new();
        let mut over_cap_by_correction = false;
        for (i, op) in ops.iter().enumerate() {
            let at = t0() + Duration::seconds(i as i64);
            let pick = |n: usize| issued.get(n % issued.len().max(1)).copied();
            let event = match op {
                Op::CheckIn { service, size } => check_in(if *service { "passport" } else { "residence" }, *size),
                Op::CheckOut(n) => match pick(*n) { Some(t) => Event::CheckOut { ticket: t }, None => continue },
                Op::NoShow(n) => match pick(*n) { Some(t) => Event::NoShow { ticket: t }, None => continue },
                Op::Call(d, svc) => call(&d.to_string(), svc.map(|p| if p { "passport" } else { "residence" })),
                Op::Correction(d) => correction(*d),
            };
            let result = s.apply(&event, at, Mode::Live);
            // The model's verdict.
            match (&event, &result) {
                (Event::CheckIn { party_size, .. }, _) => {
                    let size = party_size.get();
                    if size > cap {
                        prop_assert!(matches!(result, Err(Refusal::PartyTooLarge(_))));
                    } else {
                        let o = result.clone().unwrap();
                        let ticket = o.ticket.unwrap();
                        issued.push(ticket);
                        if m.outside.is_empty() && m.headcount() + size <= cap {
                            prop_assert_eq!(o.state, Some(Place::Inside));
                            m.inside.push((ticket, size));
                        } else {
                            prop_assert_eq!(o.state, Some(Place::Outside));
                            m.outside.push_back((ticket, size));
                            prop_assert_eq!(o.position, Some(m.outside.len() as u32));
                        }
                    }
                }
                (Event::CheckOut { ticket }, _) => {
                    if let Some(i) = m.inside.iter().position(|p| p.0 == *ticket) {
                        prop_assert!(result.is_ok());
                        m.inside.remove(i);
                        m.admit();
                    } else {
                        prop_assert!(result.is_err());
                    }
                }
                (Event::NoShow { ticket }, _) => {
                    if let Some(i) = m.inside.iter().position(|p| p.0 == *ticket) {
                        m.inside.remove(i);
                        m.admit();
                        prop_assert!(result.is_ok());
                    } else if let Some(i) = m.outside.iter().position(|p| p.0 == *ticket) {
                        m.outside.remove(i);
                        m.admit();
                        prop_assert!(result.is_ok());
                    } else {
                        prop_assert!(result.is_err());
                    }
                }
                (Event::Call { .. }, Ok(o)) => {
                    let ticket = o.ticket.unwrap();
                    prop_assert!(!called.contains(&ticket), "{} called twice", ticket);
                    prop_assert!(m.inside.iter().any(|p| p.0 == ticket), "called a ticket not inside");
                    called.push(ticket);
                }
                (Event::Call { .. }, Err(e)) => prop_assert!(matches!(e, Refusal::NothingToCall(_))),
                (Event::Correction { delta, .. }, _) => {
                    let next = i64::from(m.corrections) + i64::from(delta.get());
                    if next < 0 {
                        prop_assert!(result.is_err());
                    } else {
                        prop_assert!(result.is_ok());
                        m.corrections = next as u32;
                        if delta.get() > 0 && m.headcount() > cap {
                            over_cap_by_correction = true;
                        }
                        m.admit();
                    }
                }
                _ => {}
            }
            if let Ok(o) = &result {
                log.push((event.clone(), at));
                prop_assert_eq!(o.seq, log.len() as u64);
            }
            // Invariants.
            prop_assert_eq!(s.inside_tickets(), m.inside.iter().map(|p| p.0).collect::<Vec<_>>());
            prop_assert_eq!(s.outside_tickets(), m.outside.iter().map(|p| p.0).collect::<Vec<_>>());
            let parties: u32 = s.inside_parties().iter().map(|p| p.1).sum();
            prop_assert_eq!(s.headcount(), parties + s.corrections());
            if !over_cap_by_correction {
                prop_assert!(s.headcount() <= cap, "headcount {} above cap {}", s.headcount(), cap);
            }
            if m.headcount() <= cap {
                over_cap_by_correction = false;
            }
            for ticket in &issued {
                let places = usize::from(s.inside_tickets().contains(ticket))
                    + usize::from(s.outside_tickets().contains(ticket));
                prop_assert!(places <= 1, "{} is in two places", ticket);
            }
        }
        // Replaying the accepted events from empty gives the same state.
        let mut replayed = station(cap);
        for (event, at) in &log {
            replayed.apply(event, *at, Mode::Replay).unwrap();
        }
        let now = t0() + Duration::hours(1);
        prop_assert_eq!(replayed.status(now), s.status(now));

        // So does restoring a snapshot taken anywhere (through its stored JSON form) and
        // replaying only the events after it.
        let cut = cut.min(log.len());
        let mut prefix = station(cap);
        for (event, at) in &log[..cut] {
            prefix.apply(event, *at, Mode::Replay).unwrap();
        }
        let stored = serde_json::to_string(&prefix.snapshot()).unwrap();
        let snapshot: Snapshot = serde_json::from_str(&stored).unwrap();
        prop_assert_eq!(snapshot.seq(), cut as u64);
        let mut restored = Station::restore(Arc::new(s.config().clone()), &rules_2m(), snapshot).unwrap();
        for (event, at) in &log[cut..] {
            restored.apply(event, *at, Mode::Replay).unwrap();
        }
        prop_assert_eq!(restored.status(now), s.status(now));
        prop_assert_eq!(restored.snapshot(), s.snapshot());
    }
}

#[test]
fn a_snapshot_of_another_layout_or_for_missing_services_is_not_restored() {
    let mut s = station(3);
    s.apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    let snapshot = s.snapshot();

    let mut other_version = serde_json::to_value(&snapshot).unwrap();
    other_version["version"] = serde_json::json!(SNAPSHOT_VERSION + 1);
    let other_version: Snapshot = serde_json::from_value(other_version).unwrap();
    assert!(Station::restore(Arc::new(s.config().clone()), &rules_2m(), other_version).is_none());

    // The config no longer has the residence service the snapshot's ticket belongs to.
    let mut cfg = s.config().clone();
    cfg.services.retain(|svc| svc.id.as_str() != "residence");
    assert!(Station::restore(Arc::new(cfg), &rules_2m(), snapshot.clone()).is_none());

    let restored = Station::restore(Arc::new(s.config().clone()), &rules_2m(), snapshot).unwrap();
    assert_eq!(restored.inside_tickets(), vec![t("U001")]);
    assert_eq!(restored.seq(), 1);
}

/// A snapshot written before alerts had codes (layout 3: a cleaning alert per surface, alerts
/// with only a detail) is never restored: it no longer reads, or its version is refused, and the
/// station is replayed from its log instead.
#[test]
fn a_snapshot_from_before_alert_codes_is_not_restored() {
    let mut s = station(3);
    for _ in 0..3 {
        s.apply(&check_in("residence", 1), t0(), Mode::Live)
            .unwrap();
    }
    let mut old = serde_json::to_value(s.snapshot()).unwrap();
    assert!(
        !old["state"]["alerts"]["open"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    old["version"] = serde_json::json!(3);
    for alert in old["state"]["alerts"]["open"].as_array_mut().unwrap() {
        let alert = alert.as_object_mut().unwrap();
        alert.remove("code");
        alert.remove("params");
    }
    old["state"]["alerts"]["open"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "id": 9, "raised_by_seq": 1, "kind": "cleaning_due", "surface": "counter",
            "state": "active", "since": "2026-11-25T08:00:00Z", "detail": "counter: due",
        }));
    let restored = serde_json::from_value::<Snapshot>(old)
        .ok()
        .and_then(|snap| Station::restore(Arc::new(s.config().clone()), &rules_2m(), snap));
    assert!(restored.is_none(), "an old snapshot must not be restored");
}

#[test]
fn wait_estimates_come_from_measured_desk_times_and_are_absent_without_them() {
    let mut s = station(2);
    let at = |min: i64| t0() + Duration::minutes(min);
    for _ in 0..4 {
        s.apply(&check_in("passport", 1), at(0), Mode::Live)
            .unwrap();
    }
    let doc = s.status(at(0));
    let passport = &doc.services[0];
    assert_eq!(passport.estimated_wait_min, None, "nothing measured yet");
    assert_eq!(doc.outside[0].expected_enter_min, None);

    // Desk 1 serves P001 in 6 minutes: one desk, 6 minutes a visitor.
    s.apply(&call("1", None), at(1), Mode::Live).unwrap();
    s.apply(&check_out("P001"), at(7), Mode::Live).unwrap();
    let doc = s.status(at(7));
    let passport = &doc.services[0];
    assert_eq!(passport.desks_active, 1);
    // P002 and P003 (asked in) wait inside, P004 outside: 3 ahead × 6 min.
    assert_eq!(passport.waiting_inside + passport.waiting_outside, 3);
    assert_eq!(passport.estimated_wait_min, Some(18));
    assert_eq!(doc.outside[0].ticket, t("P004"));
    assert_eq!(doc.outside[0].expected_enter_min, Some(6));
    // The other service has measured nothing: no number is made up for it.
    assert_eq!(doc.services[1].estimated_wait_min, None);

    // Half an hour without a call: no desk is known to serve, so no estimate.
    let later = s.status(at(40));
    assert_eq!(later.services[0].estimated_wait_min, None);
    assert_eq!(later.services[0].desks_active, 0);
}
