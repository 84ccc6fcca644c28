//! One WebSocket text frame's payload through the session's decoding and command checks.
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::ws::ws_frame(data));
