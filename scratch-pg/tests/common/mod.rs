//! What the tests of this crate share: asking a cluster something through its own `psql`.

use std::process::Command;

use scratch_pg::Cluster;

/// `sql` run by the cluster's `psql` against the database at `url`: its output, unaligned and
/// without headers, or what psql said on failure.
pub fn psql(cluster: &Cluster, url: &str, sql: &str) -> Result<String, String> {
    let out = Command::new(cluster.bin_dir().join("psql"))
        .args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("psql runs");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
