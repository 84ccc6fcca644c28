//! The confab binary under the test crate's roof, so the several-instance tests can run (and
//! SIGKILL) real server processes built from the current code (`CARGO_BIN_EXE_confab-node`).

fn main() -> std::process::ExitCode {
    confab::main()
}
