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
            eprintln!(
                "confab: cannot start the async runtime: {}",
                one_line(&e.to_string())
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(confab::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// The error as one line: a value from the command line may hold line breaks or terminal
/// escapes, which must neither split the line nor forge another one.
fn one_line(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
