//! **B7** — B1 that also writes what the service writes to a shared PostgreSQL log for an
//! accepted event — one `events` row and one `idempotency` row, in one transaction — and answers
//! 201 once that has committed (`lobbywatch-bench baseline shared-log --database URL`).
//!
//! It stands on the same ground as the service's PostgreSQL backend: the same schema (the
//! service's own migrations create it), the same driver and pool (tokio-postgres through
//! deadpool-postgres, no TLS, 16 connections, fast recycling), the same statements, prepared
//! and cached per connection. It leaves out everything the service adds: the engine, documents,
//! the next-seq race (each station's seq is counted here, so inserts never conflict), the
//! `NOTIFY` that tells the other instances, auth and the idempotency table in memory. P1 / B7
//! is therefore what the service adds above the shared log's two rows.
//!
//! **B7n** (`baseline shared-log-notify`) adds exactly one of those: the service's
//! `pg_notify` in the same transaction, on a channel of its own that nothing listens to.
//! PostgreSQL serialises the commits of notifying transactions (a cluster-wide lock taken before
//! commit and held until after it, so that notifications queue in commit order), so B7n / B7 is
//! what that costs a durable event before the service does anything else.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use chrono::Utc;
use dashmap::{DashMap, DashSet};
use deadpool_postgres::{GenericClient, Pool};

use super::{bare_outcome, bare_request, created, device_of, fingerprint_of};
use lobbywatch::config::DatabaseUrl;
use lobbywatch::store::StoreOptions;
use lobbywatch::store::postgres::OpenLog;

/// B7's state: the pool, each station's last seq, the keys already answered (a retry is
/// answered again, not inserted twice), and whether each commit notifies (B7n).
struct SharedLog {
    pool: Pool,
    seqs: DashMap<String, u64>,
    answered: DashSet<(String, String)>,
    notify: bool,
}

/// B7n's channel: not the service's, so no instance of it ever hears B7n.
const CHANNEL: &str = "lobbywatch-bench";

/// B7's router on the database at `url`, whose schema it first brings up to the service's;
/// with `notify`, B7n's.
pub(super) async fn router(url: &str, notify: bool) -> anyhow::Result<Router> {
    let url = DatabaseUrl::parse(url).map_err(|e| anyhow::anyhow!("--database: {e}"))?;
    // The service's own migrations: the same tables and indexes the service writes.
    drop(OpenLog::open(&url, StoreOptions::default()).await?);
    Ok(Router::new()
        .route("/api/v1/stations/{station}/events", post(shared_log_event))
        .with_state(Arc::new(SharedLog {
            pool: lobbywatch::store::postgres::pool(&url, "lobbywatch-bench-b7")?,
            seqs: DashMap::new(),
            answered: DashSet::new(),
            notify,
        })))
}

/// B1's work, then the event's row and its answer's row committed in one transaction.
async fn shared_log_event(
    State(b): State<Arc<SharedLog>>,
    UrlPath(station): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (auth, key, event) = match bare_request(&headers, &body) {
        Ok(request) => request,
        Err(refused) => return refused.into_response(),
    };
    let device = device_of(auth).as_str().to_owned();
    if !b.answered.insert((device.clone(), key.to_owned())) {
        // A retry: answered, and no seq taken, so the station's log has no hole.
        return created(bare_outcome(&event, 0));
    }
    let seq = {
        let mut last = b.seqs.entry(station.clone()).or_insert(0);
        *last += 1;
        *last
    };
    let answer = Bytes::from(bare_outcome(&event, seq));
    let rows = Rows {
        station: &station,
        seq,
        device: &device,
        kind: event.kind(),
        event: serde_json::to_string(&event).expect("events serialize"),
        key,
        fingerprint: fingerprint_of(&body),
        answer: &answer,
    };
    match rows.commit(&b.pool, b.notify).await {
        Ok(()) => created(answer),
        Err(e) => {
            eprintln!("B7: the rows were not committed: {e:#}");
            b.answered.remove(&(device, key.to_owned()));
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// The two rows the service writes for an accepted event.
struct Rows<'a> {
    station: &'a str,
    seq: u64,
    device: &'a str,
    kind: &'a str,
    event: String,
    key: &'a str,
    fingerprint: [u8; 32],
    answer: &'a [u8],
}

impl Rows<'_> {
    /// Both rows in one transaction, with the service's statements; with `notify`, also the
    /// service's notification of the event.
    async fn commit(&self, pool: &Pool, notify: bool) -> anyhow::Result<()> {
        let mut client = pool.get().await?;
        let tx = client.transaction().await?;
        let at_us = Utc::now().timestamp_micros();
        let insert_event = tx
            .prepare_cached(
                "INSERT INTO events(station, seq, at_us, device, kind, body) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        let seq = i64::try_from(self.seq)?;
        let event_row: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &self.station,
            &seq,
            &at_us,
            &self.device,
            &self.kind,
            &self.event,
        ];
        tx.execute(&insert_event, &event_row).await?;
        let insert_answer = tx
            .prepare_cached(
                "INSERT INTO idempotency(device, key, fingerprint, status, response, at_us)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        let status = i32::from(StatusCode::CREATED.as_u16());
        let fingerprint = &self.fingerprint[..];
        let answer_row: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &self.device,
            &self.key,
            &fingerprint,
            &status,
            &self.answer,
            &at_us,
        ];
        tx.execute(&insert_answer, &answer_row).await?;
        if notify {
            let payload = format!("e {} {}", self.station, self.seq);
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lobbywatch::domain::StationId;

    /// B7 writes what the service writes for an event, once per key, into the service's own
    /// tables: the service's reads find the event and its answer.
    #[tokio::test(flavor = "multi_thread")]
    async fn the_shared_log_baseline_writes_the_services_two_rows_once_per_key() {
        let Some(cluster) = scratch_pg::require_or_skip("the_shared_log_baseline_writes") else {
            return;
        };
        let url = tokio::task::block_in_place(|| cluster.create_database());
        let app = router(&url, true).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        let post = |key: &'static str| {
            client
                .post(format!("http://{addr}/api/v1/stations/s0001/events"))
                .header("authorization", "Bearer t")
                .header("idempotency-key", key)
                .header("content-type", "application/json")
                .body(r#"{"kind":"check_in","service":"passport","party_size":1}"#)
                .send()
        };
        let first = post("k1").await.unwrap();
        assert_eq!(first.status(), 201);
        let first = first.bytes().await.unwrap();
        assert_eq!(
            post("k1").await.unwrap().status(),
            201,
            "a retry is answered"
        );
        assert_eq!(post("k2").await.unwrap().status(), 201);

        let log = OpenLog::open(&DatabaseUrl::parse(&url).unwrap(), StoreOptions::default())
            .await
            .unwrap();
        let events = log.events_after("s0001", 0).await.unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2], "two keys, two events");
        assert_eq!(events[0].station, StationId::parse("s0001").unwrap());
        let answers = log
            .idempotency_records(chrono::DateTime::UNIX_EPOCH)
            .await
            .unwrap();
        assert_eq!(answers.len(), 2);
        let k1 = answers.iter().find(|a| a.key == "k1").unwrap();
        assert_eq!(k1.body, first, "the logged answer is the one sent");
    }
}
