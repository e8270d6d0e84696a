//! What guards put right by hand: a headcount correction for visitors without a ticket, a
//! surface cleaned, an alert acknowledged.
//!
//! None of these moves a ticket; they adjust what the station counts and what it tells guards.

use chrono::{DateTime, Utc};

use super::alerts::AckRefusal;
use super::state::SurfaceUse;
use super::{Refusal, Station};
use crate::domain::DeviceId;
use crate::domain::event::Delta;
use crate::domain::message::Message;

impl Station {
    /// `correction`: people counted in (or out) without a ticket. The count never goes below
    /// zero: a party with a ticket leaves by checking out.
    pub(super) fn correct(&mut self, delta: Delta) -> Result<(), Refusal> {
        let corrections = self.state.corrections;
        let next = i64::from(corrections) + i64::from(delta.get());
        if next < 0 {
            return Err(Refusal::CorrectionBelowZero(
                // `n` picks the plural form of the pages' sentence.
                Message::new("correction_below_zero")
                    .with("recorded", corrections)
                    .with("n", corrections)
                    .with("removing", -delta.get()),
            ));
        }
        self.state.corrections = next as u32;
        Ok(())
    }

    /// `cleaned`: `surface` was cleaned at `at`; if it is tracked, its use starts again from zero.
    pub(super) fn cleaned(&mut self, surface: &str, at: DateTime<Utc>) {
        self.state.cleaning.insert(surface.to_owned(), at);
        if let Some(used) = self.state.surfaces.get_mut(surface) {
            *used = SurfaceUse::default();
        }
    }

    /// `acknowledge`: a guard (`by`) has seen open alert `alert`.
    pub(super) fn acknowledge(
        &mut self,
        alert: u64,
        by: &DeviceId,
        at: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        let alerts = &mut self.state.alerts;
        alerts.check_acknowledge(alert).map_err(|r| {
            Refusal::Alert(match r {
                AckRefusal::Unknown(id) => Message::new("alert.unknown").with("alert", id),
                AckRefusal::Cleared(id) => Message::new("alert.already_cleared").with("alert", id),
                AckRefusal::AlreadyAcknowledged { id, by } => {
                    Message::new("alert.already_acknowledged")
                        .with("alert", id)
                        .with("by", by.as_str())
                }
            })
        })?;
        alerts.acknowledge(alert, by, at);
        Ok(())
    }
}
