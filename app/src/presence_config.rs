//! Settings of presence: the grace and the gap API.md fixes at 5 s (hidden: for tests and
//! measurements only), and how soon a dead instance's users are given up. Parsing and the
//! settings derived from it; nothing here starts anything.

use std::time::Duration;

use clap::Args;
use confab_domain::presence::PresenceRules;
use confab_ports::presence::BoardSettings;
use confab_ports::service::PresenceSettings;

use crate::StartError;
use crate::config::parse_duration;
use crate::wiring::to_time;

/// How often an instance keeps itself registered, as a share of the instance timeout…
const KEEP_ALIVE_SHARE: u32 = 10;
/// …but at least this often.
const KEEP_ALIVE_MAX: Duration = Duration::from_secs(1);
/// Offline announcements are remembered at least this long (more with a longer gap).
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// The shortest instance timeout: an instance keeps alive every tenth of it, and one that
/// pauses for less than this must not be given up.
const SHORTEST_TIMEOUT: Duration = Duration::from_secs(1);

/// Presence.
#[derive(Debug, Clone, Args)]
pub struct PresenceArgs {
    /// How long after their last socket closed a user still counts as online (API: 5 s).
    /// For tests and measurements; not an operator's setting.
    #[arg(long, env = "CONFAB_PRESENCE_GRACE", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub presence_grace: Duration,
    /// The least time between two presence announcements of one user (API: 5 s). For tests
    /// and measurements; not an operator's setting.
    #[arg(long, env = "CONFAB_PRESENCE_GAP", default_value = "5s", value_parser = parse_duration, hide = true)]
    pub presence_gap: Duration,
    /// With --redis-url: an instance silent this long (killed, cut off) counts as dead, and
    /// another announces its users offline (after the grace).
    #[arg(long, env = "CONFAB_PRESENCE_INSTANCE_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub presence_instance_timeout: Duration,
}

impl PresenceArgs {
    /// Refuses an instance timeout too short to keep alive within.
    pub(crate) fn check(&self) -> Result<(), StartError> {
        if self.presence_instance_timeout < SHORTEST_TIMEOUT {
            return Err(StartError(
                "--presence-instance-timeout must be at least 1s".into(),
            ));
        }
        Ok(())
    }

    /// The use case's settings (bounded at start with the other durations).
    pub(crate) fn settings(&self) -> PresenceSettings {
        PresenceSettings {
            rules: PresenceRules {
                grace: to_time(self.presence_grace),
                min_gap: to_time(self.presence_gap),
            },
            keep_alive: (self.presence_instance_timeout / KEEP_ALIVE_SHARE).min(KEEP_ALIVE_MAX),
        }
    }

    /// The board's settings.
    pub(crate) fn board(&self) -> BoardSettings {
        BoardSettings {
            dead_after: self.presence_instance_timeout,
            forget_after: FORGET_AFTER.max(self.presence_gap * 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(grace: u64, gap: u64, timeout: u64) -> PresenceArgs {
        PresenceArgs {
            presence_grace: Duration::from_secs(grace),
            presence_gap: Duration::from_secs(gap),
            presence_instance_timeout: Duration::from_secs(timeout),
        }
    }

    #[test]
    fn an_instance_keeps_alive_well_within_its_timeout_and_at_least_each_second() {
        assert_eq!(args(5, 5, 10).settings().keep_alive, Duration::from_secs(1));
        assert_eq!(
            args(5, 5, 2).settings().keep_alive,
            Duration::from_millis(200)
        );
    }

    #[test]
    fn an_instance_timeout_under_a_second_is_refused() {
        assert!(args(5, 5, 1).check().is_ok());
        let mut short = args(5, 5, 1);
        short.presence_instance_timeout = Duration::from_millis(999);
        assert!(short.check().is_err());
    }

    #[test]
    fn offline_announcements_are_remembered_longer_than_the_gap() {
        assert_eq!(args(5, 5, 10).board().forget_after, FORGET_AFTER);
        assert_eq!(
            args(5, 600, 10).board().forget_after,
            Duration::from_secs(1200)
        );
    }
}
