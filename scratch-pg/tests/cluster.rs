//! The shared cluster serves fresh databases that `psql` reaches by their URL, each its own, on a
//! server configured as the crate promises.

mod common;

use common::psql;
use scratch_pg::require_or_skip;

#[test]
fn a_created_database_answers_select_1() {
    let Some(cluster) = require_or_skip("a_created_database_answers_select_1") else {
        return;
    };
    let url = cluster.create_database();
    let prefix = format!("postgres://postgres@127.0.0.1:{}/t_", cluster.port());
    assert!(url.starts_with(&prefix), "{url}");
    assert_eq!(psql(cluster, &url, "select 1"), Ok("1".to_owned()));
}

#[test]
fn two_created_databases_are_distinct() {
    let Some(cluster) = require_or_skip("two_created_databases_are_distinct") else {
        return;
    };
    let (first, second) = (cluster.create_database(), cluster.create_database());
    assert_ne!(first, second);
    psql(cluster, &first, "create table only_in_first (n int)").unwrap();
    let name = |url: &str| psql(cluster, url, "select current_database()").unwrap();
    assert_eq!(url_database(&first), name(&first));
    assert_eq!(url_database(&second), name(&second));
    let tables = "select count(*) from pg_tables where tablename = 'only_in_first'";
    assert_eq!(psql(cluster, &first, tables), Ok("1".to_owned()));
    assert_eq!(psql(cluster, &second, tables), Ok("0".to_owned()));
}

#[test]
fn the_server_syncs_to_disk_and_takes_200_connections() {
    let Some(cluster) = require_or_skip("the_server_syncs_to_disk_and_takes_200_connections")
    else {
        return;
    };
    let url = cluster.url("postgres");
    assert_eq!(psql(cluster, &url, "show fsync"), Ok("on".to_owned()));
    assert_eq!(
        psql(cluster, &url, "show max_connections"),
        Ok("200".to_owned())
    );
    assert_eq!(
        psql(cluster, &url, "show listen_addresses"),
        Ok("127.0.0.1".to_owned())
    );
}

fn url_database(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_owned()
}
