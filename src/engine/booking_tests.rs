//! Bookings: slots follow the hours (holidays, clock changes), room is held from `hold_min`
//! before a slot and given back at arrival or `grace_min` after it, booked parties in their
//! window go ahead of the walk-ins, the walk-in quota, and a replay reaching the same state.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use super::tests::{check_in, check_out, rules_2m, station, t, t0};
use super::*;
use crate::domain::PartySize;
use crate::domain::booking::{BookingId, ExternalRef};
use crate::hours::{Schedule, WeeklyHours, parse_day};

/// A station of `cap` whose passport service takes bookings in 15-minute slots at 2 desks,
/// holding room 15 minutes ahead with 10 minutes' grace; open around the clock.
pub(super) fn booking_station(cap: u32) -> Station {
    let mut cfg = station(cap).config().clone();
    cfg.services[0].booking = Some(config::ServiceBooking {
        slot_min: 15,
        bookable_desks: 2,
    });
    cfg.bookings = config::BookingRules::default();
    Station::new(Arc::new(cfg), &rules_2m())
}

pub(super) fn id(n: u32) -> BookingId {
    BookingId::of_external(&ExternalRef::parse(&format!("ref-{n}")).unwrap())
}

pub(super) fn made(n: u32, slot: DateTime<Utc>, size: u32) -> Event {
    Event::BookingMade {
        booking: id(n),
        service: ServiceId::parse("passport").unwrap(),
        slot,
        party_size: PartySize::new(size).unwrap(),
        code: None,
        external_ref: Some(ExternalRef::parse(&format!("ref-{n}")).unwrap()),
        browser: None,
    }
}

fn min(m: i64) -> Duration {
    Duration::minutes(m)
}

/// Applies `event` live at `at`, which must be accepted.
fn ok(s: &mut Station, event: &Event, at: DateTime<Utc>) -> Outcome {
    s.apply(event, at, Mode::Live)
        .unwrap_or_else(|r| panic!("{} refused: {}", event.kind(), r.message().code))
}

/// Logs what the clock makes due at `at` until nothing is.
fn tick(s: &mut Station, at: DateTime<Utc>, log: &mut Vec<(Event, DateTime<Utc>)>) {
    while let Some(event) = s.due(at) {
        ok(s, &event, at);
        log.push((event, at));
    }
}

#[test]
fn room_is_held_from_hold_min_and_walk_ins_wait_behind_it() {
    let mut s = booking_station(4);
    let slot = t0() + min(60);
    ok(&mut s, &made(1, slot, 2), t0());
    assert_eq!(s.held(), 0, "nothing held an hour ahead");
    assert_eq!(s.due(slot - min(16)), None);
    let due = s.due(slot - min(15)).expect("due at hold_min before");
    assert_eq!(due, Event::BookingDue { booking: id(1) });
    ok(&mut s, &due, slot - min(15));
    assert_eq!(s.held(), 2);
    // Two walk-ins fit beside the held room; the third waits although headcount is 2 of 4.
    ok(&mut s, &check_in("passport", 1), slot - min(10));
    ok(&mut s, &check_in("passport", 1), slot - min(10));
    let third = ok(&mut s, &check_in("passport", 1), slot - min(9));
    assert_eq!(third.state, Some(Place::Outside));
    assert_eq!((s.headcount(), s.held()), (2, 2));
    assert!(s.held_room_turns_away());
    // The booked party arrives: it takes its own held room, and the walk-in still waits.
    let o = ok(
        &mut s,
        &Event::BookingArrived { booking: id(1) },
        slot - min(2),
    );
    assert_eq!(o.state, Some(Place::Inside));
    assert_eq!(o.booking, Some(id(1)));
    assert_eq!((s.headcount(), s.held()), (4, 0));
    assert!(matches!(
        s.booking(&id(1)).unwrap().status,
        bookings::BookingStatus::Arrived { .. }
    ));
    let again = s.apply(&Event::BookingArrived { booking: id(1) }, slot, Mode::Live);
    assert_eq!(
        again.unwrap_err().message().code,
        "booking_state.arrived",
        "admitted at most once"
    );
}

#[test]
fn a_no_show_gives_the_held_room_to_the_queue() {
    let mut s = booking_station(2);
    let slot = t0() + min(30);
    ok(&mut s, &made(1, slot, 2), t0());
    let mut log = Vec::new();
    tick(&mut s, slot - min(15), &mut log);
    let walk_in = ok(&mut s, &check_in("passport", 1), slot - min(14));
    assert_eq!(walk_in.state, Some(Place::Outside), "the room is held");
    tick(&mut s, slot + min(9), &mut log);
    assert_eq!(s.held(), 2, "still within grace");
    assert_eq!(
        s.due(slot + min(10)),
        Some(Event::BookingNoShow { booking: id(1) })
    );
    let o = ok(
        &mut s,
        &Event::BookingNoShow { booking: id(1) },
        slot + min(10),
    );
    assert_eq!(o.admitted, vec![t("P001")], "the walk-in goes in");
    assert_eq!(s.held(), 0);
    let late = s.apply(
        &Event::BookingArrived { booking: id(1) },
        slot + min(12),
        Mode::Live,
    );
    assert_eq!(late.unwrap_err().message().code, "booking_state.no_show");
}

#[test]
fn booked_parties_in_their_window_go_ahead_of_the_walk_ins() {
    let mut s = booking_station(2);
    let slot = t0() + min(30);
    ok(&mut s, &made(1, slot, 1), t0());
    ok(&mut s, &made(2, slot, 1), t0());
    ok(&mut s, &check_in("passport", 2), t0());
    ok(&mut s, &check_in("passport", 1), t0() + min(1));
    ok(&mut s, &check_in("passport", 1), t0() + min(2));
    // Early: before its window it queues like a walk-in.
    let early = ok(
        &mut s,
        &Event::BookingArrived { booking: id(1) },
        slot - min(20),
    );
    assert_eq!(early.position, Some(3));
    // In its window: ahead of the walk-ins.
    let mut log = Vec::new();
    tick(&mut s, slot - min(15), &mut log);
    let o = ok(
        &mut s,
        &Event::BookingArrived { booking: id(2) },
        slot - min(5),
    );
    assert_eq!((o.state, o.position), (Some(Place::Outside), Some(1)));
    let freed = ok(&mut s, &check_out("P001"), slot);
    assert_eq!(
        freed.admitted.first(),
        o.ticket.as_ref(),
        "the booked party goes in first"
    );
}

#[test]
fn a_desk_calls_a_booked_party_in_its_window_before_the_walk_ins_inside() {
    let mut s = booking_station(4);
    let slot = t0() + min(30);
    ok(&mut s, &made(1, slot, 1), t0());
    ok(&mut s, &check_in("passport", 1), t0());
    ok(
        &mut s,
        &Event::BookingArrived { booking: id(1) },
        slot - min(5),
    );
    let called = ok(&mut s, &super::tests::call("1", None), slot);
    assert_eq!(
        called.ticket,
        Some(t("P002")),
        "the booked party, though it came later"
    );
    let next = ok(&mut s, &super::tests::call("2", None), slot);
    assert_eq!(next.ticket, Some(t("P001")));
}

#[test]
fn booked_first_off_queues_booked_parties_with_the_walk_ins() {
    let mut s = booking_station(1);
    let mut cfg = s.config().clone();
    cfg.bookings.booked_first = false;
    s = Station::new(Arc::new(cfg), &rules_2m());
    let slot = t0() + min(30);
    ok(&mut s, &made(1, slot, 1), t0());
    ok(&mut s, &check_in("passport", 1), t0());
    ok(&mut s, &check_in("passport", 1), t0());
    let o = ok(&mut s, &Event::BookingArrived { booking: id(1) }, slot);
    assert_eq!(o.position, Some(2));
}

#[test]
fn slots_are_free_until_the_desks_are_booked_and_a_cancelled_one_only_after_its_release() {
    let mut s = booking_station(4);
    let slot = t0() + min(60);
    ok(&mut s, &made(1, slot, 1), t0());
    ok(&mut s, &made(2, slot, 1), t0());
    let full = s.apply(&made(3, slot, 1), t0(), Mode::Live).unwrap_err();
    assert_eq!(full.message().code, "booking_refused.full");
    let release_at = t0() + min(4);
    ok(
        &mut s,
        &Event::BookingCancelled {
            booking: id(2),
            release_at,
        },
        t0() + min(1),
    );
    let listed = |s: &Station, now| {
        s.slots(
            &ServiceId::parse("passport").unwrap(),
            slot,
            slot + min(1),
            now,
        )[0]
        .free
    };
    assert_eq!(listed(&s, t0() + min(2)), 0, "not free before its release");
    assert_eq!(listed(&s, release_at), 1);
    ok(&mut s, &made(3, slot, 1), release_at);
    let off_grid = s
        .apply(&made(4, slot + min(5), 1), t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(off_grid.message().code, "booking_refused.not_a_slot");
    let past = s
        .apply(&made(4, t0() - min(15), 1), t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(past.message().code, "booking_refused.past");
    let far = s
        .apply(&made(4, t0() + Duration::days(15), 1), t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(far.message().code, "booking_refused.beyond_horizon");
}

#[test]
fn moving_a_due_booking_releases_its_hold() {
    let mut s = booking_station(4);
    let slot = t0() + min(15);
    ok(&mut s, &made(1, slot, 3), t0());
    ok(&mut s, &Event::BookingDue { booking: id(1) }, t0());
    assert_eq!(s.held(), 3);
    ok(
        &mut s,
        &Event::BookingMoved {
            booking: id(1),
            slot: slot + min(60),
        },
        t0() + min(1),
    );
    assert_eq!(s.held(), 0);
}

#[test]
fn the_walk_in_quota_refuses_walk_ins_not_bookings() {
    let mut s = booking_station(4);
    let mut cfg = s.config().clone();
    cfg.services[0].walk_in_quota = Some(1);
    s = Station::new(Arc::new(cfg), &rules_2m());
    ok(&mut s, &check_in("passport", 1), t0());
    let refused = s
        .apply(&check_in("passport", 1), t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(refused.message().code, "walk_in_quota.used");
    assert_eq!(s.status(t0()).services[0].walk_ins_left, Some(0));
    ok(&mut s, &check_in("residence", 1), t0());
    let slot = t0() + min(15);
    ok(&mut s, &made(1, slot, 1), t0());
    ok(
        &mut s,
        &Event::BookingArrived { booking: id(1) },
        t0() + min(1),
    );
}

#[test]
fn a_replay_of_the_log_reaches_the_same_state() {
    let mut live = booking_station(3);
    let slot = t0() + min(30);
    let mut log: Vec<(Event, DateTime<Utc>)> = vec![
        (made(1, slot, 2), t0()),
        (made(2, slot, 1), t0()),
        (made(3, slot + min(15), 1), t0()),
        (check_in("passport", 1), t0() + min(1)),
    ];
    for (e, at) in log.clone() {
        ok(&mut live, &e, at);
    }
    tick(&mut live, slot - min(15), &mut log);
    for (e, at) in [
        (check_in("passport", 1), slot - min(14)),
        (Event::BookingArrived { booking: id(2) }, slot - min(1)),
        (
            Event::BookingCancelled {
                booking: id(3),
                release_at: slot,
            },
            slot - min(1),
        ),
    ] {
        ok(&mut live, &e, at);
        log.push((e, at));
    }
    tick(&mut live, slot + min(10), &mut log);
    let mut replayed = booking_station(3);
    for (e, at) in &log {
        replayed.apply(e, *at, Mode::Replay).unwrap();
    }
    assert_eq!(replayed.snapshot(), live.snapshot());
    assert_eq!(replayed.held(), 0);
}

/// The passport service of a station in Oslo open 01:00–04:00 every day, with Norway's
/// holidays, in 30-minute slots.
fn night_service() -> config::Service {
    let days: [Vec<crate::hours::Range>; 7] =
        std::array::from_fn(|_| parse_day("01:00-04:00").unwrap());
    let mut service = booking_station(4).config().services[0].clone();
    service.hours = Schedule::new(WeeklyHours::from_days(days), Default::default(), true);
    service.booking = Some(config::ServiceBooking {
        slot_min: 30,
        bookable_desks: 1,
    });
    service
}

fn local_times(day: NaiveDate) -> Vec<String> {
    let tz = chrono_tz::Europe::Oslo;
    slots::slots_on(&night_service(), tz, day)
        .into_iter()
        .map(|s| s.with_timezone(&tz).format("%H:%M%:z").to_string())
        .collect()
}

#[test]
fn slots_skip_the_hour_spring_skips_and_repeat_the_hour_autumn_repeats() {
    // 29 March 2026: 02:00 becomes 03:00 in Oslo.
    let spring = local_times(NaiveDate::from_ymd_opt(2026, 3, 29).unwrap());
    assert_eq!(
        spring,
        ["01:00+01:00", "01:30+01:00", "03:00+02:00", "03:30+02:00"]
    );
    // 25 October 2026: 03:00 becomes 02:00 again.
    let autumn = local_times(NaiveDate::from_ymd_opt(2026, 10, 25).unwrap());
    assert_eq!(
        autumn,
        [
            "01:00+02:00",
            "01:30+02:00",
            "02:00+02:00",
            "02:30+02:00",
            // The repeated hour comes after the first, in time order.
            "02:00+01:00",
            "02:30+01:00",
            "03:00+01:00",
            "03:30+01:00"
        ]
    );
    let ordinary = local_times(NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
    assert_eq!(ordinary.len(), 6);
}

#[test]
fn a_holiday_has_no_slots() {
    // 17 May, Norway's constitution day.
    assert!(local_times(NaiveDate::from_ymd_opt(2026, 5, 17).unwrap()).is_empty());
    assert_eq!(
        local_times(NaiveDate::from_ymd_opt(2026, 5, 18).unwrap()).len(),
        6
    );
    let tz = chrono_tz::Europe::Oslo;
    let slot = tz
        .with_ymd_and_hms(2026, 5, 17, 1, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    assert!(!slots::is_slot(&night_service(), tz, slot));
}
