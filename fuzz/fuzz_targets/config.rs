//! Durations, database URLs and the server command line. First byte: which.
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::config::config(data));
