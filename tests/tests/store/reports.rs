//! `Reports`: what a report records of its target and keeps whatever becomes of it, who may
//! report what, the admins' pages by status, and decisions.

use confab_domain::{
    Body, GroupId, MessageId, Report, ReportDecision, ReportId, ReportReason, ReportStatus,
    ReportTarget, UserId,
};
use confab_ports::Error;
use confab_ports::store::NewReport;
use uuid::Uuid;

use crate::fixtures::{Fresh, T0, at, group, message, user};

crate::store_cases!(
    a_message_report_names_the_sender_and_copies_the_body,
    the_copy_stays_when_the_message_is_edited_or_deleted,
    the_copy_stays_when_the_group_goes_and_the_message_id_becomes_none,
    a_user_report_names_the_user_and_copies_nothing,
    a_message_that_is_not_there_or_not_seen_is_not_found_alike,
    a_former_member_cannot_report_the_groups_messages,
    a_deleted_message_is_gone,
    ones_own_message_is_invalid,
    an_unknown_user_is_not_found,
    reporting_oneself_is_invalid,
    a_page_lists_the_newest_first_of_the_status_asked_for,
    a_page_holds_at_most_limit_and_says_whether_more_remain,
    before_bounds_the_page_and_need_not_name_a_report,
    paging_with_the_last_id_lists_each_report_once,
    a_decision_changes_the_status_and_nothing_else,
    a_decided_report_takes_the_other_decision_and_the_same_one_changes_nothing,
    an_unknown_report_is_not_found,
);

/// A report by `reporter` of `target` with `id`, filed at `secs`.
fn new_report(id: ReportId, reporter: UserId, target: ReportTarget, secs: i64) -> NewReport {
    NewReport {
        id,
        reporter_id: reporter,
        target,
        reason: ReportReason::parse(" spam \n").unwrap(),
        now: at(secs) + time::Duration::nanoseconds(1_234_567),
    }
}

async fn file(s: &Fresh, reporter: UserId, target: ReportTarget) -> Result<Report, Error> {
    s.reports
        .create_report(new_report(ReportId::new(), reporter, target, 5))
        .await
}

/// Every report, newest first.
async fn all(s: &Fresh) -> Vec<Report> {
    s.reports.reports(None, None, 100).await.unwrap().reports
}

/// Ada and Bob in a group; Bob said something. Returns (ada, bob, group, bob's message).
async fn scene(s: &Fresh) -> (UserId, UserId, GroupId, MessageId) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let g = group(s, ada, &[bob]).await;
    let said = s
        .messages
        .append_message(message(g, bob, "buy cheap watches", None))
        .await
        .unwrap();
    (ada, bob, g, said.message.id)
}

#[track_caller]
fn assert_nothing_written(reports: &[Report]) {
    assert!(reports.is_empty(), "{reports:?}");
}

/// MUST answer the report as stored: open, the sender as `user_id`, the body copied,
/// `created_at = now` to the millisecond.
async fn a_message_report_names_the_sender_and_copies_the_body(s: &Fresh) {
    let (ada, bob, _, said) = scene(s).await;
    let id = ReportId::new();
    let made = s
        .reports
        .create_report(new_report(id, ada, ReportTarget::Message(said), 5))
        .await
        .unwrap();
    let expected = Report {
        id,
        reporter_id: ada,
        message_id: Some(said),
        user_id: bob,
        reason: "spam".into(),
        status: ReportStatus::Open,
        created_at: at(5) + time::Duration::milliseconds(1),
        message_body: Some("buy cheap watches".into()),
    };
    assert_eq!(made, expected);
    assert_eq!(all(s).await, vec![expected]);
}

/// The copy MUST stay as it was reported whatever becomes of the message.
async fn the_copy_stays_when_the_message_is_edited_or_deleted(s: &Fresh) {
    let (ada, bob, _, said) = scene(s).await;
    let made = file(s, ada, ReportTarget::Message(said)).await.unwrap();
    let edited = Body::parse("nothing to see here").unwrap();
    s.messages
        .edit_message(bob, said, edited, at(10))
        .await
        .unwrap();
    assert_eq!(all(s).await, vec![made.clone()]);
    s.messages.delete_message(bob, said, at(11)).await.unwrap();
    // A deleted message keeps its row (a tombstone), so the report keeps its id too.
    assert_eq!(all(s).await, vec![made]);
}

/// When the message row goes (its group deleted), `message_id` MUST become `None` and the copy
/// MUST stay.
async fn the_copy_stays_when_the_group_goes_and_the_message_id_becomes_none(s: &Fresh) {
    let (ada, bob, g, said) = scene(s).await;
    let made = file(s, ada, ReportTarget::Message(said)).await.unwrap();
    let of_user = file(s, ada, ReportTarget::User(bob)).await.unwrap();
    s.groups.delete_or_close(ada, g, at(20)).await.unwrap();
    let listed = all(s).await;
    assert_eq!(
        listed,
        vec![
            of_user,
            Report {
                message_id: None,
                ..made
            }
        ]
    );
    assert_eq!(listed[1].message_body.as_deref(), Some("buy cheap watches"));
}

/// A user report MUST name the user and have no `message_body`.
async fn a_user_report_names_the_user_and_copies_nothing(s: &Fresh) {
    let ada = user(s, "ada").await;
    let eve = user(s, "eve").await;
    let made = file(s, ada, ReportTarget::User(eve)).await.unwrap();
    assert_eq!(
        (made.user_id, made.message_id, made.message_body.as_deref()),
        (eve, None, None)
    );
    assert_eq!(made.status, ReportStatus::Open);
    assert_eq!(all(s).await, vec![made]);
}

/// MUST answer `NotFound("message")` alike for a message that does not exist and one of a
/// group the reporter is not in, writing nothing.
async fn a_message_that_is_not_there_or_not_seen_is_not_found_alike(s: &Fresh) {
    let (_, _, _, said) = scene(s).await;
    let outsider = user(s, "mallory").await;
    for target in [said, MessageId::new()] {
        let err = file(s, outsider, ReportTarget::Message(target))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NotFound("message")), "{err:?}");
    }
    assert_nothing_written(&all(s).await);
}

/// Membership is read in the report's transaction: one who left cannot report.
async fn a_former_member_cannot_report_the_groups_messages(s: &Fresh) {
    let (ada, bob, g, said) = scene(s).await;
    let carol = user(s, "carol").await;
    s.groups
        .add_member(ada, g, carol, confab_domain::Role::Member, T0)
        .await
        .unwrap();
    s.groups
        .remove_member(carol, g, carol, at(1))
        .await
        .unwrap();
    let err = file(s, carol, ReportTarget::Message(said))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("message")), "{err:?}");
    // Bob is still reportable as a user by her.
    file(s, carol, ReportTarget::User(bob)).await.unwrap();
}

/// MUST answer `Gone` for a deleted message, writing nothing.
async fn a_deleted_message_is_gone(s: &Fresh) {
    let (ada, bob, _, said) = scene(s).await;
    s.messages.delete_message(bob, said, at(1)).await.unwrap();
    let err = file(s, ada, ReportTarget::Message(said)).await.unwrap_err();
    assert!(matches!(err, Error::Gone(_)), "{err:?}");
    assert_nothing_written(&all(s).await);
}

/// MUST answer `Invalid` (`message_id`) for the reporter's own message, writing nothing.
async fn ones_own_message_is_invalid(s: &Fresh) {
    let (_, bob, _, said) = scene(s).await;
    match file(s, bob, ReportTarget::Message(said)).await {
        Err(Error::Invalid(invalid)) => assert_eq!(invalid.field, "message_id"),
        other => panic!("{other:?}"),
    }
    assert_nothing_written(&all(s).await);
}

/// MUST answer `NotFound("user")` for a user that does not exist, writing nothing.
async fn an_unknown_user_is_not_found(s: &Fresh) {
    let ada = user(s, "ada").await;
    let err = file(s, ada, ReportTarget::User(UserId::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("user")), "{err:?}");
    assert_nothing_written(&all(s).await);
}

/// MUST answer `Invalid` (`user_id`) when reporters report themselves, writing nothing.
async fn reporting_oneself_is_invalid(s: &Fresh) {
    let ada = user(s, "ada").await;
    match file(s, ada, ReportTarget::User(ada)).await {
        Err(Error::Invalid(invalid)) => assert_eq!(invalid.field, "user_id"),
        other => panic!("{other:?}"),
    }
    assert_nothing_written(&all(s).await);
}

/// `n` ids in increasing order.
fn ids(n: usize) -> Vec<ReportId> {
    let mut ids: Vec<ReportId> = (0..n).map(|_| ReportId::new()).collect();
    ids.sort();
    ids
}

/// Files a user report with each of `ids`, in the order given, by a new reporter of a new
/// user; returns the reporter.
async fn file_all(s: &Fresh, ids: &[ReportId]) -> UserId {
    let reporter = user(s, "reporter").await;
    let target = user(s, "target").await;
    for (i, id) in ids.iter().enumerate() {
        let secs = i64::try_from(i).unwrap();
        s.reports
            .create_report(new_report(*id, reporter, ReportTarget::User(target), secs))
            .await
            .unwrap();
    }
    reporter
}

/// The ids of a page, and `has_more`.
async fn page_ids(
    s: &Fresh,
    status: Option<ReportStatus>,
    before: Option<ReportId>,
    limit: u32,
) -> (Vec<ReportId>, bool) {
    let page = s.reports.reports(status, before, limit).await.unwrap();
    (page.reports.iter().map(|r| r.id).collect(), page.has_more)
}

async fn decide(s: &Fresh, id: ReportId, decision: ReportDecision) -> Report {
    s.reports.decide_report(id, decision).await.unwrap()
}

/// MUST order by id, highest first, whatever order they were written in, and keep to the
/// status asked for.
async fn a_page_lists_the_newest_first_of_the_status_asked_for(s: &Fresh) {
    let ids = ids(6);
    let shuffled: Vec<ReportId> = [3, 0, 5, 1, 4, 2].iter().map(|&i| ids[i]).collect();
    file_all(s, &shuffled).await;
    decide(s, ids[1], ReportDecision::Resolved).await;
    decide(s, ids[4], ReportDecision::Resolved).await;
    decide(s, ids[2], ReportDecision::Dismissed).await;
    let newest_first: Vec<ReportId> = ids.iter().rev().copied().collect();
    assert_eq!(page_ids(s, None, None, 10).await, (newest_first, false));
    let open = Some(ReportStatus::Open);
    let resolved = Some(ReportStatus::Resolved);
    let dismissed = Some(ReportStatus::Dismissed);
    assert_eq!(
        page_ids(s, open, None, 10).await,
        (vec![ids[5], ids[3], ids[0]], false)
    );
    assert_eq!(
        page_ids(s, resolved, None, 10).await,
        (vec![ids[4], ids[1]], false)
    );
    assert_eq!(
        page_ids(s, dismissed, None, 10).await,
        (vec![ids[2]], false)
    );
}

/// MUST answer at most `limit`, and `has_more` exactly when more of that status remain.
async fn a_page_holds_at_most_limit_and_says_whether_more_remain(s: &Fresh) {
    let ids = ids(5);
    file_all(s, &ids).await;
    decide(s, ids[0], ReportDecision::Dismissed).await;
    let open = Some(ReportStatus::Open);
    assert_eq!(
        page_ids(s, None, None, 4).await,
        (vec![ids[4], ids[3], ids[2], ids[1]], true)
    );
    assert_eq!(
        page_ids(s, open, None, 4).await,
        (vec![ids[4], ids[3], ids[2], ids[1]], false),
        "the rest is of another status"
    );
    assert_eq!(
        page_ids(s, open, None, 3).await,
        (vec![ids[4], ids[3], ids[2]], true)
    );
    assert_eq!(page_ids(s, None, None, 1).await, (vec![ids[4]], true));
    assert_eq!(
        page_ids(s, Some(ReportStatus::Resolved), None, 5).await,
        (vec![], false)
    );
}

/// MUST answer only ids below `before`, which need not be stored; UUIDs compare by bytes.
async fn before_bounds_the_page_and_need_not_name_a_report(s: &Fresh) {
    let id = |n: u128| ReportId::from_uuid(Uuid::from_u128(n));
    let stored = [
        id(0x0a << 120),
        id(0x10 << 120),
        id((0xa0 << 120) | 1),
        id(0xf0 << 120),
    ];
    file_all(s, &stored).await;
    let open = Some(ReportStatus::Open);
    assert_eq!(
        page_ids(s, None, Some(stored[2]), 10).await,
        (vec![stored[1], stored[0]], false),
        "a stored id is excluded"
    );
    assert_eq!(
        page_ids(s, open, Some(id(0xa0 << 120)), 10).await,
        (vec![stored[1], stored[0]], false),
        "a bound that names nothing"
    );
    assert_eq!(
        page_ids(s, open, Some(id((0x10 << 120) | 1)), 1).await,
        (vec![stored[1]], true)
    );
    assert_eq!(
        page_ids(s, None, Some(stored[0]), 10).await,
        (vec![], false)
    );
    assert_eq!(
        page_ids(s, open, Some(id(u128::MAX)), 2).await,
        (vec![stored[3], stored[2]], true)
    );
}

/// Paging with the last id as `before` MUST list each report once, newest first.
async fn paging_with_the_last_id_lists_each_report_once(s: &Fresh) {
    let ids = ids(8);
    file_all(s, &ids).await;
    for i in [1, 4, 6] {
        decide(s, ids[i], ReportDecision::Resolved).await;
    }
    for status in [None, Some(ReportStatus::Open)] {
        let mut seen: Vec<ReportId> = Vec::new();
        let mut before = None;
        loop {
            let (page, has_more) = page_ids(s, status, before, 2).await;
            assert!(page.len() <= 2);
            seen.extend(page.iter().copied());
            before = page.last().copied();
            if !has_more {
                break;
            }
        }
        let expected: Vec<ReportId> = ids
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| status.is_none() || ![1, 4, 6].contains(i))
            .map(|(_, id)| *id)
            .collect();
        assert_eq!(seen, expected, "{status:?}");
    }
    assert_eq!(page_ids(s, None, Some(ids[0]), 50).await, (vec![], false));
}

/// A decision MUST change the status and nothing else, and answer the report as it is then.
async fn a_decision_changes_the_status_and_nothing_else(s: &Fresh) {
    let (ada, _, _, said) = scene(s).await;
    let made = file(s, ada, ReportTarget::Message(said)).await.unwrap();
    let decided = decide(s, made.id, ReportDecision::Resolved).await;
    let expected = Report {
        status: ReportStatus::Resolved,
        ..made
    };
    assert_eq!(decided, expected);
    assert_eq!(all(s).await, vec![expected]);
}

/// A decided report MAY change to the other decision; the same decision again changes
/// nothing.
async fn a_decided_report_takes_the_other_decision_and_the_same_one_changes_nothing(s: &Fresh) {
    let ada = user(s, "ada").await;
    let eve = user(s, "eve").await;
    let made = file(s, ada, ReportTarget::User(eve)).await.unwrap();
    let dismissed = decide(s, made.id, ReportDecision::Dismissed).await;
    assert_eq!(dismissed.status, ReportStatus::Dismissed);
    assert_eq!(
        decide(s, made.id, ReportDecision::Dismissed).await,
        dismissed
    );
    let resolved = decide(s, made.id, ReportDecision::Resolved).await;
    assert_eq!(
        resolved,
        Report {
            status: ReportStatus::Resolved,
            ..made
        }
    );
    assert_eq!(all(s).await, vec![resolved]);
}

/// MUST answer `NotFound("report")` for an id that names no report.
async fn an_unknown_report_is_not_found(s: &Fresh) {
    let ids = ids(1);
    file_all(s, &ids).await;
    let err = s
        .reports
        .decide_report(ReportId::new(), ReportDecision::Resolved)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("report")), "{err:?}");
    assert_eq!(all(s).await[0].status, ReportStatus::Open);
}
