//! Reports: input checked before the budget and the store, one unit of the reporter's budget
//! per recorded report (given back when the store refuses), admins only for the list and the
//! decisions (checked before anything else), and the operator's listing.

use std::time::Duration;

use confab_domain::{
    MessageId, Report, ReportDecision, ReportId, ReportStatus, ReportTarget, UserId,
};
use mockall::Sequence;
use mockall::predicate::eq;

use super::{Mocks, NOW, assert_invalid, assert_rate_limited, caller, user_named};
use crate::Error;
use crate::rate_limit::{Bucket, Limited};
use crate::service::{REPORTS_DEFAULT, REPORTS_MAX, ReportDraft};
use crate::store::ReportPage;

fn stored(reporter: UserId, user: UserId) -> Report {
    Report {
        id: ReportId::new(),
        reporter_id: reporter,
        message_id: None,
        user_id: user,
        reason: "spam".into(),
        status: ReportStatus::Open,
        created_at: NOW,
        message_body: None,
    }
}

fn draft(message_id: Option<MessageId>, user_id: Option<UserId>, reason: &str) -> ReportDraft {
    ReportDraft {
        message_id,
        user_id,
        reason: reason.into(),
    }
}

fn page(reports: Vec<Report>, has_more: bool) -> ReportPage {
    ReportPage { reports, has_more }
}

#[tokio::test]
async fn a_report_is_checked_counted_once_and_recorded_with_a_trimmed_reason() {
    let me = caller(false);
    let message = MessageId::new();
    let answer = stored(me.user_id, UserId::new());
    let returned = answer.clone();
    let mut m = Mocks::default();
    let mut order = Sequence::new();
    let key = me.user_id.to_string();
    m.limiter
        .expect_hit()
        .withf(move |b, k| *b == Bucket::Reports && k == key)
        .times(1)
        .in_sequence(&mut order)
        .returning(|_, _| Ok(()));
    m.reports
        .expect_create_report()
        .withf(move |r| {
            r.reporter_id == me.user_id
                && r.target == ReportTarget::Message(message)
                && r.reason.as_str() == "spam\nand more"
                && r.now == NOW
        })
        .times(1)
        .in_sequence(&mut order)
        .returning(move |_| Ok(returned.clone()));
    m.limiter.expect_refund().never();
    let got = m
        .conversations()
        .report(&me, draft(Some(message), None, "  spam\nand more \t"))
        .await
        .unwrap();
    assert_eq!(got, answer);
}

#[tokio::test]
async fn both_ids_or_neither_and_bad_reasons_are_refused_before_the_budget() {
    let mut m = Mocks::default();
    m.limiter.expect_hit().never();
    m.reports.expect_create_report().never();
    let c = m.conversations();
    let me = caller(false);
    let (message, user) = (Some(MessageId::new()), Some(UserId::new()));
    assert_invalid(
        c.report(&me, draft(message, user, "spam")).await,
        "message_id",
    );
    assert_invalid(c.report(&me, draft(None, None, "spam")).await, "message_id");
    for bad in [
        String::new(),
        " \n\t ".into(),
        "\u{200B}".into(),
        "a\0b".into(),
        "x".repeat(1001),
        "y".repeat(10 * 1024),
    ] {
        assert_invalid(c.report(&me, draft(None, user, &bad)).await, "reason");
    }
}

#[tokio::test]
async fn a_spent_budget_refuses_with_its_wait_and_stores_nothing() {
    let mut m = Mocks::default();
    m.limiter.expect_hit().returning(|_, _| {
        Err(Limited::Exhausted {
            retry_after: Duration::from_secs(900),
        })
    });
    m.reports.expect_create_report().never();
    m.limiter.expect_refund().never();
    let res = m
        .conversations()
        .report(&caller(false), draft(None, Some(UserId::new()), "spam"))
        .await;
    assert_rate_limited(res, Duration::from_secs(900));
}

#[tokio::test]
async fn unreachable_counters_refuse_the_report_as_unavailable() {
    let mut m = Mocks::default();
    m.limiter
        .expect_hit()
        .returning(|_, _| Err(Limited::Unavailable));
    m.reports.expect_create_report().never();
    let res = m
        .conversations()
        .report(&caller(false), draft(None, Some(UserId::new()), "spam"))
        .await;
    assert!(matches!(res, Err(Error::Unavailable(_))), "{res:?}");
}

#[tokio::test]
async fn a_report_the_store_refuses_gives_its_unit_back() {
    let me = caller(false);
    let mut m = Mocks::default();
    m.limiter.expect_hit().times(1).returning(|_, _| Ok(()));
    m.reports
        .expect_create_report()
        .returning(|_| Err(Error::NotFound("message")));
    let key = me.user_id.to_string();
    m.limiter
        .expect_refund()
        .withf(move |b, k| *b == Bucket::Reports && k == key)
        .times(1)
        .returning(|_, _| ());
    let res = m
        .conversations()
        .report(&me, draft(Some(MessageId::new()), None, "spam"))
        .await;
    assert!(matches!(res, Err(Error::NotFound("message"))), "{res:?}");
}

#[tokio::test]
async fn a_non_admin_is_forbidden_before_the_query_or_the_decision_is_read() {
    let mut m = Mocks::default();
    m.reports.expect_reports().never();
    m.reports.expect_decide_report().never();
    let c = m.conversations();
    let user = caller(false);
    for (status, limit) in [
        (None, None),
        (Some("bogus"), Some(0)),
        (Some("open"), Some(5)),
    ] {
        let res = c.reports(&user, status, None, limit).await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    }
    for status in ["resolved", "open", ""] {
        let res = c.decide_report(&user, ReportId::new(), status).await;
        assert!(matches!(res, Err(Error::Forbidden(_))), "{res:?}");
    }
}

#[tokio::test]
async fn the_list_passes_the_status_the_cursor_and_a_limit_defaulted_and_capped() {
    let before = ReportId::new();
    let mut m = Mocks::default();
    for (status, cursor, limit) in [
        (None, None, REPORTS_DEFAULT),
        (Some(ReportStatus::Open), Some(before), 7),
        (Some(ReportStatus::Dismissed), None, REPORTS_MAX),
        (Some(ReportStatus::Resolved), Some(before), REPORTS_MAX),
    ] {
        m.reports
            .expect_reports()
            .with(eq(status), eq(cursor), eq(limit))
            .times(1)
            .returning(|_, _, _| Ok(page(Vec::new(), false)));
    }
    let c = m.conversations();
    let admin = caller(true);
    c.reports(&admin, None, None, None).await.unwrap();
    c.reports(&admin, Some("open"), Some(before), Some(7))
        .await
        .unwrap();
    c.reports(&admin, Some("dismissed"), None, Some(101))
        .await
        .unwrap();
    c.reports(&admin, Some("resolved"), Some(before), Some(i64::MAX))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_status_or_a_limit_below_one_is_refused_for_admins() {
    let mut m = Mocks::default();
    m.reports.expect_reports().never();
    let c = m.conversations();
    let admin = caller(true);
    for bad in ["", "all", "Open", "closed"] {
        assert_invalid(c.reports(&admin, Some(bad), None, None).await, "status");
    }
    for bad in [0, -1, i64::MIN] {
        assert_invalid(c.reports(&admin, None, None, Some(bad)).await, "limit");
    }
}

#[tokio::test]
async fn a_decision_is_resolved_or_dismissed_never_open() {
    let id = ReportId::new();
    let mut m = Mocks::default();
    for decision in [ReportDecision::Resolved, ReportDecision::Dismissed] {
        m.reports
            .expect_decide_report()
            .with(eq(id), eq(decision))
            .times(1)
            .returning(|_, d| {
                Ok(Report {
                    status: d.status(),
                    ..stored(UserId::new(), UserId::new())
                })
            });
    }
    let c = m.conversations();
    let admin = caller(true);
    let r = c.decide_report(&admin, id, "resolved").await.unwrap();
    assert_eq!(r.status, ReportStatus::Resolved);
    let r = c.decide_report(&admin, id, "dismissed").await.unwrap();
    assert_eq!(r.status, ReportStatus::Dismissed);
    for bad in ["open", "", "closed", "Resolved"] {
        assert_invalid(c.decide_report(&admin, id, bad).await, "status");
    }
}

#[tokio::test]
async fn the_operators_listing_pages_to_the_limit_and_names_each_user_once() {
    let ada = user_named("ada");
    let bob = user_named("bob");
    let (a, b) = (ada.id, bob.id);
    let reports: Vec<Report> = (0..150).map(|_| stored(a, b)).collect();
    let first: Vec<Report> = reports[..100].to_vec();
    let second: Vec<Report> = reports[100..120].to_vec();
    let after_first = first[99].id;
    let mut m = Mocks::default();
    m.reports
        .expect_reports()
        .with(eq(Some(ReportStatus::Open)), eq(None), eq(REPORTS_MAX))
        .times(1)
        .returning(move |_, _, _| Ok(page(first.clone(), true)));
    m.reports
        .expect_reports()
        .with(eq(Some(ReportStatus::Open)), eq(Some(after_first)), eq(20))
        .times(1)
        .returning(move |_, _, _| Ok(page(second.clone(), true)));
    for user in [ada, bob] {
        let id = user.id;
        m.users
            .expect_user_by_id()
            .with(eq(id))
            .times(1)
            .returning(move |_| Ok(Some(user.clone())));
    }
    let lines = m
        .conversations()
        .admin_reports(Some(ReportStatus::Open), 120)
        .await
        .unwrap();
    assert_eq!(lines.len(), 120);
    assert_eq!(lines[0].report, reports[0]);
    assert!(lines.iter().all(|l| {
        l.reporter.as_ref().map(|u| u.as_str()) == Some("ada")
            && l.reported.as_ref().map(|u| u.as_str()) == Some("bob")
    }));
}

#[tokio::test]
async fn the_operators_listing_stops_when_nothing_more_remains() {
    let mut m = Mocks::default();
    m.reports
        .expect_reports()
        .with(eq(None), eq(None), eq(50))
        .times(1)
        .returning(|_, _, _| Ok(page(Vec::new(), false)));
    let lines = m.conversations().admin_reports(None, 50).await.unwrap();
    assert!(lines.is_empty());
}
