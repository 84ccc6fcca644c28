//! Running the binary, and a tiny raw HTTP/1.1 client: what every subcommand's tests share.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_confab");
/// An address any run may bind: failing runs never depend on port 8080 being free.
pub const ANY: &str = "127.0.0.1:0";
/// A password that meets the rules.
pub const PASSWORD: &str = "correct horse";

/// A fresh, empty working directory.
pub fn dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// A fresh working directory whose default database (`confab.db`) is already migrated, so
/// that a later failing run prints nothing but its error.
pub fn migrated_dir() -> tempfile::TempDir {
    let d = dir();
    let out = run(d.path(), ["migrate"]);
    assert!(out.status.success(), "migrate failed: {}", text(&out));
    d
}

/// `confab` in `dir`, with a clean environment (only PATH and HOME) and no stdin.
pub fn confab(dir: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `confab ARGS` in `dir` to completion.
pub fn run<I, S>(dir: &Path, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    run_env(dir, args, &[])
}

/// Runs `confab ARGS` in `dir` with these environment variables.
pub fn run_env<I, S>(dir: &Path, args: I, env: &[(&str, &str)]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = confab(dir);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run confab")
}

/// Runs `confab ARGS` in `dir`, writing `stdin` to its standard input.
pub fn run_stdin<I, S>(dir: &Path, args: I, stdin: &str) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut child = confab(dir)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn confab");
    // A run that fails before reading stdin may close it early: that is its answer.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("wait for confab")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Everything about a run, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// No panic, no backtrace hint in `stderr`.
pub fn assert_no_panic(stderr: &str) {
    for bad in ["panicked", "RUST_BACKTRACE", "stack backtrace", "thread '"] {
        assert!(!stderr.contains(bad), "{bad:?} in stderr:\n{stderr}");
    }
}

/// The run failed (exit 1) and wrote exactly one line on stderr, `confab: …`, containing
/// every needle (case-insensitively). Returns that line.
pub fn assert_one_error_line(out: &Output, needles: &[&str]) -> String {
    let err = stderr(out);
    assert_no_panic(&err);
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "want exactly one stderr line:\n{}",
        text(out)
    );
    let line = lines[0];
    assert!(line.starts_with("confab: "), "{}", text(out));
    assert!(line.len() > "confab: ".len() + 10, "too terse: {line:?}");
    let lower = line.to_lowercase();
    for n in needles {
        assert!(
            lower.contains(&n.to_lowercase()),
            "{n:?} missing from {line:?}"
        );
    }
    assert!(stdout(out).is_empty(), "{}", text(out));
    line.to_owned()
}

/// The command line was refused by the parser: exit 2, `error: …` naming every needle.
pub fn assert_usage_error(out: &Output, needles: &[&str]) {
    let err = stderr(out);
    assert_no_panic(&err);
    assert_eq!(out.status.code(), Some(2), "{}", text(out));
    assert!(err.starts_with("error: "), "{}", text(out));
    for n in needles {
        assert!(err.contains(n), "{n:?} missing from:\n{err}");
    }
    assert!(stdout(out).is_empty(), "{}", text(out));
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Sends `kill -SIG pid`.
pub fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(st.success(), "kill -{sig} {pid} failed");
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// One HTTP/1.1 request on a new connection (`Connection: close`).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<Response> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no header end in {raw:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line in {head:?}")))?;
    Ok(Response {
        status,
        body: body.to_owned(),
    })
}

pub fn get(port: u16, path: &str, headers: &[(&str, &str)]) -> Response {
    http(port, "GET", path, headers, None).expect("GET")
}

pub fn post_json(port: u16, path: &str, json: &str) -> Response {
    http(
        port,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        Some(json),
    )
    .expect("POST")
}

/// Logs in; the response.
pub fn login(port: u16, login: &str, password: &str) -> Response {
    post_json(
        port,
        "/api/v1/auth/login",
        &format!(r#"{{"login":"{login}","password":"{password}"}}"#),
    )
}

/// The string value of the first `"key":"…"` in a JSON text.
pub fn json_str(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = json[start..].find('"')?;
    Some(json[start..start + len].to_owned())
}

/// Creates users in `dir` with [`PASSWORD`]: `(name, admin)`.
pub fn create_users(dir: &std::path::Path, who: &[(&str, bool)]) {
    for (name, admin) in who {
        let mut args = vec!["user", "create", name, "--password", PASSWORD];
        if *admin {
            args.push("--admin");
        }
        let out = run(dir, &args);
        assert!(out.status.success(), "{}", text(&out));
    }
}

/// The access token of `user`, logged in.
pub fn bearer(port: u16, user: &str) -> String {
    let r = login(port, user, PASSWORD);
    assert_eq!(r.status, 200, "{}", r.body);
    format!(
        "Bearer {}",
        json_str(&r.body, "access_token").expect("token")
    )
}

/// `method path` with a JSON body as the holder of `bearer`.
pub fn call(port: u16, method: &str, path: &str, bearer: &str, json: &str) -> Response {
    http(
        port,
        method,
        path,
        &[
            ("Content-Type", "application/json"),
            ("Authorization", bearer),
        ],
        Some(json),
    )
    .expect("request")
}

/// The `id` of a created object (its first `"id"`).
pub fn created(r: &Response) -> String {
    assert_eq!(r.status, 201, "{}", r.body);
    json_str(&r.body, "id").expect("id")
}

/// Polls until `done` or the deadline.
pub fn poll(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `confab` server; killed on drop if still alive.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub dir: PathBuf,
}

impl Server {
    /// Starts `confab ARGS --listen 127.0.0.1:<free port>` in `dir` and waits for /healthz.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        Self::start_env(dir, args, &[])
    }

    /// Like [`Server::start`], with environment variables.
    pub fn start_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::try_start(dir, args, env)
            .unwrap_or_else(|out| panic!("confab exited instead of serving:\n{}", text(&out)))
    }

    /// Spawns a prepared command that will listen on `port`, and waits for /healthz.
    pub fn spawn(cmd: Command, dir: &Path, port: u16) -> Self {
        Self::try_spawn(cmd, dir, port)
            .unwrap_or_else(|out| panic!("confab exited instead of serving:\n{}", text(&out)))
    }

    /// Starts like [`Server::start_env`]; the run's output if it exits instead of serving.
    pub fn try_start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<Self, Output> {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = confab(dir);
        cmd.args(args).args(["--listen", &listen]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self::try_spawn(cmd, dir, port)
    }

    /// Spawns and waits for /healthz; the run's output if it exits first.
    pub fn try_spawn(mut cmd: Command, dir: &Path, port: u16) -> Result<Self, Output> {
        let child = cmd.spawn().expect("spawn confab");
        let mut server = Server {
            child,
            port,
            dir: dir.to_owned(),
        };
        let mut exited = None;
        let up = poll(Duration::from_secs(10), || {
            if let Some(st) = server.child.try_wait().expect("try_wait") {
                exited = Some(st);
                return true;
            }
            matches!(http(port, "GET", "/healthz", &[], None), Ok(r) if r.status == 200)
        });
        assert!(
            up,
            "confab did not answer /healthz on port {port} within 10 s"
        );
        if let Some(status) = exited {
            let mut stdout = Vec::new();
            if let Some(mut o) = server.child.stdout.take() {
                let _ = o.read_to_end(&mut stdout);
            }
            let stderr = server.read_stderr().into_bytes();
            return Err(Output {
                status,
                stdout,
                stderr,
            });
        }
        Ok(server)
    }

    fn read_stderr(&mut self) -> String {
        let mut s = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }

    /// Sends `sig`, waits (at most `within`) for the exit; the status and stderr.
    pub fn stop_with(mut self, sig: &str, within: Duration) -> (ExitStatus, String) {
        let started = Instant::now();
        signal(self.child.id(), sig);
        let mut status = None;
        let exited = poll(within, || {
            status = self.child.try_wait().expect("try_wait");
            status.is_some()
        });
        assert!(
            exited,
            "confab did not exit within {within:?} of SIG{sig} (waited {:?})",
            started.elapsed()
        );
        let err = self.read_stderr();
        (status.expect("status"), err)
    }

    /// SIGTERM; asserts a prompt, clean exit; the server's stderr.
    pub fn stop(self) -> String {
        let (status, err) = self.stop_with("TERM", Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "exit after SIGTERM; stderr:\n{err}");
        assert_no_panic(&err);
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
