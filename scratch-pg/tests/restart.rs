//! Taking the database away and bringing it back: the same port, the same data.
//!
//! The only test of its binary, since stopping the shared cluster takes it from every other test.

mod common;

use std::net::TcpStream;

use common::psql;
use scratch_pg::require_or_skip;

#[test]
fn stop_and_start_again_keep_the_port_and_the_data() {
    let Some(cluster) = require_or_skip("stop_and_start_again_keep_the_port_and_the_data") else {
        return;
    };
    let url = cluster.create_database();
    psql(
        cluster,
        &url,
        "create table kept (n int); insert into kept values (7)",
    )
    .unwrap();
    let port = cluster.port();

    cluster.stop();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    assert!(psql(cluster, &url, "select 1").is_err());

    cluster.start_again();
    assert_eq!(cluster.port(), port);
    assert_eq!(
        psql(cluster, &url, "select n from kept"),
        Ok("7".to_owned())
    );
}
