//! The service's own log: where it goes (stderr), in which format (`--log-format`), and what it
//! may never hold. One subscriber for every command; the format changes how a line is written,
//! never which lines are written — the filter and the privacy caps are the same for both.

use tracing::Subscriber;
use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// How each log line is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, in colour when stderr is a terminal and `NO_COLOR` is not set.
    #[default]
    Text,
    /// One JSON object per line (timestamp, level, target, fields, the current span and the
    /// list of spans it is in), for an operator's log collector.
    Json,
}

/// Installs the process's log: stderr, in `format`, filtered by `RUST_LOG` and the privacy caps.
/// stdout is left to what a person or script reads (the address, the demo's banner, reports).
pub fn init(format: LogFormat) {
    let filter = log_filter().and(privacy_caps());
    tracing_subscriber::registry()
        .with(layer(format).with_filter(filter))
        .init();
}

/// The formatting layer for `format`, boxed so that both formats share one filter and one
/// subscriber type.
fn layer<S>(format: LogFormat) -> Box<dyn Layer<S> + Send + Sync>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match format {
        LogFormat::Text => fmt
            .with_ansi(colour(
                std::io::IsTerminal::is_terminal(&std::io::stderr()),
                std::env::var_os("NO_COLOR"),
            ))
            .boxed(),
        // A collector reads the fields, so the request's span (method, matched route) is kept
        // on every line it covers, not only in the text's prefix.
        LogFormat::Json => fmt
            .json()
            .with_ansi(false)
            .with_current_span(true)
            .with_span_list(true)
            .boxed(),
    }
}

/// Whether text lines are coloured: for a person at a terminal, unless they set `NO_COLOR` to
/// anything but empty (<https://no-color.org>); never for a pipe, a file or a journal, where
/// the escape codes would be read as text.
fn colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// `RUST_LOG`, or `info` by default.
fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"))
}

/// Caps on libraries whatever `RUST_LOG` asks: the WebSocket library at `debug` (at `trace` it
/// logs every frame it sends) and the PostgreSQL driver at `info` (at `debug` it logs every
/// statement's parameters) — status documents and event bodies carry appointment references,
/// which no log may; and the HTTP client at `info` (at `debug` it names each connection's URL, and
/// a webhook receiver's URL may carry the gateway's key). A cap, not a level: `RUST_LOG=warn`
/// keeps them at `warn`.
fn privacy_caps() -> Targets {
    Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_tungstenite", LevelFilter::DEBUG)
        .with_target("tokio_postgres", LevelFilter::INFO)
        .with_target("reqwest", LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::colour;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some("1".into())));
        assert!(!colour(false, None));
    }
}
