//! Every JSON request body: ApiJson, then the route's validation. First byte: the body type.
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::bodies::request_body(data));
