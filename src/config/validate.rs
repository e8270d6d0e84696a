//! From the raw file to checked values: one function per section, each error naming the file,
//! the key and what to fix.
//!
//! [`config`] runs the sections in file order — rules, districts, operations, limits, stations
//! (their services, hours and dated exceptions), devices — and each later section checks its
//! references against the earlier ones (a station's district, a device's stations). What leaves
//! here is parsed once (slugs, timezones, hours, geometry, token hashes, device scopes), so
//! nothing downstream re-checks it.
//!
//! Checking goes on past an error, so the operator sees every error of the file at once: each
//! error is recorded in the [`Checker`] and the check carries on with what is left. An entry
//! whose own id is valid stays known to the sections after it (a district with a bad timezone,
//! a station with a bad room), so that a reference to it is not reported as a second, false
//! error; the file is refused whole whenever anything was recorded.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroUsize;

use chrono::NaiveDate;
use chrono_tz::Tz;

mod booking;
mod devices;
mod remote;

use super::raw::{
    RawConfig, RawDistrict, RawException, RawHours, RawLimits, RawOperations, RawRules, RawService,
    RawStation, RawWebhook,
};
use super::{
    Config, ConfigError, ConfigErrors, DatabaseUrl, District, Limits, Operations, Rules, Service,
    Station, Webhook, WebhookSecret,
};
use crate::capacity::{self, RoomGeometry};
use crate::domain::{DistrictId, ServiceId, StationId};
use crate::hours::{self, DAY_KEYS, Exception, Schedule, WeeklyHours};

/// Checks every section of `raw`, read from `file`: the config, or every error it has.
pub(super) fn config(raw: RawConfig, file: &str) -> Result<Config, ConfigErrors> {
    let c = Checker::new(file);
    let rules = c.keep(rules(&c, raw.rules));
    let districts = districts(&c, raw.districts);
    let operations = operations(&c, raw.operations);
    let limits = limits(&c, raw.limits);
    let holidays = raw.calendar.norwegian_holidays;
    // Every station the file names with a valid id, valid or not: what devices may refer to.
    let station_ids: Vec<StationId> = raw
        .stations
        .iter()
        .filter_map(|s| StationId::parse(&s.id).ok())
        .collect();
    let stations = stations(&c, raw.stations, &districts, &operations, holidays);
    let devices = devices::devices(&c, raw.devices, &station_ids, &districts);
    let idempotency = idempotency_policy(&c, &raw.storage);
    let web = web(&c, raw.web);
    let database = c.keep(
        raw.storage
            .database
            .map(|url| DatabaseUrl::parse(&url).map_err(|e| c.err("storage.database", e)))
            .transpose(),
    );
    let errors = c.errors.into_inner();
    match (rules, database) {
        (Some(rules), Some(database)) if errors.is_empty() => Ok(Config {
            source: file.to_owned(),
            rules,
            limits,
            districts,
            stations,
            devices,
            database,
            idempotency,
            web,
        }),
        _ => Err(ConfigErrors::from_vec(errors)
            .expect("a value is missing only where its error was recorded")),
    }
}

/// `[storage] idempotency_retention_h` and `idempotency_memory_mib`, defaults filled in.
fn idempotency_policy(
    c: &Checker<'_>,
    storage: &super::raw::RawStorage,
) -> super::IdempotencyPolicy {
    let default = super::IdempotencyPolicy::default();
    let hours = at_least_one(
        c,
        "storage.idempotency_retention_h",
        storage.idempotency_retention_h,
        "must be at least 1 (hours); a terminal's offline outbox resends within it",
    );
    let mib = at_least_one(
        c,
        "storage.idempotency_memory_mib",
        storage.idempotency_memory_mib,
        "must be at least 1 (MiB)",
    );
    super::IdempotencyPolicy {
        retention: hours.map_or(default.retention, |h| chrono::TimeDelta::hours(h.into())),
        memory_budget: mib.map_or(default.memory_budget, |m| m as usize * 1024 * 1024),
    }
}

/// `given`, unless it is 0: then its error is recorded and the default applies.
fn at_least_one(c: &Checker<'_>, key: &str, given: Option<u32>, reason: &str) -> Option<u32> {
    if given == Some(0) {
        c.report(c.err(key, reason));
        return None;
    }
    given
}

/// Carries the file name, so each check can build its error in one line, and every error found
/// so far, so that checking goes on past one.
struct Checker<'a> {
    file: &'a str,
    /// In the order found (file order, section by section). A `RefCell` because every check
    /// holds the checker by shared reference, the way it is passed down the sections.
    errors: RefCell<Vec<ConfigError>>,
}

impl<'a> Checker<'a> {
    fn new(file: &'a str) -> Self {
        Self {
            file,
            errors: RefCell::new(Vec::new()),
        }
    }
}

impl Checker<'_> {
    fn err(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(self.file, key, reason)
    }

    /// Records `e`; the check goes on.
    fn report(&self, e: ConfigError) {
        self.errors.borrow_mut().push(e);
    }

    /// The value of `result`, or `None` with its error recorded.
    fn keep<T>(&self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|e| self.report(e)).ok()
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

    /// `s` when it is not blank; blank, recorded as an error and kept (the file is refused
    /// anyway, and the entry stays known to later sections).
    fn non_empty(&self, key: String, s: String) -> String {
        if s.trim().is_empty() {
            self.report(self.err(key, "must not be empty"));
        }
        s
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

/// Every district whose id is valid and new; one with a bad timezone is kept with UTC in its
/// place, so its stations are not also reported.
fn districts(c: &Checker<'_>, raw: Vec<RawDistrict>) -> Vec<District> {
    let mut districts: Vec<District> = Vec::new();
    for (i, d) in raw.into_iter().enumerate() {
        let key = format!("districts[{i}]");
        let id = c.keep(DistrictId::parse(&d.id).map_err(|e| c.err(format!("{key}.id"), e.0)));
        let timezone: Tz = c
            .keep(d.timezone.parse().map_err(|_| {
                c.err(
                    format!("{key}.timezone"),
                    format!(
                        "'{}' is not an IANA timezone such as \"Europe/Oslo\"",
                        d.timezone
                    ),
                )
            }))
            .unwrap_or(Tz::UTC);
        let name = c.non_empty(format!("{key}.name"), d.name);
        let Some(id) = id else { continue };
        let earlier = districts.iter().map(|x| &x.id);
        if c.keep(c.defined_once(&format!("{key}.id"), "district", &id, earlier))
            .is_some()
        {
            districts.push(District { id, name, timezone });
        }
    }
    districts
}

fn operations(c: &Checker<'_>, raw: RawOperations) -> Operations {
    let d = Operations::default();
    let surfaces = match raw.surfaces {
        None => d.surfaces,
        Some(list) => list
            .into_iter()
            .enumerate()
            .map(|(i, s)| c.non_empty(format!("operations.surfaces[{i}]"), s))
            .collect(),
    };
    Operations {
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
    }
}

fn limits(c: &Checker<'_>, raw: RawLimits) -> Limits {
    let d = Limits::default();
    let allowed_origins = raw.allowed_origins.unwrap_or_default();
    for (i, o) in allowed_origins.iter().enumerate() {
        if !is_origin(o) {
            c.report(c.err(
                format!("limits.allowed_origins[{i}]"),
                format!("'{o}' is not an origin like \"https://lobby.example.no\" (scheme and host, no path)"),
            ));
        }
    }
    let max_sockets = raw.max_sockets.map_or(d.max_sockets, Into::into);
    Limits {
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
        joins_per_hour_per_address: raw
            .joins_per_hour_per_address
            .map_or(d.joins_per_hour_per_address, Into::into),
        booking_pow_bits: c
            .keep(pow_bits(c, raw.booking_pow_bits, d.booking_pow_bits))
            .unwrap_or_default(),
        bookings_per_hour_per_address: raw
            .bookings_per_hour_per_address
            .map_or(d.bookings_per_hour_per_address, Into::into),
        open_bookings_per_browser: raw
            .open_bookings_per_browser
            .map_or(d.open_bookings_per_browser, Into::into),
        capacity_solvers: raw.capacity_solvers.map_or(d.capacity_solvers, Into::into),
        capacity_search_nodes: raw
            .capacity_search_nodes
            .map_or(d.capacity_search_nodes, Into::into),
        max_sockets,
        max_sockets_per_device: raw
            .max_sockets_per_device
            .map_or(d.max_sockets_per_device, Into::into),
        max_public_sockets: c
            .keep(public_share(c, raw.max_public_sockets, max_sockets))
            .unwrap_or_default(),
        max_public_sockets_per_address: raw
            .max_public_sockets_per_address
            .map_or(d.max_public_sockets_per_address, Into::into),
        allowed_origins,
    }
}
/// `booking_pow_bits`: at most [`MAX_POW_BITS`], past which a phone would hash for minutes.
fn pow_bits(c: &Checker<'_>, bits: Option<u32>, default: u32) -> Result<u32, ConfigError> {
    match bits {
        None => Ok(default),
        Some(b) if b <= MAX_POW_BITS => Ok(b),
        Some(b) => Err(c.err(
            "limits.booking_pow_bits",
            format!("{b} bits is more work than a visitor's phone can do in reasonable time; use 0–{MAX_POW_BITS} (0: no proof of work)"),
        )),
    }
}

/// The most leading zero bits a booking's proof of work may ask: about 16 million hashes on
/// average, a minute or so of a phone's browser.
const MAX_POW_BITS: u32 = 24;

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

/// `[web] public_url`: an origin, or its error recorded (and none used). It is printed into
/// visitors' links and written into the terminal's page, so after the scheme only what a host
/// and a port are made of passes (no user name, query, fragment, space or quote).
fn web(c: &Checker<'_>, raw: super::raw::RawWeb) -> super::Web {
    let public_url = raw.public_url.filter(|url| {
        let ok = is_origin(url)
            && url.split_once("://").is_some_and(|(_, host)| {
                host.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
            });
        if !ok {
            c.report(c.err(
                "web.public_url",
                format!("'{url}' is not an origin like \"https://ko.politiet.no\" (scheme and host, no path)"),
            ));
        }
        ok
    });
    super::Web { public_url }
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

/// Every station that passed its checks; the errors of the others are recorded.
fn stations(
    c: &Checker<'_>,
    raw: Vec<RawStation>,
    districts: &[District],
    operations: &Operations,
    norwegian_holidays: bool,
) -> Vec<Station> {
    // A service with no station would start, say it is healthy, and serve nobody.
    if raw.is_empty() {
        c.report(c.err(
            "stations",
            "no station is configured: add at least one [[stations]] table",
        ));
    }
    let mut stations: Vec<Station> = Vec::new();
    let mut ids: Vec<StationId> = Vec::new();
    for (i, s) in raw.into_iter().enumerate() {
        let key = format!("stations[{i}]");
        let context = StationContext {
            key: &key,
            districts,
            operations,
            norwegian_holidays,
        };
        if let Some(station) = station(c, &context, s, &mut ids) {
            stations.push(station);
        }
    }
    stations
}

/// What a station's checks need besides the entry itself.
struct StationContext<'a> {
    key: &'a str,
    districts: &'a [District],
    operations: &'a Operations,
    norwegian_holidays: bool,
}

/// One `[[stations]]` entry, every part checked; `ids` are the ids of the entries before it.
fn station(
    c: &Checker<'_>,
    context: &StationContext<'_>,
    s: RawStation,
    ids: &mut Vec<StationId>,
) -> Option<Station> {
    let key = context.key;
    let id = station_id(c, key, &s.id, ids);
    let district = c.keep(station_district(c, key, &s.district, context.districts));
    let geometry = RoomGeometry {
        area_m2: s.area_m2,
        seats: s.seats,
        max_visitors: s.max_visitors,
    };
    let room = c.keep(
        capacity::validate_geometry(&geometry)
            .map_err(|e| c.err(format!("{key}.{}", e.field), e.reason)),
    );
    let queue_line = c.keep(queue_line(c, key, s.queue_line_m));
    let services = services(c, key, s.services, s.exceptions, context.norwegian_holidays);
    let name = c.non_empty(format!("{key}.name"), s.name);
    let remote = remote::remote(c, key, s.remote);
    let bookings = booking::rules(c, key, s.bookings);
    // `None` inside: no webhook configured; `None` outside: one with an error (recorded).
    let webhook = match s.webhook {
        Some(raw) => webhook(c, key, raw).map(Some),
        None => Some(None),
    };
    let (id, district, (), (), services, remote, webhook, bookings) = (
        id?,
        district?,
        room?,
        queue_line?,
        services?,
        remote?,
        webhook?,
        bookings?,
    );
    Some(Station {
        id,
        district: district.id.clone(),
        name,
        address: s.address,
        timezone: district.timezone,
        geometry,
        queue_line_m: s.queue_line_m,
        services,
        operations: context.operations.clone(),
        remote,
        webhook,
        bookings,
    })
}

/// `[stations.webhook]`: an absolute http(s) URL, and a Standard Webhooks secret (whose value
/// no error repeats). Both are checked, so a file with two errors gets both.
fn webhook(c: &Checker<'_>, key: &str, raw: RawWebhook) -> Option<Webhook> {
    let url = reqwest::Url::parse(&raw.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if url.is_none() {
        c.report(c.err(
            format!("{key}.webhook.url"),
            "must be an http:// or https:// URL with a host",
        ));
    }
    let secret = c.keep(
        WebhookSecret::parse(&raw.secret)
            .map_err(|reason| c.err(format!("{key}.webhook.secret"), reason)),
    );
    Some(Webhook {
        url: url?,
        secret: secret?,
    })
}

/// The station's id, when valid and not taken by an earlier station (then added to `ids`).
fn station_id(
    c: &Checker<'_>,
    key: &str,
    given: &str,
    ids: &mut Vec<StationId>,
) -> Option<StationId> {
    let id = c.keep(StationId::parse(given).map_err(|e| c.err(format!("{key}.id"), e.0)))?;
    c.keep(c.defined_once(&format!("{key}.id"), "station", &id, ids.iter()))?;
    ids.push(id.clone());
    Some(id)
}

fn station_district<'d>(
    c: &Checker<'_>,
    key: &str,
    given: &str,
    districts: &'d [District],
) -> Result<&'d District, ConfigError> {
    districts
        .iter()
        .find(|d| d.id.as_str() == given)
        .ok_or_else(|| {
            c.err(
                format!("{key}.district"),
                format!("unknown district '{given}'; define it under [[districts]]"),
            )
        })
}

fn queue_line(c: &Checker<'_>, key: &str, given: Option<f64>) -> Result<(), ConfigError> {
    match given {
        Some(q) if !q.is_finite() || q < 0.0 => Err(c.err(
            format!("{key}.queue_line_m"),
            "must be a length in metres, 0 or more",
        )),
        _ => Ok(()),
    }
}

/// A station's services with its dated exceptions, or `None` when any has an error (each one
/// recorded).
fn services(
    c: &Checker<'_>,
    key: &str,
    raw: Vec<RawService>,
    station_exceptions: Vec<RawException>,
    norwegian_holidays: bool,
) -> Option<Vec<Service>> {
    if raw.is_empty() {
        c.report(c.err(
            format!("{key}.services"),
            "a station needs at least one [[stations.services]]",
        ));
        return None;
    }
    let station_exceptions = exceptions(c, &format!("{key}.exceptions"), station_exceptions);
    let mut services: Vec<Service> = Vec::new();
    let mut complete = station_exceptions.is_some();
    let station_exceptions = station_exceptions.unwrap_or_default();
    for (j, v) in raw.into_iter().enumerate() {
        let skey = format!("{key}.services[{j}]");
        match service(
            c,
            &skey,
            v,
            &services,
            &station_exceptions,
            norwegian_holidays,
        ) {
            Some(service) => services.push(service),
            None => complete = false,
        }
    }
    complete.then_some(services)
}

/// One `[[stations.services]]` entry; `earlier` are the station's valid services before it.
fn service(
    c: &Checker<'_>,
    key: &str,
    v: RawService,
    earlier: &[Service],
    station_exceptions: &BTreeMap<NaiveDate, Exception>,
    norwegian_holidays: bool,
) -> Option<Service> {
    let id = c.keep(ServiceId::parse(&v.id).map_err(|e| c.err(format!("{key}.id"), e.0)));
    let id = id.filter(|id| {
        let twice = earlier.iter().any(|x| &x.id == id);
        if twice {
            c.report(c.err(
                format!("{key}.id"),
                format!("service '{id}' is listed twice at this station"),
            ));
        }
        !twice
    });
    let prefix = c.keep(ticket_prefix(
        c,
        &format!("{key}.prefix"),
        &v.prefix,
        earlier,
    ));
    let weekly = weekly_hours(c, &format!("{key}.hours"), v.hours);
    let own_exceptions = exceptions(c, &format!("{key}.exceptions"), v.exceptions);
    let name = c.non_empty(format!("{key}.name"), v.name);
    let booking = booking::service(c, key, v.booking);
    let (id, prefix, weekly, own_exceptions, booking) =
        (id?, prefix?, weekly?, own_exceptions?, booking?);
    let mut exceptions = station_exceptions.clone();
    exceptions.extend(own_exceptions);
    Some(Service {
        id,
        name_en: v.name_en.unwrap_or_else(|| name.clone()),
        name,
        prefix,
        hours: Schedule::new(weekly, exceptions, norwegian_holidays),
        booking,
        walk_in_quota: v.walk_in_quota,
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

/// Dated exceptions by date, or `None` when any entry has an error (each one recorded).
fn exceptions(
    c: &Checker<'_>,
    key: &str,
    raw: Vec<RawException>,
) -> Option<BTreeMap<NaiveDate, Exception>> {
    let mut out = BTreeMap::new();
    let mut complete = true;
    for (k, e) in raw.into_iter().enumerate() {
        match exception(c, &format!("{key}[{k}]"), e) {
            Some((date, _)) if out.contains_key(&date) => {
                c.report(c.err(
                    format!("{key}[{k}].date"),
                    format!("{date} has two exceptions here; keep one"),
                ));
                complete = false;
            }
            Some((date, exception)) => {
                out.insert(date, exception);
            }
            None => complete = false,
        }
    }
    complete.then_some(out)
}

/// One dated exception: its date, hours (none: closed) and reason, each checked.
fn exception(c: &Checker<'_>, key: &str, e: RawException) -> Option<(NaiveDate, Exception)> {
    let date = c.keep(NaiveDate::parse_from_str(&e.date, "%Y-%m-%d").map_err(|_| {
        c.err(
            format!("{key}.date"),
            format!("'{}' is not a date like \"2026-12-24\"", e.date),
        )
    }));
    let ranges = match e.hours.as_deref().map(str::trim) {
        None | Some("") => Some(Vec::new()),
        Some(spec) => c.keep(hours::parse_day(spec).map_err(|r| c.err(format!("{key}.hours"), r))),
    };
    let reason = c.non_empty(format!("{key}.reason"), e.reason);
    Some((
        date?,
        Exception {
            ranges: ranges?,
            reason,
        },
    ))
}

/// The week, or `None` when any day has an error (each one recorded).
fn weekly_hours(c: &Checker<'_>, key: &str, raw: RawHours) -> Option<WeeklyHours> {
    let given = [
        raw.mon, raw.tue, raw.wed, raw.thu, raw.fri, raw.sat, raw.sun,
    ];
    let mut days: [Vec<hours::Range>; 7] = Default::default();
    let mut complete = true;
    for (i, spec) in given.iter().enumerate() {
        let Some(spec) = spec else { continue };
        let day = hours::parse_day(spec).map_err(|r| c.err(format!("{key}.{}", DAY_KEYS[i]), r));
        match c.keep(day) {
            Some(ranges) => days[i] = ranges,
            None => complete = false,
        }
    }
    complete.then(|| WeeklyHours::from_days(days))
}
