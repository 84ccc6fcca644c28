//! The access-token verifier with a fixed secret. First byte: a raw token, a signed payload, or
//! a signed header and payload.
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::jwt::jwt(data));
