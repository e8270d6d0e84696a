//! Alerts for guards: conditions the engine raises and clears itself, so that guards are told
//! rather than having to notice.
//!
//! After every event the engine works out which [`Condition`]s hold (at cap, over cap, a crowd
//! outside, a surface due for cleaning, a ticket inside for hours, a long wait) and
//! [`Alerts::reconcile`] raises those that are new and clears those that no longer hold. An alert
//! keeps its id (numbered per station, 1, 2, 3, …) from raised to cleared, and a guard may
//! acknowledge it in between (who, when). Everything here is state fed by logged events, so a
//! replay raises, acknowledges and clears the same alerts at the same moments.
//!
//! The alert itself — what the status documents carry — is plain data in
//! [`crate::domain::alert`], re-exported here; this file owns what happens to it.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::DeviceId;
pub use crate::domain::alert::{Alert, AlertState, Condition};

/// How many cleared alerts the status document keeps (the log keeps them all).
pub const CLEARED_KEPT: usize = 20;

/// Why an acknowledgement was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckRefusal {
    Unknown(u64),
    Cleared(u64),
    AlreadyAcknowledged { id: u64, by: DeviceId },
}

/// A station's alerts: the open ones (active or acknowledged) and the last few cleared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alerts {
    open: Vec<Alert>,
    cleared: VecDeque<Alert>,
    /// How many alerts this station has raised: the last id given.
    raised: u64,
}

impl Alerts {
    /// Makes the open alerts match `holding` (each condition with its detail): raises new ones
    /// (each with the next id; `seq` is the event that raised them), clears those whose
    /// condition no longer holds. An open alert whose detail
    /// changed keeps its id and state and takes the new detail. Returns whether anything changed.
    pub fn reconcile(
        &mut self,
        holding: Vec<(Condition, String)>,
        seq: u64,
        at: DateTime<Utc>,
    ) -> bool {
        let mut changed = false;
        let mut still_open = Vec::with_capacity(self.open.len());
        for mut alert in std::mem::take(&mut self.open) {
            match holding.iter().find(|(c, _)| *c == alert.condition) {
                Some((_, detail)) => {
                    if alert.detail != *detail {
                        alert.detail.clone_from(detail);
                        changed = true;
                    }
                    still_open.push(alert);
                }
                None => {
                    alert.state = AlertState::Cleared;
                    alert.cleared_at = Some(at);
                    self.cleared.push_front(alert);
                    self.cleared.truncate(CLEARED_KEPT);
                    changed = true;
                }
            }
        }
        for (condition, detail) in holding {
            if !still_open.iter().any(|a| a.condition == condition) {
                self.raised += 1;
                still_open.push(Alert {
                    id: self.raised,
                    raised_by_seq: seq,
                    condition,
                    state: AlertState::Active,
                    since: at,
                    detail,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    cleared_at: None,
                });
                changed = true;
            }
        }
        self.open = still_open;
        changed
    }

    /// Whether reconciling with `holding` would change anything (the clock's question: is a
    /// `clock` event worth logging now?).
    pub fn would_change(&self, holding: &[(Condition, String)]) -> bool {
        holding.len() != self.open.len()
            || holding.iter().any(|(c, d)| {
                !self
                    .open
                    .iter()
                    .any(|a| a.condition == *c && a.detail == *d)
            })
    }

    /// Checks that alert `id` may be acknowledged, without changing anything.
    pub fn check_acknowledge(&self, id: u64) -> Result<(), AckRefusal> {
        match self.open.iter().find(|a| a.id == id) {
            Some(a) if a.state == AlertState::Acknowledged => {
                Err(AckRefusal::AlreadyAcknowledged {
                    id,
                    by: a
                        .acknowledged_by
                        .clone()
                        .expect("acknowledged alerts name who"),
                })
            }
            Some(_) => Ok(()),
            None if self.cleared.iter().any(|a| a.id == id) => Err(AckRefusal::Cleared(id)),
            None => Err(AckRefusal::Unknown(id)),
        }
    }

    /// Acknowledges alert `id` (after [`Alerts::check_acknowledge`]).
    pub fn acknowledge(&mut self, id: u64, by: &DeviceId, at: DateTime<Utc>) {
        if let Some(a) = self.open.iter_mut().find(|a| a.id == id) {
            a.state = AlertState::Acknowledged;
            a.acknowledged_by = Some(by.clone());
            a.acknowledged_at = Some(at);
        }
    }

    /// Open alerts first (oldest first), then the recently cleared (newest first).
    pub fn listing(&self) -> Vec<Alert> {
        self.open.iter().chain(&self.cleared).cloned().collect()
    }

    pub fn open(&self) -> &[Alert] {
        &self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + s, 0).unwrap()
    }

    #[test]
    fn conditions_raise_acknowledge_and_clear() {
        let mut a = Alerts::default();
        assert!(a.reconcile(vec![(Condition::AtCap, "3 / 3".into())], 7, t(0)));
        assert!(!a.reconcile(vec![(Condition::AtCap, "3 / 3".into())], 8, t(1)));
        assert_eq!(a.open()[0].id, 1);
        assert_eq!(a.open()[0].raised_by_seq, 7);
        let guard = DeviceId::parse("oslo-guard").unwrap();
        assert_eq!(a.check_acknowledge(1), Ok(()));
        a.acknowledge(1, &guard, t(2));
        assert_eq!(
            a.check_acknowledge(1),
            Err(AckRefusal::AlreadyAcknowledged {
                id: 1,
                by: guard.clone()
            })
        );
        // Over cap replaces at cap.
        assert!(a.reconcile(vec![(Condition::OverCap, "4 / 3".into())], 9, t(3)));
        let list = a.listing();
        assert_eq!(list[0].condition, Condition::OverCap);
        assert_eq!(list[0].state, AlertState::Active);
        assert_eq!(list[1].condition, Condition::AtCap);
        assert_eq!(list[1].state, AlertState::Cleared);
        assert_eq!(list[1].acknowledged_by, Some(guard));
        assert_eq!(a.check_acknowledge(1), Err(AckRefusal::Cleared(1)));
        assert_eq!(a.check_acknowledge(99), Err(AckRefusal::Unknown(99)));
    }

    #[test]
    fn a_changed_detail_keeps_the_alert() {
        let mut a = Alerts::default();
        a.reconcile(vec![(Condition::Gathering, "10 outside".into())], 1, t(0));
        assert!(a.would_change(&[(Condition::Gathering, "12 outside".into())]));
        assert!(a.reconcile(vec![(Condition::Gathering, "12 outside".into())], 2, t(1)));
        assert_eq!(a.open()[0].id, 1);
        assert_eq!(a.open()[0].detail, "12 outside");
    }

    #[test]
    fn alerts_raised_together_have_their_own_ids() {
        let mut a = Alerts::default();
        a.reconcile(
            vec![
                (Condition::AtCap, String::new()),
                (Condition::Gathering, String::new()),
            ],
            5,
            t(0),
        );
        let ids: Vec<u64> = a.open().iter().map(|x| x.id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(a.open().iter().all(|x| x.raised_by_seq == 5));
    }

    #[test]
    fn only_the_last_cleared_are_kept() {
        let mut a = Alerts::default();
        for i in 0..(CLEARED_KEPT as u64 + 5) {
            a.reconcile(vec![(Condition::AtCap, String::new())], i * 2, t(0));
            a.reconcile(vec![], i * 2 + 1, t(1));
        }
        assert_eq!(a.listing().len(), CLEARED_KEPT);
    }
}
