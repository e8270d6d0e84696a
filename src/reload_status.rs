//! When the config in force was loaded and how the last reload went — what `/healthz` shows
//! under `config` — and the lock that runs one reload at a time. Apart from `reload.rs`, which
//! does the reloading, so that the shared state can hold it without importing the reload (which
//! imports the state).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// When the config was loaded and how the last reload went; one reload at a time.
#[derive(Debug)]
pub struct Reloads {
    status: Mutex<Status>,
    /// Held for a whole reload: two at once (a signal and a request) would each compare the file
    /// with a config the other is replacing.
    running: tokio::sync::Mutex<()>,
}

/// What `/healthz` shows under `config`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// When the config in force was loaded (at start or by the last successful reload).
    pub loaded_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_reload: Option<LastReload>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LastReload {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// Why it was refused; stays visible until a reload succeeds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Reloads {
    pub fn new(loaded_at: DateTime<Utc>) -> Self {
        Self {
            status: Mutex::new(Status {
                loaded_at,
                last_reload: None,
            }),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Held for a whole reload.
    pub async fn one_at_a_time(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.running.lock().await
    }

    pub fn status(&self) -> Status {
        self.lock().clone()
    }

    /// Notes a reload's outcome at `at`: a success is the config's new load time.
    pub fn record(&self, at: DateTime<Utc>, outcome: Result<(), String>) {
        let mut status = self.lock();
        if outcome.is_ok() {
            status.loaded_at = at;
        }
        status.last_reload = Some(LastReload {
            at,
            ok: outcome.is_ok(),
            error: outcome.err(),
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Status> {
        self.status.lock().unwrap_or_else(|e| e.into_inner())
    }
}
