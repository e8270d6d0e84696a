//! The service's Prometheus metrics: the families, where they are updated, and the text a scrape
//! reads (`GET /metrics`, see `http/metrics.rs`).
//!
//! Two kinds of numbers. What *happens* — requests, events and their outcomes, commits of the
//! log, snapshots — is counted where it happens, into the [`Metrics`] registry. What *is* —
//! headcounts, open sockets, the WAL's size, whether the log has failed — is state the service
//! already keeps, so it is read only when a scrape asks, by a collector handed to
//! [`Metrics::render`] (`http/metrics/scrape.rs`, which reads the shared state this module must
//! not depend on): nothing on the hot path maintains a gauge.
//!
//! Every label has a bounded set of values: matched routes (never a raw path), methods, status
//! codes, outcomes, problem-type slugs, socket kinds, alert kinds and the config's station ids.
//! No token, ticket, appointment reference or address is ever a label value.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::store::CommitObserver;

/// The content type of a scrape's answer: the Prometheus text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// One HTTP request: which route (as matched, or `unmatched`), method and status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: &'static str,
    pub status: u16,
}

/// The `kind` label of an event whose kind was not read.
pub const UNKNOWN_KIND: &str = "unknown";

/// What became of one posted event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventOutcome {
    /// Applied and durable (201, whether the party entered or waits outside).
    Accepted,
    /// A retry answered with the stored answer of its first request.
    Replayed,
    /// Refused, by the problem type's slug (a rule, a bad request, the log failing, …).
    Refused(&'static str),
    /// Over the device's events per minute.
    RateLimited,
    /// Shed at the door: too many requests in flight.
    Shed,
    /// Answered 503 after the request timeout (the event itself may still complete).
    TimedOut,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    /// The event's kind (`check_in`, …), or `unknown` when it was not read (turned away at the
    /// door, a body that names no known kind).
    kind: &'static str,
    outcome: &'static str,
    /// The problem type's slug for a refusal, `none` otherwise.
    reason: &'static str,
}

impl EventOutcome {
    fn labels(self, kind: &'static str) -> EventLabels {
        let (outcome, reason) = match self {
            EventOutcome::Accepted => ("accepted", "none"),
            EventOutcome::Replayed => ("replayed", "none"),
            EventOutcome::Refused(slug) => ("refused", slug),
            EventOutcome::RateLimited => ("rate_limited", "none"),
            EventOutcome::Shed => ("shed", "none"),
            EventOutcome::TimedOut => ("timed_out", "none"),
        };
        EventLabels {
            kind,
            outcome,
            reason,
        }
    }
}

/// One webhook delivery attempt's outcome (`delivered`, `failed`, `gave_up`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// The registry and the handles of everything counted where it happens. Shared as an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: HistogramFamily<RequestLabels>,
    events: Family<EventLabels, Counter>,
    snapshots: Counter,
    commits: CommitObserver,
    webhooks: Family<WebhookLabels, Counter>,
}

/// Request latencies: 1 ms to about 16 s.
fn request_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Commit latencies (one fsync each): 100 µs to about 3 s.
fn commit_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 15))
}

/// Records per commit: 1 to the writer's largest group (1,024).
fn group_buckets() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 11))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = HistogramFamily::<RequestLabels>::new_with_constructor(request_buckets);
        registry.register(
            "lobbywatch_http_request_duration_seconds",
            "HTTP requests by matched route, method and status, and how long each took to answer",
            requests.clone(),
        );
        let events = Family::<EventLabels, Counter>::default();
        // Outcomes without a reason start at zero, so the family and its rates exist from the
        // first scrape (refusals appear with their first slug).
        for outcome in [
            EventOutcome::Accepted,
            EventOutcome::Replayed,
            EventOutcome::RateLimited,
            EventOutcome::Shed,
            EventOutcome::TimedOut,
        ] {
            events
                .get_or_create(&outcome.labels(UNKNOWN_KIND))
                .inc_by(0);
        }
        registry.register(
            "lobbywatch_events",
            "Events posted, by kind, outcome and, for a refusal, the problem type's slug",
            events.clone(),
        );
        let snapshots = Counter::default();
        registry.register(
            "lobbywatch_log_snapshots",
            "Station snapshots handed to the log (each in the transaction of the event it follows)",
            snapshots.clone(),
        );
        let commits = CommitObserver {
            latency_seconds: commit_buckets(),
            group_size: group_buckets(),
        };
        registry.register(
            "lobbywatch_log_commit_duration_seconds",
            "How long each commit of the event log took, its fsync included",
            commits.latency_seconds.clone(),
        );
        registry.register(
            "lobbywatch_log_commit_group_size",
            "Records made durable by each commit of the event log (always 1 on PostgreSQL)",
            commits.group_size.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        // Each outcome from zero, so the family and its rates exist before the first webhook.
        for outcome in ["delivered", "failed", "gave_up"] {
            webhooks.get_or_create(&WebhookLabels { outcome }).inc_by(0);
        }
        registry.register(
            "lobbywatch_webhook_attempts",
            "Webhook delivery attempts by outcome: delivered (2xx), failed (retried later), gave_up",
            webhooks.clone(),
        );
        Metrics {
            registry,
            requests,
            events,
            snapshots,
            commits,
            webhooks,
        }
    }

    /// What the log tells of its commits (put into the store's options before it opens).
    pub fn commit_observer(&self) -> CommitObserver {
        self.commits.clone()
    }

    /// One HTTP request answered after `elapsed`.
    pub fn request(&self, labels: &RequestLabels, elapsed: std::time::Duration) {
        self.requests
            .get_or_create(labels)
            .observe(elapsed.as_secs_f64());
    }

    /// One posted event's outcome; `kind` is one of `Event::KINDS` or [`UNKNOWN_KIND`].
    pub fn event(&self, kind: &'static str, outcome: EventOutcome) {
        self.events.get_or_create(&outcome.labels(kind)).inc();
    }

    /// A station snapshot handed to the log.
    pub fn snapshot_taken(&self) {
        self.snapshots.inc();
    }

    /// One webhook delivery attempt; `outcome` is `delivered`, `failed` or `gave_up`.
    pub fn webhook(&self, outcome: &'static str) {
        self.webhooks
            .get_or_create(&WebhookLabels { outcome })
            .inc();
    }

    /// The whole scrape: the counted families, then what `now` reads from the state.
    pub fn render(&self, now: impl Collector) -> Result<String, std::fmt::Error> {
        use prometheus_client::encoding::prometheus_text::encode;
        let mut text = String::new();
        encode(&mut text, &self.registry)?;
        let mut state = Registry::default();
        state.register_collector(Box::new(now));
        encode(&mut text, &state)?;
        Ok(text)
    }
}
