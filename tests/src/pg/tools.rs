//! Finding the PostgreSQL server binaries on PATH and running them as a user they accept.
//!
//! `initdb` and `pg_ctl` refuse to run as root. As root (containers, CI) the harness therefore
//! runs them as the unprivileged `postgres` user through `runuser`, and hands that user the
//! cluster's directory; as anyone else it runs them directly.

use std::ffi::OsString;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The user the binaries run as when the tests run as root.
const UNPRIVILEGED_USER: &str = "postgres";

/// The oldest major version the harness works with: `DROP DATABASE … WITH (FORCE)` is 13's.
const OLDEST_MAJOR: u32 = 13;

/// What to do when the binaries are missing; every failure to find them says it.
const INSTALL: &str = "the PostgreSQL half of the suite needs the PostgreSQL 15 server binaries \
     (initdb, pg_ctl, postgres) on PATH. Install them (Debian/Ubuntu: `apt-get install \
     postgresql-15`, then put /usr/lib/postgresql/15/bin on PATH, as the package does not; \
     macOS: `brew install postgresql@15`) and run `cargo test --workspace` again";

/// The server binaries and how to run them.
#[derive(Debug)]
pub(super) struct Tools {
    pub initdb: PathBuf,
    pub pg_ctl: PathBuf,
    /// As root: whom to run them as.
    run_as: Option<RunAs>,
}

/// An unprivileged user, and `runuser` to become it.
#[derive(Debug)]
struct RunAs {
    runuser: PathBuf,
    user: &'static str,
    uid: u32,
    gid: u32,
}

impl Tools {
    /// Finds `initdb` and `pg_ctl` on PATH, checks their version, and, as root, the user to
    /// run them as. The error says what to install or set up.
    pub fn find() -> Result<Self, String> {
        let initdb = on_path("initdb").ok_or_else(|| format!("initdb was not found: {INSTALL}"))?;
        let pg_ctl = on_path("pg_ctl").ok_or_else(|| format!("pg_ctl was not found: {INSTALL}"))?;
        check_version(&initdb)?;
        let run_as = if running_as_root() {
            Some(RunAs::find()?)
        } else {
            None
        };
        Ok(Self {
            initdb,
            pg_ctl,
            run_as,
        })
    }

    /// A command running `program` as a user PostgreSQL accepts.
    pub fn command(&self, program: &Path) -> Command {
        let mut argv = self.prefix();
        argv.push(program.into());
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        command
    }

    /// What goes before a program to run it as a user PostgreSQL accepts (empty unless root).
    pub fn prefix(&self) -> Vec<OsString> {
        match &self.run_as {
            Some(r) => vec![
                r.runuser.clone().into(),
                "-u".into(),
                r.user.into(),
                "--".into(),
            ],
            None => Vec::new(),
        }
    }

    /// Gives `dir` to the user the binaries run as, so that `initdb` may create the cluster in
    /// it and `pg_ctl` may write its log there.
    pub fn hand_over(&self, dir: &Path) -> Result<(), String> {
        let Some(r) = &self.run_as else {
            return Ok(());
        };
        std::os::unix::fs::chown(dir, Some(r.uid), Some(r.gid))
            .map_err(|e| format!("cannot give {} to the user {}: {e}", dir.display(), r.user))
    }

    /// A hint for when `initdb` fails on the directory (as another user, every parent of it
    /// must be traversable by that user).
    pub fn directory_hint(&self, dir: &Path) -> String {
        match &self.run_as {
            Some(r) => format!(
                " (initdb runs as the user {}: every parent of {} must be traversable by it; \
                 set TMPDIR to a directory such as /tmp if it is not)",
                r.user,
                dir.display()
            ),
            None => String::new(),
        }
    }
}

impl RunAs {
    /// The unprivileged user and `runuser`; the error says how to get them.
    fn find() -> Result<Self, String> {
        let missing = |what: &str| {
            format!(
                "the tests run as root, and initdb and pg_ctl refuse to run as root, so the \
                 harness runs them as the user `{UNPRIVILEGED_USER}` through `runuser`; {what}. \
                 Create the user (`useradd --system --no-create-home {UNPRIVILEGED_USER}`, or \
                 `apt-get install postgresql-15`, which does), or run the tests as a normal user"
            )
        };
        let runuser = on_path("runuser")
            .or_else(|| {
                ["/usr/sbin/runuser", "/sbin/runuser"]
                    .into_iter()
                    .map(PathBuf::from)
                    .find(|p| is_executable(p))
            })
            .ok_or_else(|| missing("`runuser` (util-linux) was not found"))?;
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id")
                .args([flag, UNPRIVILEGED_USER])
                .output()
                .ok()?;
            if !out.status.success() {
                return None;
            }
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
            return Err(missing(&format!(
                "there is no user `{UNPRIVILEGED_USER}` here"
            )));
        };
        if uid == 0 {
            return Err(missing(&format!(
                "the user `{UNPRIVILEGED_USER}` is root itself"
            )));
        }
        Ok(Self {
            runuser,
            user: UNPRIVILEGED_USER,
            uid,
            gid,
        })
    }
}

/// `name` in a directory of PATH, if it is an executable file there.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root: `/proc/self` belongs to the process's effective user;
/// without `/proc`, `id -u` says.
fn running_as_root() -> bool {
    if let Ok(meta) = std::fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Checks that `initdb --version` (e.g. `initdb (PostgreSQL) 15.18 (Debian …)`) is recent
/// enough. Both binaries answer `--version` before they check for root.
fn check_version(initdb: &Path) -> Result<(), String> {
    let out = Command::new(initdb)
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run {}: {e}; {INSTALL}", initdb.display()))?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let major = text
        .split_whitespace()
        .nth(2)
        .and_then(|v| v.split('.').next())
        .and_then(|v| v.parse::<u32>().ok());
    match major {
        Some(m) if m >= OLDEST_MAJOR => Ok(()),
        _ => Err(format!(
            "{} says {:?}, and the harness needs PostgreSQL {OLDEST_MAJOR} or newer: {INSTALL}",
            initdb.display(),
            text.trim()
        )),
    }
}
