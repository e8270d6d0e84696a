//! Arbitrary bytes as a day of operations on one station: invariants hold, the log replays exactly.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lobbywatch::fuzzing::engine_ops(data);
});
