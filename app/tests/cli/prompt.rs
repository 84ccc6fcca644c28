//! The password prompt on a real terminal: `confab user create` under `script` (a pseudo-
//! terminal) asks twice and never echoes what is typed. No timing guesses: the test types only
//! once it sees the prompt and `stty` says the terminal's echo is off.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::h::{BIN, PASSWORD, Server, login, migrated_dir, poll};

/// What the terminal showed so far, as text.
fn shown(seen: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&seen.lock().unwrap()).into_owned()
}

/// Whether the terminal `tty` has echo off (`-echo` in `stty -a`).
fn echo_off(tty: &str) -> bool {
    let out = Command::new("stty").args(["-F", tty, "-a"]).output();
    out.is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .any(|w| w == "-echo")
    })
}

#[test]
fn on_a_terminal_the_password_is_asked_twice_and_never_echoed() {
    let d = migrated_dir();
    let tty_file = d.path().join("tty");
    // The terminal's name first, for stty; then confab, on that terminal.
    let inner = format!(
        "tty > '{}'; exec '{BIN}' user create carol",
        tty_file.display()
    );
    let mut child = Command::new("script")
        .args(["-qec", &inner, "/dev/null"])
        .current_dir(d.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", d.path())
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (util-linux) runs a command on a pseudo-terminal");
    let mut keys = child.stdin.take().expect("stdin");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut screen = child.stdout.take().expect("stdout");
    let reader = {
        let seen = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 256];
            while let Ok(n) = screen.read(&mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let wait = Duration::from_secs(30);
    for prompt in ["New password: ", "Again: "] {
        assert!(
            poll(wait, || shown(&seen).contains(prompt)),
            "no {prompt:?}: {}",
            shown(&seen)
        );
        let tty = std::fs::read_to_string(&tty_file).expect("tty name");
        assert!(poll(wait, || echo_off(tty.trim())), "echo stayed on");
        keys.write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
    }
    assert!(
        poll(wait, || shown(&seen).contains("created user carol")),
        "{}",
        shown(&seen)
    );
    drop(keys);
    assert!(child.wait().unwrap().success());
    reader.join().unwrap();
    let screen = shown(&seen);
    assert!(
        !screen.contains(PASSWORD),
        "the password was echoed:\n{screen}"
    );

    let server = Server::start(d.path(), &[]);
    assert_eq!(login(server.port, "carol", PASSWORD).status, 200);
    server.stop();
}
