//! Engine tests for running a station's day: overrides, rule changes, alerts, closing and the
//! clock-driven reviews, and a property test that a random day — with closings, overrides and
//! rule changes — replays from the log to exactly the same state.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::alerts::{AlertState, Condition};
use super::*;
use crate::capacity::{AreaModel, RoomGeometry};
use crate::config::{Operations, Rules, Service};
use crate::domain::event::{Distance, Reason, Text};
use crate::domain::{DeviceId, DistrictId, PartySize, StationId};
use crate::hours::{Schedule, WeeklyHours, parse_day};

/// A room of `area` m² (cap = area / 4 at 2 m) with one service on `hours`.
fn room(area: f64, hours: WeeklyHours) -> Station {
    let cfg = config::Station {
        id: StationId::parse("day").unwrap(),
        district: DistrictId::parse("oslo").unwrap(),
        name: "Day politistasjon".into(),
        address: None,
        timezone: chrono_tz::Europe::Oslo,
        geometry: RoomGeometry {
            area_m2: area,
            seats: None,
            max_visitors: None,
        },
        queue_line_m: Some(10.0),
        services: vec![Service {
            id: ServiceId::parse("passport").unwrap(),
            name: "Pass".into(),
            name_en: "Passport".into(),
            prefix: 'P',
            hours: Schedule::weekly(hours),
            booking: None,
            walk_in_quota: None,
        }],
        operations: Operations::default(),
        webhook: None,
        remote: crate::config::Remote::default(),
        bookings: Default::default(),
    };
    Station::new(
        Arc::new(cfg),
        &Rules {
            distancing_m: 2.0,
            area_model: AreaModel::Grid,
        },
    )
}

fn always(area: f64) -> Station {
    room(area, WeeklyHours::always())
}

/// Wednesday 25 November 2026 at `hh:mm` in Oslo.
fn wed(h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(2026, 11, 25, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn wednesday(spec: &str) -> WeeklyHours {
    let mut days: [Vec<crate::hours::Range>; 7] = Default::default();
    days[2] = parse_day(spec).unwrap();
    WeeklyHours::from_days(days)
}

fn check_in(size: u32) -> Event {
    Event::CheckIn {
        service: ServiceId::parse("passport").unwrap(),
        party_size: PartySize::new(size).unwrap(),
        appointment: None,
        link: None,
    }
}
fn check_out(t: &str) -> Event {
    Event::CheckOut {
        ticket: Ticket::parse(t).unwrap(),
    }
}
fn override_(ticket: Option<&str>, reason: &str) -> Event {
    Event::Override {
        ticket: ticket.map(|t| Ticket::parse(t).unwrap()),
        reason: Text::parse(reason).unwrap(),
    }
}
fn rule(m: f64) -> Event {
    Event::RuleChanged {
        distancing_m: Distance::parse(m).unwrap(),
        scope: Reason::parse("national").unwrap(),
    }
}
fn ack(alert: u64) -> Event {
    Event::Acknowledge {
        alert,
        by: DeviceId::parse("oslo-guard").unwrap(),
    }
}
fn t(s: &str) -> Ticket {
    Ticket::parse(s).unwrap()
}

/// The station's open cleaning alert, if any.
fn cleaning_alert(s: &Station) -> Option<crate::domain::Alert> {
    s.open_alerts()
        .iter()
        .find(|a| a.condition == Condition::CleaningDue)
        .cloned()
}

fn open_alerts(s: &Station) -> Vec<(Condition, AlertState, String)> {
    s.status(wed(12, 0))
        .alerts
        .into_iter()
        .filter(|a| a.state != AlertState::Cleared)
        .map(|a| (a.condition, a.state, a.detail))
        .collect()
}

#[test]
fn an_override_lets_a_party_in_past_the_cap_and_the_alert_says_why() {
    let mut s = always(8.0); // cap 2
    let at = wed(10, 0);
    for _ in 0..4 {
        s.apply(&check_in(1), at, Mode::Live).unwrap();
    }
    assert_eq!(s.outside_tickets(), [t("P003"), t("P004")]);
    // A named ticket from the middle of the queue (the guard decides).
    let o = s
        .apply(
            &override_(Some("P004"), "wheelchair user in the rain"),
            at,
            Mode::Live,
        )
        .unwrap();
    assert_eq!(o.ticket, Some(t("P004")));
    assert_eq!(o.state, Some(Place::Inside));
    assert_eq!(s.headcount(), 3);
    assert_eq!(s.outside_tickets(), [t("P003")]);
    let doc = s.status(at);
    assert!(doc.please_enter.contains(&t("P004")));
    assert!(
        doc.inside[&ServiceId::parse("passport").unwrap()]
            .iter()
            .any(|p| p.ticket == t("P004") && p.overridden)
    );
    let alerts = open_alerts(&s);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, Condition::OverCap);
    assert!(
        alerts[0]
            .2
            .contains("override (wheelchair user in the rain)"),
        "{}",
        alerts[0].2
    );

    // Nobody else gets in until the headcount is under the cap again.
    s.apply(&check_out("P001"), at, Mode::Live).unwrap();
    assert_eq!(
        s.outside_tickets(),
        [t("P003")],
        "2 inside at cap 2: still no room"
    );
    assert_eq!(open_alerts(&s)[0].0, Condition::AtCap);
    s.apply(&check_out("P002"), at, Mode::Live).unwrap();
    assert!(
        s.outside_tickets().is_empty(),
        "P003 was admitted once there was room"
    );

    // Without a queue there is nobody to let in; a ticket inside is refused too.
    assert!(matches!(
        s.apply(&override_(None, "x"), at, Mode::Live),
        Err(Refusal::NothingToOverride(_))
    ));
    assert!(matches!(
        s.apply(&override_(Some("P003"), "x"), at, Mode::Live),
        Err(Refusal::NothingToOverride(why))
            if why.code == "nothing_to_override.inside" && why.params["ticket"] == "P003"
    ));
}

#[test]
fn a_lower_cap_evicts_nobody_stops_admissions_and_a_higher_one_admits_the_queue() {
    let mut s = always(16.0); // 4 at 2 m, 1 at 3 m (16 / 9), 16 at 1 m
    let at = wed(10, 0);
    for _ in 0..4 {
        s.apply(&check_in(1), at, Mode::Live).unwrap();
    }
    s.apply(&rule(3.0), at, Mode::Live).unwrap();
    assert_eq!(s.cap(), 1);
    assert_eq!(s.headcount(), 4, "nobody is evicted");
    let alerts = open_alerts(&s);
    assert_eq!(alerts[0].0, Condition::OverCap);
    assert!(
        alerts[0].2.contains("rule change to 3 m"),
        "{}",
        alerts[0].2
    );
    let o = s.apply(&check_in(1), at, Mode::Live).unwrap();
    assert_eq!(o.state, Some(Place::Outside));
    for ticket in ["P001", "P002", "P003"] {
        s.apply(&check_out(ticket), at, Mode::Live).unwrap();
        assert_eq!(
            s.outside_tickets(),
            [t("P005")],
            "still full after {ticket} left"
        );
    }
    // 1 m: cap 16, the queue walks in.
    s.apply(&rule(1.0), at, Mode::Live).unwrap();
    assert_eq!(s.cap(), 16);
    assert!(s.outside_tickets().is_empty());
    assert_eq!(s.status(at).cap_basis.distancing_m, 1.0);
    assert!(
        s.open_alerts().iter().all(|a| a.settles_at.is_some()),
        "no longer full: at most settling"
    );
}

#[test]
fn alerts_are_acknowledged_once_and_clear_when_the_condition_ends() {
    let mut s = always(8.0); // cap 2
    let at = wed(10, 0);
    s.apply(&check_in(1), at, Mode::Live).unwrap();
    let o = s.apply(&check_in(1), at, Mode::Live).unwrap();
    let alert = s.status(at).alerts[0].clone();
    assert_eq!(alert.condition, Condition::AtCap);
    assert_eq!(alert.id, 1, "alerts are numbered per station");
    assert_eq!(alert.raised_by_seq, o.seq);
    s.apply(&ack(alert.id), wed(10, 1), Mode::Live).unwrap();
    let acked = s.status(at).alerts[0].clone();
    assert_eq!(acked.state, AlertState::Acknowledged);
    assert_eq!(acked.acknowledged_by.unwrap().as_str(), "oslo-guard");
    assert!(matches!(
        s.apply(&ack(alert.id), wed(10, 2), Mode::Live),
        Err(r @ Refusal::Alert(_))
            if r.message().code == "alert.already_acknowledged"
                && r.message().params["by"] == "oslo-guard"
                && r.to_string().contains("already acknowledged by oslo-guard")
    ));
    assert!(matches!(
        s.apply(&ack(999), at, Mode::Live),
        Err(Refusal::Alert(_))
    ));
    s.apply(&check_out("P001"), wed(10, 3), Mode::Live).unwrap();
    let settling = s.status(at).alerts[0].clone();
    assert_eq!(
        settling.state,
        AlertState::Acknowledged,
        "settling, still open"
    );
    assert_eq!(settling.settles_at, Some(wed(10, 8)));
    assert_eq!(s.due(wed(10, 7)), None);
    assert_eq!(s.due(wed(10, 8)), Some(Event::Clock));
    s.apply(&Event::Clock, wed(10, 8), Mode::Live).unwrap();
    let cleared = s.status(at).alerts[0].clone();
    assert_eq!(cleared.state, AlertState::Cleared);
    assert_eq!(cleared.cleared_at, Some(wed(10, 8)));
    assert!(matches!(
        s.apply(&ack(alert.id), wed(10, 4), Mode::Live),
        Err(r @ Refusal::Alert(_))
            if r.message().code == "alert.already_cleared" && r.to_string().contains("already cleared")
    ));
}

#[test]
fn the_clock_raises_cleaning_due_and_long_inside_and_cleaning_clears_it() {
    let mut s = always(40.0);
    s.apply(&check_in(1), wed(8, 0), Mode::Live).unwrap();
    assert_eq!(s.due(wed(8, 59)), None, "nothing is due before an hour");
    assert_eq!(s.due(wed(9, 0)), Some(Event::Clock));
    s.apply(&Event::Clock, wed(9, 0), Mode::Live).unwrap();
    let due = cleaning_alert(&s).expect("surfaces are due");
    let surfaces = due.message.params["surfaces"].as_array().unwrap();
    assert_eq!(
        surfaces.len(),
        4,
        "every tracked surface, in one alert: {due:?}"
    );
    assert_eq!(surfaces[0]["since"], "08:00");
    assert_eq!(surfaces[0]["visitors"], 1);
    assert_eq!(
        s.due(wed(9, 1)),
        None,
        "once reviewed, nothing new until something changes"
    );
    s.apply(
        &Event::Cleaned {
            surface: Text::parse("door handles").unwrap(),
        },
        wed(9, 5),
        Mode::Live,
    )
    .unwrap();
    let still_due = cleaning_alert(&s).expect("three surfaces are still due");
    assert_eq!(
        still_due.id, due.id,
        "the same alert, listing one surface fewer"
    );
    let listed: Vec<&str> = still_due.message.params["surfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["surface"].as_str().unwrap())
        .collect();
    assert!(
        !listed.contains(&"door handles") && listed.len() == 3,
        "{listed:?}"
    );
    assert!(
        still_due.detail.starts_with("due for cleaning: "),
        "{}",
        still_due.detail
    );
    for surface in listed {
        s.apply(
            &Event::Cleaned {
                surface: Text::parse(surface).unwrap(),
            },
            wed(9, 6),
            Mode::Live,
        )
        .unwrap();
    }
    assert!(cleaning_alert(&s).is_none(), "cleared when none is due");
    // Two hours inside: probably left without checking out.
    assert_eq!(s.due(wed(10, 0)), Some(Event::Clock));
    s.apply(&Event::Clock, wed(10, 0), Mode::Live).unwrap();
    assert!(
        open_alerts(&s)
            .iter()
            .any(|a| a.0 == Condition::LongInside { ticket: t("P001") })
    );
}

#[test]
fn fifty_visitors_make_a_surface_due_before_the_hour() {
    let mut s = always(400.0);
    for i in 0..50 {
        s.apply(&check_in(1), wed(8, 0) + Duration::seconds(i), Mode::Live)
            .unwrap();
    }
    let due = cleaning_alert(&s).expect("due by visitors");
    assert!(
        due.message.params["surfaces"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["surface"] == "counter" && x["visitors"] == 50)
    );
}

#[test]
fn a_crowd_outside_raises_a_gathering_alert() {
    let mut s = always(4.0); // cap 1; queue line 10 m at 2 m = 5 places... or 6
    let places = s.status(wed(10, 0)).queue_line_places.unwrap();
    for _ in 0..=places {
        s.apply(&check_in(1), wed(10, 0), Mode::Live).unwrap();
    }
    assert!(open_alerts(&s).iter().any(|a| a.0 == Condition::Gathering));
}

#[test]
fn the_day_is_closed_out_after_closing_plus_grace_not_during_a_break() {
    let mut s = room(40.0, wednesday("08:00-09:00,10:00-11:00"));
    s.apply(&check_in(1), wed(8, 30), Mode::Live).unwrap();
    s.apply(&check_in(2), wed(8, 31), Mode::Live).unwrap();
    let closes = |s: &Station, at| matches!(s.due(at), Some(Event::CloseOut { .. }));
    assert!(
        !closes(&s, wed(9, 45)),
        "closed for a break, opens again at 10:00"
    );
    assert!(!closes(&s, wed(11, 29)), "within the grace period");
    let due = s.due(wed(11, 30)).expect("closing + 30 min");
    let Event::CloseOut { reason } = &due else {
        panic!("expected a close-out, got {due:?}");
    };
    assert!(reason.as_str().contains("closed at 11:00"), "{reason}");
    let o = s.apply(&due, wed(11, 30), Mode::Live).unwrap();
    assert_eq!(o.closed_out, [t("P001"), t("P002")]);
    assert_eq!(s.headcount(), 0);
    assert!(!closes(&s, wed(12, 0)), "nothing left to close out");
}

#[test]
fn the_last_check_in_is_before_closing() {
    let mut s = room(40.0, wednesday("08:00-09:00"));
    assert!(s.apply(&check_in(1), wed(8, 44), Mode::Live).is_ok());
    match s.apply(&check_in(1), wed(8, 45), Mode::Live) {
        Err(r @ Refusal::ServiceClosed(_)) => {
            let why = r.message();
            assert_eq!(why.code, "service_closed.last_check_in");
            assert_eq!(why.params["last_check_in"], "08:45");
            assert_eq!(why.params["closing"], "09:00");
            assert!(
                r.to_string()
                    .contains("last check-in 15 minutes before closing (08:45"),
                "{r}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // A replay of what was accepted is not re-judged.
    assert!(s.apply(&check_in(1), wed(8, 50), Mode::Replay).is_ok());
}

#[test]
fn the_documents_say_the_last_check_in_and_whether_one_is_taken_as_the_engine_judges() {
    let s = room(40.0, wednesday("08:00-09:00,10:00-11:00"));
    let window = |at| {
        let service = &s.status(at).services[0];
        (service.last_check_in.clone(), service.taking_check_ins)
    };
    assert_eq!(
        window(wed(7, 30)),
        (Some("08:45".into()), false),
        "before opening"
    );
    assert_eq!(window(wed(8, 44)), (Some("08:45".into()), true));
    assert_eq!(window(wed(8, 45)), (Some("08:45".into()), false));
    assert_eq!(
        window(wed(9, 30)),
        (Some("10:45".into()), false),
        "the break: the next opening's"
    );
    assert_eq!(
        window(wed(11, 30)),
        (None, false),
        "closed for the rest of the day"
    );
    for (at, taken) in [(wed(8, 44), true), (wed(8, 45), false), (wed(10, 10), true)] {
        let mut fresh = s.clone();
        assert_eq!(
            fresh.apply(&check_in(1), at, Mode::Live).is_ok(),
            taken,
            "at {at}"
        );
        assert_eq!(window(at).1, taken, "the document agrees at {at}");
    }
}

#[derive(Debug, Clone)]
enum DayOp {
    CheckIn(u32),
    CheckOut(usize),
    NoShow(usize),
    Call(u8),
    Correction(i32),
    Override(Option<usize>),
    Rule(f64),
    Cleaned(usize),
    Ack(usize),
    /// What the clock brings at this moment (close-out or review), if anything.
    Clock,
}

fn day_op() -> impl Strategy<Value = DayOp> {
    prop_oneof![
        5 => (1u32..=3).prop_map(DayOp::CheckIn),
        3 => (0usize..60).prop_map(DayOp::CheckOut),
        1 => (0usize..60).prop_map(DayOp::NoShow),
        2 => (1u8..4).prop_map(DayOp::Call),
        1 => prop_oneof![Just(1), Just(-1), Just(2)].prop_map(DayOp::Correction),
        1 => proptest::option::of(0usize..10).prop_map(DayOp::Override),
        1 => prop_oneof![Just(1.0), Just(1.5), Just(2.0), Just(3.0)].prop_map(DayOp::Rule),
        1 => (0usize..4).prop_map(DayOp::Cleaned),
        1 => (0usize..5).prop_map(DayOp::Ack),
        2 => Just(DayOp::Clock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A random day — check-ins and departures, calls, corrections, overrides, rule changes,
    /// cleanings, acknowledgements, closing and clock reviews, over a day with a lunch break —
    /// replays from the log to exactly the same state, and the alerts always tell the truth about
    /// the cap.
    #[test]
    fn a_random_day_replays_to_the_same_state(
        ops in proptest::collection::vec((day_op(), 0i64..900), 1..120),
    ) {
        let mut s = room(12.0, wednesday("08:00-11:30,12:00-15:00"));
        let mut at = wed(7, 50);
        let mut log: Vec<(Event, DateTime<Utc>)> = Vec::new();
        let mut issued: Vec<Ticket> = Vec::new();
        let surfaces = ["door handles", "counter", "ticket machine", "chairs"];
        for (op, step) in ops {
            at += Duration::seconds(step);
            let pick = |n: usize| issued.get(n % issued.len().max(1)).copied();
            let event = match op {
                DayOp::CheckIn(size) => check_in(size),
                DayOp::CheckOut(n) => match pick(n) { Some(t) => Event::CheckOut { ticket: t }, None => continue },
                DayOp::NoShow(n) => match pick(n) { Some(t) => Event::NoShow { ticket: t }, None => continue },
                DayOp::Call(d) => Event::Call { desk: DeskId::parse(&d.to_string()).unwrap(), service: None },
                DayOp::Correction(d) => Event::Correction {
                    delta: crate::domain::event::Delta::new(d).unwrap(),
                    reason: Text::parse("counted").unwrap(),
                },
                DayOp::Override(n) => override_(n.and_then(pick).map(|t| t.to_string()).as_deref(), "urgent"),
                DayOp::Rule(m) => rule(m),
                DayOp::Cleaned(i) => Event::Cleaned { surface: Text::parse(surfaces[i]).unwrap() },
                DayOp::Ack(i) => match s.status(at).alerts.get(i) { Some(a) => ack(a.id), None => continue },
                DayOp::Clock => match s.due(at) { Some(e) => e, None => continue },
            };
            if let Ok(o) = s.apply(&event, at, Mode::Live) {
                if let (Event::CheckIn { .. }, Some(t)) = (&event, o.ticket) {
                    issued.push(t);
                }
                log.push((event, at));
                prop_assert_eq!(o.seq, log.len() as u64);
            }
            // The over-cap and at-cap alerts hold exactly when the numbers say so (an at-cap
            // alert may stay open, settling, once the room is no longer full).
            let doc = s.status(at);
            let open = |c: Condition| doc.alerts.iter().any(|a| a.condition == c && a.state != AlertState::Cleared && a.settles_at.is_none());
            prop_assert_eq!(open(Condition::OverCap), doc.headcount > doc.cap);
            prop_assert_eq!(open(Condition::AtCap), doc.headcount == doc.cap && doc.cap > 0);
            let parties: u32 = s.inside_parties().iter().map(|p| p.1).sum();
            prop_assert_eq!(s.headcount(), parties + s.corrections());
        }
        let mut replayed = room(12.0, wednesday("08:00-11:30,12:00-15:00"));
        for (event, when) in &log {
            replayed.apply(event, *when, Mode::Replay).unwrap();
        }
        prop_assert_eq!(replayed.status(at), s.status(at));
        prop_assert_eq!(replayed.snapshot(), s.snapshot());
    }
}
