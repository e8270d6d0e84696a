//! What is wrong with a config file: one [`ConfigError`] per problem (file, key, reason), and
//! [`ConfigErrors`], every problem validation found.
//!
//! Validation goes on past the first problem, so an operator fixes a file in one pass instead of
//! one run per mistake. A TOML syntax error is the exception: the parser stops there, and it is
//! the only error of its file.

use std::fmt;

/// A configuration error: which file, which key, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub key: String,
    pub reason: String,
}

impl ConfigError {
    pub(super) fn new(file: &str, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }
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

/// Every error found in one config file, in file order; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(Vec<ConfigError>);

impl ConfigErrors {
    /// The errors found, or `None` when there were none.
    pub(super) fn from_vec(errors: Vec<ConfigError>) -> Option<Self> {
        (!errors.is_empty()).then_some(Self(errors))
    }

    /// The first error in the file (what a single `field` in an answer points at).
    pub fn first(&self) -> &ConfigError {
        &self.0[0]
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true; here because clippy pairs `len` with it.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Each error changed by `f` (e.g. to drop the file's quoted lines before it is published).
    pub fn map(self, f: impl FnMut(ConfigError) -> ConfigError) -> Self {
        Self(self.0.into_iter().map(f).collect())
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        Self(vec![e])
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One line, as a log line, `/healthz` and a problem's `detail` need: the error itself, or
/// `N errors: first; second; …`. `check-config` prints one error per line instead.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let [only] = self.0.as_slice() {
            return write!(f, "{only}");
        }
        write!(f, "{} errors: ", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
impl std::error::Error for ConfigErrors {}
