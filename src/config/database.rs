//! The PostgreSQL address an operator gives (`--database`, `LOBBYWATCH_DATABASE_URL` or
//! `[storage] database`), and how it is shown: never with its password.
//!
//! The URL may carry a password (`postgres://user:secret@host/db`); it goes to the driver and
//! nowhere else. Everything that prints or logs the address — start-up lines, errors, `Debug` —
//! sees [`DatabaseUrl`]'s redacted form `postgres://user@host:port/db`.

use std::fmt;

use tokio_postgres::config::Host;

/// A parsed PostgreSQL address.
#[derive(Clone)]
pub struct DatabaseUrl {
    config: tokio_postgres::Config,
    shown: String,
}

impl DatabaseUrl {
    /// Parses a `postgres://` or `postgresql://` URL. The error never repeats the URL (it may
    /// hold a password).
    pub fn parse(text: &str) -> Result<DatabaseUrl, String> {
        let text = text.trim();
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(
                "a database must be given as a postgres://user@host[:port]/database URL".into(),
            );
        }
        let config: tokio_postgres::Config = text
            .parse()
            .map_err(|e| format!("not a usable PostgreSQL URL: {e}"))?;
        if config.get_dbname().is_none() {
            return Err(
                "the PostgreSQL URL names no database (postgres://user@host/DATABASE)".into(),
            );
        }
        let shown = redacted(&config);
        Ok(DatabaseUrl { config, shown })
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }
}

/// `postgres://user@host:port/db`, whatever the URL held besides.
fn redacted(config: &tokio_postgres::Config) -> String {
    let user = config
        .get_user()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let name = match host {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(port) => format!("{name}:{port}"),
                None => name,
            }
        })
        .collect();
    format!(
        "postgres://{user}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or_default()
    )
}

/// Two addresses are the same when they read the same (the redacted form: the password aside).
impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &Self) -> bool {
        self.shown == other.shown
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let url = DatabaseUrl::parse("postgres://clerk:s3cret@db.example:5433/lobby").unwrap();
        assert_eq!(url.to_string(), "postgres://clerk@db.example:5433/lobby");
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.config().get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn a_url_without_a_database_or_scheme_is_refused_without_repeating_it() {
        let err = DatabaseUrl::parse("postgres://clerk:s3cret@db.example").unwrap_err();
        assert!(err.contains("names no database"), "{err}");
        let err = DatabaseUrl::parse("host=db user=clerk password=s3cret").unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
