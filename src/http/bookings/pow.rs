//! The proof of work on a public booking: `GET /api/v1/bookings/challenge` hands out a
//! challenge, and a booking carries a nonce that makes SHA-256(`challenge` ":" `nonce`) start
//! with `[limits] booking_pow_bits` zero bits — about 2^bits hashes of work for whoever books.
//! Self-hosted, so no third-party captcha sees the visitors.
//!
//! **Stateless challenges.** A challenge is `"<unix seconds>.<16 random hex>"`: the service keeps
//! nothing when it issues one, so any instance checks any challenge. A challenge names the time it
//! was issued; it is good for [`CHALLENGE_TTL_S`] after that and never before (a small clock skew
//! between instances allowed). It carries no signature: a client that makes up its own challenge
//! with the current time still has to do the same work on it, and cannot work ahead of time by
//! more than the challenge's life.
//!
//! **Once each.** A solution spent here is remembered until its challenge expires
//! ([`SpentChallenges`], bounded and pruned by age), so a solution buys one booking — on each
//! instance: instances share no memory, so across `n` instances one solution may be spent up to
//! `n` times (the README says so).

use std::collections::BTreeSet;
use std::sync::Mutex;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rand::TryRngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::http::problem::ApiError;
use crate::state::AppState;

/// How long a challenge is good for after it was issued, in seconds.
pub const CHALLENGE_TTL_S: i64 = 300;
/// How far in the future a challenge's time may lie: another instance's clock may run slightly
/// ahead of this one's.
const CLOCK_SKEW_S: i64 = 2;
/// Spent solutions remembered at most. A challenge lives five minutes and each solution cost its
/// maker real work, so the set is far below this in any use; past it the service answers 503
/// rather than forget a solution that could then be spent again.
const MAX_SPENT: usize = 100_000;
/// Longest nonce taken: a `u64` in decimal.
const MAX_NONCE_DIGITS: usize = 20;

/// A fresh challenge and the work it asks.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ChallengeAnswer {
    /// `<unix seconds>.<16 hex digits>`; good for 5 minutes, for one booking.
    #[schema(example = "1795597200.3f9a0c1d2e4b5a69")]
    challenge: String,
    /// Leading zero bits SHA-256(`challenge` + ":" + `nonce`) must have (0: any nonce will do).
    #[schema(example = 16)]
    difficulty: u32,
}

/// A booking's solution: the challenge it was given and the nonce found for it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Solution {
    #[schema(example = "1795597200.3f9a0c1d2e4b5a69")]
    challenge: String,
    /// 1–20 decimal digits, as a string (a JSON number is taken too).
    #[schema(value_type = String, example = "48213")]
    nonce: Nonce,
}

/// A nonce as a client may send it: the digits as text, or a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Nonce {
    Text(String),
    Number(u64),
}

impl Nonce {
    fn digits(&self) -> String {
        match self {
            Nonce::Text(t) => t.clone(),
            Nonce::Number(n) => n.to_string(),
        }
    }
}

/// A new challenge, good for five minutes and one booking.
#[utoipa::path(
    get,
    path = "/api/v1/bookings/challenge",
    tag = "bookings",
    responses(
        (status = 200, description = "A challenge and its difficulty; never cached", body = ChallengeAnswer),
    ),
)]
pub(super) async fn challenge(State(app): State<AppState>) -> Json<ChallengeAnswer> {
    Json(ChallengeAnswer {
        challenge: issue(app.clock.now()),
        difficulty: app.config().limits.booking_pow_bits,
    })
}

/// A challenge issued at `now`.
fn issue(now: DateTime<Utc>) -> String {
    let mut random = [0u8; 8];
    OsRng
        .try_fill_bytes(&mut random)
        .expect("the operating system's random source is available");
    format!("{}.{}", now.timestamp(), hex::encode(random))
}

/// When `challenge` says it was issued, if it has the shape of one.
fn issued_at(challenge: &str) -> Option<i64> {
    let (seconds, random) = challenge.split_once('.')?;
    let random_ok = random.len() == 16
        && random
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let seconds_ok =
        (1..=12).contains(&seconds.len()) && seconds.bytes().all(|b| b.is_ascii_digit());
    if !(random_ok && seconds_ok) {
        return None;
    }
    seconds.parse().ok()
}

/// Leading zero bits of `digest`.
fn leading_zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in digest {
        bits += byte.leading_zeros();
        if *byte != 0 {
            break;
        }
    }
    bits
}

/// Whether `nonce` solves `challenge` at `bits` of difficulty.
pub fn solves(challenge: &str, nonce: &str, bits: u32) -> bool {
    let digest = Sha256::digest(format!("{challenge}:{nonce}").as_bytes());
    leading_zero_bits(&digest) >= bits
}

/// The solutions spent on this instance, each kept until its challenge has expired: by the time
/// it was issued, so the expired ones are cut off the front in one step.
#[derive(Default)]
pub struct SpentChallenges {
    spent: Mutex<BTreeSet<(i64, String)>>,
}

impl SpentChallenges {
    /// Checks `solution` for `bits` of work at `now` and spends it: refused when missing (while
    /// work is asked), malformed, expired, not yet issued, short of the work, or spent before.
    pub(super) fn spend(
        &self,
        solution: Option<&Solution>,
        bits: u32,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if bits == 0 {
            return Ok(());
        }
        let solution = solution.ok_or_else(|| {
            ApiError::PowFailed("the booking carries no proof of work (`pow`)".into())
        })?;
        let issued = issued_at(&solution.challenge).ok_or_else(|| {
            ApiError::PowFailed("`pow.challenge` is not a challenge this service issues".into())
        })?;
        let age = now.timestamp() - issued;
        if age > CHALLENGE_TTL_S {
            return Err(ApiError::PowFailed(
                "the challenge has expired (they last 5 minutes)".into(),
            ));
        }
        if age < -CLOCK_SKEW_S {
            return Err(ApiError::PowFailed(
                "the challenge is not issued yet".into(),
            ));
        }
        let nonce = solution.nonce.digits();
        let nonce_ok = (1..=MAX_NONCE_DIGITS).contains(&nonce.len())
            && nonce.bytes().all(|b| b.is_ascii_digit());
        if !nonce_ok {
            return Err(ApiError::PowFailed(
                "`pow.nonce` must be 1–20 decimal digits".into(),
            ));
        }
        if !solves(&solution.challenge, &nonce, bits) {
            return Err(ApiError::PowFailed(format!(
                "the nonce does not solve the challenge: SHA-256(challenge + \":\" + nonce) must start with {bits} zero bits"
            )));
        }
        self.remember(issued, &solution.challenge, now)
    }

    /// Spends the challenge issued at `issued`, once; forgets those expired by `now`.
    fn remember(&self, issued: i64, challenge: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        let mut spent = self.spent.lock().map_err(|_| ApiError::Internal)?;
        let oldest_alive = (now.timestamp() - CHALLENGE_TTL_S, String::new());
        *spent = spent.split_off(&oldest_alive);
        if spent.len() >= MAX_SPENT {
            return Err(ApiError::Overloaded);
        }
        if !spent.insert((issued, challenge.to_owned())) {
            return Err(ApiError::PowFailed(
                "this challenge has been used for a booking already".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    /// The first nonce that solves `challenge` at `bits`.
    fn solve(challenge: &str, bits: u32) -> String {
        (0u64..)
            .map(|n| n.to_string())
            .find(|n| solves(challenge, n, bits))
            .unwrap()
    }

    fn solution(challenge: &str, nonce: String) -> Solution {
        Solution {
            challenge: challenge.to_owned(),
            nonce: Nonce::Text(nonce),
        }
    }

    #[test]
    fn leading_zero_bits_count_across_bytes() {
        assert_eq!(leading_zero_bits(&[0x00, 0x0f, 0xff]), 12);
        assert_eq!(leading_zero_bits(&[0x80]), 0);
        assert_eq!(leading_zero_bits(&[0x00, 0x00]), 16);
    }

    #[test]
    fn a_challenge_has_its_issue_time_and_sixteen_hex_digits() {
        let now = Utc::now();
        let c = issue(now);
        assert_eq!(issued_at(&c), Some(now.timestamp()));
        assert_ne!(c, issue(now), "two challenges differ");
        for bad in [
            "",
            "123",
            "123.abc",
            "x.0123456789abcdef",
            "1.0123456789ABCDEF",
        ] {
            assert_eq!(issued_at(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_solution_is_spent_once_and_only_while_fresh() {
        let spent = SpentChallenges::default();
        let now = Utc::now();
        let c = issue(now);
        let good = solution(&c, solve(&c, 8));
        assert!(spent.spend(Some(&good), 8, now).is_ok());
        assert!(matches!(
            spent.spend(Some(&good), 8, now),
            Err(ApiError::PowFailed(_))
        ));

        let old = issue(now - Duration::seconds(CHALLENGE_TTL_S + 1));
        let stale = solution(&old, solve(&old, 8));
        assert!(matches!(
            spent.spend(Some(&stale), 8, now),
            Err(ApiError::PowFailed(_))
        ));
        let ahead = issue(now + Duration::seconds(60));
        let early = solution(&ahead, solve(&ahead, 8));
        assert!(matches!(
            spent.spend(Some(&early), 8, now),
            Err(ApiError::PowFailed(_))
        ));
        assert!(matches!(
            spent.spend(None, 8, now),
            Err(ApiError::PowFailed(_))
        ));
        assert!(
            spent.spend(None, 0, now).is_ok(),
            "no work asked, none needed"
        );
    }

    #[test]
    fn a_nonce_short_of_the_work_is_refused_and_not_spent() {
        let spent = SpentChallenges::default();
        let now = Utc::now();
        let c = issue(now);
        let wrong = (0u64..)
            .map(|n| n.to_string())
            .find(|n| !solves(&c, n, 8))
            .unwrap();
        assert!(spent.spend(Some(&solution(&c, wrong)), 8, now).is_err());
        let right = solution(&c, solve(&c, 8));
        assert!(
            spent.spend(Some(&right), 8, now).is_ok(),
            "a failed try spends nothing"
        );
    }

    #[test]
    fn expired_solutions_are_forgotten() {
        let spent = SpentChallenges::default();
        let then = Utc::now() - Duration::seconds(CHALLENGE_TTL_S);
        let c = issue(then);
        spent
            .spend(Some(&solution(&c, solve(&c, 4))), 4, then)
            .unwrap();
        let later = then + Duration::seconds(CHALLENGE_TTL_S + 1);
        let fresh = issue(later);
        spent
            .spend(Some(&solution(&fresh, solve(&fresh, 4))), 4, later)
            .unwrap();
        assert_eq!(spent.spent.lock().unwrap().len(), 1);
    }
}
