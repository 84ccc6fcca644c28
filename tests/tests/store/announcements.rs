//! `Announcements`: who may announce, and the pages of the list.

use confab_domain::{AnnouncementId, Body, UserId};
use confab_ports::store::NewAnnouncement;
use confab_ports::{AuthFailure, Error};
use uuid::Uuid;

use crate::fixtures::{Fresh, at, new_user, user};

crate::store_cases!(
    an_admin_announces_and_gets_it_back_as_stored,
    a_sender_who_is_not_an_admin_is_forbidden,
    a_revoked_admin_is_forbidden_at_once,
    an_unknown_sender_is_unauthorized,
    a_page_lists_the_newest_first,
    a_page_holds_at_most_limit_and_says_whether_more_remain,
    before_bounds_the_page_and_need_not_name_an_announcement,
    paging_with_the_last_id_lists_each_announcement_once,
    no_announcements_make_an_empty_page,
);

/// Creates a server admin named `name`.
async fn admin(s: &Fresh, name: &str) -> UserId {
    let mut new = new_user(name);
    new.is_admin = true;
    let id = new.id;
    s.users.create_user(new, None).await.unwrap();
    id
}

/// An announcement by `sender` with `id`, made at `secs`.
fn announcement(id: AnnouncementId, sender: UserId, body: &str, secs: i64) -> NewAnnouncement {
    NewAnnouncement {
        id,
        sender_id: sender,
        body: Body::parse(body).unwrap(),
        now: at(secs),
    }
}

/// `n` ids in increasing order.
fn ids(n: usize) -> Vec<AnnouncementId> {
    let mut ids: Vec<AnnouncementId> = (0..n).map(|_| AnnouncementId::new()).collect();
    ids.sort();
    ids
}

/// Announces `ids` in order, one a second, by a new admin.
async fn announce_all(s: &Fresh, ids: &[AnnouncementId]) {
    let sender = admin(s, "herald").await;
    for (i, id) in ids.iter().enumerate() {
        let secs = i64::try_from(i).unwrap();
        s.announcements
            .create_announcement(announcement(*id, sender, &format!("news {i}"), secs))
            .await
            .unwrap();
    }
}

/// The ids of a page.
async fn page_ids(
    s: &Fresh,
    before: Option<AnnouncementId>,
    limit: u32,
) -> (Vec<AnnouncementId>, bool) {
    let page = s.announcements.announcements(before, limit).await.unwrap();
    (
        page.announcements.iter().map(|a| a.id).collect(),
        page.has_more,
    )
}

/// MUST record the announcement and answer it as stored (`created_at = now`).
async fn an_admin_announces_and_gets_it_back_as_stored(s: &Fresh) {
    let ada = admin(s, "ada").await;
    let new = announcement(AnnouncementId::new(), ada, "  Maintenance at noon  ", 7);
    let made = s
        .announcements
        .create_announcement(new.clone())
        .await
        .unwrap();
    assert_eq!(made.id, new.id);
    assert_eq!(made.sender_id, ada);
    assert_eq!(made.body, new.body.as_str());
    assert_eq!(made.created_at, at(7));
    let page = s.announcements.announcements(None, 10).await.unwrap();
    assert_eq!(page.announcements, vec![made]);
    assert!(!page.has_more);
}

/// MUST answer `Error::Forbidden` for a sender who is not a server admin, writing nothing.
async fn a_sender_who_is_not_an_admin_is_forbidden(s: &Fresh) {
    let bob = user(s, "bob").await;
    let err = s
        .announcements
        .create_announcement(announcement(AnnouncementId::new(), bob, "hi all", 0))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(
        s.announcements
            .announcements(None, 10)
            .await
            .unwrap()
            .announcements
            .is_empty()
    );
}

/// MUST read the sender's role in the transaction: a role revoked a moment ago counts.
async fn a_revoked_admin_is_forbidden_at_once(s: &Fresh) {
    let ada = admin(s, "ada").await;
    s.announcements
        .create_announcement(announcement(AnnouncementId::new(), ada, "first", 0))
        .await
        .unwrap();
    s.users.set_admin(ada, false).await.unwrap();
    let err = s
        .announcements
        .create_announcement(announcement(AnnouncementId::new(), ada, "second", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let page = s.announcements.announcements(None, 10).await.unwrap();
    assert_eq!(page.announcements.len(), 1);
}

/// MUST answer `Error::Unauthorized(AuthFailure::InvalidToken)` for a sender that does not
/// exist, writing nothing.
async fn an_unknown_sender_is_unauthorized(s: &Fresh) {
    let err = s
        .announcements
        .create_announcement(announcement(AnnouncementId::new(), UserId::new(), "boo", 0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unauthorized(AuthFailure::InvalidToken)),
        "{err:?}"
    );
    assert!(
        s.announcements
            .announcements(None, 10)
            .await
            .unwrap()
            .announcements
            .is_empty()
    );
}

/// MUST order by id, highest (newest) first, whatever order they were written in.
async fn a_page_lists_the_newest_first(s: &Fresh) {
    let ids = ids(5);
    let sender = admin(s, "herald").await;
    // Written out of id order, all at the same instant: the id alone orders them.
    for i in [2, 0, 4, 1, 3] {
        s.announcements
            .create_announcement(announcement(ids[i], sender, "news", 0))
            .await
            .unwrap();
    }
    let (listed, has_more) = page_ids(s, None, 10).await;
    let newest_first: Vec<AnnouncementId> = ids.iter().rev().copied().collect();
    assert_eq!(listed, newest_first);
    assert!(!has_more);
}

/// MUST answer at most `limit`, and `has_more` exactly when more remain.
async fn a_page_holds_at_most_limit_and_says_whether_more_remain(s: &Fresh) {
    let ids = ids(4);
    announce_all(s, &ids).await;
    assert_eq!(
        page_ids(s, None, 3).await,
        (vec![ids[3], ids[2], ids[1]], true)
    );
    assert_eq!(
        page_ids(s, None, 4).await,
        (vec![ids[3], ids[2], ids[1], ids[0]], false),
        "exactly as many as asked: nothing more"
    );
    assert_eq!(page_ids(s, None, 1).await, (vec![ids[3]], true));
}

/// MUST answer only ids below `before`, which need not be stored; UUIDs compare by bytes.
async fn before_bounds_the_page_and_need_not_name_an_announcement(s: &Fresh) {
    // Ids chosen so that byte order differs from, say, order of the last hex digits.
    let id = |n: u128| AnnouncementId::from_uuid(Uuid::from_u128(n));
    let stored = [
        id(0x0a << 120),
        id(0x10 << 120),
        id((0xa0 << 120) | 1),
        id(0xf0 << 120),
    ];
    let sender = admin(s, "herald").await;
    for (i, a) in stored.iter().enumerate() {
        let body = format!("news {i}");
        s.announcements
            .create_announcement(announcement(*a, sender, &body, 0))
            .await
            .unwrap();
    }
    assert_eq!(
        page_ids(s, Some(stored[2]), 10).await,
        (vec![stored[1], stored[0]], false),
        "a stored id is excluded"
    );
    assert_eq!(
        page_ids(s, Some(id(0xa0 << 120)), 10).await,
        (vec![stored[1], stored[0]], false),
        "a bound that names nothing"
    );
    assert_eq!(
        page_ids(s, Some(id((0x10 << 120) | 1)), 1).await,
        (vec![stored[1]], true)
    );
    assert_eq!(page_ids(s, Some(stored[0]), 10).await, (vec![], false));
    assert_eq!(
        page_ids(s, Some(id(u128::MAX)), 2).await,
        (vec![stored[3], stored[2]], true)
    );
}

/// Paging with the last id as `before` MUST list each announcement once, newest first.
async fn paging_with_the_last_id_lists_each_announcement_once(s: &Fresh) {
    let ids = ids(7);
    announce_all(s, &ids).await;
    let mut seen: Vec<AnnouncementId> = Vec::new();
    let mut before = None;
    loop {
        let (page, has_more) = page_ids(s, before, 3).await;
        assert!(page.len() <= 3);
        seen.extend(page.iter().copied());
        before = page.last().copied();
        if !has_more {
            break;
        }
    }
    let newest_first: Vec<AnnouncementId> = ids.iter().rev().copied().collect();
    assert_eq!(seen, newest_first);
}

/// With nothing announced, MUST answer an empty page with nothing more.
async fn no_announcements_make_an_empty_page(s: &Fresh) {
    assert_eq!(page_ids(s, None, 50).await, (vec![], false));
    assert_eq!(
        page_ids(s, Some(AnnouncementId::new()), 50).await,
        (vec![], false)
    );
}
