//! The `[[devices]]` section: each device's id (the service's own is reserved), role, token
//! hashes (one, or two while rotating; none shared between devices) and the stations its role
//! lets it act on, checked against the stations and districts before it. Every part of every
//! entry is checked; a device with any error is left out, its errors recorded.

use std::collections::HashSet;

use super::Checker;
use crate::config::raw::{OneOrMore, RawDevice};
use crate::config::{ConfigError, Device, District, Role, Scope};
use crate::domain::{DeviceId, DistrictId, SERVICE_DEVICE, StationId};

/// Every device that passed its checks; `stations` are the ids of the file's stations (an
/// invalid station is still one a device may name).
pub(super) fn devices(
    c: &Checker<'_>,
    raw: Vec<RawDevice>,
    stations: &[StationId],
    districts: &[District],
) -> Vec<Device> {
    let mut devices: Vec<Device> = Vec::new();
    let mut ids: Vec<DeviceId> = Vec::new();
    let mut hashes = HashSet::new();
    for (i, d) in raw.into_iter().enumerate() {
        let key = format!("devices[{i}]");
        let known = Known {
            stations,
            districts,
        };
        if let Some(device) = device(c, &key, d, &mut ids, &mut hashes, &known) {
            devices.push(device);
        }
    }
    devices
}

/// What a device's scope may name: the file's stations and districts.
struct Known<'a> {
    stations: &'a [StationId],
    districts: &'a [District],
}

/// One `[[devices]]` entry; `ids` are the ids before it, `hashes` every token hash taken so far
/// (a token must identify one device).
fn device(
    c: &Checker<'_>,
    key: &str,
    d: RawDevice,
    ids: &mut Vec<DeviceId>,
    hashes: &mut HashSet<[u8; 32]>,
    known: &Known<'_>,
) -> Option<Device> {
    let id = device_id(c, key, &d.id, ids);
    let tokens_sha256 = c.keep(token_hashes(
        c,
        &format!("{key}.token_sha256"),
        &d.token_sha256,
        hashes,
    ));
    let scope = c.keep(scope(c, key, &d, known));
    Some(Device {
        id: id?,
        role: d.role,
        scope: scope?,
        tokens_sha256: tokens_sha256?,
    })
}

/// The device's id, when valid, not reserved and not taken by an earlier device (then added to
/// `ids`).
fn device_id(c: &Checker<'_>, key: &str, given: &str, ids: &mut Vec<DeviceId>) -> Option<DeviceId> {
    let id = c.keep(DeviceId::parse(given).map_err(|e| c.err(format!("{key}.id"), e.0)))?;
    if id.as_str() == SERVICE_DEVICE {
        c.report(c.err(
            format!("{key}.id"),
            format!("'{id}' is reserved for the service's own events; choose another id"),
        ));
        return None;
    }
    c.keep(c.defined_once(&format!("{key}.id"), "device", &id, ids.iter()))?;
    ids.push(id.clone());
    Some(id)
}

/// One hash, or two while rotating; each 64 hex digits and not used by any other device.
fn token_hashes(
    c: &Checker<'_>,
    key: &str,
    given: &OneOrMore,
    hashes: &mut HashSet<[u8; 32]>,
) -> Result<Vec<[u8; 32]>, ConfigError> {
    let given = match given {
        OneOrMore::One(h) => std::slice::from_ref(h),
        OneOrMore::More(list) => list.as_slice(),
    };
    if !(1..=2).contains(&given.len()) {
        return Err(c.err(key, "give one hash, or two while rotating to a new token"));
    }
    let mut tokens_sha256 = Vec::with_capacity(given.len());
    for h in given {
        let hash = parse_sha256(h).ok_or_else(|| {
            c.err(
                key,
                "must be 64 hex characters: the SHA-256 of the token, never the token itself",
            )
        })?;
        if !hashes.insert(hash) {
            return Err(c.err(
                key,
                "another device (or this one) already has this token; every token must be unique",
            ));
        }
        tokens_sha256.push(hash);
    }
    Ok(tokens_sha256)
}

fn parse_sha256(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// Which stations the device may act on: exactly the scope keys its role allows.
fn scope(
    c: &Checker<'_>,
    key: &str,
    d: &RawDevice,
    known: &Known<'_>,
) -> Result<Scope, ConfigError> {
    let given = [
        d.station.is_some(),
        d.stations.is_some(),
        d.districts.is_some(),
        d.all.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    match d.role {
        Role::Terminal | Role::Display => match (&d.station, given) {
            (Some(s), 1) => Ok(Scope::Station(known_station(
                c,
                known.stations,
                s,
                format!("{key}.station"),
            )?)),
            _ => Err(c.err(
                key,
                "a terminal or display needs exactly one `station = \"...\"` and no other scope",
            )),
        },
        Role::Guard | Role::Integration if given != 1 || d.station.is_some() => Err(c.err(
            key,
            "a guard or integration needs exactly one of `districts = [..]`, `stations = [..]` or `all = true`",
        )),
        Role::Guard | Role::Integration => guard_scope(c, key, d, known),
        Role::Admin | Role::Metrics if given != 0 => Err(c.err(
            key,
            "an admin or metrics device has no station scope; remove station/stations/districts/all",
        )),
        Role::Admin | Role::Metrics => Ok(Scope::Nothing),
    }
}

/// A guard's (or an integration's) one scope key: `stations`, `districts` or `all = true`.
fn guard_scope(
    c: &Checker<'_>,
    key: &str,
    d: &RawDevice,
    known: &Known<'_>,
) -> Result<Scope, ConfigError> {
    if let Some(list) = &d.stations {
        let ids = each(list, &format!("{key}.stations"), |s, k| {
            known_station(c, known.stations, s, k)
        })?;
        Ok(Scope::Stations(ids))
    } else if let Some(list) = &d.districts {
        let ids = each(list, &format!("{key}.districts"), |s, k| {
            known_district(c, known.districts, s, k)
        })?;
        Ok(Scope::Districts(ids))
    } else if d.all == Some(true) {
        Ok(Scope::All)
    } else {
        Err(c.err(format!("{key}.all"), "write `all = true` or leave it out"))
    }
}

/// Applies `f` to every entry of a list, giving it the entry's key (`key[j]`).
fn each<T>(
    list: &[String],
    key: &str,
    mut f: impl FnMut(&str, String) -> Result<T, ConfigError>,
) -> Result<Vec<T>, ConfigError> {
    list.iter()
        .enumerate()
        .map(|(j, s)| f(s, format!("{key}[{j}]")))
        .collect()
}

fn known_station(
    c: &Checker<'_>,
    stations: &[StationId],
    s: &str,
    key: String,
) -> Result<StationId, ConfigError> {
    stations
        .iter()
        .find(|x| x.as_str() == s)
        .cloned()
        .ok_or_else(|| c.err(key, format!("unknown station '{s}'")))
}

fn known_district(
    c: &Checker<'_>,
    districts: &[District],
    s: &str,
    key: String,
) -> Result<DistrictId, ConfigError> {
    districts
        .iter()
        .find(|x| x.id.as_str() == s)
        .map(|x| x.id.clone())
        .ok_or_else(|| c.err(key, format!("unknown district '{s}'")))
}
