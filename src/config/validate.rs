//! From the raw file to checked values: one function per section, each error naming the file,
//! the key and what to fix.
//!
//! [`config`] runs the sections in file order — rules, districts, operations, limits, stations
//! (their services, hours and dated exceptions), devices — and each later section checks its
//! references against the earlier ones (a station's district, a device's stations). What leaves
//! here is parsed once (slugs, timezones, hours, geometry, token hashes, device scopes), so
//! nothing downstream re-checks it.

use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;

use chrono::NaiveDate;
use chrono_tz::Tz;

mod devices;

use super::raw::{
    RawConfig, RawDistrict, RawException, RawHours, RawLimits, RawOperations, RawRules, RawService,
    RawStation,
};
use super::{
    Config, ConfigError, DatabaseUrl, District, Limits, Operations, Rules, Service, Station,
};
use crate::capacity::{self, RoomGeometry};
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::hours::{self, DAY_KEYS, Exception, Schedule, WeeklyHours};

/// Checks every section of `raw`, read from `file`.
pub(super) fn config(raw: RawConfig, file: &str) -> Result<Config, ConfigError> {
    let c = Checker { file };
    let rules = rules(&c, raw.rules)?;
    let districts = districts(&c, raw.districts)?;
    let operations = operations(&c, raw.operations)?;
    let limits = limits(&c, raw.limits)?;
    let holidays = raw.calendar.norwegian_holidays;
    let stations = stations(&c, raw.stations, &districts, &operations, holidays)?;
    let devices = devices::devices(&c, raw.devices, &stations, &districts)?;
    let idempotency = idempotency_policy(&c, &raw.storage)?;
    let database = raw
        .storage
        .database
        .map(|url| DatabaseUrl::parse(&url).map_err(|e| c.err("storage.database", e)))
        .transpose()?;
    Ok(Config {
        source: file.to_owned(),
        rules,
        limits,
        districts,
        stations,
        devices,
        database,
        idempotency,
    })
}

/// `[storage] idempotency_retention_h` and `idempotency_memory_mib`, defaults filled in.
fn idempotency_policy(
    c: &Checker<'_>,
    storage: &super::raw::RawStorage,
) -> Result<super::IdempotencyPolicy, ConfigError> {
    let default = super::IdempotencyPolicy::default();
    let hours = storage.idempotency_retention_h;
    if hours == Some(0) {
        return Err(c.err(
            "storage.idempotency_retention_h",
            "must be at least 1 (hours); a terminal's offline outbox resends within it",
        ));
    }
    let mib = storage.idempotency_memory_mib;
    if mib == Some(0) {
        return Err(c.err("storage.idempotency_memory_mib", "must be at least 1 (MiB)"));
    }
    Ok(super::IdempotencyPolicy {
        retention: hours.map_or(default.retention, |h| chrono::TimeDelta::hours(h.into())),
        memory_budget: mib.map_or(default.memory_budget, |m| m as usize * 1024 * 1024),
    })
}

/// Carries the file name so each check can build its error in one line.
struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, key, reason)
    }

    /// Refuses an id that an earlier entry of the same list already has.
    fn defined_once<'a, T: PartialEq + fmt::Display + 'a>(
        &self,
        key: &str,
        what: &str,
        id: &T,
        earlier: impl IntoIterator<Item = &'a T>,
    ) -> Result<(), ConfigError> {
        if earlier.into_iter().any(|x| x == id) {
            return Err(self.err(key, format!("{what} '{id}' is defined twice")));
        }
        Ok(())
    }
}

fn non_empty(c: &Checker<'_>, key: String, s: String) -> Result<String, ConfigError> {
    if s.trim().is_empty() {
        Err(c.err(key, "must not be empty"))
    } else {
        Ok(s)
    }
}

// ---- rules, districts, operations, limits ------------------------------------------------

fn rules(c: &Checker<'_>, raw: RawRules) -> Result<Rules, ConfigError> {
    capacity::validate_distancing(raw.distancing_m)
        .map_err(|e| c.err("rules.distancing_m", e.reason))?;
    Ok(Rules {
        distancing_m: raw.distancing_m,
        area_model: raw.area_model,
    })
}

fn districts(c: &Checker<'_>, raw: Vec<RawDistrict>) -> Result<Vec<District>, ConfigError> {
    let mut districts: Vec<District> = Vec::new();
    for (i, d) in raw.into_iter().enumerate() {
        let key = format!("districts[{i}]");
        let id = DistrictId::parse(&d.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
        let earlier = districts.iter().map(|x| &x.id);
        c.defined_once(&format!("{key}.id"), "district", &id, earlier)?;
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
            name: non_empty(c, format!("{key}.name"), d.name)?,
            timezone,
        });
    }
    Ok(districts)
}

fn operations(c: &Checker<'_>, raw: RawOperations) -> Result<Operations, ConfigError> {
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
        gathering_people: raw.gathering_people.map(Into::into),
        surfaces,
        cleaning_every_min: raw
            .cleaning_every_min
            .map_or(d.cleaning_every_min, Into::into),
        cleaning_every_visitors: raw
            .cleaning_every_visitors
            .map_or(d.cleaning_every_visitors, Into::into),
        long_inside_min: raw.long_inside_min.map_or(d.long_inside_min, Into::into),
        long_wait_min: raw.long_wait_min.map_or(d.long_wait_min, Into::into),
        alert_settle_min: raw.alert_settle_min.unwrap_or(d.alert_settle_min),
    })
}

fn limits(c: &Checker<'_>, raw: RawLimits) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let allowed_origins = raw.allowed_origins.unwrap_or_default();
    for (i, o) in allowed_origins.iter().enumerate() {
        if !is_origin(o) {
            return Err(c.err(
                format!("limits.allowed_origins[{i}]"),
                format!("'{o}' is not an origin like \"https://lobby.example.no\" (scheme and host, no path)"),
            ));
        }
    }
    let max_sockets = raw.max_sockets.map_or(d.max_sockets, Into::into);
    Ok(Limits {
        max_concurrent_requests: raw
            .max_concurrent_requests
            .map_or(d.max_concurrent_requests, Into::into),
        request_timeout_s: raw
            .request_timeout_s
            .map_or(d.request_timeout_s, Into::into),
        header_read_timeout_s: raw
            .header_read_timeout_s
            .map_or(d.header_read_timeout_s, Into::into),
        idle_timeout_s: raw.idle_timeout_s.map_or(d.idle_timeout_s, Into::into),
        max_connections: raw.max_connections.map_or(d.max_connections, Into::into),
        events_per_minute_per_device: raw
            .events_per_minute_per_device
            .map_or(d.events_per_minute_per_device, Into::into),
        capacity_per_minute_per_address: raw
            .capacity_per_minute_per_address
            .map_or(d.capacity_per_minute_per_address, Into::into),
        capacity_solvers: raw.capacity_solvers.map_or(d.capacity_solvers, Into::into),
        capacity_search_nodes: raw
            .capacity_search_nodes
            .map_or(d.capacity_search_nodes, Into::into),
        max_sockets,
        max_sockets_per_device: raw
            .max_sockets_per_device
            .map_or(d.max_sockets_per_device, Into::into),
        max_public_sockets: public_share(c, raw.max_public_sockets, max_sockets)?,
        max_public_sockets_per_address: raw
            .max_public_sockets_per_address
            .map_or(d.max_public_sockets_per_address, Into::into),
        allowed_origins,
    })
}

/// `max_public_sockets`: below `max_sockets`, so some places are always left for devices. Unset,
/// three quarters of `max_sockets` (the default 15,000 of 20,000), which also keeps a small
/// `max_sockets` valid on its own.
fn public_share(
    c: &Checker<'_>,
    max_public_sockets: Option<NonZeroUsize>,
    max_sockets: usize,
) -> Result<usize, ConfigError> {
    match max_public_sockets {
        None => Ok(max_sockets * 3 / 4),
        Some(n) if n.get() < max_sockets => Ok(n.get()),
        Some(n) => Err(c.err(
            "limits.max_public_sockets",
            format!(
                "{n} leaves no live sockets for guards, terminals and displays: it must be below max_sockets ({max_sockets})"
            ),
        )),
    }
}

/// A scheme and a host, nothing after: what a browser sends as `Origin`.
fn is_origin(o: &str) -> bool {
    (o.starts_with("https://") || o.starts_with("http://"))
        && !o.ends_with('/')
        && o.split("://")
            .nth(1)
            .is_some_and(|host| !host.is_empty() && !host.contains('/'))
}

// ---- stations, their services, hours and exceptions --------------------------------------

fn stations(
    c: &Checker<'_>,
    raw: Vec<RawStation>,
    districts: &[District],
    operations: &Operations,
    norwegian_holidays: bool,
) -> Result<Vec<Station>, ConfigError> {
    // A service with no station would start, say it is healthy, and serve nobody.
    if raw.is_empty() {
        return Err(c.err(
            "stations",
            "no station is configured: add at least one [[stations]] table",
        ));
    }
    let mut stations: Vec<Station> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let key = format!("stations[{i}]");
        let station = station(
            c,
            &key,
            s,
            &stations,
            districts,
            operations,
            norwegian_holidays,
        )?;
        stations.push(station);
    }
    Ok(stations)
}

/// One `[[stations]]` entry; `earlier` are the stations before it in the file.
fn station(
    c: &Checker<'_>,
    key: &str,
    s: RawStation,
    earlier: &[Station],
    districts: &[District],
    operations: &Operations,
    norwegian_holidays: bool,
) -> Result<Station, ConfigError> {
    let id = StationId::parse(&s.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
    c.defined_once(
        &format!("{key}.id"),
        "station",
        &id,
        earlier.iter().map(|x| &x.id),
    )?;
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
    let station_exceptions = exceptions(c, &format!("{key}.exceptions"), s.exceptions)?;
    let mut services: Vec<Service> = Vec::new();
    for (j, v) in s.services.into_iter().enumerate() {
        let skey = format!("{key}.services[{j}]");
        let service = service(
            c,
            &skey,
            v,
            &services,
            &station_exceptions,
            norwegian_holidays,
        )?;
        services.push(service);
    }
    Ok(Station {
        id,
        district: district.id.clone(),
        name: non_empty(c, format!("{key}.name"), s.name)?,
        address: s.address,
        timezone: district.timezone,
        geometry,
        queue_line_m: s.queue_line_m,
        services,
        operations: operations.clone(),
    })
}

/// One `[[stations.services]]` entry; `earlier` are the station's services before it.
fn service(
    c: &Checker<'_>,
    key: &str,
    v: RawService,
    earlier: &[Service],
    station_exceptions: &BTreeMap<NaiveDate, Exception>,
    norwegian_holidays: bool,
) -> Result<Service, ConfigError> {
    let id = ServiceId::parse(&v.id).map_err(|e| c.err(format!("{key}.id"), e.0))?;
    if earlier.iter().any(|x| x.id == id) {
        return Err(c.err(
            format!("{key}.id"),
            format!("service '{id}' is listed twice at this station"),
        ));
    }
    let prefix = ticket_prefix(c, &format!("{key}.prefix"), &v.prefix, earlier)?;
    let weekly = weekly_hours(c, &format!("{key}.hours"), v.hours)?;
    let mut exceptions = station_exceptions.clone();
    exceptions.extend(self::exceptions(
        c,
        &format!("{key}.exceptions"),
        v.exceptions,
    )?);
    let hours = Schedule::new(weekly, exceptions, norwegian_holidays);
    let name = non_empty(c, format!("{key}.name"), v.name)?;
    Ok(Service {
        id,
        name_en: v.name_en.unwrap_or_else(|| name.clone()),
        name,
        prefix,
        hours,
    })
}

/// One uppercase letter that no earlier service of the station uses.
fn ticket_prefix(
    c: &Checker<'_>,
    key: &str,
    given: &str,
    earlier: &[Service],
) -> Result<char, ConfigError> {
    let mut chars = given.chars();
    let prefix = match (chars.next(), chars.next()) {
        (Some(p), None) if p.is_ascii_uppercase() => p,
        _ => {
            return Err(c.err(key, format!("'{given}' must be one uppercase letter A–Z")));
        }
    };
    if let Some(other) = earlier.iter().find(|x| x.prefix == prefix) {
        return Err(c.err(
            key,
            format!(
                "'{prefix}' is already the prefix of '{}' at this station",
                other.id
            ),
        ));
    }
    Ok(prefix)
}

fn exceptions(
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

fn weekly_hours(c: &Checker<'_>, key: &str, raw: RawHours) -> Result<WeeklyHours, ConfigError> {
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
