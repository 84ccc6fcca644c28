//! The decisions of reports: whether a report may be filed, from what the store found of its
//! target, and what an admin's decision changes. Pure, as every decision (see the parent).

use crate::policy::Refusal;
use crate::{Closed, Invalid, ReportDecision, ReportStatus, UserId};

/// A reported message as the reporter may see it, loaded in the report's transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenMessage {
    pub sender_id: UserId,
    pub body: String,
    pub deleted: bool,
}

/// What a report records of its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    /// The reported user (of a message: its sender).
    pub user_id: UserId,
    /// The message's body as it is now (`None` for a user report).
    pub message_body: Option<String>,
}

/// Decides a report of a message by `reporter`; `seen` is the message, `None` unless it exists
/// and the reporter is a member of its group (the two are never told apart). A deleted message
/// is gone (there is nothing left to look at); one's own message is not reported.
pub fn report_message(reporter: UserId, seen: Option<SeenMessage>) -> Result<Reported, Refusal> {
    let message = seen.ok_or(Refusal::NotFound("message"))?;
    if message.deleted {
        return Err(Closed("the message was deleted").into());
    }
    if message.sender_id == reporter {
        return Err(Invalid::new("message_id", "you cannot report your own message").into());
    }
    Ok(Reported {
        user_id: message.sender_id,
        message_body: Some(message.body),
    })
}

/// Decides a report of `user` by `reporter`; `exists` is whether the store found the user.
pub fn report_user(reporter: UserId, user: UserId, exists: bool) -> Result<Reported, Refusal> {
    if user == reporter {
        return Err(Invalid::new("user_id", "you cannot report yourself").into());
    }
    if !exists {
        return Err(Refusal::NotFound("user"));
    }
    Ok(Reported {
        user_id: user,
        message_body: None,
    })
}

/// What an admin's decision does to a report that is `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChange {
    /// The report has this status already: write nothing.
    Unchanged,
    /// Write the new status.
    Set(ReportStatus),
}

/// Decides an admin's decision about a report that is `current`: an open report takes either
/// decision, a decided one may change to the other, and deciding the same again changes nothing.
/// (No decision reopens a report: [`ReportDecision`] has no `open`.)
pub fn report_status(current: ReportStatus, decision: ReportDecision) -> StatusChange {
    let next = decision.status();
    if current == next {
        StatusChange::Unchanged
    } else {
        StatusChange::Set(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(sender: UserId, deleted: bool) -> Option<SeenMessage> {
        Some(SeenMessage {
            sender_id: sender,
            body: if deleted {
                String::new()
            } else {
                "buy now".into()
            },
            deleted,
        })
    }

    #[test]
    fn a_message_report_names_the_sender_and_copies_the_body() {
        let (me, them) = (UserId::new(), UserId::new());
        assert_eq!(
            report_message(me, seen(them, false)),
            Ok(Reported {
                user_id: them,
                message_body: Some("buy now".into()),
            })
        );
    }

    #[test]
    fn an_unseen_message_is_not_found_a_deleted_one_gone_and_ones_own_invalid() {
        let (me, them) = (UserId::new(), UserId::new());
        assert_eq!(report_message(me, None), Err(Refusal::NotFound("message")));
        assert!(matches!(
            report_message(me, seen(them, true)),
            Err(Refusal::Closed(_))
        ));
        // Gone wins over one's own: a deleted message has nothing left to report.
        assert!(matches!(
            report_message(me, seen(me, true)),
            Err(Refusal::Closed(_))
        ));
        match report_message(me, seen(me, false)) {
            Err(Refusal::Invalid(invalid)) => assert_eq!(invalid.field, "message_id"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_user_report_needs_another_user_who_exists() {
        let (me, them) = (UserId::new(), UserId::new());
        assert_eq!(
            report_user(me, them, true),
            Ok(Reported {
                user_id: them,
                message_body: None,
            })
        );
        assert_eq!(report_user(me, them, false), Err(Refusal::NotFound("user")));
        match report_user(me, me, true) {
            Err(Refusal::Invalid(invalid)) => assert_eq!(invalid.field, "user_id"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn any_report_takes_a_decision_and_a_decided_one_the_other() {
        use ReportDecision::{Dismissed, Resolved};
        use ReportStatus as S;
        assert_eq!(
            report_status(S::Open, Resolved),
            StatusChange::Set(S::Resolved)
        );
        assert_eq!(
            report_status(S::Open, Dismissed),
            StatusChange::Set(S::Dismissed)
        );
        assert_eq!(
            report_status(S::Resolved, Dismissed),
            StatusChange::Set(S::Dismissed)
        );
        assert_eq!(
            report_status(S::Dismissed, Resolved),
            StatusChange::Set(S::Resolved)
        );
        assert_eq!(
            report_status(S::Resolved, Resolved),
            StatusChange::Unchanged
        );
        assert_eq!(
            report_status(S::Dismissed, Dismissed),
            StatusChange::Unchanged
        );
    }
}
