//! The database's tables, as numbered migrations applied at start-up.
//!
//! Whichever instance starts first applies what is missing, inside one transaction that holds a
//! transaction-scoped advisory lock, so instances starting together neither race nor see half a
//! schema (PostgreSQL's DDL is transactional). A database whose schema is newer than this binary
//! knows is refused: an older binary could misread what a newer one wrote.

use deadpool_postgres::GenericClient;
use tokio_postgres::Client;

/// The advisory lock taken while migrating ("lobbywat" in ASCII), the same for every instance.
const MIGRATION_LOCK: i64 = 0x6c6f_6262_7977_6174;

/// The migrations, in order; the schema's version is how many have been applied. Never edit one
/// that has shipped — add the next.
const MIGRATIONS: &[&str] = &[
    // 1: the log. `events` is keyed by (station, seq): that key is what decides a station's
    // order when several instances write (see `append.rs`). Bodies are the same JSON text the
    // SQLite log keeps, so a log copied between backends is byte for byte the same.
    "CREATE TABLE events(
         station TEXT NOT NULL,
         seq BIGINT NOT NULL,
         at_us BIGINT NOT NULL,
         device TEXT NOT NULL,
         kind TEXT NOT NULL,
         body TEXT NOT NULL,
         CONSTRAINT events_station_seq PRIMARY KEY (station, seq));
     CREATE INDEX events_at ON events(station, at_us);
     CREATE INDEX events_rule_changes ON events(station, at_us) WHERE kind = 'rule_changed';
     CREATE TABLE idempotency(
         device TEXT NOT NULL,
         key TEXT NOT NULL,
         fingerprint BYTEA NOT NULL,
         status INTEGER NOT NULL,
         response BYTEA NOT NULL,
         at_us BIGINT NOT NULL,
         CONSTRAINT idempotency_device_key PRIMARY KEY (device, key));
     CREATE INDEX idempotency_at ON idempotency(at_us);
     CREATE TABLE revoked_tokens(
         token_sha256 BYTEA PRIMARY KEY,
         device TEXT NOT NULL,
         at_us BIGINT NOT NULL,
         by_device TEXT NOT NULL);
     CREATE INDEX revoked_tokens_device ON revoked_tokens(device);
     CREATE TABLE snapshots(
         station TEXT PRIMARY KEY,
         seq BIGINT NOT NULL,
         state TEXT NOT NULL);
     CREATE TABLE meta(
         only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
         log_id TEXT NOT NULL,
         created_us BIGINT NOT NULL);
     INSERT INTO meta VALUES (1, md5(random()::text || clock_timestamp()::text),
         (extract(epoch FROM clock_timestamp()) * 1000000)::bigint);",
    // 2: the webhook outbox (`outbox.rs`): rows written with their event, found by when each
    // is due, deleted once delivered.
    "CREATE TABLE webhook_outbox(
         id TEXT PRIMARY KEY,
         station TEXT NOT NULL,
         body TEXT NOT NULL,
         created_us BIGINT NOT NULL,
         due_us BIGINT NOT NULL,
         attempts INTEGER NOT NULL);
     CREATE INDEX webhook_outbox_due ON webhook_outbox(due_us);",
];

/// The schema version this binary writes and reads.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The schema version the database holds, changing nothing (a copy's source is only read):
/// `None` when it holds no lobbywatch log at all.
pub(super) async fn version(client: &impl GenericClient) -> anyhow::Result<Option<usize>> {
    let exists: bool = client
        .query_one("SELECT to_regclass('lobbywatch_schema') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let found: i32 = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM lobbywatch_schema",
            &[],
        )
        .await?
        .get(0);
    Ok(Some(usize::try_from(found)?))
}

/// Brings the database's schema up to [`SCHEMA_VERSION`]; returns the version it found.
pub(super) async fn migrate(client: &mut Client) -> anyhow::Result<usize> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // `CREATE TABLE IF NOT EXISTS` would otherwise greet every start but the first with a
    // NOTICE that the table exists.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS lobbywatch_schema(
             version INTEGER PRIMARY KEY,
             applied_us BIGINT NOT NULL)",
    )
    .await?;
    let found: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM lobbywatch_schema",
            &[],
        )
        .await?
        .get(0);
    let found = usize::try_from(found)?;
    anyhow::ensure!(
        found <= SCHEMA_VERSION,
        "the database's schema is version {found}, newer than this lobbywatch knows (version {SCHEMA_VERSION}); run the lobbywatch release that upgraded it, or a newer one"
    );
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(found) {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO lobbywatch_schema(version, applied_us) VALUES ($1, $2)",
            &[
                &i32::try_from(version + 1)?,
                &chrono::Utc::now().timestamp_micros(),
            ],
        )
        .await?;
        tracing::info!(version = version + 1, "database schema migrated");
    }
    tx.commit().await?;
    Ok(found)
}
