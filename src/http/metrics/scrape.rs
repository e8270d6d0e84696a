//! The gauges read when a scrape asks, from state the service keeps anyway: per station its
//! headcount, cap, queue outside, open alerts and whether it is open (from the latest published
//! documents and, for alerts, a moment under the station's lock); open sockets by kind and their
//! caps; idempotent answers held in memory; the log's backend, whether it can be written, and
//! on SQLite the WAL file's size.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::gauge::ConstGauge;

use crate::domain::{AlertState, Condition};
use crate::sockets::SocketKind;
use crate::state::AppState;
use crate::store::Log;

/// The label set of a family without labels.
const NO_LABELS: [(&str, &str); 0] = [];

/// The state of one service at the moment of a scrape.
pub(super) struct StateNow {
    state: AppState,
}

impl std::fmt::Debug for StateNow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateNow")
            .field("instance", &self.state.instance)
            .finish_non_exhaustive()
    }
}

impl StateNow {
    pub(super) fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl Collector for StateNow {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        stations(&self.state, &mut encoder)?;
        alerts(&self.state, &mut encoder)?;
        sockets(&self.state, &mut encoder)?;
        log(&self.state, &mut encoder)?;
        idempotency(&self.state, &mut encoder)
    }
}

/// The answers held in memory: how many, the bytes they count against the budget, the budget.
fn idempotency(
    state: &AppState,
    encoder: &mut DescriptorEncoder<'_>,
) -> Result<(), std::fmt::Error> {
    let table = &state.idempotency;
    gauge(
        encoder,
        "lobbywatch_idempotency_answers_in_memory",
        "Idempotent answers (and keys in flight) held in memory for retries.",
        std::iter::once((NO_LABELS, table.len() as i64)),
    )?;
    gauge(
        encoder,
        "lobbywatch_idempotency_memory_bytes",
        "Bytes the answers held in memory count against their budget.",
        std::iter::once((NO_LABELS, table.bytes() as i64)),
    )?;
    gauge(
        encoder,
        "lobbywatch_idempotency_memory_budget_bytes",
        "[storage] idempotency_memory_mib, in bytes: past it the oldest answers leave memory.",
        std::iter::once((NO_LABELS, table.policy().memory_budget as i64)),
    )
}

/// One gauge family: `samples` are its label values (named by `keys`) and values.
fn gauge<L>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (L, i64)>,
) -> Result<(), std::fmt::Error>
where
    L: EncodeLabelSet,
{
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, value) in samples {
        ConstGauge::new(value).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// Headcount, cap, outside and open, per configured station, from its latest documents.
fn stations(state: &AppState, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    let stations = state.stations();
    let summaries: Vec<_> = stations
        .iter()
        .map(|(id, slot)| (id.as_str(), slot.live.latest().summary))
        .collect();
    let per_station = |pick: fn(&crate::hub::Summary) -> i64| {
        summaries
            .iter()
            .map(move |(id, s)| ([("station", *id)], pick(s)))
    };
    gauge(
        encoder,
        "lobbywatch_station_headcount",
        "Visitors inside the station now.",
        per_station(|s| i64::from(s.headcount)),
    )?;
    gauge(
        encoder,
        "lobbywatch_station_cap",
        "The station's cap under the distancing rule in force.",
        per_station(|s| i64::from(s.cap)),
    )?;
    gauge(
        encoder,
        "lobbywatch_station_outside",
        "People queued outside the station.",
        per_station(|s| i64::from(s.outside)),
    )?;
    gauge(
        encoder,
        "lobbywatch_station_held",
        "People the room is held for: booked parties due within hold_min that have not arrived.",
        per_station(|s| i64::from(s.held)),
    )?;
    gauge(
        encoder,
        "lobbywatch_station_open",
        "1 while any of the station's services is open, else 0.",
        per_station(|s| i64::from(s.open)),
    )
}

/// Open alerts per station, kind and state (`active`: not yet acknowledged), zeros included so
/// a dashboard shows every series.
fn alerts(state: &AppState, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    const STATES: [(AlertState, &str); 2] = [
        (AlertState::Active, "active"),
        (AlertState::Acknowledged, "acknowledged"),
    ];
    let mut samples = Vec::new();
    let stations = state.stations();
    for (id, slot) in stations.iter() {
        let mut counts = [[0i64; 2]; Condition::KINDS.len()];
        if let Ok(engine) = slot.engine.lock() {
            for alert in engine.open_alerts() {
                let kind = Condition::KINDS
                    .iter()
                    .position(|k| *k == alert.condition.kind());
                let st = STATES.iter().position(|(s, _)| *s == alert.state);
                if let (Some(k), Some(s)) = (kind, st) {
                    counts[k][s] += 1;
                }
            }
        }
        for (k, kind) in Condition::KINDS.iter().enumerate() {
            for (s, (_, name)) in STATES.iter().enumerate() {
                let labels = [("station", id.as_str()), ("kind", kind), ("state", name)];
                samples.push((labels, counts[k][s]));
            }
        }
    }
    gauge(
        encoder,
        "lobbywatch_station_alerts",
        "Alerts raised and not cleared, by station, kind and state (active = not acknowledged).",
        samples,
    )
}

/// Open live sockets by kind, those without a token, and the caps on both.
fn sockets(state: &AppState, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    let g = state.sockets.gauges();
    gauge(
        encoder,
        "lobbywatch_sockets_open",
        "Open live sockets by what they stream: full, public or multi_station.",
        SocketKind::ALL
            .iter()
            .zip(g.by_kind)
            .map(|(kind, n)| ([("kind", kind.as_str())], n as i64)),
    )?;
    gauge(
        encoder,
        "lobbywatch_sockets_anonymous_open",
        "Open live sockets without a device token (inside the public allowance).",
        std::iter::once((NO_LABELS, g.anonymous as i64)),
    )?;
    gauge(
        encoder,
        "lobbywatch_sockets_max",
        "Caps on open live sockets: all of them, and those without a token.",
        [
            ([("limit", "all")], g.max_total as i64),
            ([("limit", "anonymous")], g.max_anonymous as i64),
        ],
    )
}

/// Whether the log can be written (by backend), and the SQLite WAL file's size.
fn log(state: &AppState, encoder: &mut DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
    let health = state.store.health();
    gauge(
        encoder,
        "lobbywatch_log_failing",
        "1 while events cannot be written (SQLite: failed until restarted; PostgreSQL: unreachable).",
        std::iter::once(([("backend", health.backend)], i64::from(!health.writable))),
    )?;
    // On PostgreSQL there is no WAL file of ours: the family is declared without a sample.
    let wal = match &state.store {
        Log::Local(log) => Some(wal_bytes(log.path())),
        Log::Shared(_) => None,
    };
    gauge(
        encoder,
        "lobbywatch_log_wal_bytes",
        "Size of the SQLite log's write-ahead log file (no sample on PostgreSQL).",
        wal.map(|bytes| (NO_LABELS, bytes)),
    )
}

/// The size of the WAL beside the database file at `db`; 0 when there is none (emptied).
fn wal_bytes(db: &std::path::Path) -> i64 {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(wal).map_or(0, |m| m.len() as i64)
}
