//! A linked ticket's own view, for its page and its socket: found by the link's hash among the
//! parties in the queue and the room, or among the day's ended tickets.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::state::{Ended, Ending, Party};
use super::{Station, waits};
use crate::domain::status::ServiceStatus;
use crate::domain::ticket::{TicketState, TicketView};
use crate::domain::ticket_link::LinkHash;

/// Where a linked party stands: in the queue at `index`, in the room, or gone.
enum Whereabouts<'a> {
    Queued(&'a Party, usize),
    Inside(&'a Party),
    Ended(&'a Ended),
}

impl Station {
    /// The view of the ticket whose link hashes to `link`, as of `now`; `None` for a link this
    /// station does not know today (never issued here, or expired with the day).
    pub fn ticket_view(&self, link: &LinkHash, now: DateTime<Utc>) -> Option<TicketView> {
        let whereabouts = self.whereabouts(link)?;
        let (services, departures_per_s) = self.services_status(now);
        Some(self.view(&whereabouts, &services, departures_per_s, now))
    }

    /// Every linked ticket's view as of `now`, by its link's hash (rendered with the documents,
    /// so each ticket's socket only picks its own).
    pub fn ticket_views(&self, now: DateTime<Utc>) -> HashMap<LinkHash, TicketView> {
        let state = &self.state;
        let linked = state
            .outside
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((p.link?, Whereabouts::Queued(p, i))))
            .chain(
                state
                    .inside
                    .iter()
                    .filter_map(|p| Some((p.link?, Whereabouts::Inside(p)))),
            )
            .chain(
                state
                    .ended
                    .iter()
                    .map(|(link, e)| (*link, Whereabouts::Ended(e))),
            );
        let (services, departures_per_s) = self.services_status(now);
        linked
            .map(|(link, w)| (link, self.view(&w, &services, departures_per_s, now)))
            .collect()
    }

    fn whereabouts(&self, link: &LinkHash) -> Option<Whereabouts<'_>> {
        let state = &self.state;
        let has = |p: &&Party| p.link.as_ref() == Some(link);
        if let Some(i) = state.outside.iter().position(|p| has(&p)) {
            return Some(Whereabouts::Queued(&state.outside[i], i));
        }
        if let Some(p) = state.inside.iter().find(has) {
            return Some(Whereabouts::Inside(p));
        }
        state.ended.get(link).map(Whereabouts::Ended)
    }

    fn view(
        &self,
        whereabouts: &Whereabouts<'_>,
        services: &[ServiceStatus],
        departures_per_s: Option<f64>,
        now: DateTime<Utc>,
    ) -> TicketView {
        let (ticket, service, size) = match whereabouts {
            Whereabouts::Queued(p, _) | Whereabouts::Inside(p) => (p.ticket, &p.service, p.size),
            Whereabouts::Ended(e) => (e.ticket, &e.service, crate::domain::PartySize::ONE),
        };
        let spec = services.iter().find(|s| &s.id == service);
        let open = services.iter().any(|s| s.open);
        let cfg = &self.config;
        let mut view = TicketView {
            ticket,
            party_size: size,
            service: service.clone(),
            service_name: spec.map(|s| s.name.clone()).unwrap_or_default(),
            service_name_en: spec.map(|s| s.name_en.clone()).unwrap_or_default(),
            station: cfg.id.clone(),
            station_name: cfg.name.clone(),
            address: cfg.address.clone(),
            timezone: cfg.timezone.to_string(),
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
            entrance_code_required: cfg.remote.entrance_code.is_some(),
            ended_at: None,
            sign: self.sign(open),
            open: spec.is_some_and(|s| s.open),
            hours_today: spec.and_then(|s| s.hours_today.clone()),
            week: spec.map(|s| s.week.clone()).unwrap_or_default(),
            seq: self.state.seq,
            as_of: now,
        };
        match whereabouts {
            Whereabouts::Queued(p, i) => {
                let position = *i as u32 + 1;
                view.remote = p.remote;
                view.start_walking = p.remote && p.told_to_walk;
                view.position = Some(position);
                view.ahead = Some(position - 1);
                view.expected_enter_min =
                    departures_per_s.map(|rate| waits::minutes_for(position, rate));
                view.more_time_available = p.remote && !p.more_time_used;
                view.can_leave = true;
                view.can_wait_elsewhere = !p.remote;
            }
            Whereabouts::Inside(p) => {
                view.remote = p.remote;
                view.start_walking = p.remote;
                view.come_back_by = p.come_back_by;
                view.desk = p.desk.clone();
                view.state = match (&p.desk, p.asked_in) {
                    (Some(_), _) => TicketState::Called,
                    (None, true) => TicketState::ComeIn,
                    (None, false) => TicketState::Inside,
                };
                view.more_time_available = p.remote && p.desk.is_none() && !p.more_time_used;
                view.can_leave = p.desk.is_none();
            }
            Whereabouts::Ended(e) => {
                view.ended_at = Some(e.at);
                view.state = match e.how {
                    Ending::Served => TicketState::Served,
                    Ending::NoShow => TicketState::NoShow,
                    Ending::Left => TicketState::Left,
                    Ending::ComeBackMissed => TicketState::ComeBackMissed,
                    Ending::ClosedOut => TicketState::Closed,
                };
            }
        }
        view
    }
}
