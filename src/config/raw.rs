//! The config file exactly as written: serde structs mirroring the TOML, and the one function
//! that reads text into them.
//!
//! These types are the file format (the README's config reference), kept apart from the checked
//! types in [`super`] so a key can be renamed in neither by accident. Unknown keys are errors, so
//! a typo never passes silently. Counts and durations that must be 1 or more are `NonZero*`, so
//! serde itself refuses a 0; [`read`] turns that refusal into an error naming the key.

use std::num::{NonZeroU32, NonZeroU64, NonZeroUsize};

use serde::Deserialize;

use super::{ConfigError, Role};
use crate::capacity::AreaModel;

/// The reason given when a count or duration that must be at least 1 is 0.
const AT_LEAST_ONE: &str = "must be at least 1";

/// How serde words its refusal of a 0 for a `NonZero*` field (toml gives every integer as
/// `i64`, and serde reports the zero as "integer `0`" whatever the target type).
const SERDE_REFUSED_ZERO: &str = "invalid value: integer `0`, expected a nonzero";

/// Reads TOML text into the raw structs; `file` names it in errors.
///
/// A 0 where 1 or more is needed is reported as `key: must be at least 1`, like every other
/// checked value. Any other syntax or type error is passed on in toml's words, which point at
/// the line and column.
pub(super) fn read(text: &str, file: &str) -> Result<RawConfig, ConfigError> {
    let toml_error = |e: &toml::de::Error| {
        ConfigError::new(file, "", e.to_string().trim_end().replace('\n', "\n  "))
    };
    let document = toml::Deserializer::parse(text).map_err(|e| toml_error(&e))?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        if e.inner().message().starts_with(SERDE_REFUSED_ZERO) {
            ConfigError::new(file, e.path().to_string(), AT_LEAST_ONE)
        } else {
            toml_error(e.inner())
        }
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub rules: RawRules,
    #[serde(default)]
    pub calendar: RawCalendar,
    #[serde(default)]
    pub operations: RawOperations,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub districts: Vec<RawDistrict>,
    #[serde(default)]
    pub stations: Vec<RawStation>,
    #[serde(default)]
    pub devices: Vec<RawDevice>,
    #[serde(default)]
    pub storage: RawStorage,
    #[serde(default)]
    pub web: RawWeb,
}

/// `[web]`: how the service's pages are reached from outside.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeb {
    /// The origin visitors reach the service at (e.g. `https://ko.politiet.no`); without it,
    /// each request's `Host`.
    pub public_url: Option<String>,
}

/// `[storage]`: where the event log lives when the command line does not say, and how long and
/// in how much memory idempotent answers are kept.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStorage {
    /// A `postgres://` URL; without it, the SQLite log in the data directory.
    pub database: Option<String>,
    /// Hours a stored answer is replayed to a retry (default 72).
    pub idempotency_retention_h: Option<u32>,
    /// MiB of answers held in memory (default 256); older ones are read from the log.
    pub idempotency_memory_mib: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRules {
    #[serde(default = "default_distancing")]
    pub distancing_m: f64,
    #[serde(default)]
    pub area_model: AreaModel,
}
impl Default for RawRules {
    fn default() -> Self {
        Self {
            distancing_m: default_distancing(),
            area_model: AreaModel::Grid,
        }
    }
}
fn default_distancing() -> f64 {
    2.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalendar {
    /// Close every service on Norway's public holidays (dated exceptions still win).
    #[serde(default = "yes")]
    pub norwegian_holidays: bool,
}
impl Default for RawCalendar {
    fn default() -> Self {
        Self {
            norwegian_holidays: true,
        }
    }
}
fn yes() -> bool {
    true
}

/// `[limits]`; every key is optional and falls back to [`super::Limits::default`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLimits {
    pub max_concurrent_requests: Option<NonZeroUsize>,
    pub request_timeout_s: Option<NonZeroU64>,
    pub header_read_timeout_s: Option<NonZeroU64>,
    pub idle_timeout_s: Option<NonZeroU64>,
    pub max_connections: Option<NonZeroUsize>,
    pub events_per_minute_per_device: Option<NonZeroU32>,
    pub capacity_per_minute_per_address: Option<NonZeroU32>,
    pub joins_per_hour_per_address: Option<NonZeroU32>,
    pub booking_pow_bits: Option<u32>,
    pub bookings_per_hour_per_address: Option<NonZeroU32>,
    pub open_bookings_per_browser: Option<NonZeroU32>,
    pub capacity_solvers: Option<NonZeroUsize>,
    pub capacity_search_nodes: Option<NonZeroU64>,
    pub max_sockets: Option<NonZeroUsize>,
    pub max_sockets_per_device: Option<NonZeroUsize>,
    pub max_public_sockets: Option<NonZeroUsize>,
    pub max_public_sockets_per_address: Option<NonZeroUsize>,
    pub allowed_origins: Option<Vec<String>>,
}

/// `[operations]`; every key is optional and falls back to [`super::Operations::default`].
/// The two margins and the alerts' settle period may be 0 (none); the rest are counts and periods of at least 1.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOperations {
    pub last_admission_min: Option<u32>,
    pub close_out_grace_min: Option<u32>,
    pub gathering_people: Option<NonZeroU32>,
    pub surfaces: Option<Vec<String>>,
    pub cleaning_every_min: Option<NonZeroU32>,
    pub cleaning_every_visitors: Option<NonZeroU32>,
    pub long_inside_min: Option<NonZeroU32>,
    pub long_wait_min: Option<NonZeroU32>,
    pub alert_settle_min: Option<u32>,
}

/// `{ date = "2026-12-24", hours = "08:00-12:00", reason = "Julaften" }`; no `hours` (or `""`)
/// means closed that day.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawException {
    pub date: String,
    #[serde(default)]
    pub hours: Option<String>,
    pub reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDistrict {
    pub id: String,
    pub name: String,
    #[serde(default = "default_timezone")]
    pub timezone: String,
}
fn default_timezone() -> String {
    "Europe/Oslo".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawStation {
    pub id: String,
    pub district: String,
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    pub area_m2: f64,
    #[serde(default)]
    pub seats: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    pub queue_line_m: Option<f64>,
    #[serde(default)]
    pub max_visitors: Option<u32>,
    /// Dated exceptions for every service of the station.
    #[serde(default)]
    pub exceptions: Vec<RawException>,
    #[serde(default)]
    pub services: Vec<RawService>,
    /// `[stations.webhook]`: where this station's webhooks go, and the secret they are signed with.
    #[serde(default)]
    pub webhook: Option<RawWebhook>,
    /// Parties that wait elsewhere, and joining before arriving.
    #[serde(default)]
    pub remote: Option<RawRemote>,
    /// Holding room for booked parties.
    #[serde(default)]
    pub bookings: Option<RawBookingRules>,
}

/// `[stations.bookings]`; every key is optional and falls back to
/// [`super::BookingRules::default`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBookingRules {
    pub hold_min: Option<u32>,
    pub grace_min: Option<NonZeroU32>,
    pub booked_first: Option<bool>,
    pub horizon_days: Option<u32>,
    pub release_max_min: Option<u32>,
}

/// `[stations.services.booking]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServiceBooking {
    pub slot_min: NonZeroU32,
    pub bookable_desks: NonZeroU32,
}

/// `[stations.webhook]` (see `webhooks.rs`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    /// `http://` or `https://`.
    pub url: String,
    /// `whsec_<base64>`, the Standard Webhooks form.
    pub secret: String,
}

/// `[stations.remote]`; every key is optional and falls back to [`super::Remote::default`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRemote {
    pub notify_ahead: Option<NonZeroU32>,
    pub come_back_min: Option<NonZeroU32>,
    pub more_time_places: Option<NonZeroU32>,
    pub join: Option<bool>,
    pub join_quota: Option<NonZeroU32>,
    pub join_hours: Option<String>,
    pub entrance_code: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub prefix: String,
    #[serde(default)]
    pub hours: RawHours,
    /// Dated exceptions for this service; they win over the station's on the same date.
    #[serde(default)]
    pub exceptions: Vec<RawException>,
    /// Bookable slots, if the service takes bookings.
    #[serde(default)]
    pub booking: Option<RawServiceBooking>,
    /// Walk-in tickets per day, if capped.
    #[serde(default)]
    pub walk_in_quota: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    pub mon: Option<String>,
    pub tue: Option<String>,
    pub wed: Option<String>,
    pub thu: Option<String>,
    pub fri: Option<String>,
    pub sat: Option<String>,
    pub sun: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDevice {
    pub id: String,
    pub role: Role,
    #[serde(default)]
    pub station: Option<String>,
    #[serde(default)]
    pub stations: Option<Vec<String>>,
    #[serde(default)]
    pub districts: Option<Vec<String>>,
    #[serde(default)]
    pub all: Option<bool>,
    pub token_sha256: OneOrMore,
}

/// `token_sha256 = "<hex>"` or, during a rotation, `token_sha256 = ["<old>", "<new>"]`.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum OneOrMore {
    One(String),
    More(Vec<String>),
}
