//! Ends the sockets of users banned where no bus reached this instance: by `confab user ban`
//! (a separate process, whose in-process bus no server hears) or by an admin whose ban event
//! the bus lost. Every [`EVERY`] it asks the store for the accounts banned within the last
//! [`WINDOW`] and announces each new one on the bus once. A failed look is logged and tried
//! again at the next tick, never fatal; it never bans or unbans anyone itself.

use std::collections::HashSet;
use std::time::Duration;

use confab_domain::UserId;
use confab_ports::service::Accounts;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How often the store is asked: a ban by the CLI ends its sockets within about this.
const EVERY: Duration = Duration::from_secs(2);

/// How far back each look reaches: several ticks, and clocks of instances a little apart.
const WINDOW: time::Duration = time::Duration::seconds(30);

/// Starts the watch. It ends when `stop` turns true or its sender is dropped.
pub(crate) fn spawn(accounts: Accounts, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut announced: HashSet<UserId> = HashSet::new();
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                _ = tick.tick() => {
                    match accounts.announce_recent_bans(WINDOW, &mut announced).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(bans = n, "ended the sockets of banned users"),
                        Err(e) => tracing::warn!(error = %e, "ban watch failed; trying again next tick"),
                    }
                }
            }
        }
    })
}
