//! Who gets a connection: a cap on open connections in total and per client address, decided
//! when a connection is accepted. Over a cap, a few connections are still served by a refusing
//! service (so a client sees a clean 429/503, and `/healthz` still answers); past those, the
//! connection is answered with canned bytes and closed. This must never block the accept loop
//! nor hold a file descriptor for long.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use confab_http::ConnectionRefusal as Refusal;

/// Connections over a cap that are still read and answered (the rest get canned bytes).
const REFUSING_SLOTS: u32 = 64;

/// The caps, once the open-file limit has been taken into account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    /// Open connections in total, WebSockets included.
    pub total: u32,
    /// Open connections per client address (IPv6: per /64); `None`: no cap.
    pub per_address: Option<u32>,
}

/// What to do with an accepted connection. Each variant's [`Slot`] frees its place on drop.
#[derive(Debug)]
pub enum Admit {
    Serve(Slot),
    /// Read the request and answer it with the refusal (health checks are still answered).
    Refuse(Refusal, Slot),
    /// Write the refusal at once and close.
    Shed(Refusal),
}

#[derive(Debug, Default)]
struct Counts {
    total: u32,
    refusing: u32,
    per_address: HashMap<IpAddr, u32>,
}

/// The counters behind [`Caps`], shared by the accept loop and every open connection.
#[derive(Debug, Clone)]
pub struct Admission {
    caps: Caps,
    counts: Arc<Mutex<Counts>>,
}

/// A connection's place in the counts, freed when dropped (the connection closed).
#[derive(Debug)]
pub struct Slot {
    counts: Arc<Mutex<Counts>>,
    kind: SlotKind,
}

#[derive(Debug)]
enum SlotKind {
    Served(IpAddr),
    Refusing,
}

impl Admission {
    pub fn new(caps: Caps) -> Self {
        Self {
            caps,
            counts: Arc::default(),
        }
    }

    /// Counts a connection from `ip` in, if the caps allow.
    pub fn admit(&self, ip: IpAddr) -> Admit {
        let key = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let held = counts.per_address.get(&key).copied().unwrap_or(0);
        let refusal = if self.caps.per_address.is_some_and(|cap| held >= cap) {
            Some(Refusal::TooManyFromAddress)
        } else if counts.total >= self.caps.total {
            Some(Refusal::ServerFull)
        } else {
            None
        };
        match refusal {
            None => {
                counts.total += 1;
                counts.per_address.insert(key, held + 1);
                metrics::gauge!("confab_http_connections_open").set(counts.total);
                Admit::Serve(self.slot(SlotKind::Served(key)))
            }
            Some(why) if counts.refusing < REFUSING_SLOTS => {
                count_refusal(why);
                counts.refusing += 1;
                Admit::Refuse(why, self.slot(SlotKind::Refusing))
            }
            Some(why) => {
                count_refusal(why);
                Admit::Shed(why)
            }
        }
    }

    fn slot(&self, kind: SlotKind) -> Slot {
        Slot {
            counts: Arc::clone(&self.counts),
            kind,
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        match self.kind {
            SlotKind::Served(key) => {
                counts.total = counts.total.saturating_sub(1);
                metrics::gauge!("confab_http_connections_open").set(counts.total);
                if let Some(held) = counts.per_address.get_mut(&key) {
                    *held = held.saturating_sub(1);
                    if *held == 0 {
                        counts.per_address.remove(&key);
                    }
                }
            }
            SlotKind::Refusing => counts.refusing = counts.refusing.saturating_sub(1),
        }
    }
}

fn count_refusal(why: Refusal) {
    let reason = match why {
        Refusal::TooManyFromAddress => "address",
        Refusal::ServerFull => "full",
    };
    metrics::counter!("confab_http_connections_refused_total", "reason" => reason).increment(1);
}

/// The unit one client is counted by: an IPv4 address, or an IPv6 /64 (one subscriber's
/// network: anyone holding one can use all of its addresses). IPv4-mapped IPv6 counts as IPv4.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn served(a: Admit) -> Slot {
        match a {
            Admit::Serve(slot) => slot,
            other => panic!("expected Serve, got {other:?}"),
        }
    }

    #[test]
    fn an_address_over_its_cap_is_refused_while_others_are_served() {
        let admission = Admission::new(Caps {
            total: 10,
            per_address: Some(2),
        });
        let _a = served(admission.admit(ip("10.0.0.1")));
        let b = served(admission.admit(ip("10.0.0.1")));
        assert!(matches!(
            admission.admit(ip("10.0.0.1")),
            Admit::Refuse(Refusal::TooManyFromAddress, _)
        ));
        let _c = served(admission.admit(ip("10.0.0.2")));
        drop(b);
        let _d = served(admission.admit(ip("10.0.0.1")));
        assert_eq!(admission.counts.lock().unwrap().total, 3);
    }

    #[test]
    fn the_total_cap_refuses_then_sheds_once_the_refusing_slots_are_taken() {
        let admission = Admission::new(Caps {
            total: 1,
            per_address: None,
        });
        let _a = served(admission.admit(ip("10.0.0.1")));
        let refusing: Vec<_> = (0..REFUSING_SLOTS)
            .map(|_| match admission.admit(ip("10.0.0.2")) {
                Admit::Refuse(Refusal::ServerFull, slot) => slot,
                other => panic!("expected Refuse, got {other:?}"),
            })
            .collect();
        assert!(matches!(
            admission.admit(ip("10.0.0.3")),
            Admit::Shed(Refusal::ServerFull)
        ));
        drop(refusing);
        assert!(matches!(
            admission.admit(ip("10.0.0.3")),
            Admit::Refuse(Refusal::ServerFull, _)
        ));
    }

    #[test]
    fn ipv6_addresses_count_per_64_and_mapped_ipv4_as_ipv4() {
        let admission = Admission::new(Caps {
            total: 10,
            per_address: Some(1),
        });
        let _a = served(admission.admit(ip("2001:db8:1:2::1")));
        assert!(matches!(
            admission.admit(ip("2001:db8:1:2:ffff::9")),
            Admit::Refuse(Refusal::TooManyFromAddress, _)
        ));
        let _b = served(admission.admit(ip("2001:db8:1:3::1")));
        let _c = served(admission.admit(ip("192.0.2.7")));
        assert!(matches!(
            admission.admit(ip("::ffff:192.0.2.7")),
            Admit::Refuse(Refusal::TooManyFromAddress, _)
        ));
    }
}
