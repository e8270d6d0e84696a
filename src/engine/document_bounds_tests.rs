//! The status documents stay within their bounds at a station pushed to its worst: thousands
//! outside, hundreds let in past the cap (each with a long-inside alert), dozens of surfaces
//! cleaned, every text at its longest in the widest characters UTF-8 has.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::documents::*;
use super::*;
use crate::capacity::{AreaModel, RoomGeometry};
use crate::config::{Rules, Service};
use crate::domain::alert::{AlertState, Condition};
use crate::domain::event::Text;
use crate::domain::status::{
    CLEANING_LISTED, INSIDE_LISTED, OPEN_ALERTS_LISTED, OUTSIDE_LISTED, PublicStatus,
};
use crate::domain::{DistrictId, PartySize, StationId};
use crate::hours::{Schedule, WeeklyHours};

const OUTSIDE: usize = 2_000;
const OVERRIDDEN: usize = 400;
const SURFACES: usize = 80;

/// A cap-3 room, two services open around the clock, with the longest ids a config allows.
fn small_station() -> Station {
    let service = |id: String, prefix| Service {
        id: ServiceId::parse(&id).unwrap(),
        name: "Pass og ID-kort for borgere av Norge".into(),
        name_en: "Passports and national ID cards".into(),
        prefix,
        hours: Schedule::weekly(WeeklyHours::always()),
        booking: None,
        walk_in_quota: None,
    };
    let cfg = config::Station {
        id: StationId::parse(&"s".repeat(64)).unwrap(),
        district: DistrictId::parse(&"d".repeat(64)).unwrap(),
        name: "Grønland politistasjon, Oslo sentrum".into(),
        address: None,
        timezone: chrono_tz::Europe::Oslo,
        geometry: RoomGeometry {
            area_m2: 12.0,
            seats: None,
            max_visitors: None,
        },
        queue_line_m: Some(10.0),
        services: vec![
            service(format!("a{}", "x".repeat(63)), 'P'),
            service(format!("b{}", "x".repeat(63)), 'U'),
        ],
        operations: config::Operations::default(),
        webhook: None,
        remote: config::Remote::default(),
        bookings: Default::default(),
    };
    let rules = Rules {
        distancing_m: 2.0,
        area_model: AreaModel::Grid,
    };
    Station::new(Arc::new(cfg), &rules)
}

/// 64 characters of 4 bytes each, the most a `Text<64>` can weigh; `i` makes them differ.
fn widest(i: usize) -> String {
    format!("{i}{}", "𝄞".repeat(64 - i.to_string().len()))
}

fn t0() -> DateTime<Utc> {
    chrono_tz::Europe::Oslo
        .with_ymd_and_hms(2026, 11, 25, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// The station at its worst, and the moment to look at it.
fn worst_case() -> (Station, DateTime<Utc>) {
    let mut s = small_station();
    let services: Vec<ServiceId> = s.config().services.iter().map(|v| v.id.clone()).collect();
    let apply = |s: &mut Station, e: Event, at| s.apply(&e, at, Mode::Live).unwrap();
    for i in 0..OUTSIDE + OVERRIDDEN {
        let e = Event::CheckIn {
            service: services[i % 2].clone(),
            party_size: PartySize::new(1 + (i % 3) as u32).unwrap(),
            appointment: Some(Text::parse(&widest(i)).unwrap()),
            link: None,
        };
        apply(&mut s, e, t0());
    }
    for _ in 0..OVERRIDDEN {
        let reason = Text::parse(&"r".repeat(200)).unwrap();
        apply(
            &mut s,
            Event::Override {
                ticket: None,
                reason,
            },
            t0(),
        );
    }
    for i in 0..CALLS_KEPT {
        let desk = DeskId::parse(&format!("{i:->16}")).unwrap();
        apply(
            &mut s,
            Event::Call {
                desk,
                service: None,
            },
            t0(),
        );
    }
    for i in 0..SURFACES {
        let surface = Text::parse(&widest(i)).unwrap();
        apply(&mut s, Event::Cleaned { surface }, t0());
    }
    // Hours later every party inside has a long-inside alert.
    let later = t0() + Duration::hours(3);
    apply(&mut s, Event::Clock, later);
    (s, later)
}

fn json_len<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value).unwrap().len()
}

#[test]
fn every_list_is_cut_at_its_bound_and_counted_in_full() {
    let (s, at) = worst_case();
    let doc = s.status(at);
    assert_eq!(doc.outside.len(), OUTSIDE_LISTED);
    assert_eq!(doc.outside_total as usize, s.outside_tickets().len());
    assert!(doc.outside_total as usize > OUTSIDE_LISTED);
    assert_eq!(doc.outside.last().unwrap().position, OUTSIDE_LISTED as u32);
    let people: u32 = s.outside_parties().iter().map(|p| p.1).sum();
    assert_eq!(doc.outside_people, people);
    let inside: usize = doc.inside.values().map(Vec::len).sum();
    assert_eq!(inside, INSIDE_LISTED);
    assert_eq!(doc.inside_total as usize, s.inside_tickets().len());
    assert!(doc.please_enter.len() <= INSIDE_LISTED);
    assert_eq!(doc.cleaning.len(), CLEANING_LISTED);
    let open = doc
        .alerts
        .iter()
        .filter(|a| a.state != AlertState::Cleared)
        .count();
    assert_eq!(open, OPEN_ALERTS_LISTED);
    assert!(
        doc.open_alerts_total as usize > OVERRIDDEN,
        "one per party inside"
    );
    let public = PublicStatus::from_full(&doc);
    assert_eq!(public.outside.len(), OUTSIDE_LISTED);
    assert_eq!(public.outside_total, doc.outside_total);
}

#[test]
fn the_worst_document_fits_the_bound_the_socket_allowance_is_made_from() {
    let (s, at) = worst_case();
    let doc = s.status(at);
    let largest = |lens: Vec<usize>| lens.into_iter().max().unwrap();
    assert!(largest(doc.outside.iter().map(json_len).collect()) <= OUTSIDE_PARTY_MAX);
    let inside = doc.inside.values().flatten().map(json_len).collect();
    assert!(largest(inside) <= INSIDE_PARTY_MAX);
    for alert in &doc.alerts {
        let bound = match alert.condition {
            Condition::CleaningDue => CLEANING_ALERT_MAX,
            _ => ALERT_MAX,
        };
        assert!(json_len(alert) <= bound, "{alert:?}");
    }
    assert!(largest(doc.cleaning.iter().map(json_len).collect()) <= CLEANING_MAX);
    assert!(largest(doc.calls.iter().map(json_len).collect()) <= CALL_MAX);
    let mut bare = doc.clone();
    bare.outside.clear();
    bare.inside.clear();
    bare.please_enter.clear();
    bare.alerts.clear();
    bare.cleaning.clear();
    bare.calls.clear();
    assert!(json_len(&bare) <= CONFIG_PART_MAX);
    let full = json_len(&doc);
    let public = json_len(&PublicStatus::from_full(&doc));
    assert!(full <= MAX_DOCUMENT_BYTES, "{full} > {MAX_DOCUMENT_BYTES}");
    assert!(public <= full);
    // Without the bounds this station's document would be several times the allowance.
    assert!(
        full > MAX_DOCUMENT_BYTES / 4,
        "the worst case is not a weak one: {full}"
    );
}
