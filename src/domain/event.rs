//! The events terminals and guards post, exactly as they stand in the request body and in the log.
//!
//! One enum, tagged by `kind`, is both the wire format and the log format, so a logged event
//! replays through the same engine code that accepted it. Free text fields are bounded and free of
//! control characters; `appointment` is personal data and never leaves the full status document.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::booking::{BookingId, BrowserKey, ExternalRef};
use super::ids::{DeskId, DeviceId, ParseError, PartySize, ServiceId, StationId, Ticket};
use super::ticket_link::{LinkCode, LinkHash};

/// Text a person typed, 1..=MAX characters, no control characters, trimmed of surrounding spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        let len = t.chars().count();
        if len == 0 {
            return Err(ParseError("must not be empty".into()));
        }
        if len > MAX {
            return Err(ParseError(format!(
                "is {len} characters long; at most {MAX} are allowed"
            )));
        }
        if t.chars().any(char::is_control) {
            return Err(ParseError("must not contain control characters".into()));
        }
        Ok(Self(t.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}
impl<const MAX: usize> From<Text<MAX>> for String {
    fn from(t: Text<MAX>) -> String {
        t.0
    }
}
impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A booking reference given at check-in (personal data: only in full documents).
pub type Appointment = Text<64>;
/// Why a guard corrected the headcount.
pub type Reason = Text<200>;
/// A contact surface that was cleaned, e.g. "door handles".
pub type Surface = Text<64>;

/// Largest headcount correction a guard can make in one event.
pub const MAX_CORRECTION: i32 = 50;

/// A correction's delta: non-zero, at most ±50 people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "i32", into = "i32")]
#[schema(value_type = i32, example = 1)]
pub struct Delta(i32);

impl Delta {
    pub fn new(d: i32) -> Result<Self, ParseError> {
        if d != 0 && d.abs() <= MAX_CORRECTION {
            Ok(Self(d))
        } else {
            Err(ParseError(format!(
                "delta {d} is out of range: use a non-zero number of people from -{MAX_CORRECTION} to {MAX_CORRECTION}"
            )))
        }
    }
    pub fn get(self) -> i32 {
        self.0
    }
}
impl TryFrom<i32> for Delta {
    type Error = ParseError;
    fn try_from(d: i32) -> Result<Self, ParseError> {
        Self::new(d)
    }
}
impl From<Delta> for i32 {
    fn from(d: Delta) -> i32 {
        d.0
    }
}

/// One thing that happened at a station, as posted to `POST /api/v1/stations/{station}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Event {
    /// A party arrives at the front desk and takes a ticket for a service.
    CheckIn {
        service: ServiceId,
        #[serde(default)]
        party_size: PartySize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        appointment: Option<Appointment>,
        /// The hash of the ticket link the service gave the party (`domain/ticket_link.rs`); set
        /// by the service, never by a client.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>, read_only)]
        link: Option<LinkHash>,
    },
    /// A visitor joins the queue before arriving, from the public page
    /// (`POST /api/v1/stations/{station}/join`): a ticket with a link and no terminal, waiting
    /// elsewhere until it arrives. Written by the service.
    Join {
        service: ServiceId,
        #[serde(default)]
        party_size: PartySize,
        #[schema(value_type = String)]
        link: LinkHash,
    },
    /// A party waiting elsewhere is now at the door (the desk saw it, or its page was shown the
    /// code posted at the entrance).
    Arrived { ticket: Ticket },
    /// "I'm not at the door": a party queued outside keeps its place but waits elsewhere, and is
    /// no longer counted among the people at the door. From the ticket's page.
    Away { ticket: Ticket },
    /// "I need more time": a party waiting elsewhere moves back the station's
    /// `more_time_places`, once. From the ticket's page.
    MoreTime { ticket: Ticket },
    /// The visitor leaves the queue from the ticket's page.
    Leave { ticket: Ticket },
    /// A party waiting elsewhere was asked in and did not arrive within the station's
    /// `come_back_min`: it is dropped and its room goes to the next. Written by the service.
    ComeBackMissed { ticket: Ticket },
    /// A party leaves the waiting room (served, or gone).
    CheckOut { ticket: Ticket },
    /// A desk calls the longest-waiting ticket inside (of one service, when given).
    Call {
        desk: DeskId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        service: Option<ServiceId>,
    },
    /// A ticket did not come when called, or left the queue: it is dropped wherever it is.
    NoShow { ticket: Ticket },
    /// A desk announces the ticket it called once more (the visitor did not hear the first call).
    Recall { desk: DeskId, ticket: Ticket },
    /// A waiting ticket (not yet called) moves to another service's queue, keeping its number
    /// and its place in time.
    Transfer { ticket: Ticket, service: ServiceId },
    /// A guard counts people inside that no ticket accounts for (or removes such a count).
    Correction {
        delta: Delta,
        /// Why: a preset code (`counted_at_door`, `companion_without_ticket`, `interpreter`,
        /// `untracked_left`; `domain/reasons.rs`), which pages show in their language, or free
        /// text, kept as typed.
        reason: Reason,
    },
    /// A contact surface was cleaned.
    Cleaned { surface: Surface },
    /// A guard lets the head of the outside queue — or a named ticket — in past the cap, for a
    /// case no rule foresees (a wheelchair user in the rain, an urgent travel document).
    Override {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ticket: Option<Ticket>,
        /// Why: a preset code (`wheelchair_user`, `urgent_travel_document`,
        /// `elderly_or_unwell`; `domain/reasons.rs`), which pages show in their language, or
        /// free text, kept as typed.
        reason: Reason,
    },
    /// A guard acknowledges an alert. `by` is the guard's device, taken from its token.
    Acknowledge {
        alert: u64,
        #[schema(read_only)]
        by: DeviceId,
    },
    /// The distancing rule changed for this station (an admin's `PUT /api/v1/rules`; each
    /// affected station logs its own). `scope` says what the admin named.
    RuleChanged {
        distancing_m: Distance,
        scope: Reason,
    },
    /// The service closed out the day's remaining tickets after closing time.
    CloseOut { reason: Reason },
    /// Time passed and changed what the engine reviews by the clock (an alert became due or
    /// went away); logged so that a replay raises the same alerts at the same moments.
    Clock,
    /// A party booked the slot starting at `slot` (from the public page, or pushed by an
    /// integration with its `external_ref`). Written by the service; nothing in it names a person.
    BookingMade {
        #[schema(value_type = String)]
        booking: BookingId,
        service: ServiceId,
        slot: DateTime<Utc>,
        #[serde(default)]
        party_size: PartySize,
        /// The hash of the booking's code, for a booking made by the public.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        code: Option<LinkHash>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        external_ref: Option<ExternalRef>,
        /// The hash of the booking browser's key, which counts its open bookings.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(value_type = Option<String>)]
        browser: Option<BrowserKey>,
    },
    /// A booking moves to the slot starting at `slot` (same service). Written by the service.
    BookingMoved {
        #[schema(value_type = String)]
        booking: BookingId,
        slot: DateTime<Utc>,
    },
    /// A booking is cancelled; its slot is free to others from `release_at` (a random short
    /// delay the service chose). Written by the service.
    BookingCancelled {
        #[schema(value_type = String)]
        booking: BookingId,
        release_at: DateTime<Utc>,
    },
    /// A booking's slot starts within the station's `hold_min`: room is held for it from now.
    /// Written by the service.
    BookingDue {
        #[schema(value_type = String)]
        booking: BookingId,
    },
    /// A booked party checked in at the front desk (the terminal read its code or reference):
    /// it gets a ticket, ahead of the walk-ins when in its window.
    BookingArrived {
        #[schema(value_type = String)]
        booking: BookingId,
    },
    /// A booked party did not arrive by `grace_min` after its slot started: its held room goes
    /// to the queue. Written by the service.
    BookingNoShow {
        #[schema(value_type = String)]
        booking: BookingId,
    },
}

/// A distancing rule in metres, 0.5–5 (finite, so it can be compared exactly).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "f64", into = "f64")]
#[schema(value_type = f64, example = 1.0)]
pub struct Distance(f64);

impl Eq for Distance {}

impl Distance {
    pub fn parse(m: f64) -> Result<Self, ParseError> {
        super::rule::check_distancing(m)
            .map(|()| Self(m))
            .map_err(ParseError)
    }
    pub fn metres(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for Distance {
    type Error = ParseError;
    fn try_from(m: f64) -> Result<Self, ParseError> {
        Self::parse(m)
    }
}
impl From<Distance> for f64 {
    fn from(d: Distance) -> f64 {
        d.0
    }
}

impl Event {
    /// The `kind` tag, for logs and the event log's `kind` column.
    pub fn kind(&self) -> &'static str {
        let kind = self.kind_name();
        debug_assert!(
            Self::KINDS.contains(&kind),
            "{kind} is missing from Event::KINDS"
        );
        kind
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Event::CheckIn { .. } => "check_in",
            Event::CheckOut { .. } => "check_out",
            Event::Call { .. } => "call",
            Event::NoShow { .. } => "no_show",
            Event::Recall { .. } => "recall",
            Event::Transfer { .. } => "transfer",
            Event::Correction { .. } => "correction",
            Event::Cleaned { .. } => "cleaned",
            Event::Override { .. } => "override",
            Event::Acknowledge { .. } => "acknowledge",
            Event::RuleChanged { .. } => "rule_changed",
            Event::CloseOut { .. } => "close_out",
            Event::Clock => "clock",
            Event::Join { .. } => "join",
            Event::Arrived { .. } => "arrived",
            Event::Away { .. } => "away",
            Event::MoreTime { .. } => "more_time",
            Event::Leave { .. } => "leave",
            Event::ComeBackMissed { .. } => "come_back_missed",
            Event::BookingMade { .. } => "booking_made",
            Event::BookingMoved { .. } => "booking_moved",
            Event::BookingCancelled { .. } => "booking_cancelled",
            Event::BookingDue { .. } => "booking_due",
            Event::BookingArrived { .. } => "booking_arrived",
            Event::BookingNoShow { .. } => "booking_no_show",
        }
    }

    /// Every kind [`Event::kind`] names, as `&'static str`s (a metrics label may only take these).
    pub const KINDS: [&'static str; 25] = [
        "check_in",
        "check_out",
        "call",
        "no_show",
        "recall",
        "transfer",
        "correction",
        "cleaned",
        "override",
        "acknowledge",
        "rule_changed",
        "close_out",
        "clock",
        "join",
        "arrived",
        "away",
        "more_time",
        "leave",
        "come_back_missed",
        "booking_made",
        "booking_moved",
        "booking_cancelled",
        "booking_due",
        "booking_arrived",
        "booking_no_show",
    ];

    /// The kind named `name`, if events have it.
    pub fn known_kind(name: &str) -> Option<&'static str> {
        Self::KINDS.iter().copied().find(|k| *k == name)
    }

    /// Events only the service itself writes; no request may carry them.
    pub fn is_system(&self) -> bool {
        matches!(
            self,
            Event::RuleChanged { .. }
                | Event::CloseOut { .. }
                | Event::Clock
                | Event::ComeBackMissed { .. }
                | Event::BookingDue { .. }
                | Event::BookingNoShow { .. }
        )
    }

    /// Events the service writes for the booking routes (the public's, the booking's own and an
    /// integration's); no device posts them on the events route.
    pub fn is_bookings(&self) -> bool {
        matches!(
            self,
            Event::BookingMade { .. } | Event::BookingMoved { .. } | Event::BookingCancelled { .. }
        )
    }

    /// Events a visitor's ticket page posts with its link (`POST /api/v1/tickets/{code}/events`),
    /// or the service writes for the public's join; no device's token posts them.
    pub fn is_visitors(&self) -> bool {
        matches!(
            self,
            Event::Join { .. } | Event::Away { .. } | Event::MoreTime { .. } | Event::Leave { .. }
        )
    }
}

/// The wire form of an [`Event`] as terminals send it. Every field is optional here so that each
/// is parsed on its own and an error names the field (`party_size`, `ticket`, …); which fields a
/// kind needs is checked afterwards by [`EventWire::into_event`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventWire {
    kind: Kind,
    service: Option<ServiceId>,
    party_size: Option<PartySize>,
    appointment: Option<Appointment>,
    ticket: Option<Ticket>,
    desk: Option<DeskId>,
    delta: Option<Delta>,
    reason: Option<Reason>,
    surface: Option<Surface>,
    alert: Option<u64>,
    booking: Option<BookingId>,
    code: Option<String>,
    external_ref: Option<ExternalRef>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    CheckIn,
    CheckOut,
    Call,
    NoShow,
    Recall,
    Transfer,
    Correction,
    Cleaned,
    Override,
    Acknowledge,
    Arrived,
    BookingArrived,
}

/// A field that is missing, or present where the kind has no use for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub reason: String,
}

impl Kind {
    /// The fields an event of this kind may carry; any other given field is refused.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::CheckIn => &["service", "party_size", "appointment"],
            Kind::CheckOut | Kind::NoShow | Kind::Arrived => &["ticket"],
            Kind::Call => &["desk", "service"],
            Kind::Recall => &["desk", "ticket"],
            Kind::Transfer => &["ticket", "service"],
            Kind::Correction => &["delta", "reason"],
            Kind::Cleaned => &["surface"],
            Kind::Override => &["ticket", "reason"],
            Kind::Acknowledge => &["alert"],
            Kind::BookingArrived => &["booking", "code", "external_ref"],
        }
    }
}

/// `field` of a `kind` event, which that kind needs.
fn need<T>(v: Option<T>, field: &'static str, kind: &str) -> Result<T, FieldError> {
    v.ok_or_else(|| FieldError {
        field,
        reason: format!("a {kind} event needs `{field}`"),
    })
}

impl EventWire {
    /// The event `sender` posts (an acknowledgement records who acknowledged). A missing field
    /// is reported before one the kind has no use for.
    pub fn into_event(self, sender: &DeviceId) -> Result<Event, FieldError> {
        let unexpected = self.unexpected_field();
        let event = self.event(sender)?;
        if let Some(field) = unexpected {
            return Err(FieldError {
                field,
                reason: format!("a {} event has no `{field}`", event.kind()),
            });
        }
        Ok(event)
    }

    /// The first field given (in a fixed order) that this kind has no use for.
    fn unexpected_field(&self) -> Option<&'static str> {
        let allowed = self.kind.fields();
        [
            ("service", self.service.is_some()),
            ("party_size", self.party_size.is_some()),
            ("appointment", self.appointment.is_some()),
            ("ticket", self.ticket.is_some()),
            ("desk", self.desk.is_some()),
            ("delta", self.delta.is_some()),
            ("reason", self.reason.is_some()),
            ("surface", self.surface.is_some()),
            ("alert", self.alert.is_some()),
            ("booking", self.booking.is_some()),
            ("code", self.code.is_some()),
            ("external_ref", self.external_ref.is_some()),
        ]
        .into_iter()
        .find(|(field, given)| *given && !allowed.contains(field))
        .map(|(field, _)| field)
    }

    /// The event of this kind from the fields it needs (and those it may have).
    fn event(self, sender: &DeviceId) -> Result<Event, FieldError> {
        Ok(match self.kind {
            Kind::CheckIn => Event::CheckIn {
                service: need(self.service, "service", "check_in")?,
                party_size: self.party_size.unwrap_or_default(),
                appointment: self.appointment,
                link: None,
            },
            Kind::CheckOut => Event::CheckOut {
                ticket: need(self.ticket, "ticket", "check_out")?,
            },
            Kind::NoShow => Event::NoShow {
                ticket: need(self.ticket, "ticket", "no_show")?,
            },
            Kind::Call => Event::Call {
                desk: need(self.desk, "desk", "call")?,
                service: self.service,
            },
            Kind::Recall => Event::Recall {
                desk: need(self.desk, "desk", "recall")?,
                ticket: need(self.ticket, "ticket", "recall")?,
            },
            Kind::Transfer => Event::Transfer {
                ticket: need(self.ticket, "ticket", "transfer")?,
                service: need(self.service, "service", "transfer")?,
            },
            Kind::Correction => Event::Correction {
                delta: need(self.delta, "delta", "correction")?,
                reason: need(self.reason, "reason", "correction")?,
            },
            Kind::Cleaned => Event::Cleaned {
                surface: need(self.surface, "surface", "cleaned")?,
            },
            Kind::Override => Event::Override {
                ticket: self.ticket,
                reason: need(self.reason, "reason", "override")?,
            },
            Kind::Acknowledge => Event::Acknowledge {
                alert: need(self.alert, "alert", "acknowledge")?,
                by: sender.clone(),
            },
            Kind::Arrived => Event::Arrived {
                ticket: need(self.ticket, "ticket", "arrived")?,
            },
            Kind::BookingArrived => Event::BookingArrived {
                booking: booking_named(self.booking, self.code, self.external_ref)?,
            },
        })
    }
}

/// The booking a terminal names by exactly one of its id, its code (typed or read from the QR)
/// or an integration's reference. The code itself goes no further than this function.
fn booking_named(
    id: Option<BookingId>,
    code: Option<String>,
    external_ref: Option<ExternalRef>,
) -> Result<BookingId, FieldError> {
    match (id, code, external_ref) {
        (Some(id), None, None) => Ok(id),
        (None, Some(code), None) => {
            // A code read off a screen may come with spaces or as the page's whole URL.
            let code = code.trim().rsplit('/').next().unwrap_or_default().to_owned();
            LinkCode::parse(&code)
                .map(|c| BookingId::of_code(&c))
                .ok_or(FieldError {
                    field: "code",
                    reason: "a booking code is the 24 letters, digits, '-' and '_' on the booking"
                        .into(),
                })
        }
        (None, None, Some(r)) => Ok(BookingId::of_external(&r)),
        (None, None, None) => Err(FieldError {
            field: "code",
            reason: "a booking_arrived event needs the booking's `code`, its `external_ref` or its `booking` id".into(),
        }),
        _ => Err(FieldError {
            field: "code",
            reason: "name the booking once: by `code`, `external_ref` or `booking`, not several"
                .into(),
        }),
    }
}

/// The event as the log keeps it: who sent it, when the service accepted it, and its place in
/// the station's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub station: StationId,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub device: DeviceId,
    pub event: Event,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_in_defaults_to_a_party_of_one() {
        let e: Event = serde_json::from_str(r#"{"kind":"check_in","service":"passport"}"#).unwrap();
        assert_eq!(
            e,
            Event::CheckIn {
                service: ServiceId::parse("passport").unwrap(),
                party_size: PartySize::ONE,
                appointment: None,
                link: None,
            }
        );
    }

    #[test]
    fn unknown_fields_and_kinds_are_rejected() {
        assert!(
            serde_json::from_str::<Event>(r#"{"kind":"check_in","service":"passport","x":1}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<Event>(r#"{"kind":"teleport"}"#).is_err());
    }

    fn wire(json: &str) -> Result<Event, String> {
        let w: EventWire = serde_json::from_str(json).map_err(|e| e.to_string())?;
        w.into_event(&DeviceId::parse("desk-1").unwrap())
            .map_err(|e| e.field.to_owned())
    }

    #[test]
    fn the_wire_form_names_missing_and_foreign_fields() {
        assert_eq!(wire(r#"{"kind":"check_out"}"#), Err("ticket".into()));
        assert_eq!(
            wire(r#"{"kind":"check_out","ticket":"P1","desk":"2"}"#),
            Err("desk".into())
        );
        assert_eq!(
            wire(r#"{"kind":"correction","delta":1}"#),
            Err("reason".into())
        );
        assert_eq!(
            wire(r#"{"kind":"call","desk":"3","service":"passport"}"#).unwrap(),
            serde_json::from_str::<Event>(r#"{"kind":"call","desk":"3","service":"passport"}"#)
                .unwrap()
        );
    }

    #[test]
    fn recall_and_transfer_need_their_fields() {
        assert_eq!(
            wire(r#"{"kind":"recall","desk":"2"}"#),
            Err("ticket".into())
        );
        assert_eq!(
            wire(r#"{"kind":"transfer","ticket":"P1"}"#),
            Err("service".into())
        );
        assert_eq!(
            wire(r#"{"kind":"transfer","ticket":"P1","service":"visa","desk":"2"}"#),
            Err("desk".into())
        );
        assert_eq!(
            wire(r#"{"kind":"recall","desk":"2","ticket":"P1"}"#).unwrap(),
            Event::Recall {
                desk: DeskId::parse("2").unwrap(),
                ticket: Ticket::parse("P1").unwrap()
            }
        );
    }

    #[test]
    fn events_round_trip_through_json() {
        let e = Event::Correction {
            delta: Delta::new(-2).unwrap(),
            reason: Text::parse("two left by the side door").unwrap(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            Surface::parse("  door handles ").unwrap().as_str(),
            "door handles"
        );
        assert!(Surface::parse("   ").is_err());
        assert!(Surface::parse(&"x".repeat(65)).is_err());
        assert!(Surface::parse("a\u{0007}b").is_err());
    }
}
