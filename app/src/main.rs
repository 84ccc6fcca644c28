//! `confab`: the binary. Everything it does is in the library ([`confab::main`]), so a test
//! harness can build the very same program under another name.

fn main() -> std::process::ExitCode {
    confab::main()
}
