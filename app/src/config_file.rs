//! The configuration file (`--config PATH` / `CONFAB_CONFIG`): a TOML table of settings, each
//! by its flag name (`database-url = "…"`, or `database_url`). It only fills what neither a
//! flag nor a `CONFAB_*` variable set: its values are handed to clap as flags, so each one
//! passes the very parser the flag's value does (flag > environment > file > default).
//!
//! It must never print the value of a setting that may hold a secret, and never make a file
//! that names an unknown setting, or a value of the wrong kind, start anything.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches, Parser};

use crate::StartError;
use crate::config::{Cli, ServeArgs, StoreArgs};

/// Settings that belong to one run, never to a file: the file itself, and a new user's password.
const NOT_IN_FILE: [&str; 2] = ["config", "password"];
/// A configuration file is a few hundred bytes; a larger one is a mistake (or `/dev/zero`).
const MAX_BYTES: u64 = 1 << 20;

/// One setting of the file, by the flag's long name.
#[derive(Debug, Clone)]
struct Entry {
    long: String,
    value: Setting,
}

/// A file value as clap will see it.
#[derive(Debug, Clone)]
enum Setting {
    /// The value of a flag that takes one.
    Text(String),
    /// A switch (`trust-forwarded-for = true`).
    Switch(bool),
}

/// A read and checked configuration file.
#[derive(Debug, Clone)]
pub(crate) struct ConfigFile {
    entries: Vec<Entry>,
}

/// The file this run read, for the subcommands that build the server's other settings.
static LOADED: OnceLock<ConfigFile> = OnceLock::new();

/// Parses the command line, filling what it leaves unset from the configuration file it (or
/// `CONFAB_CONFIG`) names. A usage error exits as clap does (status 2); a bad file is one line.
pub fn parse_cli(argv: Vec<OsString>) -> Result<Cli, StartError> {
    let root = Cli::command();
    let matches = root.clone().get_matches_from(argv.clone());
    let (names, leaf_matches) = leaf(&matches);
    let path = leaf_matches
        .try_get_one::<PathBuf>("config")
        .ok()
        .flatten()
        .cloned();
    let Some(path) = path else {
        return Cli::from_arg_matches(&matches).map_err(|e| e.exit());
    };
    let file = ConfigFile::load(&path)?;
    let mut leaf_cmd = root;
    for name in &names {
        leaf_cmd = leaf_cmd
            .find_subcommand(name)
            .cloned()
            .ok_or_else(|| StartError(format!("no subcommand {name}")))?;
    }
    let flags = file.flags_for(&leaf_cmd, leaf_matches);
    let _ = LOADED.set(file);
    let mut argv = argv;
    let at = after_names(&argv, &names);
    argv.splice(at..at, flags);
    Cli::try_parse_from(argv).map_err(|e| e.exit())
}

/// The server's settings for a subcommand that works on `store` (`user …`, `demo`): from the
/// environment, the configuration file this run read, and the defaults.
pub(crate) fn serve_args(store: StoreArgs) -> Result<ServeArgs, StartError> {
    let flags = match LOADED.get() {
        Some(file) => {
            let serve = settings_command();
            let matches = serve
                .clone()
                .try_get_matches_from(["serve"])
                .map_err(|e| StartError(format!("bad settings in the environment: {e}")))?;
            file.flags_for(&serve, &matches)
        }
        None => Vec::new(),
    };
    let mut args = ServeArgs::try_from_flags(flags)
        .map_err(|e| StartError(format!("bad settings in the environment: {e}")))?;
    args.store = store;
    Ok(args)
}

/// The subcommand names on the command line, and the innermost one's matches.
fn leaf(matches: &ArgMatches) -> (Vec<String>, &ArgMatches) {
    let mut names = Vec::new();
    let mut current = matches;
    while let Some((name, sub)) = current.subcommand() {
        names.push(name.to_owned());
        current = sub;
    }
    (names, current)
}

/// Where the innermost subcommand's own arguments start in `argv`.
fn after_names(argv: &[OsString], names: &[String]) -> usize {
    let mut at = 1;
    for name in names {
        if let Some(i) = argv[at.min(argv.len())..]
            .iter()
            .position(|a| a == name.as_str())
        {
            at += i + 1;
        }
    }
    at.min(argv.len())
}

/// `serve`: its settings are every setting there is.
fn settings_command() -> Command {
    Cli::command()
        .find_subcommand("serve")
        .cloned()
        .unwrap_or_else(|| Command::new("serve"))
}

impl ConfigFile {
    /// Reads and checks the file: every key a setting, every value of the setting's kind and
    /// accepted by its parser.
    pub(crate) fn load(path: &Path) -> Result<Self, StartError> {
        let text = read(path).map_err(|why| refuse(path, None, &why))?;
        Self::parse(&text).map_err(|(line, why)| refuse(path, line, &why))
    }

    /// Checks a file's text; a refusal is the line (when known) and why.
    fn parse(text: &str) -> Result<Self, (Option<usize>, String)> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            (
                e.span().map(|s| line_of(text, s.start)),
                one_line(e.message()),
            )
        })?;
        let serve = settings_command();
        let strict = serve.clone().mut_args(|a| a.env(None));
        let mut entries: Vec<Entry> = Vec::new();
        for (key, item) in doc.as_table().iter() {
            let line = doc
                .as_table()
                .key(key)
                .and_then(toml_edit::Key::span)
                .map(|s| line_of(text, s.start));
            let fail = |why: String| (line, format!("{}: {why}", shown_key(key)));
            let long = key.replace('_', "-");
            let arg = serve
                .get_arguments()
                .find(|a| {
                    a.get_long() == Some(long.as_str())
                        && a.get_env().is_some()
                        && !NOT_IN_FILE.contains(&a.get_id().as_str())
                })
                .ok_or_else(|| fail("is not a setting (see confab serve --help)".into()))?;
            if entries.iter().any(|e| e.long == long) {
                return Err(fail("is set twice".into()));
            }
            let value = setting(arg, item).map_err(fail)?;
            check(&strict, &long, &value, arg.is_hide_env_values_set()).map_err(fail)?;
            entries.push(Entry { long, value });
        }
        Ok(Self { entries })
    }

    /// The flags that give `cmd` the file's values for the settings `matches` took from neither
    /// the command line nor the environment.
    fn flags_for(&self, cmd: &Command, matches: &ArgMatches) -> Vec<OsString> {
        let mut flags = Vec::new();
        for entry in &self.entries {
            let Some(arg) = cmd
                .get_arguments()
                .find(|a| a.get_long() == Some(entry.long.as_str()))
            else {
                // A server setting in a file a `user` subcommand reads too: not its business.
                continue;
            };
            let given = matches!(
                matches.value_source(arg.get_id().as_str()),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            );
            if given {
                continue;
            }
            let flag = OsString::from(format!("--{}", entry.long));
            match &entry.value {
                Setting::Text(v) => flags.extend([flag, OsString::from(v)]),
                Setting::Switch(true) => flags.push(flag),
                Setting::Switch(false) => {}
            }
        }
        flags
    }
}

/// The file's text, refused when unreadable, not UTF-8, or too large.
fn read(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read it: {e}"))?;
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read it: {e}"))?;
    if text.len() as u64 > MAX_BYTES {
        return Err("it is over 1 MiB; a configuration file is a few settings".into());
    }
    Ok(text)
}

/// The value of `item` for `arg`, or why it is of the wrong kind.
fn setting(arg: &clap::Arg, item: &toml_edit::Item) -> Result<Setting, String> {
    let takes_value = arg.get_action().takes_values();
    let textual = {
        let t = arg.get_value_parser().type_id();
        t == std::any::TypeId::of::<String>() || t == std::any::TypeId::of::<PathBuf>()
    };
    let value = item.as_value();
    match value {
        Some(toml_edit::Value::Boolean(b)) if !takes_value => Ok(Setting::Switch(*b.value())),
        _ if !takes_value => Err("must be true or false".into()),
        Some(toml_edit::Value::String(s)) => Ok(Setting::Text(s.value().clone())),
        Some(toml_edit::Value::Integer(i)) if !textual => Ok(Setting::Text(i.value().to_string())),
        _ if textual => Err("must be a string (in quotes)".into()),
        _ => Err("must be a number or a string".into()),
    }
}

/// Runs the setting's own parser on the value; its complaint, or a plain one for a secret.
fn check(strict: &Command, long: &str, value: &Setting, secret: bool) -> Result<(), String> {
    let Setting::Text(v) = value else {
        return Ok(());
    };
    let flag = format!("--{long}");
    match strict
        .clone()
        .try_get_matches_from([OsString::from("serve"), flag.into(), v.into()])
    {
        Ok(_) => Ok(()),
        Err(_) if secret => Err("is not a valid value".into()),
        Err(e) => {
            let shown = e.to_string();
            let first = shown.lines().next().unwrap_or_default();
            Err(one_line(first.trim_start_matches("error: ")))
        }
    }
}

/// The 1-based line of byte `at`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// A key as the operator wrote it, quoted and shortened (it may be anything).
fn shown_key(key: &str) -> String {
    let short: String = key.chars().take(60).collect();
    format!("key {:?}", short)
}

fn one_line(text: &str) -> String {
    crate::one_line(text.trim())
}

/// The one line naming the file (and the line in it) and what is wrong.
fn refuse(path: &Path, line: Option<usize>, why: &str) -> StartError {
    let place = match line {
        Some(n) => format!(", line {n}"),
        None => String::new(),
    };
    StartError(format!(
        "configuration file {}{place}: {why}",
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_documented_example_parses_and_sets_what_it_says() {
        let text = include_str!("../../docs/confab.toml.example");
        let file = ConfigFile::parse(text).unwrap();
        assert!(file.entries.iter().any(|e| e.long == "database-url"));
        assert!(file.entries.iter().any(|e| e.long == "registration"));
    }

    #[test]
    fn keys_take_either_spelling_and_name_their_line() {
        assert!(ConfigFile::parse("database_url = \"sqlite://x.db\"\nbody-limit = 4096\n").is_ok());
        let (line, why) = ConfigFile::parse("listen = \"a\"\n\nlsiten = \"b\"\n").unwrap_err();
        assert_eq!(line, Some(3));
        assert!(why.contains("lsiten"), "{why}");
        let (_, why) = ConfigFile::parse("listen = \"a\"\nlisten_ = 1\nlisten = 2").unwrap_err();
        assert!(!why.is_empty());
    }
}
