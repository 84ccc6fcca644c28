//! The background sweeps, until the server shuts down: every `--expiry-sweep-interval` the
//! expiry sweep (rooms whose time is up, expired pool entries) and the removal of uploads no
//! message took within a day; hourly (and once at start) the bytes nothing names any more.
//! A failed sweep (the database down, a lock timeout) is logged and tried again at the next
//! tick, never fatal.

use std::time::Duration;

use confab_ports::service::{Files, Matchmaking};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// How often leftover bytes are looked for: it walks every blob, so not at every tick.
const LEFTOVERS_EVERY: Duration = Duration::from_secs(3600);

/// Starts the sweeps. They end when `stop` turns true or its sender is dropped.
pub(crate) fn spawn(
    pool: Matchmaking,
    files: Files,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        // After a slow sweep, wait a whole interval again rather than sweeping in a burst.
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut leftovers_due = Instant::now();
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = tick.tick() => {
                    sweep_expired(&pool).await;
                    sweep_files(&files, Instant::now() >= leftovers_due).await;
                    if Instant::now() >= leftovers_due {
                        leftovers_due = Instant::now() + LEFTOVERS_EVERY;
                    }
                }
            }
        }
    })
}

async fn sweep_expired(pool: &Matchmaking) {
    match pool.sweep().await {
        Ok(swept) if !swept.closed.is_empty() || swept.dropped_entries > 0 => {
            tracing::info!(
                closed_rooms = swept.closed.len(),
                dropped_entries = swept.dropped_entries,
                "expiry sweep"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "expiry sweep failed; trying again next tick"),
    }
}

async fn sweep_files(files: &Files, leftovers: bool) {
    match files.sweep(leftovers).await {
        Ok(swept) if swept != Default::default() => {
            tracing::info!(
                unused_uploads = swept.unused,
                orphaned_blobs = swept.orphans,
                partial_writes = swept.partial,
                "attachment sweep"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "attachment sweep failed; trying again next tick"),
    }
}
