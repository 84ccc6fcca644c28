//! Where a new password for `confab user create` / `reset-password` comes from: `--password`
//! (or `CONFAB_NEW_PASSWORD`), else a prompt on the terminal that does not echo and asks twice,
//! else (stdin is a pipe or a file) the first line of stdin. It never prints a password.

use std::io::{BufRead, IsTerminal};

use crate::StartError;

/// The password given, typed at a prompt, or read from stdin.
pub(crate) fn new_password(given: Option<String>) -> Result<String, StartError> {
    if let Some(p) = given {
        return Ok(p);
    }
    let line = if std::io::stdin().is_terminal() {
        prompt_twice()?
    } else {
        first_line_of_stdin()?
    };
    if line.is_empty() {
        return Err(StartError(
            "no password: pass --password, set CONFAB_NEW_PASSWORD, or write it on stdin".into(),
        ));
    }
    Ok(line)
}

/// Asks on the terminal (no echo) for the password and once more to confirm it.
fn prompt_twice() -> Result<String, StartError> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| StartError(format!("cannot read the password from the terminal: {e}")))
    };
    let first = ask("New password: ")?;
    if first.is_empty() {
        return Ok(first);
    }
    if ask("Again: ")? != first {
        return Err(StartError(
            "the two passwords differ; nothing changed".into(),
        ));
    }
    Ok(first)
}

fn first_line_of_stdin() -> Result<String, StartError> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| StartError(format!("cannot read the password from stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Whether the operator confirms `question` on the terminal (`y` or `yes`). `None` when stdin
/// is no terminal: nobody can answer, and the caller must refuse (a script passes `--yes`).
pub(crate) fn confirm(question: &str) -> Result<Option<bool>, StartError> {
    if !std::io::stdin().is_terminal() {
        return Ok(None);
    }
    eprint!("{question} [y/N] ");
    let answer = first_line_of_stdin()?;
    Ok(Some(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    )))
}
