//! `Invites`: made, listed newest first, revoked; a registration by invite creates the account
//! and counts one use in one transaction, refuses a missing, expired or used-up code writing
//! nothing, and never lets racing registrations overspend a code.

use confab_domain::{Invite, InviteCode, RegistrationRefused, UserId};
use confab_ports::Error;

use crate::fixtures::{Fresh, at, new_user, user};
use crate::sessions::new_session;

crate::store_cases!(
    a_made_invite_is_listed_newest_first_as_made,
    a_code_made_twice_is_a_conflict,
    revoking_removes_the_invite_and_answers_whether_there_was_one,
    a_registration_by_invite_creates_the_account_and_its_login_and_counts_a_use,
    a_missing_expired_or_used_up_code_refuses_and_writes_nothing,
    a_refused_account_spends_no_use,
    racing_registrations_on_the_last_use_let_exactly_one_through,
    the_listing_holds_at_most_limit,
);

fn code(raw: &str) -> InviteCode {
    InviteCode::parse(raw).unwrap()
}

fn invite(raw: &str, by: Option<UserId>, made_secs: i64, max_uses: u32) -> Invite {
    Invite {
        code: code(raw),
        created_by: by,
        created_at: at(made_secs),
        expires_at: at(made_secs + 3600),
        max_uses,
        uses: 0,
    }
}

async fn uses(s: &Fresh, raw: &str) -> u32 {
    let all = s.invites.list_invites(100).await.unwrap();
    all.iter().find(|i| i.code.as_str() == raw).unwrap().uses
}

fn refused(e: Error) {
    assert!(
        matches!(
            e,
            Error::RegistrationRefused(RegistrationRefused::InviteInvalid)
        ),
        "{e:?}"
    );
}

async fn a_made_invite_is_listed_newest_first_as_made(s: &Fresh) {
    let root = user(s, "root").await;
    let older = invite("older-code", Some(root), 0, 1);
    let newer = invite("newer-code", None, 10, 5);
    s.invites.create_invite(older.clone()).await.unwrap();
    s.invites.create_invite(newer.clone()).await.unwrap();
    assert_eq!(
        s.invites.list_invites(10).await.unwrap(),
        vec![newer, older]
    );
}

async fn a_code_made_twice_is_a_conflict(s: &Fresh) {
    s.invites
        .create_invite(invite("same-code", None, 0, 1))
        .await
        .unwrap();
    let e = s
        .invites
        .create_invite(invite("same-code", None, 5, 3))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { field: "code" }), "{e:?}");
    assert_eq!(s.invites.list_invites(10).await.unwrap().len(), 1);
}

async fn revoking_removes_the_invite_and_answers_whether_there_was_one(s: &Fresh) {
    s.invites
        .create_invite(invite("doomed-code", None, 0, 1))
        .await
        .unwrap();
    assert!(s.invites.revoke_invite(&code("doomed-code")).await.unwrap());
    assert!(!s.invites.revoke_invite(&code("doomed-code")).await.unwrap());
    assert!(s.invites.list_invites(10).await.unwrap().is_empty());
    let e = s
        .invites
        .create_user_with_invite(&code("doomed-code"), at(1), new_user("ada"), None)
        .await
        .unwrap_err();
    refused(e);
}

async fn a_registration_by_invite_creates_the_account_and_its_login_and_counts_a_use(s: &Fresh) {
    s.invites
        .create_invite(invite("two-uses", None, 0, 2))
        .await
        .unwrap();
    let new = new_user("ada");
    let id = new.id;
    let login = new_session(id, 1, at(3600));
    let session = login.id;
    let made = s
        .invites
        .create_user_with_invite(&code("two-uses"), at(1), new, Some(login))
        .await
        .unwrap();
    assert_eq!((made.id, made.username.as_str()), (id, "ada"));
    assert!(s.sessions.principal(session, id).await.unwrap().is_some());
    assert_eq!(uses(s, "two-uses").await, 1);
}

async fn a_missing_expired_or_used_up_code_refuses_and_writes_nothing(s: &Fresh) {
    s.invites
        .create_invite(invite("one-use-code", None, 0, 1))
        .await
        .unwrap();
    s.invites
        .create_user_with_invite(&code("one-use-code"), at(1), new_user("ada"), None)
        .await
        .unwrap();
    let try_as = |name: &'static str, raw: &'static str, secs: i64| async move {
        let new = new_user(name);
        let login = new_session(new.id, 9, at(7200));
        s.invites
            .create_user_with_invite(&code(raw), at(secs), new, Some(login))
            .await
            .unwrap_err()
    };
    refused(try_as("bob", "one-use-code", 2).await);
    refused(try_as("bob", "never-made", 2).await);
    s.invites
        .create_invite(invite("short-lived", None, 0, 9))
        .await
        .unwrap();
    // Expired at exactly its expiry.
    refused(try_as("bob", "short-lived", 3600).await);
    let bob = confab_domain::Username::parse("bob").unwrap();
    assert!(s.users.user_by_username(&bob).await.unwrap().is_none());
    assert_eq!(uses(s, "one-use-code").await, 1);
    assert_eq!(uses(s, "short-lived").await, 0);
}

async fn a_refused_account_spends_no_use(s: &Fresh) {
    user(s, "ada").await;
    s.invites
        .create_invite(invite("keep-me-code", None, 0, 1))
        .await
        .unwrap();
    let e = s
        .invites
        .create_user_with_invite(&code("keep-me-code"), at(1), new_user("ada"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Conflict { field: "username" }), "{e:?}");
    assert_eq!(uses(s, "keep-me-code").await, 0);
    s.invites
        .create_user_with_invite(&code("keep-me-code"), at(1), new_user("bob"), None)
        .await
        .unwrap();
}

async fn racing_registrations_on_the_last_use_let_exactly_one_through(s: &Fresh) {
    s.invites
        .create_invite(invite("contested", None, 0, 1))
        .await
        .unwrap();
    let racers = (0..10).map(|i| {
        let invites = s.invites.clone();
        tokio::spawn(async move {
            invites
                .create_user_with_invite(
                    &code("contested"),
                    at(1),
                    new_user(&format!("racer{i}")),
                    None,
                )
                .await
        })
    });
    let mut won = 0;
    for r in futures::future::join_all(racers).await {
        match r.unwrap() {
            Ok(_) => won += 1,
            Err(e) => refused(e),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(uses(s, "contested").await, 1);
}

async fn the_listing_holds_at_most_limit(s: &Fresh) {
    for i in 0..5 {
        s.invites
            .create_invite(invite(&format!("code-number-{i}"), None, i, 1))
            .await
            .unwrap();
    }
    let two = s.invites.list_invites(2).await.unwrap();
    let names: Vec<&str> = two.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(names, ["code-number-4", "code-number-3"]);
}
