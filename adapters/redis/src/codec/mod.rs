//! What travels on the Redis channel: a version byte, then a postcard-encoded envelope (the
//! sending instance, and an event, a heartbeat or a "lost" notice). Compact (varints, ids as
//! 16 bytes) and encoded once per publish. A later version adds a new version byte: an
//! instance skips what it cannot decode instead of misreading it, so a rolling upgrade of
//! mixed versions degrades to re-checks, never to wrong frames.
//!
//! The wire types mirror `domain::Event` here, in the adapter, so the domain stays free of
//! serde; nothing else may depend on this layout.

#[cfg(test)]
mod tests;
mod wire;

use confab_domain::Event;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use wire::WireEvent;

/// The layout version this build writes and reads.
/// 2: messages carry their attachments; 3: replies, reactions, mentions and pins; 4: bans and
/// presence (both issue 18, one version: neither was released alone); 5: a presence event
/// names those a block hides it from.
pub(crate) const VERSION: u8 = 5;

/// What an instance says on the channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Said {
    /// An event to fan out (boxed: a message event dwarfs the other variants).
    Event(Box<Event>),
    /// "I am here": the sender expects to hear its own heartbeat back.
    Heartbeat,
    /// "I failed to publish some events": every instance re-checks against the store.
    Lost,
    /// "I am leaving, and published everything": stop expecting my heartbeat.
    Bye,
}

/// What an instance says, borrowed for encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Saying<'a> {
    Event(&'a Event),
    Heartbeat,
    Lost,
    Bye,
}

/// One message on the channel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Envelope {
    /// The instance that published it.
    pub origin: Uuid,
    pub said: Said,
}

/// Why a payload was skipped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("empty payload")]
    Empty,
    #[error("layout version {0} is not known to this build")]
    Version(u8),
    #[error("malformed payload: {0}")]
    Malformed(String),
}

#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    origin: Uuid,
    said: WireSaid,
}

#[derive(Serialize, Deserialize)]
enum WireSaid {
    Event(Box<WireEvent>),
    Heartbeat,
    Lost,
    Bye,
}

pub(crate) fn encode(origin: Uuid, saying: Saying<'_>) -> Vec<u8> {
    let wire = WireEnvelope {
        origin,
        said: match saying {
            Saying::Event(event) => WireSaid::Event(Box::new(WireEvent::from(event))),
            Saying::Heartbeat => WireSaid::Heartbeat,
            Saying::Lost => WireSaid::Lost,
            Saying::Bye => WireSaid::Bye,
        },
    };
    let mut out = vec![VERSION];
    // Writing into a Vec fails only when the allocator does.
    if let Ok(body) = postcard::to_allocvec(&wire) {
        out.extend_from_slice(&body);
    }
    out
}

/// Decodes an envelope written by [`encode`]; anything else is an error, never a panic.
pub(crate) fn decode(payload: &[u8]) -> Result<Envelope, DecodeError> {
    let (&version, body) = payload.split_first().ok_or(DecodeError::Empty)?;
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let wire: WireEnvelope =
        postcard::from_bytes(body).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    Ok(Envelope {
        origin: wire.origin,
        said: match wire.said {
            WireSaid::Event(event) => Said::Event(Box::new((*event).try_into()?)),
            WireSaid::Heartbeat => Said::Heartbeat,
            WireSaid::Lost => Said::Lost,
            WireSaid::Bye => Said::Bye,
        },
    })
}
