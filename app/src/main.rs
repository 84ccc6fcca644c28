//! `confab`: parse the command line, run, and turn any start-up failure into one clear line.

use std::process::ExitCode;

use clap::Parser;
use confab::{Cli, init_logging};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("confab: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(confab::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab: {e}");
            ExitCode::FAILURE
        }
    }
}
