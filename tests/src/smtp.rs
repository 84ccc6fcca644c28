//! A small SMTP server on 127.0.0.1 for the black-box suite: it speaks enough of RFC 5321
//! (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for lettre, keeps every mail it receives,
//! and lets a test wait for the mail sent to an address and read the code in it. Written here
//! rather than taken from a crate or a Python package so that the suite needs nothing but cargo.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`), as sent.
    pub to: Vec<String>,
    /// The message: headers and body, dot-unstuffed.
    pub data: String,
}

impl Received {
    /// The message with quoted-printable soft breaks and escapes undone (good enough to read
    /// an ASCII text mail).
    pub fn text(&self) -> String {
        let joined = self.data.replace("=\r\n", "").replace("=\n", "");
        let mut out = String::with_capacity(joined.len());
        let mut rest = joined.as_str();
        while let Some(at) = rest.find('=') {
            out.push_str(&rest[..at]);
            let hex = rest.get(at + 1..at + 3).unwrap_or("");
            match u8::from_str_radix(hex, 16) {
                Ok(b) if hex.len() == 2 => {
                    out.push(char::from(b));
                    rest = &rest[at + 3..];
                }
                _ => {
                    out.push('=');
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The 6-digit code in the subject line `Your confab code: NNNNNN`.
    pub fn code(&self) -> String {
        let marker = "Your confab code: ";
        let at = self
            .data
            .find(marker)
            .unwrap_or_else(|| panic!("no code in mail: {}", self.data));
        let code: String = self.data[at + marker.len()..].chars().take(6).collect();
        assert!(
            code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
            "malformed code {code:?} in {}",
            self.data
        );
        code
    }
}

/// The running server. Stops when dropped.
pub struct SmtpServer {
    pub port: u16,
    inbox: Arc<Mutex<Vec<Received>>>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("smtp bind");
        let port = listener.local_addr().expect("smtp addr").port();
        let inbox = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&inbox);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let inbox = Arc::clone(&keep);
                tokio::spawn(async move {
                    // A client that hangs up mid-session is its own business.
                    let _ = session(stream, inbox).await;
                });
            }
        });
        Self { port, inbox, task }
    }

    /// The server flags that send mail here (plain SMTP, no credentials).
    pub fn flags(&self) -> Vec<String> {
        [
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &self.port.to_string(),
            "--smtp-security",
            "none",
            "--mail-from",
            "confab@test.invalid",
            "--mail-from-name",
            "Confab Test",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
    }

    /// Every mail received so far for `to`.
    pub fn mails_for(&self, to: &str) -> Vec<Received> {
        let inbox = self.inbox.lock().unwrap_or_else(|p| p.into_inner());
        inbox
            .iter()
            .filter(|m| m.to.iter().any(|t| t.eq_ignore_ascii_case(to)))
            .cloned()
            .collect()
    }

    /// Waits (up to 10 s) until `count` mails for `to` have arrived, and returns the newest.
    pub async fn wait_for(&self, to: &str, count: usize) -> Received {
        for _ in 0..200 {
            let mails = self.mails_for(to);
            if mails.len() >= count {
                return mails[count - 1].clone();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "mail #{count} for {to} did not arrive; got {} for it",
            self.mails_for(to).len()
        );
    }

    /// The code of mail #`count` for `to`.
    pub async fn code(&self, to: &str, count: usize) -> String {
        self.wait_for(to, count).await.code()
    }

    /// Asserts that no more than `count` mails for `to` arrive within a short while (mail
    /// goes out in the background, so "none" needs a moment to be believed).
    pub async fn assert_count_stays(&self, to: &str, count: usize) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(self.mails_for(to).len(), count, "mails for {to}");
    }

    /// How many mails arrived in all.
    pub fn total(&self) -> usize {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

fn address(arg: &str) -> String {
    let start = arg.find('<').map(|i| i + 1).unwrap_or(0);
    let end = arg.rfind('>').unwrap_or(arg.len());
    arg.get(start..end).unwrap_or("").to_owned()
}

async fn session(stream: TcpStream, inbox: Arc<Mutex<Vec<Received>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write
        .write_all(b"220 127.0.0.1 ESMTP confab-tests\r\n")
        .await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-127.0.0.1\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                from.clear();
                to.clear();
                b"250 OK\r\n"
            }
            "MAIL" => {
                from = address(command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(address(command));
                b"250 OK\r\n"
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                inbox
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Received {
                        from: std::mem::take(&mut from),
                        to: std::mem::take(&mut to),
                        data,
                    });
                b"250 OK queued\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply).await?;
    }
}
