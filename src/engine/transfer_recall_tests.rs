//! Engine tests for the desk's slip-guards: `recall` announces a called ticket again, `transfer`
//! moves a waiting ticket to another service without losing its turn; both replay as they ran.

use chrono::Duration;

use super::tests::{call, check_in, check_out, station, station_with_hours, t, t0};
use super::*;
use crate::hours::{WeeklyHours, parse_day};

fn recall(desk: &str, ticket: &str) -> Event {
    Event::Recall {
        desk: DeskId::parse(desk).unwrap(),
        ticket: t(ticket),
    }
}
fn transfer(ticket: &str, service: &str) -> Event {
    Event::Transfer {
        ticket: t(ticket),
        service: ServiceId::parse(service).unwrap(),
    }
}

#[test]
fn a_recall_moves_the_call_to_the_front_and_counts_it_without_a_new_call() {
    let mut s = station(10);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    s.apply(&call("2", None), t0(), Mode::Live).unwrap();
    let later = t0() + Duration::minutes(2);
    let o = s.apply(&recall("1", "P001"), later, Mode::Live).unwrap();
    assert_eq!((o.kind, o.ticket), ("recall", Some(t("P001"))));
    let calls = s.status(later).calls;
    assert_eq!(calls.len(), 2, "a recall is not a second call");
    assert_eq!(calls[0].ticket, t("P001"));
    assert_eq!(calls[0].at, t0(), "the call keeps its time");
    assert_eq!((calls[0].recalls, calls[0].recalled_at), (1, Some(later)));
    assert_eq!((calls[1].ticket, calls[1].recalls), (t("P002"), 0));
}

#[test]
fn a_recall_of_a_ticket_not_called_to_that_desk_is_refused_and_changes_nothing() {
    let mut s = station(10);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    let before = s.snapshot();
    for (desk, ticket) in [("2", "P001"), ("1", "P002"), ("1", "P009")] {
        assert_eq!(
            s.apply(&recall(desk, ticket), t0(), Mode::Live),
            Err(Refusal::NotCalled {
                ticket: t(ticket),
                desk: DeskId::parse(desk).unwrap()
            })
        );
    }
    s.apply(&check_out("P001"), t0(), Mode::Live).unwrap();
    assert!(s.apply(&recall("1", "P001"), t0(), Mode::Live).is_err());
    assert_eq!(before.seq() + 1, s.seq(), "only the check-out was applied");
}

#[test]
fn a_recall_after_ten_later_calls_brings_the_call_back_to_the_list() {
    let mut s = station(20);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    for _ in 0..CALLS_KEPT {
        s.apply(&check_in("residence", 1), t0(), Mode::Live)
            .unwrap();
        s.apply(&call("2", None), t0(), Mode::Live).unwrap();
    }
    assert!(s.status(t0()).calls.iter().all(|c| c.ticket != t("P001")));
    s.apply(&recall("1", "P001"), t0(), Mode::Live).unwrap();
    let calls = s.status(t0()).calls;
    assert_eq!(calls.len(), CALLS_KEPT);
    assert_eq!((calls[0].ticket, calls[0].recalls), (t("P001"), 1));
}

#[test]
fn a_transfer_keeps_the_ticket_and_its_place_in_time_among_the_other_service() {
    let mut s = station(10);
    // P001 checks in first, then two for residence.
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    s.apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    let o = s
        .apply(&transfer("P001", "residence"), t0(), Mode::Live)
        .unwrap();
    assert_eq!((o.kind, o.ticket), ("transfer", Some(t("P001"))));
    // The residence desk reaches P001 first: it came before U001 and U002.
    let first = s
        .apply(&call("1", Some("residence")), t0(), Mode::Live)
        .unwrap();
    assert_eq!(first.ticket, Some(t("P001")));
    assert_eq!(
        s.apply(&call("2", Some("passport")), t0(), Mode::Live),
        Err(Refusal::NothingToCall(
            crate::domain::message::Message::new("nothing_to_call.service")
                .with("service", "passport")
                .with("service_name", s.config().services[0].name.as_str())
                .with("service_name_en", s.config().services[0].name_en.as_str())
                .with("station", s.config().name.as_str())
        ))
    );
}

#[test]
fn a_ticket_waiting_outside_is_transferred_in_its_place_in_the_queue() {
    let mut s = station(1);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("residence", 1), t0(), Mode::Live)
        .unwrap();
    s.apply(&transfer("P002", "residence"), t0(), Mode::Live)
        .unwrap();
    assert_eq!(s.outside_tickets(), vec![t("P002"), t("U001")]);
    let outside = s.status(t0()).outside;
    assert_eq!(outside[0].service.as_str(), "residence");
}

#[test]
fn transfers_that_cannot_be_made_are_refused_and_change_nothing() {
    let mut s = station(10);
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&check_in("passport", 1), t0(), Mode::Live).unwrap();
    s.apply(&call("1", None), t0(), Mode::Live).unwrap();
    let before = s.snapshot();
    let refused = |s: &mut Station, e: Event| s.apply(&e, t0(), Mode::Live).unwrap_err();
    assert_eq!(
        refused(&mut s, transfer("P002", "visa")),
        Refusal::UnknownService(ServiceId::parse("visa").unwrap())
    );
    assert!(matches!(
        refused(&mut s, transfer("P002", "passport")),
        r @ Refusal::CannotTransfer(_) if r.to_string().contains("already waits for 'passport'")
    ));
    assert!(matches!(
        refused(&mut s, transfer("P001", "residence")),
        r @ Refusal::CannotTransfer(_) if r.to_string().contains("already called to desk 1")
    ));
    assert_eq!(
        refused(&mut s, transfer("P007", "residence")),
        Refusal::UnknownTicket(t("P007"))
    );
    assert_eq!(s.snapshot(), before);
}

#[test]
fn a_transfer_to_a_closed_service_is_refused_live_but_replays() {
    let mut days: [Vec<crate::hours::Range>; 7] = Default::default();
    days[2] = parse_day("08:00-09:00").unwrap(); // closed at 10:00 on t0's Wednesday
    let mut s = station_with_hours(5, WeeklyHours::from_days(days));
    s.apply(&check_in("passport", 1), t0(), Mode::Replay)
        .unwrap();
    assert!(matches!(
        s.apply(&transfer("P001", "residence"), t0(), Mode::Live),
        Err(Refusal::ServiceClosed(_))
    ));
    assert!(
        s.apply(&transfer("P001", "residence"), t0(), Mode::Replay)
            .is_ok()
    );
}

#[test]
fn recalls_and_transfers_replay_to_the_state_they_made_live() {
    let mut live = station(2);
    let mut log = Vec::new();
    let events = [
        check_in("passport", 1),
        check_in("residence", 1),
        check_in("passport", 1),
        transfer("P002", "residence"),
        call("1", Some("residence")),
        recall("1", "U001"),
        transfer("P001", "residence"),
        recall("1", "U001"),
        check_out("U001"),
        call("2", None),
    ];
    for (i, event) in events.iter().enumerate() {
        let at = t0() + Duration::seconds(i as i64 * 30);
        live.apply(event, at, Mode::Live).unwrap();
        log.push((event.clone(), at));
    }
    let mut replayed = station(2);
    for (event, at) in &log {
        replayed.apply(event, *at, Mode::Replay).unwrap();
    }
    let now = t0() + Duration::hours(1);
    assert_eq!(replayed.status(now), live.status(now));
    assert_eq!(replayed.snapshot(), live.snapshot());
    let stored: Snapshot =
        serde_json::from_str(&serde_json::to_string(&live.snapshot()).unwrap()).unwrap();
    let restored = Station::restore(Arc::new(live.config().clone()), &live.rules, stored).unwrap();
    assert_eq!(restored.status(now), live.status(now));
}
