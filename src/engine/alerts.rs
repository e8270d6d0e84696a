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

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::DeviceId;
pub use crate::domain::alert::{ALERTS, Alert, AlertState, Condition};
use crate::domain::message::Message;

/// How many cleared alerts the status document keeps (the log keeps them all).
pub const CLEARED_KEPT: usize = 20;

/// Whether an alert on `condition` whose condition stopped holding settles rather than clears.
fn may_settle(condition: &Condition, settle: Duration, over_cap: bool) -> bool {
    condition.is_damped()
        && settle > Duration::zero()
        && !(over_cap && *condition == Condition::AtCap)
}

/// Gives `alert` `message`, and the English detail rendered from it.
fn set_message(alert: &mut Alert, message: Message) {
    alert.detail = message.english(ALERTS);
    alert.message = message;
}

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
    /// How many alerts this station has raised: the last id given.
    pub fn raised(&self) -> u64 {
        self.raised
    }

    /// Makes the open alerts match `holding` (each condition with its message): raises new ones
    /// (each with the next id; `seq` is the event that raised them), clears those whose
    /// condition no longer holds. An open alert whose message changed keeps its id and state and
    /// takes the new message. A damped alert ([`Condition::is_damped`]) whose condition stops
    /// holding settles for `settle` first (none when zero): it clears only once the condition
    /// has been absent that long, and if it holds again meanwhile it is the same alert. Returns
    /// whether anything changed.
    pub fn reconcile(
        &mut self,
        holding: Vec<(Condition, Message)>,
        seq: u64,
        at: DateTime<Utc>,
        settle: Duration,
    ) -> bool {
        let over_cap = holding.iter().any(|(c, _)| *c == Condition::OverCap);
        let mut changed = false;
        let mut still_open = Vec::with_capacity(self.open.len());
        for mut alert in std::mem::take(&mut self.open) {
            match holding.iter().find(|(c, _)| *c == alert.condition) {
                Some((_, message)) => {
                    changed |= alert.settles_at.take().is_some();
                    if alert.message != *message {
                        set_message(&mut alert, message.clone());
                        changed = true;
                    }
                    still_open.push(alert);
                }
                // Over cap supersedes a full room at once.
                None if may_settle(&alert.condition, settle, over_cap) => match alert.settles_at {
                    None => {
                        alert.settles_at = Some(at + settle);
                        still_open.push(alert);
                        changed = true;
                    }
                    Some(deadline) if at < deadline => still_open.push(alert),
                    Some(_) => {
                        self.clear(alert, at);
                        changed = true;
                    }
                },
                None => {
                    self.clear(alert, at);
                    changed = true;
                }
            }
        }
        for (condition, message) in holding {
            if !still_open.iter().any(|a| a.condition == condition) {
                self.raised += 1;
                let mut alert = Alert {
                    id: self.raised,
                    raised_by_seq: seq,
                    condition,
                    state: AlertState::Active,
                    since: at,
                    message: Message::new(""),
                    detail: String::new(),
                    settles_at: None,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    cleared_at: None,
                };
                set_message(&mut alert, message);
                still_open.push(alert);
                changed = true;
            }
        }
        self.open = still_open;
        changed
    }

    /// Moves `alert` to the cleared, as of `at`.
    fn clear(&mut self, mut alert: Alert, at: DateTime<Utc>) {
        alert.state = AlertState::Cleared;
        alert.settles_at = None;
        alert.cleared_at = Some(at);
        self.cleared.push_front(alert);
        self.cleared.truncate(CLEARED_KEPT);
    }

    /// Whether reconciling with `holding` at `at` would change anything (the clock's question:
    /// is a `clock` event worth logging now?). It answers by reconciling a copy, so a settling
    /// alert's deadline counts exactly as [`Alerts::reconcile`] counts it, and a replay clears
    /// it at the same moment.
    pub fn would_change(
        &self,
        holding: &[(Condition, Message)],
        at: DateTime<Utc>,
        settle: Duration,
    ) -> bool {
        self.clone().reconcile(holding.to_vec(), 0, at, settle)
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

    fn at_cap(n: u32) -> (Condition, Message) {
        (
            Condition::AtCap,
            Message::new("alert.at_cap")
                .with("headcount", n)
                .with("cap", n),
        )
    }

    fn gathering(people: u32) -> (Condition, Message) {
        (
            Condition::Gathering,
            Message::new("alert.gathering")
                .with("people", people)
                .with("threshold", 10),
        )
    }

    const NOW: Duration = Duration::zero();

    fn settle() -> Duration {
        Duration::minutes(5)
    }

    #[test]
    fn conditions_raise_acknowledge_and_clear() {
        let mut a = Alerts::default();
        assert!(a.reconcile(vec![at_cap(3)], 7, t(0), NOW));
        assert!(!a.reconcile(vec![at_cap(3)], 8, t(1), NOW));
        assert_eq!(a.open()[0].id, 1);
        assert_eq!(a.open()[0].raised_by_seq, 7);
        assert_eq!(a.open()[0].message.code, "alert.at_cap");
        assert_eq!(a.open()[0].detail, "3 / 3: new arrivals wait outside");
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
        // Over cap replaces at cap, at once even when alerts settle.
        let over = (Condition::OverCap, Message::new("alert.over_cap"));
        assert!(a.reconcile(vec![over], 9, t(3), settle()));
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
    fn a_changed_message_keeps_the_alert() {
        let mut a = Alerts::default();
        a.reconcile(vec![gathering(10)], 1, t(0), NOW);
        assert!(a.would_change(&[gathering(12)], t(1), NOW));
        assert!(a.reconcile(vec![gathering(12)], 2, t(1), NOW));
        assert_eq!(a.open()[0].id, 1);
        assert_eq!(a.open()[0].message.params["people"], 12);
        assert!(a.open()[0].detail.starts_with("12 people queued outside"));
    }

    #[test]
    fn alerts_raised_together_have_their_own_ids() {
        let mut a = Alerts::default();
        a.reconcile(vec![at_cap(3), gathering(10)], 5, t(0), NOW);
        let ids: Vec<u64> = a.open().iter().map(|x| x.id).collect();
        assert_eq!(ids, [1, 2]);
        assert!(a.open().iter().all(|x| x.raised_by_seq == 5));
    }

    #[test]
    fn only_the_last_cleared_are_kept() {
        let mut a = Alerts::default();
        for i in 0..(CLEARED_KEPT as u64 + 5) {
            a.reconcile(vec![at_cap(3)], i * 2, t(0), NOW);
            a.reconcile(vec![], i * 2 + 1, t(1), NOW);
        }
        assert_eq!(a.listing().len(), CLEARED_KEPT);
    }

    #[test]
    fn a_full_room_that_fills_again_within_the_settle_period_is_one_alert() {
        let mut a = Alerts::default();
        a.reconcile(vec![at_cap(3)], 1, t(0), settle());
        let guard = DeviceId::parse("oslo-guard").unwrap();
        a.acknowledge(1, &guard, t(10));
        // One leaves: the alert settles rather than clears.
        assert!(a.reconcile(vec![], 2, t(60), settle()));
        assert_eq!(a.open()[0].settles_at, Some(t(60) + settle()));
        // Nothing changes while it settles.
        assert!(!a.would_change(&[], t(200), settle()));
        // Full again: the same alert, still acknowledged, no longer settling.
        assert!(a.reconcile(vec![at_cap(3)], 3, t(240), settle()));
        let open = a.open();
        assert_eq!((open.len(), open[0].id), (1, 1));
        assert_eq!(open[0].state, AlertState::Acknowledged);
        assert_eq!(open[0].settles_at, None);
    }

    #[test]
    fn a_settling_alert_clears_when_its_deadline_passes_and_the_clock_says_so() {
        let mut a = Alerts::default();
        a.reconcile(vec![gathering(10)], 1, t(0), settle());
        a.reconcile(vec![], 2, t(60), settle());
        let deadline = t(60) + settle();
        assert!(!a.would_change(&[], deadline - Duration::seconds(1), settle()));
        assert!(a.would_change(&[], deadline, settle()));
        assert!(a.reconcile(vec![], 3, deadline, settle()));
        assert!(a.open().is_empty());
        assert_eq!(a.listing()[0].cleared_at, Some(deadline));
        assert_eq!(a.listing()[0].settles_at, None);
        // Raised again later: a new alert.
        a.reconcile(vec![gathering(10)], 4, deadline + settle(), settle());
        assert_eq!(a.open()[0].id, 2);
    }

    #[test]
    fn over_cap_and_undamped_kinds_clear_at_once_and_zero_turns_damping_off() {
        let mut a = Alerts::default();
        let over = (Condition::OverCap, Message::new("alert.over_cap"));
        a.reconcile(vec![over], 1, t(0), settle());
        a.reconcile(vec![], 2, t(1), settle());
        assert!(a.open().is_empty());
        a.reconcile(vec![at_cap(3)], 3, t(2), NOW);
        a.reconcile(vec![], 4, t(3), NOW);
        assert!(a.open().is_empty());
    }
}
