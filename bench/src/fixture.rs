//! The benchmark's site: a config of many always-open stations, each with its own front-desk
//! terminal, one guard who sees them all, and limits opened up so that the benchmark measures
//! the service's cost rather than its protections (rate limits, socket caps).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The guard device every dashboard subscriber signs in as.
pub const GUARD_TOKEN: &str = "bench-guard-token";

/// A generated site: its TOML and the ids and tokens the load driver needs.
#[derive(Debug, Clone)]
pub struct Site {
    pub toml: String,
    /// `(station id, terminal token)` per station.
    pub terminals: Vec<(String, String)>,
}

/// A service's `hours` open all day every day: a measurement (or a test) must not depend on the
/// hour it runs at.
pub const ALWAYS_OPEN: &str = r#"hours = { mon = "00:00-24:00", tue = "00:00-24:00", wed = "00:00-24:00", thu = "00:00-24:00", fri = "00:00-24:00", sat = "00:00-24:00", sun = "00:00-24:00" }"#;

/// People per station the desks keep in the room: a realistic waiting room, so documents carry
/// a realistic inside list.
pub const KEEP_INSIDE: usize = 8;

/// A site of `stations` stations in one district, each open all day every day, 4,000 m² (cap
/// 1,000 at 2 m, so check-ins are never refused or queued outside by the cap).
pub fn site(stations: usize) -> Site {
    let always = ALWAYS_OPEN;
    let mut toml = String::from(
        r#"[rules]
distancing_m = 2.0
area_model = "grid"

[calendar]
norwegian_holidays = false

[limits]
max_concurrent_requests = 100000
events_per_minute_per_device = 100000000
capacity_per_minute_per_address = 100000000
max_sockets = 100000
max_sockets_per_device = 100000
max_public_sockets = 99999
max_public_sockets_per_address = 100000

# No clock-driven events during a run: each seq is one of the load driver's events.
[operations]
cleaning_every_min = 100000
cleaning_every_visitors = 100000000
long_inside_min = 100000
long_wait_min = 100000
gathering_people = 1000

[[districts]]
id = "bench"
name = "Bench politidistrikt"
timezone = "Europe/Oslo"
"#,
    );
    let mut terminals = Vec::with_capacity(stations);
    for i in 0..stations {
        let station = format!("s{i:04}");
        let device = format!("{station}-desk");
        let token = format!("bench-{device}-token");
        let _ = write!(
            toml,
            r#"
[[stations]]
id = "{station}"
district = "bench"
name = "Bench station {i}"
area_m2 = 4000.0

[[stations.services]]
id = "passport"
name = "Pass"
prefix = "P"
{always}

[[devices]]
id = "{device}"
role = "terminal"
station = "{station}"
token_sha256 = "{hash}"
"#,
            hash = sha256_hex(&token)
        );
        terminals.push((station, token));
    }
    let _ = write!(
        toml,
        r#"
[[devices]]
id = "bench-guard"
role = "guard"
all = true
token_sha256 = "{}"
"#,
        sha256_hex(GUARD_TOKEN)
    );
    Site { toml, terminals }
}

fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lobbywatch::config::Config;

    #[test]
    fn the_bench_site_is_a_valid_config_with_a_terminal_per_station() {
        let site = site(3);
        let config = Config::parse(&site.toml, "bench.toml").expect("valid");
        assert_eq!(config.stations.len(), 3);
        assert_eq!(site.terminals.len(), 3);
        let cap = config.stations[0].capacity(&config.rules).cap;
        assert!(cap as usize >= 100 * KEEP_INSIDE, "cap {cap}");
    }
}
