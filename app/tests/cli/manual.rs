//! `confab completions SHELL`, `confab man` and `confab --version`: generated from the command
//! line's definition, written to stdout, and naming the commit the binary was built from.

use crate::h::{assert_usage_error, dir, run, stdout, text};

#[test]
fn completions_cover_the_subcommands_for_every_shell() {
    let d = dir();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(d.path(), ["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out));
        let script = stdout(&out);
        assert!(script.len() > 1000, "{shell}: too short:\n{script}");
        for word in ["user", "backup", "disable-2fa", "--database-url"] {
            assert!(script.contains(word), "{shell}: {word:?} missing");
        }
    }
    let bash = stdout(&run(d.path(), ["completions", "bash"]));
    assert!(bash.contains("complete -F _confab"), "{bash}");
    for bad in ["tcsh", "", "bash; rm -rf /"] {
        assert_usage_error(&run(d.path(), ["completions", bad]), &["bash"]);
    }
    assert_usage_error(&run(d.path(), ["completions"]), &["<SHELL>"]);
}

#[test]
fn the_man_page_is_roff_with_the_subcommands() {
    let d = dir();
    let out = run(d.path(), ["man"]);
    assert!(out.status.success(), "{}", text(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH confab 1"), "{page}");
    for word in [".SH NAME", ".SH SYNOPSIS", "backup", "user", "\\-\\-listen"] {
        assert!(page.contains(word), "{word:?} missing");
    }
    // Reads nothing and writes nothing: no database appears.
    assert!(!d.path().join("confab.db").exists());
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let d = dir();
    let out = run(d.path(), ["--version"]);
    assert!(out.status.success(), "{}", text(&out));
    let line = stdout(&out);
    let rest = line
        .trim_end()
        .strip_prefix(concat!("confab ", env!("CARGO_PKG_VERSION"), " (commit "))
        .and_then(|r| r.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not `confab VERSION (commit …)`: {line:?}"));
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // Built here, from this checkout: exactly its HEAD (cargo rebuilt when HEAD moved).
        Some(head) if std::env::var_os("CONFAB_COMMIT").is_none() => assert_eq!(rest, head),
        _ => assert!(
            !rest.is_empty() && !rest.contains(char::is_whitespace),
            "{line:?}"
        ),
    }
}
