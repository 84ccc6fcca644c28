//! The chromedriver of this test process, started on first use under a watchdog.

use super::*;

// ---------------------------------------------------------------------------------------------
// chromedriver

/// Starts `$2…` in the watchdog's own process group with output appended to `$1`, prints its
/// pid, waits for end-of-file on stdin (the test process let go), then SIGKILLs the whole
/// group: chromedriver and the Chromium processes it started (they inherit the group).
const WATCHDOG: &str = r#"trap '' INT TERM HUP
log=$1
shift
"$@" >>"$log" 2>&1 </dev/null &
echo "$!"
cat >/dev/null
kill -9 0"#;

/// The chromedriver of this test process.
pub struct Driver {
    pub(super) port: u16,
    /// Held for the life of the process: when it closes, the watchdog kills the group.
    _alive: Mutex<ChildStdin>,
    _watchdog: Mutex<Child>,
    /// Its log (`chromedriver`'s own output), for failure messages.
    log: PathBuf,
    _dir: TempDir,
}

impl Driver {
    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What chromedriver has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn start() -> Result<Self, String> {
        if !Path::new(CHROMIUM).is_file() {
            return Err(format!("{CHROMIUM} is missing: {INSTALL}"));
        }
        let binary = find_on_path("chromedriver")
            .or_else(|| {
                let debian = PathBuf::from("/usr/bin/chromedriver");
                debian.is_file().then_some(debian)
            })
            .ok_or_else(|| format!("chromedriver is not on PATH: {INSTALL}"))?;
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let log = dir.path().join("chromedriver.log");
        let mut last = String::new();
        // The port is free when we look and taken when chromedriver binds it: another process
        // may take it in between, so a failed start is tried again on another port.
        for _ in 0..5 {
            let port = free_port().map_err(|e| format!("no free port: {e}"))?;
            let mut command = Command::new("sh");
            command
                .arg("-c")
                .arg(WATCHDOG)
                .arg("confab-chromedriver-watchdog")
                .arg(&log)
                .arg(&binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null());
            std::os::unix::process::CommandExt::process_group(&mut command, 0);
            let mut watchdog = command.spawn().map_err(|e| format!("sh: {e}"))?;
            let alive = watchdog.stdin.take().ok_or("the watchdog's stdin")?;
            let mut out = watchdog.stdout.take().ok_or("the watchdog's stdout")?;
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            while out.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
                line.push(byte[0]);
            }
            let pid: i32 = String::from_utf8_lossy(&line)
                .trim()
                .parse()
                .map_err(|_| "the watchdog did not print a pid".to_owned())?;
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while std::time::Instant::now() < deadline && running(pid) {
                if let Ok((200, body)) = raw_http(port, "GET", "/status", "") {
                    let ready = serde_json::from_str::<Value>(&body)
                        .ok()
                        .and_then(|v| v["value"]["ready"].as_bool());
                    if ready == Some(true) {
                        return Ok(Self {
                            port,
                            _alive: Mutex::new(alive),
                            _watchdog: Mutex::new(watchdog),
                            log,
                            _dir: dir,
                        });
                    }
                }
                std::thread::sleep(POLL);
            }
            last = format!(
                "chromedriver ({}) did not become ready on port {port}; its log:\n{}",
                binary.display(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            // Closing the pipe makes the watchdog kill what it started.
            drop(alive);
            let _ = watchdog.wait();
        }
        Err(last)
    }
}

/// The process's chromedriver, started on first use. Panics (saying what to install) when
/// Chromium or chromedriver is missing or does not start.
pub fn driver() -> &'static Driver {
    static DRIVER: OnceLock<Result<Driver, String>> = OnceLock::new();
    match DRIVER.get_or_init(Driver::start) {
        Ok(driver) => driver,
        Err(why) => panic!("{why}"),
    }
}

pub(super) fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

pub(super) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

pub(super) fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        })
        .unwrap_or(false)
}

/// One blocking HTTP/1.1 request to chromedriver (for its start and for ending a session from
/// `Drop`, where there may be no runtime to use): the status and the body. The answer is read
/// by its `Content-Length` (chromedriver keeps the connection open whatever we ask).
pub(super) fn raw_http(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        answer.extend_from_slice(&chunk[..n]);
        if let Some(at) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..at]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (at + 4, length);
        }
    };
    while answer.len() < head_end + length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&answer[..head_end]);
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = String::from_utf8_lossy(&answer[head_end..]).into_owned();
    Ok((status, body))
}
