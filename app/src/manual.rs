//! `confab completions SHELL` and `confab man`: a shell's completion script and the man page,
//! generated from the command line's own definition (so they never drift from it) and written
//! to stdout. They read no setting and touch no database.

use std::io::Write;

use clap::CommandFactory;

use crate::StartError;
use crate::config::Cli;

/// Writes the completion script for `shell`.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), StartError> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "confab", &mut out);
    write_out(&out)
}

/// Writes the man page (roff), `confab(1)`: the options of `confab serve` and a list of the
/// subcommands (`confab help SUBCOMMAND` has each one's options).
pub(crate) fn man() -> Result<(), StartError> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| StartError(format!("cannot render the man page: {e}")))?;
    write_out(&out)
}

/// All of it at once; a closed pipe (`confab man | head`) is an error line, not a panic.
fn write_out(bytes: &[u8]) -> Result<(), StartError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| StartError(format!("cannot write to stdout: {e}")))
}
