//! Arbitrary bytes as a posted event body: never a panic; accepted events round-trip the log.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    lobbywatch::fuzzing::decode_events(data);
});
