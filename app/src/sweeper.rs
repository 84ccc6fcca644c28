//! The expiry sweep: a background task that closes rooms whose time is up and drops expired
//! pool entries, every `--expiry-sweep-interval`, until the server shuts down.

use std::time::Duration;

use confab_ports::service::Matchmaking;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// Starts the sweep. It ends when `stop` turns true or its sender is dropped; a failed sweep
/// (the database down, a lock timeout) is logged and tried again at the next tick, never fatal.
pub(crate) fn spawn(
    pool: Matchmaking,
    every: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        // After a slow sweep, wait a whole interval again rather than sweeping in a burst.
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = tick.tick() => match pool.sweep().await {
                    Ok(swept) if !swept.closed.is_empty() || swept.dropped_entries > 0 => {
                        tracing::info!(
                            closed_rooms = swept.closed.len(),
                            dropped_entries = swept.dropped_entries,
                            "expiry sweep"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expiry sweep failed; trying again next tick"),
                },
            }
        }
    })
}
