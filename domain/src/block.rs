//! Blocks: who may block whom, and what a block refuses. A block is never revealed to the
//! one blocked: to them the blocker looks like a user who does not exist. Pure rules; the
//! stores load the blocks between two users and ask these.

use crate::{Invalid, Refusal, UserId};

/// Whether `blocker` may block `blocked`: anyone but themself.
pub fn check_block(blocker: UserId, blocked: UserId) -> Result<(), Invalid> {
    if blocker == blocked {
        return Err(Invalid::new("user_id", "you cannot block yourself"));
    }
    Ok(())
}

/// The blocks between an opener of a direct chat and the other user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Between {
    /// The other user blocked the opener.
    pub blocked_by_other: bool,
    /// The opener blocked the other user.
    pub blocked_other: bool,
}

/// Whether a new direct chat may be opened, given the blocks between the two. Someone the
/// other blocked hears what an unknown user would get (404 `user`); someone who blocked the
/// other must lift the block first.
pub fn open_direct(between: Between) -> Result<(), Refusal> {
    if between.blocked_by_other {
        return Err(Refusal::NotFound("user"));
    }
    if between.blocked_other {
        return Err(Refusal::Forbidden(
            "you blocked this user: unblock them to chat",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_blocks_themself() {
        let me = UserId::new();
        assert_eq!(check_block(me, me).unwrap_err().field, "user_id");
        assert!(check_block(me, UserId::new()).is_ok());
    }

    #[test]
    fn the_blocked_opener_meets_an_unknown_user_and_the_blocker_a_refusal() {
        let either = |blocked_by_other, blocked_other| {
            open_direct(Between {
                blocked_by_other,
                blocked_other,
            })
        };
        assert_eq!(either(false, false), Ok(()));
        assert_eq!(either(true, false), Err(Refusal::NotFound("user")));
        // Blocked both ways: the block on them is still not revealed.
        assert_eq!(either(true, true), Err(Refusal::NotFound("user")));
        assert!(matches!(either(false, true), Err(Refusal::Forbidden(_))));
    }
}
