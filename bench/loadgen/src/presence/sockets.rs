//! The presence scenario's sockets. Observers: one per group, connected through the whole run,
//! noting every `presence` frame with when it came. Churners: one per churning user, each read
//! by a task of its own (so pings are answered and nothing piles up) until it is told to
//! close; opening and closing note the instant, which latencies are measured from. Nothing
//! here may wait on a socket while holding the log's lock.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Result;
use serde::Deserialize;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::ws::{self, Socket, Target};

/// One `presence` frame an observer heard.
#[derive(Clone, Debug)]
pub struct Heard {
    pub at: Instant,
    pub user: String,
    pub online: bool,
}

#[derive(Deserialize)]
struct PresenceFrame {
    user_id: String,
    online: bool,
}

/// The observers' sockets, reading until stopped.
pub struct Observers {
    log: Arc<Mutex<Vec<Heard>>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<bool>>,
}

impl Observers {
    /// Starts reading `sockets`.
    pub fn start(sockets: Vec<Socket>) -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = watch::channel(false);
        let tasks = sockets
            .into_iter()
            .map(|socket| tokio::spawn(observe(socket, Arc::clone(&log), stopped.clone())))
            .collect();
        Self { log, stop, tasks }
    }

    /// Everything heard at or after `from`.
    pub fn heard_since(&self, from: Instant) -> Vec<Heard> {
        let log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        log.iter().filter(|h| h.at >= from).cloned().collect()
    }

    /// Stops reading; how many observer sockets the server closed meanwhile.
    pub async fn stop(self) -> usize {
        let _ = self.stop.send(true);
        let mut lost = 0;
        for task in self.tasks {
            lost += usize::from(!task.await.unwrap_or(false));
        }
        lost
    }
}

/// Reads one observer socket; `false` when the server ended it.
async fn observe(
    mut socket: Socket,
    log: Arc<Mutex<Vec<Heard>>>,
    mut stopped: watch::Receiver<bool>,
) -> bool {
    loop {
        tokio::select! {
            biased;
            _ = stopped.changed() => break,
            text = ws::next_text(&mut socket) => {
                let Ok(text) = text else { return false };
                if ws::kind(&text) != "presence" {
                    continue;
                }
                if let Ok(f) = serde_json::from_str::<PresenceFrame>(&text) {
                    let heard = Heard { at: Instant::now(), user: f.user_id, online: f.online };
                    log.lock().unwrap_or_else(|p| p.into_inner()).push(heard);
                }
            }
        }
    }
    ws::close(socket).await;
    true
}

/// A churning user's open socket, read by its own task.
pub struct Churner {
    close: oneshot::Sender<()>,
    task: JoinHandle<Instant>,
}

impl Churner {
    /// Opens a socket with `token`; returns it once past `ready`, with the instant the
    /// connection began (the server may announce the user before its `ready` is read).
    pub async fn open(target: &Target, token: &str) -> Result<(Self, Instant)> {
        let began = Instant::now();
        let mut socket = ws::connect_ready(target, token, ws::IDLE_BUFFER).await?;
        let (close, closing) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let mut closing = closing;
            loop {
                tokio::select! {
                    biased;
                    _ = &mut closing => break,
                    text = ws::next_text(&mut socket) => if text.is_err() { break },
                }
            }
            let closed = Instant::now();
            ws::close(socket).await;
            closed
        });
        Ok((Self { close, task }, began))
    }

    /// Closes the socket; the instant the close began.
    pub async fn close(self) -> Instant {
        let _ = self.close.send(());
        self.task.await.unwrap_or_else(|_| Instant::now())
    }
}
