//! Puts the commit the binary is built from into `CONFAB_COMMIT` (shown by `confab --version`):
//! `git rev-parse --short HEAD`, or the `CONFAB_COMMIT` variable when set (a build from a
//! tarball), else "unknown". It never fails the build: git missing or not a checkout is fine.
//!
//! Cargo re-runs it when HEAD moves: the checkout's HEAD file and the branch it names are
//! watched where git says they are, which also works in a worktree (where `.git` is a file).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-env-changed=CONFAB_COMMIT");
    let commit = std::env::var("CONFAB_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    watch_head();
    println!("cargo::rustc-env=CONFAB_COMMIT={commit}");
}

/// One line of git's answer, if git ran and succeeded.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let line = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    // Only what a commit id or a path can be: nothing that could break the env line.
    (!line.is_empty() && !line.contains(['\n', '\r'])).then_some(line)
}

/// Tells Cargo to re-run when HEAD or its branch moves. Outside a checkout there is nothing to
/// watch, and the build script then runs again only when it changes itself.
fn watch_head() {
    let Some(git_dir) = git(&["rev-parse", "--git-dir"]).map(PathBuf::from) else {
        println!("cargo::rerun-if-changed=build.rs");
        return;
    };
    watch(&git_dir.join("HEAD"));
    let common = git(&["rev-parse", "--git-common-dir"]).map_or(git_dir, PathBuf::from);
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(&common.join(branch));
    }
    // A branch whose ref was packed moves in this file.
    watch(&common.join("packed-refs"));
}

fn watch(path: &Path) {
    if path.exists() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}
