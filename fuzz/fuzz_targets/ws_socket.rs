//! Raw client bytes through the server's WebSocket layer (tokio-tungstenite, the server's limits).
//! See `src/` for what is fed and checked, and docs/testing.md for how to run it.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| confab_fuzz::ws::ws_socket(data));
