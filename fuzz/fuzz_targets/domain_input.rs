//! The domain's parsers of user input. First byte: which parser.
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::domain::domain_input(data));
