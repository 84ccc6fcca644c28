//! `Sessions`: logins, refresh-token rotation and reuse, and the principal behind a request.

use confab_domain::{SessionId, Timestamp, UserId};
use confab_ports::store::{NewSession, Rotation};
use confab_ports::tokens::TokenHash;

use crate::fixtures::{Fresh, T0, at, user};

crate::store_cases!(
    a_started_login_is_live,
    a_live_token_rotates_to_the_next_which_lives_until_its_expiry,
    a_rotation_answers_the_user_as_stored_now,
    a_token_never_stored_is_rejected,
    a_token_at_its_expiry_is_rejected,
    every_token_of_a_revoked_login_is_rejected_used_ones_included,
    a_used_token_presented_again_is_reuse_and_revokes_the_login,
    a_used_token_is_reuse_even_after_it_expired,
    two_racing_presentations_of_one_token_are_one_rotation_and_one_reuse,
    many_racing_presentations_of_one_token_rotate_once_and_revoke_the_login,
    ending_a_login_by_its_live_token_revokes_it_and_no_other,
    ending_a_login_by_a_used_token_revokes_it,
    ending_an_unknown_token_or_an_ended_login_succeeds,
    the_principal_carries_the_admin_role_as_stored_now,
    no_principal_for_a_revoked_unknown_or_other_accounts_login,
);

/// The digest of refresh token number `n` (distinct `n`, distinct tokens).
pub(crate) fn token(n: u8) -> TokenHash {
    TokenHash(vec![n; 32])
}

/// A new login of `user` whose first refresh token is `refresh`, expiring at `expires_at`.
pub(crate) fn new_session(user: UserId, refresh: u8, expires_at: Timestamp) -> NewSession {
    NewSession {
        id: SessionId::new(),
        user_id: user,
        refresh_hash: token(refresh),
        refresh_expires_at: expires_at,
        now: T0,
    }
}

/// Starts a login of `user` with refresh token `refresh` (expiring in an hour); returns its id.
pub(crate) async fn login(s: &Fresh, user: UserId, refresh: u8) -> SessionId {
    let session = new_session(user, refresh, at(3600));
    let id = session.id;
    s.sessions.start_session(session).await.unwrap();
    id
}

/// Presents `from` at `now`, asking for `to` (expiring in an hour) in its place.
pub(crate) async fn rotate(s: &Fresh, from: u8, to: u8, now: Timestamp) -> Rotation {
    s.sessions
        .rotate_refresh(token(from), token(to), at(3600), now)
        .await
        .unwrap()
}

/// Whether the login `session` of `user` is live.
pub(crate) async fn is_live(s: &Fresh, session: SessionId, user: UserId) -> bool {
    s.sessions.principal(session, user).await.unwrap().is_some()
}

/// MUST make the login live: `principal` finds it and its refresh token rotates.
async fn a_started_login_is_live(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    let principal = s.sessions.principal(session, ada).await.unwrap().unwrap();
    assert_eq!(principal.user_id, ada);
    assert_eq!(principal.session_id, session);
    assert!(!principal.is_admin);
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { session_id, .. } if session_id == session
    ));
}

/// MUST return `Rotation::Rotated` with the login's id … the presented token is then used, and
/// `next` is the login's live token until `next_expires_at`.
async fn a_live_token_rotates_to_the_next_which_lives_until_its_expiry(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    let rotation = s
        .sessions
        .rotate_refresh(token(1), token(2), at(100), at(1))
        .await
        .unwrap();
    let Rotation::Rotated { session_id, user } = rotation else {
        panic!("a live token rotates, got {rotation:?}");
    };
    assert_eq!(session_id, session);
    assert_eq!(user.id, ada);
    assert!(
        is_live(s, session, ada).await,
        "a rotation keeps the login live"
    );
    assert!(
        matches!(rotate(s, 2, 3, at(100)).await, Rotation::Rejected),
        "the next token expires at next_expires_at"
    );
    assert!(matches!(
        rotate(s, 2, 3, at(99)).await,
        Rotation::Rotated { session_id, .. } if session_id == session
    ));
}

/// MUST return `Rotation::Rotated` with … its user as stored now.
async fn a_rotation_answers_the_user_as_stored_now(s: &Fresh) {
    let ada = user(s, "ada").await;
    login(s, ada, 1).await;
    s.users.set_admin(ada, true).await.unwrap();
    let stored = s.users.user_by_id(ada).await.unwrap().unwrap();
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { user, .. } if user == stored && user.is_admin
    ));
}

/// MUST return `Rotation::Rejected` for a token it never stored.
async fn a_token_never_stored_is_rejected(s: &Fresh) {
    let ada = user(s, "ada").await;
    login(s, ada, 1).await;
    assert!(matches!(rotate(s, 9, 2, at(1)).await, Rotation::Rejected));
}

/// MUST return `Rotation::Rejected` for a token whose expiry is not after `now`.
async fn a_token_at_its_expiry_is_rejected(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = new_session(ada, 1, at(10));
    s.sessions.start_session(session).await.unwrap();
    assert!(matches!(rotate(s, 1, 2, at(10)).await, Rotation::Rejected));
    assert!(matches!(rotate(s, 1, 3, at(11)).await, Rotation::Rejected));
}

/// MUST return `Rotation::Rejected` for every token of a revoked login, used ones included.
async fn every_token_of_a_revoked_login_is_rejected_used_ones_included(s: &Fresh) {
    let ada = user(s, "ada").await;
    login(s, ada, 1).await;
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { .. }
    ));
    s.sessions.end_session(token(2), at(2)).await.unwrap();
    assert!(matches!(rotate(s, 2, 3, at(3)).await, Rotation::Rejected));
    assert!(
        matches!(rotate(s, 1, 4, at(3)).await, Rotation::Rejected),
        "a used token of a revoked login is rejected, not reuse"
    );
}

/// MUST revoke the whole login and return `Rotation::Reused` when the token was already used.
async fn a_used_token_presented_again_is_reuse_and_revokes_the_login(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { .. }
    ));
    assert!(matches!(rotate(s, 1, 3, at(2)).await, Rotation::Reused));
    assert!(!is_live(s, session, ada).await, "reuse revokes the login");
    assert!(
        matches!(rotate(s, 2, 4, at(3)).await, Rotation::Rejected),
        "the login's newest token is worthless too"
    );
}

/// MUST … return `Rotation::Reused` when the token was already used (even if it has expired
/// since).
async fn a_used_token_is_reuse_even_after_it_expired(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = new_session(ada, 1, at(10));
    let id = session.id;
    s.sessions.start_session(session).await.unwrap();
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { .. }
    ));
    assert!(matches!(rotate(s, 1, 3, at(20)).await, Rotation::Reused));
    assert!(!is_live(s, id, ada).await);
}

/// Presents token 1 `n` times at once, each asking for its own next token.
async fn race(s: &Fresh, n: u8) -> Vec<Rotation> {
    futures::future::join_all((0..n).map(|i| {
        s.sessions
            .rotate_refresh(token(1), token(100 + i), at(3600), at(1))
    }))
    .await
    .into_iter()
    .map(|r| r.unwrap())
    .collect()
}

/// MUST be atomic: of concurrent presentations of one live token, exactly one is `Rotated` and
/// the next is `Reused` (revoking the login).
async fn two_racing_presentations_of_one_token_are_one_rotation_and_one_reuse(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    let answers = race(s, 2).await;
    let rotated = answers
        .iter()
        .filter(|r| matches!(r, Rotation::Rotated { .. }))
        .count();
    let reused = answers
        .iter()
        .filter(|r| matches!(r, Rotation::Reused))
        .count();
    assert_eq!((rotated, reused), (1, 1), "{answers:?}");
    assert!(!is_live(s, session, ada).await);
}

/// MUST be atomic: … exactly one is `Rotated` and the next is `Reused` (revoking the login); any
/// later one is `Reused` or, the login being revoked by then, `Rejected`.
async fn many_racing_presentations_of_one_token_rotate_once_and_revoke_the_login(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    let answers = race(s, 8).await;
    let rotated: Vec<u8> = (0..8u8)
        .filter(|&i| matches!(answers[usize::from(i)], Rotation::Rotated { .. }))
        .collect();
    assert_eq!(rotated.len(), 1, "exactly one rotation: {answers:?}");
    assert!(
        answers.iter().any(|r| matches!(r, Rotation::Reused)),
        "{answers:?}"
    );
    assert!(!is_live(s, session, ada).await);
    assert!(
        matches!(
            rotate(s, 100 + rotated[0], 200, at(2)).await,
            Rotation::Rejected
        ),
        "the winner's token died with the login"
    );
}

/// MUST revoke that login, whether `presented` is its live token or a used one, and no other
/// login (of the same account included).
async fn ending_a_login_by_its_live_token_revokes_it_and_no_other(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let phone = login(s, ada, 1).await;
    let laptop = login(s, ada, 2).await;
    let bobs = login(s, bob, 3).await;
    s.sessions.end_session(token(1), at(1)).await.unwrap();
    assert!(!is_live(s, phone, ada).await);
    assert!(matches!(rotate(s, 1, 10, at(2)).await, Rotation::Rejected));
    assert!(
        is_live(s, laptop, ada).await,
        "the account's other login lives on"
    );
    assert!(is_live(s, bobs, bob).await);
    assert!(matches!(
        rotate(s, 2, 20, at(2)).await,
        Rotation::Rotated { .. }
    ));
    assert!(matches!(
        rotate(s, 3, 30, at(2)).await,
        Rotation::Rotated { .. }
    ));
}

/// MUST revoke that login, whether `presented` is its live token or a used one …
async fn ending_a_login_by_a_used_token_revokes_it(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { .. }
    ));
    s.sessions.end_session(token(1), at(2)).await.unwrap();
    assert!(!is_live(s, session, ada).await);
    assert!(matches!(rotate(s, 2, 3, at(3)).await, Rotation::Rejected));
}

/// MUST return `Ok(())` for a token it never stored, and for a login already revoked.
async fn ending_an_unknown_token_or_an_ended_login_succeeds(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    s.sessions.end_session(token(9), at(1)).await.unwrap();
    assert!(
        is_live(s, session, ada).await,
        "an unknown token ends nothing"
    );
    s.sessions.end_session(token(1), at(1)).await.unwrap();
    s.sessions.end_session(token(1), at(2)).await.unwrap();
    assert!(!is_live(s, session, ada).await);
}

/// MUST return the principal, with the account's `is_admin` as stored now, while the login is
/// live.
async fn the_principal_carries_the_admin_role_as_stored_now(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    let before = s.sessions.principal(session, ada).await.unwrap().unwrap();
    assert!(!before.is_admin);
    s.users.set_admin(ada, true).await.unwrap();
    let after = s.sessions.principal(session, ada).await.unwrap().unwrap();
    assert_eq!((after.user_id, after.session_id), (ada, session));
    assert!(after.is_admin, "a granted role works at once");
    s.users.set_admin(ada, false).await.unwrap();
    let revoked = s.sessions.principal(session, ada).await.unwrap().unwrap();
    assert!(!revoked.is_admin, "a revoked role stops working at once");
}

/// MUST return `None` for a revoked login, for a login it never stored, and for a login of
/// another account than `user_id`.
async fn no_principal_for_a_revoked_unknown_or_other_accounts_login(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let adas = login(s, ada, 1).await;
    let bobs = login(s, bob, 2).await;
    assert!(
        s.sessions
            .principal(SessionId::new(), ada)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.sessions.principal(bobs, ada).await.unwrap().is_none());
    assert!(s.sessions.principal(adas, bob).await.unwrap().is_none());
    assert!(
        s.sessions
            .principal(adas, UserId::new())
            .await
            .unwrap()
            .is_none()
    );
    s.sessions.end_session(token(2), at(1)).await.unwrap();
    assert!(s.sessions.principal(bobs, bob).await.unwrap().is_none());
    assert!(is_live(s, adas, ada).await);
}
