//! Presence: what the worker tells the board and when (first and last sockets, the grace, the
//! 5 s gap, adopted users, a board that fails), what it announces after a won claim only, and
//! what `user` lookups show to whom. Time is tokio's paused clock for the worker's timers; the
//! board's clock is whatever the mock answers.

mod lookups;
mod worker;

use std::time::Duration;

use confab_domain::presence::{Announced, Sighting};
use confab_domain::{Event, Timestamp};

use super::{NOW, RecordingBus};
use crate::presence::{Reading, Readings, Upkeep};

/// Lets the worker run for `d` of (paused) time.
async fn run_for(d: Duration) {
    tokio::time::sleep(d).await;
}

/// `NOW` moved by `secs` seconds: the board's clock.
fn at(secs: i64) -> Timestamp {
    NOW + time::Duration::seconds(secs)
}

fn reading(sighting: Sighting, last: Option<(bool, i64)>) -> Reading {
    Reading {
        sighting,
        last: last.map(|(online, secs)| Announced {
            online,
            at: at(secs),
        }),
    }
}

fn readings(now: i64, of: Vec<Reading>) -> Readings {
    Readings { now: at(now), of }
}

fn registered() -> crate::Result<Upkeep> {
    Ok(Upkeep::default())
}

/// Every event published so far.
fn published(bus: &RecordingBus) -> Vec<Event> {
    std::iter::from_fn(|| bus.try_recv()).collect()
}
