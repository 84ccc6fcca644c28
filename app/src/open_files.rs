//! The open-files limit: every connection is a file descriptor, so the soft limit is raised to
//! the hard limit at start, and the connection cap is kept below what is left, so that the
//! server can always accept (and refuse cleanly) instead of failing with "too many open files".
//! It must never lower a limit.

/// Descriptors kept for everything but client connections: the database and its pool, Redis,
/// logs, listening sockets, and the connections being refused over a cap.
const RESERVED: u64 = 256;

/// The soft open-files limit in force after raising it.
#[derive(Debug, Clone, Copy)]
pub struct OpenFiles {
    pub now: u64,
}

/// Raises the soft open-files limit to the hard limit, and says so in the log.
pub fn raise() -> Option<OpenFiles> {
    let (before, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok(limits) => limits,
        Err(e) => {
            tracing::warn!(error = %e, "the open-files limit could not be read");
            return None;
        }
    };
    let now = match rlimit::increase_nofile_limit(hard) {
        Ok(now) => now,
        Err(e) => {
            tracing::warn!(error = %e, soft = before, hard, "the open-files limit could not be raised");
            before
        }
    };
    tracing::info!(soft_before = before, soft = now, hard, "open-files limit");
    Some(OpenFiles { now })
}

/// The connection cap that fits the open-files limit: `wanted`, or fewer when the limit is
/// lower (with a warning that says which setting to change).
pub fn fit_connections(wanted: u32, limit: Option<OpenFiles>) -> u32 {
    let Some(limit) = limit else { return wanted };
    let room = limit.now.saturating_sub(RESERVED).max(1);
    if u64::from(wanted) <= room {
        return wanted;
    }
    let fitted = u32::try_from(room).unwrap_or(u32::MAX);
    tracing::warn!(
        max_connections = wanted,
        open_files = limit.now,
        fitted,
        "--max-connections is over what the open-files limit allows; holding at most {fitted} (raise the hard limit, e.g. LimitNOFILE= in systemd, to allow more)"
    );
    fitted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_is_kept_below_the_open_files_limit() {
        let limit = Some(OpenFiles { now: 1024 });
        assert_eq!(fit_connections(50_000, limit), 768);
        assert_eq!(fit_connections(500, limit), 500);
        assert_eq!(fit_connections(50_000, None), 50_000);
        let tiny = Some(OpenFiles { now: 100 });
        assert_eq!(fit_connections(50_000, tiny), 1);
    }
}
