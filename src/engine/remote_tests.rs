//! Parties that wait elsewhere: they keep their place, are counted apart from the people at the
//! door, are told to start walking once, have `come_back_min` to arrive once asked in, may have
//! more time once and may leave; joins obey the station's switch, hours and quota; and a replay
//! of the log reaches the same state with the same notices.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::tests::{call, check_in, check_out, rules_2m, station, t, t0};
use super::*;
use crate::domain::PartySize;
use crate::domain::ticket::TicketState;
use crate::domain::ticket_link::{LinkCode, LinkHash};

/// A station of `cap` whose remote parties are told to walk 2 places ahead, have 10 minutes to
/// arrive, move back 2 places for more time, and may join (3 a day per service).
fn remote_station(cap: u32) -> Station {
    let mut cfg = station(cap).config().clone();
    cfg.remote = config::Remote {
        notify_ahead: 2,
        come_back_min: 10,
        more_time_places: 2,
        join: true,
        join_quota: 3,
        join_hours: None,
        entrance_code: None,
    };
    Station::new(Arc::new(cfg), &rules_2m())
}

fn linked_check_in(size: u32) -> (Event, LinkHash) {
    let link = LinkCode::generate().hash();
    let event = Event::CheckIn {
        service: ServiceId::parse("passport").unwrap(),
        party_size: PartySize::new(size).unwrap(),
        appointment: None,
        link: Some(link),
    };
    (event, link)
}

fn join(size: u32) -> (Event, LinkHash) {
    let link = LinkCode::generate().hash();
    let event = Event::Join {
        service: ServiceId::parse("passport").unwrap(),
        party_size: PartySize::new(size).unwrap(),
        link,
    };
    (event, link)
}

fn away(ticket: &str) -> Event {
    Event::Away { ticket: t(ticket) }
}

/// Applies `events` live at `at`, and returns each outcome.
fn run(s: &mut Station, events: &[Event], at: DateTime<Utc>) -> Vec<Outcome> {
    events
        .iter()
        .map(|e| s.apply(e, at, Mode::Live).unwrap())
        .collect()
}

#[test]
fn a_party_waiting_elsewhere_keeps_its_place_but_is_not_counted_at_the_door() {
    let mut s = remote_station(3);
    run(
        &mut s,
        &[
            check_in("passport", 3),
            check_in("passport", 2),
            check_in("passport", 3),
        ],
        t0(),
    );
    assert_eq!(s.at_door_people(), 5);
    s.apply(&away("P002"), t0(), Mode::Live).unwrap();
    assert_eq!(s.outside_tickets(), vec![t("P002"), t("P003")]);
    assert_eq!(s.at_door_people(), 3);
    let doc = s.status(t0());
    assert_eq!((doc.outside_at_door, doc.outside_remote), (1, 1));
    assert_eq!(doc.people_at_door, 3);
    assert!(doc.outside[0].remote && !doc.outside[1].remote);
    let again = s.apply(&away("P002"), t0(), Mode::Live).unwrap_err();
    assert_eq!(again.message().code, "ticket_state.already_away");
}

#[test]
fn the_gathering_alert_counts_bodies_at_the_door_not_tickets() {
    let mut s = remote_station(2);
    s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap();
    // The queue line of 10 m holds 6 people at 2 m: six at the door are a gathering.
    for _ in 0..3 {
        s.apply(&check_in("passport", 2), t0(), Mode::Live).unwrap();
    }
    let gathering = |s: &Station| {
        s.open_alerts()
            .iter()
            .any(|a| a.condition == crate::domain::Condition::Gathering)
    };
    assert!(gathering(&s));
    s.apply(&away("P003"), t0(), Mode::Live).unwrap();
    let later = t0() + Duration::minutes(10);
    s.apply(&Event::Clock, later, Mode::Live).unwrap();
    assert!(!gathering(&s), "4 people at the door are no gathering");
}

#[test]
fn an_admitted_remote_party_has_come_back_min_to_arrive_then_its_room_goes_to_the_next() {
    let mut s = remote_station(1);
    run(
        &mut s,
        &[check_in("passport", 1), check_in("passport", 1)],
        t0(),
    );
    let (j, link) = join(1);
    s.apply(&j, t0(), Mode::Live).unwrap(); // P003, behind P002
    s.apply(&away("P002"), t0(), Mode::Live).unwrap();
    let o = s.apply(&check_out("P001"), t0(), Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P002")]);
    let doc = s.status(t0());
    assert_eq!(doc.coming, vec![t("P002")]);
    assert!(doc.please_enter.is_empty());
    // A desk does not call a party that has not arrived.
    assert!(s.apply(&call("1", None), t0(), Mode::Live).is_err());
    let overdue = |e: Option<Event>| matches!(e, Some(Event::ComeBackMissed { .. }));
    assert!(!overdue(s.due(t0() + Duration::minutes(9))));
    let late = t0() + Duration::minutes(10);
    let missed = s.due(late).expect("overdue");
    assert_eq!(missed, Event::ComeBackMissed { ticket: t("P002") });
    let o = s.apply(&missed, late, Mode::Live).unwrap();
    assert_eq!(o.admitted, vec![t("P003")]);
    assert_eq!(o.notices[0].kind, NoticeKind::TicketAdmitted);
    assert_eq!(o.notices[0].link, Some(link));
    let view = s.ticket_view(&link, late).unwrap();
    assert_eq!(view.state, TicketState::ComeIn);
    assert_eq!(view.come_back_by, Some(late + Duration::minutes(10)));
    // Arriving stops the clock; the desk may call it.
    s.apply(&Event::Arrived { ticket: t("P003") }, late, Mode::Live)
        .unwrap();
    assert!(!overdue(s.due(late + Duration::hours(1))));
    let o = s.apply(&call("1", None), late, Mode::Live).unwrap();
    assert_eq!(o.ticket, Some(t("P003")));
    assert_eq!(o.notices[0].kind, NoticeKind::TicketCalled);
    assert_eq!(
        s.ticket_view(&link, late).unwrap().state,
        TicketState::Called
    );
}

#[test]
fn a_remote_party_near_the_room_is_told_to_start_walking_once() {
    let mut s = remote_station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let links: Vec<LinkHash> = (0..4)
        .map(|_| {
            let (e, link) = linked_check_in(1);
            s.apply(&e, t0(), Mode::Live).unwrap();
            link
        })
        .collect();
    // P005 is 4th in the queue: out of reach (2 ahead).
    let o = s.apply(&away("P005"), t0(), Mode::Live).unwrap();
    assert!(o.notices.is_empty());
    assert!(!s.ticket_view(&links[3], t0()).unwrap().start_walking);
    s.apply(&check_out("P001"), t0(), Mode::Live).unwrap(); // P002 in, P005 3rd
    let o = s.apply(&check_out("P002"), t0(), Mode::Live).unwrap(); // P003 in, P005 2nd
    let walking: Vec<_> = o
        .notices
        .iter()
        .filter(|n| n.kind == NoticeKind::TicketStartWalking)
        .collect();
    assert_eq!(walking.len(), 1);
    assert_eq!(walking[0].ticket, Some(t("P005")));
    assert!(s.ticket_view(&links[3], t0()).unwrap().start_walking);
    let o = s.apply(&check_out("P003"), t0(), Mode::Live).unwrap();
    assert!(
        o.notices
            .iter()
            .all(|n| n.kind != NoticeKind::TicketStartWalking),
        "told once"
    );
}

#[test]
fn more_time_moves_a_remote_party_back_once_and_gives_up_held_room() {
    let mut s = remote_station(1);
    run(
        &mut s,
        &[
            check_in("passport", 1),
            check_in("passport", 1),
            check_in("passport", 1),
            check_in("passport", 1),
        ],
        t0(),
    );
    s.apply(&away("P002"), t0(), Mode::Live).unwrap();
    let no = s
        .apply(&Event::MoreTime { ticket: t("P003") }, t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(no.message().code, "ticket_state.not_away");
    let o = s
        .apply(&Event::MoreTime { ticket: t("P002") }, t0(), Mode::Live)
        .unwrap();
    assert_eq!(o.position, Some(3));
    assert_eq!(s.outside_tickets(), vec![t("P003"), t("P004"), t("P002")]);
    let twice = s
        .apply(&Event::MoreTime { ticket: t("P002") }, t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(twice.message().code, "ticket_state.more_time_used");

    // Asked in while away, more time hands the held room to the next.
    let mut s = remote_station(1);
    run(
        &mut s,
        &[
            check_in("passport", 1),
            check_in("passport", 1),
            check_in("passport", 1),
        ],
        t0(),
    );
    s.apply(&away("P002"), t0(), Mode::Live).unwrap();
    s.apply(&check_out("P001"), t0(), Mode::Live).unwrap();
    assert_eq!(s.inside_tickets(), vec![t("P002")]);
    let o = s
        .apply(&Event::MoreTime { ticket: t("P002") }, t0(), Mode::Live)
        .unwrap();
    assert_eq!(o.admitted, vec![t("P003")]);
    assert_eq!(s.outside_tickets(), vec![t("P002")]);
}

#[test]
fn leaving_from_the_page_frees_the_place_and_the_page_says_so_until_the_day_ends() {
    let mut s = remote_station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let (e, link) = linked_check_in(1);
    s.apply(&e, t0(), Mode::Live).unwrap();
    s.apply(&Event::Leave { ticket: t("P002") }, t0(), Mode::Live)
        .unwrap();
    assert!(s.outside_tickets().is_empty());
    let view = s.ticket_view(&link, t0()).unwrap();
    assert_eq!(view.state, TicketState::Left);
    assert_eq!(view.ended_at, Some(t0()));
    // The next local day the link is gone.
    let tomorrow = t0() + Duration::days(1);
    s.apply(&check_in("passport", 1), tomorrow, Mode::Live)
        .unwrap();
    assert_eq!(s.ticket_view(&link, tomorrow), None);
}

#[test]
fn a_called_ticket_cannot_leave_from_its_page() {
    let mut s = remote_station(2);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&call("3", None), t0(), Mode::Live).unwrap();
    let e = s
        .apply(&Event::Leave { ticket: t("P001") }, t0(), Mode::Live)
        .unwrap_err();
    assert_eq!(e.message().code, "ticket_state.called");
}

#[test]
fn joins_follow_the_switch_the_hours_and_the_quota_live_but_not_in_replay() {
    let mut s = remote_station(1);
    for _ in 0..3 {
        s.apply(&join(1).0, t0(), Mode::Live).unwrap();
    }
    let over = s.apply(&join(1).0, t0(), Mode::Live).unwrap_err();
    assert_eq!(over.message().code, "join.quota");
    s.apply(&join(1).0, t0(), Mode::Replay).unwrap();
    // A joined party that finds room is asked in from afar.
    let mut s = remote_station(2);
    let (j, link) = join(1);
    let o = s.apply(&j, t0(), Mode::Live).unwrap();
    assert_eq!(o.state, Some(Place::Inside));
    assert_eq!(
        s.ticket_view(&link, t0()).unwrap().state,
        TicketState::ComeIn
    );

    let mut off = station(1);
    let e = off.apply(&join(1).0, t0(), Mode::Live).unwrap_err();
    assert_eq!(e.message().code, "join.off");

    let mut cfg = remote_station(1).config().clone();
    cfg.remote.join_hours = Some((8 * 60, 9 * 60)); // t0 is 10:00
    let mut early = Station::new(Arc::new(cfg), &rules_2m());
    let e = early.apply(&join(1).0, t0(), Mode::Live).unwrap_err();
    assert_eq!(e.message().code, "join.hours");
}

#[test]
fn the_close_out_ends_every_linked_ticket_as_closed() {
    let mut s = remote_station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    let (e, link) = linked_check_in(1);
    s.apply(&e, t0(), Mode::Live).unwrap();
    let reason = crate::domain::event::Reason::parse("closed").unwrap();
    s.apply(&Event::CloseOut { reason }, t0(), Mode::Live)
        .unwrap();
    assert_eq!(
        s.ticket_view(&link, t0()).unwrap().state,
        TicketState::Closed
    );
}

/// What a remote-party operation does, for the property test.
#[derive(Debug, Clone)]
enum Op {
    CheckIn(u32),
    Join(u32),
    Away(usize),
    Arrived(usize),
    MoreTime(usize),
    Leave(usize),
    CheckOut(usize),
    Call,
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u32..=3).prop_map(Op::CheckIn),
        (1u32..=3).prop_map(Op::Join),
        (0usize..8).prop_map(Op::Away),
        (0usize..8).prop_map(Op::Arrived),
        (0usize..8).prop_map(Op::MoreTime),
        (0usize..8).prop_map(Op::Leave),
        (0usize..8).prop_map(Op::CheckOut),
        Just(Op::Call),
        (1i64..=12).prop_map(Op::Wait),
    ]
}

/// The event `op` stands for now, if any (a ticket picked among those issued).
fn event_for(s: &Station, op: &Op, at: DateTime<Utc>) -> Option<Event> {
    let tickets: Vec<Ticket> = s
        .outside_tickets()
        .into_iter()
        .chain(s.inside_tickets())
        .collect();
    let pick = |i: &usize| tickets.get(i % tickets.len().max(1)).copied();
    Some(match op {
        Op::CheckIn(n) => linked_check_in(*n).0,
        Op::Join(n) => join(*n).0,
        Op::Away(i) => Event::Away { ticket: pick(i)? },
        Op::Arrived(i) => Event::Arrived { ticket: pick(i)? },
        Op::MoreTime(i) => Event::MoreTime { ticket: pick(i)? },
        Op::Leave(i) => Event::Leave { ticket: pick(i)? },
        Op::CheckOut(i) => Event::CheckOut { ticket: pick(i)? },
        Op::Call => call("1", None),
        Op::Wait(_) => s.due(at)?,
    })
}

proptest! {
    /// Mixed remote and at-the-door parties: the queue keeps its order (a party moves only by
    /// its own "more time"), the people at the door are the queue's people minus those
    /// elsewhere, never above the cap through admissions, and the log replays to the same state
    /// and the same notices.
    #[test]
    fn remote_parties_keep_their_place_are_counted_apart_and_replay_equals_live(
        ops in proptest::collection::vec(op(), 1..80)
    ) {
        let mut live = remote_station(3);
        let mut log: Vec<(Event, DateTime<Utc>)> = Vec::new();
        let mut notices = Vec::new();
        let mut at = t0();
        for op in &ops {
            if let Op::Wait(m) = op {
                at += Duration::minutes(*m);
            }
            let Some(event) = event_for(&live, op, at) else { continue };
            let before = live.outside_tickets();
            let Ok(outcome) = live.apply(&event, at, Mode::Live) else { continue };
            let after = live.outside_tickets();
            let moved = match &event {
                Event::MoreTime { ticket } => Some(*ticket),
                _ => None,
            };
            // Those still queued keep their order (apart from the one that asked for more time).
            let kept: Vec<_> = before.iter().filter(|t| after.contains(t) && Some(**t) != moved).collect();
            let now: Vec<_> = after.iter().filter(|t| before.contains(t) && Some(**t) != moved).collect();
            prop_assert_eq!(kept, now);
            let outside_people: u32 = live.outside_parties().iter().map(|p| p.1).sum();
            let doc = live.status(at);
            prop_assert!(live.at_door_people() <= outside_people);
            prop_assert_eq!(doc.outside_at_door + doc.outside_remote, doc.outside_total);
            prop_assert!(live.headcount() <= live.cap());
            notices.extend(outcome.notices);
            log.push((event, at));
        }
        let mut replayed = remote_station(3);
        let mut replayed_notices = Vec::new();
        for (event, at) in &log {
            replayed_notices.extend(replayed.apply(event, *at, Mode::Replay).unwrap().notices);
        }
        prop_assert_eq!(replayed.snapshot(), live.snapshot());
        prop_assert_eq!(replayed_notices, notices);
    }
}
