//! The operator's configuration: TOML types, the built-in sample, and validation whose every
//! error names the file, the key and what is wrong.
//!
//! The TOML keys are a public contract (see the README's config reference). Parsing happens in
//! two steps: serde reads the raw file (unknown keys are errors, so a typo never passes
//! silently), then [`Config::from_raw`] turns it into checked values — slugs, timezones, hours,
//! geometry, token hashes and device scopes — so nothing downstream re-checks them.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::Path;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::capacity::{self, AreaModel, Capacity, RoomGeometry};
use crate::domain::{DeviceId, DistrictId, SERVICE_DEVICE, ServiceId, StationId};
use crate::hours::{self, DAY_KEYS, Exception, Schedule, WeeklyHours};

/// The sample configuration compiled into the binary: 12 police districts, their stations and
/// public demo devices (token = `demo-<device id>`).
pub const SAMPLE_TOML: &str = include_str!("../config/sample.toml");
/// How the sample is named in messages.
pub const SAMPLE_NAME: &str = "built-in sample";

/// A configuration error: which file, which key, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file, self.reason)
        } else {
            write!(f, "{}: {}: {}", self.file, self.key, self.reason)
        }
    }
}
impl std::error::Error for ConfigError {}

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
    /// Events one device may post per minute (a token bucket of this size, refilled evenly).
    pub events_per_minute_per_device: u32,
    /// Live sockets open at once, overall and per device (public sockets count overall only).
    pub max_sockets: usize,
    pub max_sockets_per_device: usize,
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
            events_per_minute_per_device: 600,
            max_sockets: 20_000,
            max_sockets_per_device: 8,
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
}

// ---- the raw file ------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: RawRules,
    #[serde(default)]
    calendar: RawCalendar,
    #[serde(default)]
    operations: RawOperations,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    districts: Vec<RawDistrict>,
    #[serde(default)]
    stations: Vec<RawStation>,
    #[serde(default)]
    devices: Vec<RawDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default = "default_distancing")]
    distancing_m: f64,
    #[serde(default)]
    area_model: AreaModel,
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
struct RawCalendar {
    /// Close every service on Norway's public holidays (dated exceptions still win).
    #[serde(default = "yes")]
    norwegian_holidays: bool,
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_concurrent_requests: Option<usize>,
    request_timeout_s: Option<u64>,
    header_read_timeout_s: Option<u64>,
    events_per_minute_per_device: Option<u32>,
    max_sockets: Option<usize>,
    max_sockets_per_device: Option<usize>,
    allowed_origins: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawOperations {
    last_admission_min: Option<u32>,
    close_out_grace_min: Option<u32>,
    gathering_people: Option<u32>,
    surfaces: Option<Vec<String>>,
    cleaning_every_min: Option<u32>,
    cleaning_every_visitors: Option<u32>,
    long_inside_min: Option<u32>,
    long_wait_min: Option<u32>,
}

/// `{ date = "2026-12-24", hours = "08:00-12:00", reason = "Julaften" }`; no `hours` (or `""`)
/// means closed that day.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    date: String,
    #[serde(default)]
    hours: Option<String>,
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDistrict {
    id: String,
    name: String,
    #[serde(default = "default_timezone")]
    timezone: String,
}
fn default_timezone() -> String {
    "Europe/Oslo".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    id: String,
    district: String,
    name: String,
    #[serde(default)]
    address: Option<String>,
    area_m2: f64,
    #[serde(default)]
    seats: Option<Vec<[f64; 2]>>,
    #[serde(default)]
    queue_line_m: Option<f64>,
    #[serde(default)]
    max_visitors: Option<u32>,
    /// Dated exceptions for every service of the station.
    #[serde(default)]
    exceptions: Vec<RawException>,
    #[serde(default)]
    services: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: String,
    name: String,
    #[serde(default)]
    name_en: Option<String>,
    prefix: String,
    #[serde(default)]
    hours: RawHours,
    /// Dated exceptions for this service; they win over the station's on the same date.
    #[serde(default)]
    exceptions: Vec<RawException>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHours {
    mon: Option<String>,
    tue: Option<String>,
    wed: Option<String>,
    thu: Option<String>,
    fri: Option<String>,
    sat: Option<String>,
    sun: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    id: String,
    role: Role,
    #[serde(default)]
    station: Option<String>,
    #[serde(default)]
    stations: Option<Vec<String>>,
    #[serde(default)]
    districts: Option<Vec<String>>,
    #[serde(default)]
    all: Option<bool>,
    token_sha256: OneOrMore,
}

/// `token_sha256 = "<hex>"` or, during a rotation, `token_sha256 = ["<old>", "<new>"]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMore {
    One(String),
    More(Vec<String>),
}

// ---- validation --------------------------------------------------------------------------

/// Collects the file name so each check can build its error in one line.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

impl Config {
    /// The built-in sample.
    pub fn sample() -> Config {
        Config::parse(SAMPLE_TOML, SAMPLE_NAME).expect("the built-in sample config is valid")
    }

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            key: String::new(),
            reason: format!("cannot read the file: {e}"),
        })?;
        Config::parse(&text, &file)
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_owned(),
            key: String::new(),
            reason: e.to_string().trim_end().replace('\n', "\n  "),
        })?;
        Config::from_raw(raw, file)
    }

    fn from_raw(raw: RawConfig, file: &str) -> Result<Config, ConfigError> {
        let c = Checker { file };
        capacity::validate_distancing(raw.rules.distancing_m)
            .map_err(|e| c.err("rules.distancing_m", e.reason))?;
        let rules = Rules {
            distancing_m: raw.rules.distancing_m,
            area_model: raw.rules.area_model,
        };

        let mut districts = Vec::new();
        for (i, d) in raw.districts.into_iter().enumerate() {
            let key = format!("districts[{i}]");
            let id = DistrictId::parse(&d.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
            if districts.iter().any(|x: &District| x.id == id) {
                return Err(c.err(
                    format!("{key}.id"),
                    format!("district '{id}' is defined twice"),
                ));
            }
            let timezone: Tz = d.timezone.parse().map_err(|_| {
                c.err(
                    format!("{key}.timezone"),
                    format!(
                        "'{}' is not an IANA timezone such as \"Europe/Oslo\"",
                        d.timezone
                    ),
                )
            })?;
            districts.push(District {
                id,
                name: non_empty(&c, format!("{key}.name"), d.name)?,
                timezone,
            });
        }

        let operations = parse_operations(&c, raw.operations)?;
        let limits = parse_limits(&c, raw.limits)?;
        let mut stations: Vec<Station> = Vec::new();
        for (i, s) in raw.stations.into_iter().enumerate() {
            let key = format!("stations[{i}]");
            let id = StationId::parse(&s.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
            if stations.iter().any(|x| x.id == id) {
                return Err(c.err(
                    format!("{key}.id"),
                    format!("station '{id}' is defined twice"),
                ));
            }
            let district = districts
                .iter()
                .find(|d| d.id.as_str() == s.district)
                .ok_or_else(|| {
                    c.err(
                        format!("{key}.district"),
                        format!(
                            "unknown district '{}'; define it under [[districts]]",
                            s.district
                        ),
                    )
                })?;
            let geometry = RoomGeometry {
                area_m2: s.area_m2,
                seats: s.seats,
                max_visitors: s.max_visitors,
            };
            capacity::validate_geometry(&geometry)
                .map_err(|e| c.err(format!("{key}.{}", e.field), e.reason))?;
            if let Some(q) = s.queue_line_m {
                if !q.is_finite() || q < 0.0 {
                    return Err(c.err(
                        format!("{key}.queue_line_m"),
                        "must be a length in metres, 0 or more",
                    ));
                }
            }
            if s.services.is_empty() {
                return Err(c.err(
                    format!("{key}.services"),
                    "a station needs at least one [[stations.services]]",
                ));
            }
            let station_exceptions =
                parse_exceptions(&c, &format!("{key}.exceptions"), s.exceptions)?;
            let mut services: Vec<Service> = Vec::new();
            for (j, v) in s.services.into_iter().enumerate() {
                let skey = format!("{key}.services[{j}]");
                let sid = ServiceId::parse(&v.id).map_err(|e| c.err(format!("{skey}.id"), e.0))?;
                if services.iter().any(|x| x.id == sid) {
                    return Err(c.err(
                        format!("{skey}.id"),
                        format!("service '{sid}' is listed twice at this station"),
                    ));
                }
                let mut chars = v.prefix.chars();
                let prefix = match (chars.next(), chars.next()) {
                    (Some(p), None) if p.is_ascii_uppercase() => p,
                    _ => {
                        return Err(c.err(
                            format!("{skey}.prefix"),
                            format!("'{}' must be one uppercase letter A–Z", v.prefix),
                        ));
                    }
                };
                if let Some(other) = services.iter().find(|x| x.prefix == prefix) {
                    return Err(c.err(
                        format!("{skey}.prefix"),
                        format!(
                            "'{prefix}' is already the prefix of '{}' at this station",
                            other.id
                        ),
                    ));
                }
                let weekly = parse_hours(&c, &format!("{skey}.hours"), v.hours)?;
                let mut exceptions = station_exceptions.clone();
                exceptions.extend(parse_exceptions(
                    &c,
                    &format!("{skey}.exceptions"),
                    v.exceptions,
                )?);
                let hours = Schedule::new(weekly, exceptions, raw.calendar.norwegian_holidays);
                let name = non_empty(&c, format!("{skey}.name"), v.name)?;
                services.push(Service {
                    id: sid,
                    name_en: v.name_en.unwrap_or_else(|| name.clone()),
                    name,
                    prefix,
                    hours,
                });
            }
            stations.push(Station {
                id,
                district: district.id.clone(),
                name: non_empty(&c, format!("{key}.name"), s.name)?,
                address: s.address,
                timezone: district.timezone,
                geometry,
                queue_line_m: s.queue_line_m,
                services,
                operations: operations.clone(),
            });
        }

        let mut devices: Vec<Device> = Vec::new();
        let mut hashes = HashSet::new();
        for (i, d) in raw.devices.into_iter().enumerate() {
            let key = format!("devices[{i}]");
            let id = DeviceId::parse(&d.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
            if id.as_str() == SERVICE_DEVICE {
                return Err(c.err(
                    format!("{key}.id"),
                    format!("'{id}' is reserved for the service's own events; choose another id"),
                ));
            }
            if devices.iter().any(|x| x.id == id) {
                return Err(c.err(
                    format!("{key}.id"),
                    format!("device '{id}' is defined twice"),
                ));
            }
            let given = match d.token_sha256 {
                OneOrMore::One(h) => vec![h],
                OneOrMore::More(list) => list,
            };
            if !(1..=2).contains(&given.len()) {
                return Err(c.err(
                    format!("{key}.token_sha256"),
                    "give one hash, or two while rotating to a new token",
                ));
            }
            let mut tokens_sha256 = Vec::with_capacity(given.len());
            for h in &given {
                let hash = parse_sha256(h).ok_or_else(|| {
                    c.err(
                        format!("{key}.token_sha256"),
                        "must be 64 hex characters: the SHA-256 of the token, never the token itself",
                    )
                })?;
                if !hashes.insert(hash) {
                    return Err(c.err(
                        format!("{key}.token_sha256"),
                        "another device (or this one) already has this token; every token must be unique",
                    ));
                }
                tokens_sha256.push(hash);
            }
            let known_station = |s: &str, k: String| -> Result<StationId, ConfigError> {
                stations
                    .iter()
                    .find(|x| x.id.as_str() == s)
                    .map(|x| x.id.clone())
                    .ok_or_else(|| c.err(k, format!("unknown station '{s}'")))
            };
            let given = [
                d.station.is_some(),
                d.stations.is_some(),
                d.districts.is_some(),
                d.all.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            let scope = match d.role {
                Role::Terminal | Role::Display => match (&d.station, given) {
                    (Some(s), 1) => Scope::Station(known_station(s, format!("{key}.station"))?),
                    _ => {
                        return Err(c.err(
                            key,
                            "a terminal or display needs exactly one `station = \"...\"` and no other scope",
                        ));
                    }
                },
                Role::Guard => {
                    if given != 1 || d.station.is_some() {
                        return Err(c.err(
                            key,
                            "a guard needs exactly one of `districts = [..]`, `stations = [..]` or `all = true`",
                        ));
                    }
                    if let Some(list) = &d.stations {
                        let mut ids = Vec::new();
                        for (j, s) in list.iter().enumerate() {
                            ids.push(known_station(s, format!("{key}.stations[{j}]"))?);
                        }
                        Scope::Stations(ids)
                    } else if let Some(list) = &d.districts {
                        let mut ids = Vec::new();
                        for (j, s) in list.iter().enumerate() {
                            let found =
                                districts
                                    .iter()
                                    .find(|x| x.id.as_str() == s)
                                    .ok_or_else(|| {
                                        c.err(
                                            format!("{key}.districts[{j}]"),
                                            format!("unknown district '{s}'"),
                                        )
                                    })?;
                            ids.push(found.id.clone());
                        }
                        Scope::Districts(ids)
                    } else if d.all == Some(true) {
                        Scope::All
                    } else {
                        return Err(
                            c.err(format!("{key}.all"), "write `all = true` or leave it out")
                        );
                    }
                }
                Role::Admin => {
                    if given != 0 {
                        return Err(c.err(
                            key,
                            "an admin has no station scope; remove station/stations/districts/all",
                        ));
                    }
                    Scope::Nothing
                }
            };
            devices.push(Device {
                id,
                role: d.role,
                scope,
                tokens_sha256,
            });
        }

        Ok(Config {
            source: file.to_owned(),
            rules,
            limits,
            districts,
            stations,
            devices,
        })
    }

    pub fn station(&self, id: &StationId) -> Option<&Station> {
        self.stations.iter().find(|s| &s.id == id)
    }

    pub fn district(&self, id: &DistrictId) -> Option<&District> {
        self.districts.iter().find(|d| &d.id == id)
    }

    /// One line per station: its derived cap and what it rests on (for `check-config`).
    pub fn describe_caps(&self) -> String {
        let mut out = format!(
            "{}: {} districts, {} stations, {} devices; distancing {} m ({:?} area model)\n",
            self.source,
            self.districts.len(),
            self.stations.len(),
            self.devices.len(),
            self.rules.distancing_m,
            self.rules.area_model
        );
        for s in &self.stations {
            let cap = s.capacity(&self.rules);
            let seats = match (cap.seat_cap, &s.geometry.seats) {
                (Some(n), Some(all)) => format!(
                    ", seats {n} of {}{}",
                    all.len(),
                    if cap.exact {
                        ""
                    } else {
                        " (best found, not proven)"
                    }
                ),
                _ => String::new(),
            };
            let max = cap
                .max_visitors
                .map(|m| format!(", legal max {m}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {:<24} cap {:>3}  (area {} m² → {}{seats}{max}; limited by {:?})\n",
                s.id, cap.cap, s.geometry.area_m2, cap.area_cap, cap.limited_by
            ));
        }
        out
    }
}

fn non_empty(c: &Checker<'_>, key: String, s: String) -> Result<String, ConfigError> {
    if s.trim().is_empty() {
        Err(c.err(key, "must not be empty"))
    } else {
        Ok(s)
    }
}

fn parse_sha256(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// An optional count or duration that must be at least 1 when given.
fn at_least_one<T: Copy + PartialEq + From<u8>>(
    c: &Checker<'_>,
    key: &str,
    v: Option<T>,
) -> Result<Option<T>, ConfigError> {
    match v {
        Some(n) if n == T::from(0) => Err(c.err(key, "must be at least 1")),
        other => Ok(other),
    }
}

fn parse_limits(c: &Checker<'_>, raw: RawLimits) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let allowed_origins = raw.allowed_origins.unwrap_or_default();
    for (i, o) in allowed_origins.iter().enumerate() {
        let ok = (o.starts_with("https://") || o.starts_with("http://"))
            && !o.ends_with('/')
            && o.split("://")
                .nth(1)
                .is_some_and(|host| !host.is_empty() && !host.contains('/'));
        if !ok {
            return Err(c.err(
                format!("limits.allowed_origins[{i}]"),
                format!("'{o}' is not an origin like \"https://lobby.example.no\" (scheme and host, no path)"),
            ));
        }
    }
    Ok(Limits {
        max_concurrent_requests: at_least_one(
            c,
            "limits.max_concurrent_requests",
            raw.max_concurrent_requests,
        )?
        .unwrap_or(d.max_concurrent_requests),
        request_timeout_s: at_least_one(c, "limits.request_timeout_s", raw.request_timeout_s)?
            .unwrap_or(d.request_timeout_s),
        header_read_timeout_s: at_least_one(
            c,
            "limits.header_read_timeout_s",
            raw.header_read_timeout_s,
        )?
        .unwrap_or(d.header_read_timeout_s),
        events_per_minute_per_device: at_least_one(
            c,
            "limits.events_per_minute_per_device",
            raw.events_per_minute_per_device,
        )?
        .unwrap_or(d.events_per_minute_per_device),
        max_sockets: at_least_one(c, "limits.max_sockets", raw.max_sockets)?
            .unwrap_or(d.max_sockets),
        max_sockets_per_device: at_least_one(
            c,
            "limits.max_sockets_per_device",
            raw.max_sockets_per_device,
        )?
        .unwrap_or(d.max_sockets_per_device),
        allowed_origins,
    })
}

fn parse_operations(c: &Checker<'_>, raw: RawOperations) -> Result<Operations, ConfigError> {
    let d = Operations::default();
    let surfaces = match raw.surfaces {
        None => d.surfaces,
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, s)| non_empty(c, format!("operations.surfaces[{i}]"), s))
            .collect::<Result<_, _>>()?,
    };
    Ok(Operations {
        last_admission_min: raw.last_admission_min.unwrap_or(d.last_admission_min),
        close_out_grace_min: raw.close_out_grace_min.unwrap_or(d.close_out_grace_min),
        gathering_people: at_least_one(c, "operations.gathering_people", raw.gathering_people)?,
        surfaces,
        cleaning_every_min: at_least_one(
            c,
            "operations.cleaning_every_min",
            raw.cleaning_every_min,
        )?
        .unwrap_or(d.cleaning_every_min),
        cleaning_every_visitors: at_least_one(
            c,
            "operations.cleaning_every_visitors",
            raw.cleaning_every_visitors,
        )?
        .unwrap_or(d.cleaning_every_visitors),
        long_inside_min: at_least_one(c, "operations.long_inside_min", raw.long_inside_min)?
            .unwrap_or(d.long_inside_min),
        long_wait_min: at_least_one(c, "operations.long_wait_min", raw.long_wait_min)?
            .unwrap_or(d.long_wait_min),
    })
}

fn parse_exceptions(
    c: &Checker<'_>,
    key: &str,
    raw: Vec<RawException>,
) -> Result<BTreeMap<NaiveDate, Exception>, ConfigError> {
    let mut out = BTreeMap::new();
    for (k, e) in raw.into_iter().enumerate() {
        let ekey = format!("{key}[{k}]");
        let date = NaiveDate::parse_from_str(&e.date, "%Y-%m-%d").map_err(|_| {
            c.err(
                format!("{ekey}.date"),
                format!("'{}' is not a date like \"2026-12-24\"", e.date),
            )
        })?;
        let ranges = match e.hours.as_deref().map(str::trim) {
            None | Some("") => Vec::new(),
            Some(spec) => hours::parse_day(spec).map_err(|r| c.err(format!("{ekey}.hours"), r))?,
        };
        let reason = non_empty(c, format!("{ekey}.reason"), e.reason)?;
        if out.insert(date, Exception { ranges, reason }).is_some() {
            return Err(c.err(
                format!("{ekey}.date"),
                format!("{date} has two exceptions here; keep one"),
            ));
        }
    }
    Ok(out)
}

fn parse_hours(c: &Checker<'_>, key: &str, raw: RawHours) -> Result<WeeklyHours, ConfigError> {
    let given = [
        raw.mon, raw.tue, raw.wed, raw.thu, raw.fri, raw.sat, raw.sun,
    ];
    let mut days: [Vec<hours::Range>; 7] = Default::default();
    for (i, spec) in given.iter().enumerate() {
        if let Some(spec) = spec {
            days[i] =
                hours::parse_day(spec).map_err(|r| c.err(format!("{key}.{}", DAY_KEYS[i]), r))?;
        }
    }
    Ok(WeeklyHours::from_days(days))
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

    fn err_of(text: &str) -> ConfigError {
        Config::parse(text, "test.toml").unwrap_err()
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
    fn unknown_keys_are_errors_not_silently_ignored() {
        let e = err_of(&MINIMAL.replace("area_m2 = 48.0", "area_m2 = 48.0\narea = 3"));
        assert!(e.to_string().contains("area"), "{e}");
        assert!(e.to_string().starts_with("test.toml: "), "{e}");
    }

    #[test]
    fn a_terminal_needs_exactly_one_station() {
        let e = err_of(&MINIMAL.replace(
            "station = \"oslo-gronland\"",
            "station = \"oslo-gronland\"\nall = true",
        ));
        assert_eq!(e.key, "devices[0]");
    }
}
