//! A linked ticket's own view, for its page and its socket.
//!
//! After every event the documents carry a [`TicketBoard`]: where each linked ticket stands (a
//! few numbers per ticket, found in one pass over the queue and the room) and what every view
//! shares (the station, its sign, each service's names and hours). A ticket's view is rendered
//! from it only when its page asks, so an event costs one pass however many tickets wait, not
//! one rendering per waiting ticket.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::ended::EndedTickets;
use super::state::{Ended, Ending, Party};
use super::{Station, waits};
use crate::domain::status::{ServiceStatus, Sign};
use crate::domain::ticket::{TicketState, TicketView};
use crate::domain::ticket_link::LinkHash;
use crate::domain::{DeskId, PartySize, ServiceId, StationId, Ticket};

/// Every linked ticket's standing at one moment, and what their views share.
#[derive(Debug, Clone)]
pub struct TicketBoard {
    shared: Arc<Shared>,
    /// Tickets in the queue or the room.
    spots: HashMap<LinkHash, Spot>,
    /// Tickets that ended today (shared with the state, not copied).
    ended: EndedTickets,
}

/// What every ticket's view at this station shares.
#[derive(Debug)]
struct Shared {
    station: StationId,
    station_name: String,
    address: Option<String>,
    timezone: String,
    entrance_code_required: bool,
    sign: Sign,
    services: Vec<ServiceStatus>,
    /// All desks' pace together (parties per second), when measured.
    departures_per_s: Option<f64>,
    seq: u64,
    as_of: DateTime<Utc>,
}

/// Where one linked ticket stands.
#[derive(Debug, Clone)]
struct Spot {
    ticket: Ticket,
    service: ServiceId,
    size: PartySize,
    at: Whereabouts,
}

#[derive(Debug, Clone)]
enum Whereabouts {
    /// In the queue at `position` (1 = next).
    Queued {
        position: u32,
        remote: bool,
        told_to_walk: bool,
        more_time_used: bool,
    },
    Inside {
        remote: bool,
        asked_in: bool,
        desk: Option<DeskId>,
        come_back_by: Option<DateTime<Utc>>,
        more_time_used: bool,
    },
    Ended {
        how: Ending,
        at: DateTime<Utc>,
    },
}

impl Spot {
    fn ended(e: &Ended) -> Spot {
        Spot {
            ticket: e.ticket,
            service: e.service.clone(),
            size: PartySize::ONE,
            at: Whereabouts::Ended {
                how: e.how,
                at: e.at,
            },
        }
    }
}

impl Station {
    /// The board of every linked ticket as of `now`.
    pub fn ticket_board(&self, now: DateTime<Utc>) -> TicketBoard {
        let (services, departures_per_s) = self.services_status(now);
        self.ticket_board_with(now, services, departures_per_s)
    }

    /// The board as of `now`, given the services' status and the desks' pace at `now` (the
    /// documents work them out once for both).
    pub(super) fn ticket_board_with(
        &self,
        now: DateTime<Utc>,
        services: Vec<ServiceStatus>,
        departures_per_s: Option<f64>,
    ) -> TicketBoard {
        let state = &self.state;
        let queued = state.outside.iter().zip(1..).filter_map(|(p, position)| {
            let at = Whereabouts::Queued {
                position,
                remote: p.remote,
                told_to_walk: p.told_to_walk,
                more_time_used: p.more_time_used,
            };
            Some((p.link?, spot(p, at)))
        });
        let inside = state.inside.iter().filter_map(|p| {
            let at = Whereabouts::Inside {
                remote: p.remote,
                asked_in: p.asked_in,
                desk: p.desk.clone(),
                come_back_by: p.come_back_by,
                more_time_used: p.more_time_used,
            };
            Some((p.link?, spot(p, at)))
        });
        TicketBoard {
            shared: Arc::new(self.shared_part(now, services, departures_per_s)),
            spots: queued.chain(inside).collect(),
            ended: state.ended.clone(),
        }
    }

    /// The view of the ticket whose link hashes to `link`, as of `now`; `None` for a link this
    /// station does not know today (never issued here, or expired with the day).
    pub fn ticket_view(&self, link: &LinkHash, now: DateTime<Utc>) -> Option<TicketView> {
        self.ticket_board(now).view(link)
    }

    fn shared_part(
        &self,
        now: DateTime<Utc>,
        services: Vec<ServiceStatus>,
        departures_per_s: Option<f64>,
    ) -> Shared {
        let open = services.iter().any(|s| s.open);
        let cfg = &self.config;
        Shared {
            station: cfg.id.clone(),
            station_name: cfg.name.clone(),
            address: cfg.address.clone(),
            timezone: cfg.timezone.to_string(),
            entrance_code_required: cfg.remote.entrance_code.is_some(),
            sign: self.sign(open),
            services,
            departures_per_s,
            seq: self.state.seq,
            as_of: now,
        }
    }
}

fn spot(p: &Party, at: Whereabouts) -> Spot {
    Spot {
        ticket: p.ticket,
        service: p.service.clone(),
        size: p.size,
        at,
    }
}

impl TicketBoard {
    /// Whether the board has the ticket whose link hashes to `link`.
    pub fn has(&self, link: &LinkHash) -> bool {
        self.spots.contains_key(link) || self.ended.get(link).is_some()
    }

    /// The view of the ticket whose link hashes to `link`.
    pub fn view(&self, link: &LinkHash) -> Option<TicketView> {
        let ended;
        let spot = match self.spots.get(link) {
            Some(spot) => spot,
            None => {
                ended = Spot::ended(self.ended.get(link)?);
                &ended
            }
        };
        let shared = &self.shared;
        let service = shared.services.iter().find(|s| s.id == spot.service);
        let mut view = TicketView {
            ticket: spot.ticket,
            party_size: spot.size,
            service: spot.service.clone(),
            service_name: service.map(|s| s.name.clone()).unwrap_or_default(),
            service_name_en: service.map(|s| s.name_en.clone()).unwrap_or_default(),
            station: shared.station.clone(),
            station_name: shared.station_name.clone(),
            address: shared.address.clone(),
            timezone: shared.timezone.clone(),
            state: TicketState::Waiting,
            remote: false,
            start_walking: false,
            position: None,
            ahead: None,
            expected_enter_min: None,
            come_back_by: None,
            desk: None,
            more_time_available: false,
            can_leave: false,
            can_wait_elsewhere: false,
            entrance_code_required: shared.entrance_code_required,
            ended_at: None,
            sign: shared.sign,
            open: service.is_some_and(|s| s.open),
            hours_today: service.and_then(|s| s.hours_today.clone()),
            week: service.map(|s| s.week.clone()).unwrap_or_default(),
            seq: shared.seq,
            as_of: shared.as_of,
        };
        match &spot.at {
            Whereabouts::Queued {
                position,
                remote,
                told_to_walk,
                more_time_used,
            } => {
                view.remote = *remote;
                view.start_walking = *remote && *told_to_walk;
                view.position = Some(*position);
                view.ahead = Some(position - 1);
                view.expected_enter_min = shared
                    .departures_per_s
                    .map(|rate| waits::minutes_for(*position, rate));
                view.more_time_available = *remote && !more_time_used;
                view.can_leave = true;
                view.can_wait_elsewhere = !remote;
            }
            Whereabouts::Inside {
                remote,
                asked_in,
                desk,
                come_back_by,
                more_time_used,
            } => {
                view.remote = *remote;
                view.start_walking = *remote;
                view.come_back_by = *come_back_by;
                view.desk.clone_from(desk);
                view.state = match (desk, asked_in) {
                    (Some(_), _) => TicketState::Called,
                    (None, true) => TicketState::ComeIn,
                    (None, false) => TicketState::Inside,
                };
                view.more_time_available = *remote && desk.is_none() && !more_time_used;
                view.can_leave = desk.is_none();
            }
            Whereabouts::Ended { how, at } => {
                view.ended_at = Some(*at);
                view.state = match how {
                    Ending::Served => TicketState::Served,
                    Ending::NoShow => TicketState::NoShow,
                    Ending::Left => TicketState::Left,
                    Ending::ComeBackMissed => TicketState::ComeBackMissed,
                    Ending::ClosedOut => TicketState::Closed,
                };
            }
        }
        Some(view)
    }

    /// The view of `link`'s ticket as JSON, for its page and socket.
    pub fn view_json(&self, link: &LinkHash) -> Option<String> {
        self.view(link)
            .map(|v| serde_json::to_string(&v).expect("ticket views always serialize"))
    }
}
