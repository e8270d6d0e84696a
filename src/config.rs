//! The operator's configuration: the checked types the rest of the service reads, the built-in
//! sample, and the way in (`sample`, `load`, `parse`).
//!
//! The TOML keys are a public contract (see the README's config reference). Reading happens in
//! two steps, each in its own file: [`raw`] lets serde read the file into structs that mirror it
//! (unknown keys and zero counts are refused there), then [`validate`] turns those into the
//! checked values below — slugs, timezones, hours, geometry, token hashes and device scopes — so
//! nothing downstream re-checks them. Every error names the file, the key and what is wrong, and
//! validation reports every error of a file, not only the first ([`error`]). [`describe`] writes
//! the `check-config` report; [`demo_tokens`] knows which tokens the demo publishes.

mod booking;
mod database;
mod demo_tokens;
mod describe;
mod error;
mod raw;
mod remote;
mod retention;
mod validate;
mod webhook;

pub use booking::{BookingRules, ServiceBooking};
pub use database::DatabaseUrl;
pub use demo_tokens::demo_token;
pub use error::{ConfigError, ConfigErrors};
pub use remote::Remote;
pub use retention::IdempotencyPolicy;
pub use webhook::{Webhook, WebhookSecret};

use std::path::Path;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::capacity::{self, AreaModel, Capacity, RoomGeometry};
use crate::domain::{DeviceId, DistrictId, ServiceId, StationId};
use crate::hours::Schedule;

/// The sample configuration compiled into the binary: 12 police districts, their stations and
/// public demo devices (token = `demo-<device id>`).
pub const SAMPLE_TOML: &str = include_str!("../config/sample.toml");
/// How the sample is named in messages.
pub const SAMPLE_NAME: &str = "built-in sample";

/// The national distancing rule in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    pub distancing_m: f64,
    pub area_model: AreaModel,
}

#[derive(Debug, Clone, PartialEq)]
pub struct District {
    pub id: DistrictId,
    pub name: String,
    pub timezone: Tz,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: ServiceId,
    /// Norwegian display name.
    pub name: String,
    /// English display name (falls back to `name`).
    pub name_en: String,
    pub prefix: char,
    /// The week, dated exceptions (the station's and the service's own) and public holidays.
    pub hours: Schedule,
    /// `[stations.services.booking]`: the service's bookable slots, if it takes bookings.
    pub booking: Option<ServiceBooking>,
    /// Walk-in tickets (check-ins and joins, not bookings) per day, if capped.
    pub walk_in_quota: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub id: StationId,
    pub district: DistrictId,
    pub name: String,
    pub address: Option<String>,
    pub timezone: Tz,
    pub geometry: RoomGeometry,
    pub queue_line_m: Option<f64>,
    pub services: Vec<Service>,
    /// How the station runs its day (from the file's `[operations]`).
    pub operations: Operations,
    /// `[stations.webhook]`: where the station's webhooks go, if anywhere.
    pub webhook: Option<Webhook>,
    /// Parties that wait elsewhere (`[stations.remote]`).
    pub remote: Remote,
    /// Holding room for booked parties (`[stations.bookings]`).
    pub bookings: BookingRules,
}

/// How a station runs its day: when admissions stop, when the day's tickets are closed out, and
/// when guards are alerted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operations {
    /// Check-ins are refused this many minutes before a service closes.
    pub last_admission_min: u32,
    /// At closing plus this many minutes the day's remaining tickets are closed out.
    pub close_out_grace_min: u32,
    /// People queued outside at or above this raise a "gathering risk" alert; by default the
    /// places on the marked queue line, or 10 without one.
    pub gathering_people: Option<u32>,
    /// Surfaces whose cleaning is tracked.
    pub surfaces: Vec<String>,
    /// A surface is due for cleaning this many minutes after it was first used since cleaning…
    pub cleaning_every_min: u32,
    /// …or after this many visitors, whichever comes first.
    pub cleaning_every_visitors: u32,
    /// A ticket inside this long has probably left without checking out.
    pub long_inside_min: u32,
    /// An estimated wait above this many minutes alerts the guards.
    pub long_wait_min: u32,
    /// An at-cap, gathering or long-wait alert whose condition stops holding clears only after
    /// this many minutes without it (holding again meanwhile, it is the same alert); 0 clears
    /// at once. Over cap always clears at once.
    pub alert_settle_min: u32,
}

impl Default for Operations {
    fn default() -> Self {
        Self {
            last_admission_min: 15,
            close_out_grace_min: 30,
            gathering_people: None,
            surfaces: ["door handles", "counter", "ticket machine", "chairs"]
                .map(String::from)
                .to_vec(),
            cleaning_every_min: 60,
            cleaning_every_visitors: 50,
            long_inside_min: 120,
            long_wait_min: 60,
            alert_settle_min: 5,
        }
    }
}

impl Station {
    /// The cap under the given rule, derived from the stored geometry (never stored itself).
    pub fn capacity(&self, rules: &Rules) -> Capacity {
        capacity::derive(&self.geometry, rules.distancing_m, rules.area_model)
            .expect("geometry and rules were validated when the config was loaded")
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A front-desk terminal: posts events for one station, reads that station.
    Terminal,
    /// A guard screen: reads full documents of its stations, posts corrections and every other event.
    Guard,
    /// A lobby display: reads one station's public document.
    Display,
    /// An operator tool: rules and tokens.
    Admin,
    /// A metrics scraper (Prometheus): reads `GET /metrics` and nothing else.
    Metrics,
    /// A national booking system: pushes, moves and cancels bookings (by its own reference) at
    /// the stations of its scope; reads no status documents and posts no events.
    Integration,
}

/// Which stations a device may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Station(StationId),
    Stations(Vec<StationId>),
    Districts(Vec<DistrictId>),
    All,
    /// Admins act on rules and tokens, not on stations.
    Nothing,
}

impl Scope {
    /// Whether this scope covers `station`.
    pub fn covers(&self, station: &Station) -> bool {
        match self {
            Scope::Station(s) => *s == station.id,
            Scope::Stations(list) => list.contains(&station.id),
            Scope::Districts(list) => list.contains(&station.district),
            Scope::All => true,
            Scope::Nothing => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub role: Role,
    pub scope: Scope,
    /// The SHA-256 of each token the device may use: one, or two while a new token is rolled
    /// out (rotation) — both work until the old one is removed from the file.
    pub tokens_sha256: Vec<[u8; 32]>,
}

/// What the service protects itself with against stuck, slow or hostile clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Requests handled at once; more are shed with 503 and `Retry-After`, never queued.
    pub max_concurrent_requests: usize,
    /// A request that takes longer is answered 503 (its event, if accepted, still completes).
    pub request_timeout_s: u64,
    /// A client that has not sent a request's headers within this time is disconnected.
    pub header_read_timeout_s: u64,
    /// A connection idle this long between requests (HTTP/1 keep-alive, HTTP/2) is closed.
    pub idle_timeout_s: u64,
    /// HTTP connections open at once (live sockets are counted apart); one more is closed at once.
    pub max_connections: usize,
    /// Events one device may post per minute (a token bucket of this size, refilled evenly).
    pub events_per_minute_per_device: u32,
    /// Capacity-calculator requests one source address may make per minute (a token bucket).
    pub capacity_per_minute_per_address: u32,
    /// Joins before arriving one source address may make per hour (a token bucket): a limit on
    /// abuse from one network, not an identity check.
    pub joins_per_hour_per_address: u32,
    /// Leading zero bits the proof of work on a public booking must reach (0: none asked). Each
    /// bit doubles a booking's cost in hashing, to a bot as to a visitor's phone.
    pub booking_pow_bits: u32,
    /// Public bookings one source address may make per hour (a token bucket): a limit on one
    /// network, not an identity check.
    pub bookings_per_hour_per_address: u32,
    /// Open bookings one browser (its `lw_browser` cookie) may hold at once, over every station.
    pub open_bookings_per_browser: u32,
    /// Seat searches the anonymous calculator runs at once; one more is answered 503 at once.
    pub capacity_solvers: usize,
    /// Branch-and-bound nodes one calculator request may search; past them the answer is the
    /// best valid set found, `exact: false`. A node count, so the answer is the same under load.
    pub capacity_search_nodes: u64,
    /// Live sockets open at once, overall (devices and public together) and per device.
    pub max_sockets: usize,
    pub max_sockets_per_device: usize,
    /// Of `max_sockets`, at most this many without a token, so that anonymous clients can never
    /// take the places of guards, terminals and displays: `max_sockets - max_public_sockets` are
    /// theirs alone. Always below `max_sockets` (validation refuses more; the default is three
    /// quarters of it).
    pub max_public_sockets: usize,
    /// Public sockets from one source address, so one client cannot take the whole public share.
    pub max_public_sockets_per_address: usize,
    /// Origins (e.g. `https://lobby.politiet.no`) whose pages may open live sockets, besides the
    /// service's own origin. A WebSocket upgrade with another `Origin` is refused.
    pub allowed_origins: Vec<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 1024,
            request_timeout_s: 15,
            header_read_timeout_s: 10,
            idle_timeout_s: 60,
            max_connections: 4096,
            events_per_minute_per_device: 600,
            capacity_per_minute_per_address: 30,
            joins_per_hour_per_address: 5,
            booking_pow_bits: 16,
            bookings_per_hour_per_address: 10,
            open_bookings_per_browser: 2,
            capacity_solvers: 1,
            capacity_search_nodes: capacity::REQUEST_NODE_BUDGET,
            max_sockets: 20_000,
            max_sockets_per_device: 8,
            max_public_sockets: 15_000,
            max_public_sockets_per_address: 20,
            allowed_origins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it came from, or [`SAMPLE_NAME`].
    pub source: String,
    pub rules: Rules,
    pub limits: Limits,
    pub districts: Vec<District>,
    pub stations: Vec<Station>,
    pub devices: Vec<Device>,
    /// `[storage] database`: the PostgreSQL log to use when the command line names none.
    pub database: Option<DatabaseUrl>,
    /// `[storage] idempotency_*`: how long and in how much memory answers are kept.
    pub idempotency: IdempotencyPolicy,
    /// `[web]`: how the pages are reached from outside.
    pub web: Web,
}

/// `[web]`: how visitors reach the service, for the links it prints (a ticket slip's QR code).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Web {
    /// The origin (scheme and host, no path, e.g. `https://ko.politiet.no`) that visitors' phones
    /// reach the service at. Behind a proxy the request's own `Host` may be an internal name, so
    /// an operator names the public one; without it, the request's `Host` is used.
    pub public_url: Option<String>,
}

impl Config {
    /// The built-in sample.
    pub fn sample() -> Config {
        Config::parse(SAMPLE_TOML, SAMPLE_NAME).expect("the built-in sample config is valid")
    }

    /// Reads and validates a config file; every error it has, not only the first.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::new(&file, "", format!("cannot read the file: {e}")))?;
        Config::parse(&text, &file)
    }

    /// Parses and validates TOML text; `file` names it in errors. A syntax error stops the
    /// parser and is the only error; otherwise every validation error is listed.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigErrors> {
        validate::config(raw::read(text, file)?, file)
    }

    pub fn station(&self, id: &StationId) -> Option<&Station> {
        self.stations.iter().find(|s| &s.id == id)
    }

    pub fn district(&self, id: &DistrictId) -> Option<&District> {
        self.districts.iter().find(|d| &d.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[rules]
distancing_m = 2.0

[[districts]]
id = "oslo"
name = "Oslo politidistrikt"

[[stations]]
id = "oslo-gronland"
district = "oslo"
name = "Grønland politistasjon"
area_m2 = 48.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
hours = { mon = "08:00-15:30" }

[[devices]]
id = "desk-1"
role = "terminal"
station = "oslo-gronland"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000001"
"#;

    /// The one error of a file with one mistake.
    fn err_of(text: &str) -> ConfigError {
        let errors = Config::parse(text, "test.toml").unwrap_err();
        assert_eq!(errors.len(), 1, "one mistake, one error: {errors}");
        errors.first().clone()
    }

    fn keys_of(text: &str) -> Vec<String> {
        let errors = Config::parse(text, "test.toml").unwrap_err();
        errors.iter().map(|e| e.key.clone()).collect()
    }

    #[test]
    fn every_independent_error_is_listed_in_file_order() {
        let text = MINIMAL
            .replace("distancing_m = 2.0", "distancing_m = 9.0")
            .replace("mon = \"08:00-15:30\"", "mon = \"8-15\", tue = \"9-3\"")
            .replace("prefix = \"P\"", "prefix = \"pp\"");
        let text =
            format!("{text}\n[limits]\nallowed_origins = [\"lobby\", \"https://ok.no\", \"x/\"]\n");
        assert_eq!(
            keys_of(&text),
            [
                "rules.distancing_m",
                "limits.allowed_origins[0]",
                "limits.allowed_origins[2]",
                "stations[0].services[0].prefix",
                "stations[0].services[0].hours.mon",
                "stations[0].services[0].hours.tue",
            ]
        );
    }

    #[test]
    fn an_invalid_entry_is_not_reported_again_where_it_is_named() {
        // The district's timezone and the station's room are wrong; the station (in that
        // district) and the device (at that station) are not also "unknown".
        let text = MINIMAL
            .replace(
                "name = \"Oslo politidistrikt\"",
                "name = \"Oslo\"\ntimezone = \"Oslo\"",
            )
            .replace("area_m2 = 48.0", "area_m2 = -1.0");
        assert_eq!(
            keys_of(&text),
            ["districts[0].timezone", "stations[0].area_m2"]
        );
    }

    #[test]
    fn the_built_in_sample_is_valid_and_covers_every_district() {
        let c = Config::sample();
        assert_eq!(c.districts.len(), 12);
        for d in &c.districts {
            assert!(
                c.stations.iter().any(|s| s.district == d.id),
                "district {} has no station",
                d.id
            );
        }
        assert!(c.stations.iter().any(|s| s.geometry.seats.is_some()));
    }

    #[test]
    fn a_minimal_file_parses_and_derives_the_cap() {
        let c = Config::parse(MINIMAL, "test.toml").unwrap();
        assert_eq!(c.stations[0].capacity(&c.rules).cap, 12);
        assert_eq!(c.devices[0].scope, Scope::Station(c.stations[0].id.clone()));
        assert_eq!(c.stations[0].services[0].name_en, "Pass");
    }

    #[test]
    fn a_file_without_stations_is_refused() {
        let without = MINIMAL
            .split("[[stations]]")
            .next()
            .expect("the minimal file has a station")
            .to_owned();
        let e = err_of(&without);
        assert_eq!(e.key, "stations");
        assert!(e.reason.contains("[[stations]]"), "{e}");
    }

    #[test]
    fn errors_name_the_file_the_key_and_the_reason() {
        let e = err_of(&MINIMAL.replace("district = \"oslo\"", "district = \"bergen\""));
        assert_eq!(e.file, "test.toml");
        assert_eq!(e.key, "stations[0].district");
        assert!(e.reason.contains("bergen"), "{e}");

        let e = err_of(&MINIMAL.replace("mon = \"08:00-15:30\"", "mon = \"8-15\""));
        assert_eq!(e.key, "stations[0].services[0].hours.mon");

        let e = err_of(&MINIMAL.replace("area_m2 = 48.0", "area_m2 = -1.0"));
        assert_eq!(e.key, "stations[0].area_m2");

        let e = err_of(&MINIMAL.replace("distancing_m = 2.0", "distancing_m = 9.0"));
        assert_eq!(e.key, "rules.distancing_m");

        let e = err_of(&MINIMAL.replace("prefix = \"P\"", "prefix = \"pp\""));
        assert_eq!(e.key, "stations[0].services[0].prefix");

        let e = err_of(&MINIMAL.replace(
            "0000000000000000000000000000000000000000000000000000000000000001",
            "secret",
        ));
        assert_eq!(e.key, "devices[0].token_sha256");
    }

    #[test]
    fn counts_and_durations_must_be_at_least_one() {
        for (section, key) in [
            ("limits", "max_sockets"),
            ("limits", "request_timeout_s"),
            ("operations", "gathering_people"),
            ("operations", "cleaning_every_min"),
        ] {
            let e = err_of(&format!("{MINIMAL}\n[{section}]\n{key} = 0\n"));
            assert_eq!(e.key, format!("{section}.{key}"));
            assert!(e.reason.contains("at least 1"), "{e}");
        }
        let ok = Config::parse(
            &format!("{MINIMAL}\n[limits]\nmax_sockets = 5\n[operations]\ngathering_people = 4\n"),
            "test.toml",
        )
        .unwrap();
        assert_eq!(ok.limits.max_sockets, 5);
        assert_eq!(
            ok.limits.max_sockets_per_device,
            Limits::default().max_sockets_per_device
        );
        assert_eq!(ok.stations[0].operations.gathering_people, Some(4));
    }

    #[test]
    fn booking_limits_default_and_the_proof_of_work_stays_within_a_phones_reach() {
        let d = Config::parse(MINIMAL, "t.toml").unwrap().limits;
        assert_eq!(
            (
                d.booking_pow_bits,
                d.bookings_per_hour_per_address,
                d.open_bookings_per_browser
            ),
            (16, 10, 2)
        );
        let off = Config::parse(
            &format!("{MINIMAL}\n[limits]\nbooking_pow_bits = 0\nopen_bookings_per_browser = 1\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(off.limits.booking_pow_bits, 0, "0 asks no work");
        assert_eq!(off.limits.open_bookings_per_browser, 1);
        let e = err_of(&format!("{MINIMAL}\n[limits]\nbooking_pow_bits = 40\n"));
        assert_eq!(e.key, "limits.booking_pow_bits");
        let e = err_of(&format!(
            "{MINIMAL}\n[limits]\nopen_bookings_per_browser = 0\n"
        ));
        assert!(e.key.contains("open_bookings_per_browser"), "{e:?}");
    }

    #[test]
    fn public_sockets_always_leave_places_for_devices() {
        let e = err_of(&format!(
            "{MINIMAL}\n[limits]\nmax_sockets = 100\nmax_public_sockets = 100\n"
        ));
        assert_eq!(e.key, "limits.max_public_sockets");
        let ok = Config::parse(
            &format!("{MINIMAL}\n[limits]\nmax_sockets = 100\n"),
            "t.toml",
        )
        .unwrap();
        assert_eq!(
            ok.limits.max_public_sockets, 75,
            "three quarters by default"
        );
        assert_eq!(ok.limits.max_public_sockets_per_address, 20);
        assert_eq!(
            Config::parse(MINIMAL, "t.toml")
                .unwrap()
                .limits
                .max_public_sockets,
            Limits::default().max_public_sockets,
            "the documented default is the derived one"
        );
    }

    #[test]
    fn unknown_keys_are_errors_not_silently_ignored() {
        let e = err_of(&MINIMAL.replace("area_m2 = 48.0", "area_m2 = 48.0\narea = 3"));
        assert!(e.to_string().contains("area"), "{e}");
        assert!(e.to_string().starts_with("test.toml: "), "{e}");
    }

    #[test]
    fn a_public_url_is_an_origin_or_an_error() {
        let with = |url: &str| format!("{MINIMAL}\n[web]\npublic_url = \"{url}\"\n");
        let c = Config::parse(&with("https://ko.politiet.no"), "t.toml").unwrap();
        assert_eq!(c.web.public_url.as_deref(), Some("https://ko.politiet.no"));
        assert_eq!(
            Config::parse(MINIMAL, "t.toml").unwrap().web,
            Web::default()
        );
        for bad in [
            "ko.politiet.no",
            "https://ko.politiet.no/",
            "https://ko.politiet.no/t",
            "https://ko.politiet.no?x=1",
            "https://user@ko.politiet.no",
            "https://ko politiet.no",
            "https://ko.politiet.no\\\"><script>",
        ] {
            assert_eq!(err_of(&with(bad)).key, "web.public_url", "{bad}");
        }
    }

    #[test]
    fn a_terminal_needs_exactly_one_station() {
        let e = err_of(&MINIMAL.replace(
            "station = \"oslo-gronland\"",
            "station = \"oslo-gronland\"\nall = true",
        ));
        assert_eq!(e.key, "devices[0]");
    }

    #[test]
    fn a_metrics_device_has_no_station_scope() {
        let scraper = MINIMAL.replace(
            "role = \"terminal\"\nstation = \"oslo-gronland\"",
            "role = \"metrics\"",
        );
        let c = Config::parse(&scraper, "test.toml").unwrap();
        assert_eq!(
            (c.devices[0].role, &c.devices[0].scope),
            (Role::Metrics, &Scope::Nothing)
        );
        let e = err_of(&MINIMAL.replace("role = \"terminal\"", "role = \"metrics\""));
        assert_eq!(e.key, "devices[0]");
        assert!(e.reason.contains("metrics"), "{e}");
    }
}
