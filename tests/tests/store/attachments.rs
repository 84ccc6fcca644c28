//! `Attachments`, and what `Messages` does with them: uploads recorded under the membership,
//! writability and quota checks (racing uploads included), who sees one, sweeping unused ones,
//! messages carrying them in order on every read, and a delete freeing them. The bytes are not
//! here: the blob suite (`tests/tests/blobs`) checks those.

use std::collections::BTreeSet;

use confab_domain::{
    Attachment, AttachmentId, ContentType, FileName, GroupId, Message, Timestamp, UserId,
};
use confab_ports::Error;
use confab_ports::images::Thumbnail;
use confab_ports::store::{Closing, Cursor, NewAttachment, NewMessage};
use futures::future::join_all;

use crate::fixtures::{Fresh, T0, at, group, message};
use crate::groups::{direct, forbidden, invalid, no_group, not_found, users};

crate::store_cases!(
    insert_records_an_unused_upload_created_now,
    uploaded_bytes_count_every_upload_of_the_user_used_or_not,
    uploading_to_an_unknown_group_or_as_a_non_member_is_not_found,
    uploading_to_a_closed_chat_or_an_expired_room_is_gone,
    an_upload_past_the_quota_is_refused_and_writes_nothing,
    racing_uploads_never_both_pass_a_quota_only_one_fits,
    only_the_uploader_sees_an_unused_upload,
    every_member_sees_an_attachment_once_a_message_carries_it,
    a_file_without_a_thumbnail_has_none_to_find,
    sweep_unused_removes_only_old_unused_uploads,
    recorded_answers_the_ids_that_are_recorded,
    a_deleted_group_takes_its_attachments,
    append_gives_the_uploads_to_the_message_in_the_order_sent,
    every_refusal_of_check_attachable_writes_nothing,
    history_changes_and_search_carry_the_attachments_in_order,
    an_edit_keeps_the_attachments,
    a_retry_returns_the_first_message_with_its_attachments,
    delete_frees_the_attachments_and_no_later_read_shows_them,
    a_refused_delete_frees_nothing,
);

// ---- helpers ----

/// A quota no case reaches unless it means to.
const QUOTA: u64 = 1 << 40;

fn thumb() -> Thumbnail {
    Thumbnail {
        content_type: "image/webp".into(),
        bytes: vec![0x52, 0x49, 0x46, 0x46, 0, 255],
    }
}

/// An upload of `size` bytes by `who` to `g`, a raster image with a thumbnail.
fn upload(g: GroupId, who: UserId, size: u64) -> NewAttachment {
    NewAttachment {
        attachment: Attachment {
            id: AttachmentId::new(),
            group_id: g,
            uploader_id: who,
            message_id: None,
            name: FileName::clean("holiday photo.png"),
            content_type: ContentType::parse("image/png").unwrap(),
            size,
            sha256: "0123456789abcdef".repeat(4),
            width: Some(640),
            height: Some(480),
            created_at: T0,
        },
        thumbnail: Some(thumb()),
    }
}

/// Records an upload of `size` bytes by `who` to `g` at `now`.
async fn insert_at(s: &Fresh, g: GroupId, who: UserId, size: u64, now: Timestamp) -> Attachment {
    s.attachments
        .insert_attachment(upload(g, who, size), QUOTA, now)
        .await
        .unwrap()
}

/// Records an upload of `size` bytes by `who` to `g` at `T0`.
async fn insert(s: &Fresh, g: GroupId, who: UserId, size: u64) -> Attachment {
    insert_at(s, g, who, size, T0).await
}

/// A message from `who` to `g` carrying `ids`.
fn carrying(g: GroupId, who: UserId, body: &str, ids: &[AttachmentId]) -> NewMessage {
    NewMessage {
        attachment_ids: ids.to_vec(),
        ..message(g, who, body, None)
    }
}

/// Sends a message from `who` to `g` carrying `ids`.
async fn send_with(s: &Fresh, g: GroupId, who: UserId, ids: &[AttachmentId]) -> Message {
    s.messages
        .append_message(carrying(g, who, "look", ids))
        .await
        .unwrap()
        .message
}

fn ids_of(attachments: &[Attachment]) -> Vec<AttachmentId> {
    attachments.iter().map(|a| a.id).collect()
}

/// `a` as carried by `message`.
fn taken(a: &Attachment, message: &Message) -> Attachment {
    Attachment {
        message_id: Some(message.id),
        ..a.clone()
    }
}

#[track_caller]
fn no_attachment<T: std::fmt::Debug>(r: Result<T, Error>) {
    not_found(r, "attachment");
}

#[track_caller]
fn gone<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(matches!(r, Err(Error::Gone(_))), "{r:?}");
}

/// `a` and `b`'s direct chat, closed by `a` at `at(1)`.
async fn closed_chat(s: &Fresh, a: UserId, b: UserId) -> GroupId {
    let g = direct(s, a, b).await;
    let closing = s.groups.delete_or_close(a, g, at(1)).await.unwrap();
    assert_eq!(closing, Closing::Closed);
    g
}

async fn counters(s: &Fresh, who: UserId, g: GroupId) -> (u64, u64) {
    let view = s.groups.group_of(who, g).await.unwrap();
    (view.group.last_seq, view.group.last_rev)
}

// ---- Attachments ----

/// An upload MUST be recorded as given, unused, with `created_at` = `now`.
async fn insert_records_an_unused_upload_created_now(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let new = upload(g, a, 1234);
    let given = new.attachment.clone();
    let stored = s
        .attachments
        .insert_attachment(new, QUOTA, at(5))
        .await
        .unwrap();
    let expected = Attachment {
        created_at: at(5),
        ..given
    };
    assert_eq!(stored, expected);
    assert_eq!(
        s.attachments.attachment(a, stored.id).await.unwrap(),
        expected
    );
    assert_eq!(
        s.attachments.thumbnail(a, stored.id).await.unwrap(),
        thumb()
    );
}

/// MUST count the bytes of every attachment of the user, in any group, used or not.
async fn uploaded_bytes_count_every_upload_of_the_user_used_or_not(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let (g1, g2) = (group(s, a, &[b]).await, group(s, a, &[]).await);
    assert_eq!(s.attachments.uploaded_bytes(a, g1, T0).await.unwrap(), 0);
    let used = insert(s, g1, a, 100).await;
    insert(s, g1, a, 20).await;
    insert(s, g2, a, 3).await;
    insert(s, g1, b, 5000).await;
    send_with(s, g1, a, &[used.id]).await;
    assert_eq!(s.attachments.uploaded_bytes(a, g1, T0).await.unwrap(), 123);
    assert_eq!(s.attachments.uploaded_bytes(a, g2, T0).await.unwrap(), 123);
    assert_eq!(s.attachments.uploaded_bytes(b, g1, T0).await.unwrap(), 5000);
}

/// Both MUST answer `NotFound("group")` for an unknown group, a stranger and a former member;
/// a refused insert records nothing.
async fn uploading_to_an_unknown_group_or_as_a_non_member_is_not_found(s: &Fresh) {
    let [a, b, stranger] = users(s, ["alice", "bob", "carol"]).await;
    let g = group(s, a, &[b]).await;
    s.groups.remove_member(a, g, b, at(1)).await.unwrap();
    let mut refused = Vec::new();
    for (who, g) in [(a, GroupId::new()), (stranger, g), (b, g)] {
        no_group(s.attachments.uploaded_bytes(who, g, at(2)).await);
        let new = upload(g, who, 10);
        refused.push(new.attachment.id);
        no_group(s.attachments.insert_attachment(new, QUOTA, at(2)).await);
    }
    assert!(s.attachments.recorded(refused).await.unwrap().is_empty());
}

/// Both MUST answer `Error::Gone` in a closed chat and an expired room (from `expires_at`).
async fn uploading_to_a_closed_chat_or_an_expired_room_is_gone(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let chat = closed_chat(s, a, b).await;
    let room = crate::messages::room(s, a, b, at(60)).await;
    assert_eq!(
        s.attachments.uploaded_bytes(a, room, at(59)).await.unwrap(),
        0
    );
    insert_at(s, room, a, 10, at(59)).await;
    for (g, now) in [(chat, at(2)), (room, at(60)), (room, at(61))] {
        gone(s.attachments.uploaded_bytes(b, g, now).await);
        let new = upload(g, b, 10);
        let id = new.attachment.id;
        gone(s.attachments.insert_attachment(new, QUOTA, now).await);
        assert!(s.attachments.recorded(vec![id]).await.unwrap().is_empty());
    }
}

/// MUST answer `QuotaExceeded` when the uploader's bytes (in every group) and the new ones
/// pass the quota; exactly reaching it is allowed.
async fn an_upload_past_the_quota_is_refused_and_writes_nothing(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let (g1, g2) = (group(s, a, &[]).await, group(s, a, &[]).await);
    let quota = 1000;
    let first = upload(g1, a, 600);
    s.attachments
        .insert_attachment(first, quota, T0)
        .await
        .unwrap();
    let over = upload(g2, a, 401);
    let over_id = over.attachment.id;
    let refused = s.attachments.insert_attachment(over, quota, T0).await;
    assert!(
        matches!(&refused, Err(Error::QuotaExceeded(q)) if q.quota == quota),
        "{refused:?}"
    );
    assert!(
        s.attachments
            .recorded(vec![over_id])
            .await
            .unwrap()
            .is_empty()
    );
    let fits = upload(g2, a, 400);
    s.attachments
        .insert_attachment(fits, quota, T0)
        .await
        .unwrap();
    assert_eq!(s.attachments.uploaded_bytes(a, g1, T0).await.unwrap(), 1000);
}

/// Uploads racing each other MUST NOT both pass a quota only one of them fits.
async fn racing_uploads_never_both_pass_a_quota_only_one_fits(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    for round in 1..=3u64 {
        // Room for one more upload of 300 bytes, not two.
        let quota = 300 * round + 299;
        let racing = (0..8).map(|_| {
            let attachments = s.attachments.clone();
            async move {
                attachments
                    .insert_attachment(upload(g, a, 300), quota, T0)
                    .await
            }
        });
        let results = join_all(racing).await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || matches!(r, Err(Error::QuotaExceeded(_)))),
            "{results:?}"
        );
        let used = s.attachments.uploaded_bytes(a, g, T0).await.unwrap();
        assert_eq!(used, 300 * round);
    }
}

/// Unused, an upload MUST be visible to its uploader only; anyone else gets the same
/// `NotFound("attachment")` as for an id that does not exist.
async fn only_the_uploader_sees_an_unused_upload(s: &Fresh) {
    let [a, b, stranger] = users(s, ["alice", "bob", "carol"]).await;
    let g = group(s, a, &[b]).await;
    let up = insert(s, g, a, 10).await;
    assert_eq!(s.attachments.attachment(a, up.id).await.unwrap(), up);
    for who in [b, stranger] {
        no_attachment(s.attachments.attachment(who, up.id).await);
        no_attachment(s.attachments.thumbnail(who, up.id).await);
    }
    no_attachment(s.attachments.attachment(a, AttachmentId::new()).await);
    no_attachment(s.attachments.thumbnail(a, AttachmentId::new()).await);
}

/// Once a message carries it, every member MUST see it; a non-member (a former member too)
/// never does.
async fn every_member_sees_an_attachment_once_a_message_carries_it(s: &Fresh) {
    let [a, b, c, stranger] = users(s, ["alice", "bob", "carl", "dora"]).await;
    let g = group(s, a, &[b, c]).await;
    let up = insert(s, g, a, 10).await;
    let m = send_with(s, g, a, &[up.id]).await;
    for who in [a, b, c] {
        assert_eq!(
            s.attachments.attachment(who, up.id).await.unwrap(),
            taken(&up, &m)
        );
        assert_eq!(s.attachments.thumbnail(who, up.id).await.unwrap(), thumb());
    }
    s.groups.remove_member(a, g, c, at(1)).await.unwrap();
    for who in [c, stranger] {
        no_attachment(s.attachments.attachment(who, up.id).await);
        no_attachment(s.attachments.thumbnail(who, up.id).await);
    }
}

/// `thumbnail` MUST answer `NotFound("attachment")` for a file that has none.
async fn a_file_without_a_thumbnail_has_none_to_find(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let mut new = upload(g, a, 10);
    new.thumbnail = None;
    new.attachment.content_type = ContentType::parse("application/pdf").unwrap();
    new.attachment.width = None;
    new.attachment.height = None;
    let stored = s
        .attachments
        .insert_attachment(new, QUOTA, T0)
        .await
        .unwrap();
    assert_eq!((stored.width, stored.height), (None, None));
    no_attachment(s.attachments.thumbnail(a, stored.id).await);
    assert_eq!(
        s.attachments.attachment(a, stored.id).await.unwrap(),
        stored
    );
}

/// MUST remove exactly the unused attachments created before the given time, and answer their
/// ids.
async fn sweep_unused_removes_only_old_unused_uploads(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let old = insert_at(s, g, a, 1, at(0)).await;
    let old_too = insert_at(s, g, a, 1, at(9)).await;
    let at_the_limit = insert_at(s, g, a, 1, at(10)).await;
    let young = insert_at(s, g, a, 1, at(20)).await;
    let old_used = insert_at(s, g, a, 1, at(0)).await;
    send_with(s, g, a, &[old_used.id]).await;
    let swept: BTreeSet<_> = s
        .attachments
        .sweep_unused(at(10))
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(swept, BTreeSet::from([old.id, old_too.id]));
    no_attachment(s.attachments.attachment(a, old.id).await);
    let all = vec![old.id, old_too.id, at_the_limit.id, young.id, old_used.id];
    let left: BTreeSet<_> = s
        .attachments
        .recorded(all)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(
        left,
        BTreeSet::from([at_the_limit.id, young.id, old_used.id])
    );
    assert!(s.attachments.sweep_unused(at(10)).await.unwrap().is_empty());
}

/// MUST answer those of the ids that are recorded (used or not), and nothing for none.
async fn recorded_answers_the_ids_that_are_recorded(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let (x, y) = (insert(s, g, a, 1).await, insert(s, g, a, 1).await);
    send_with(s, g, a, &[y.id]).await;
    let asked = vec![AttachmentId::new(), x.id, AttachmentId::new(), y.id];
    let found: BTreeSet<_> = s
        .attachments
        .recorded(asked)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(found, BTreeSet::from([x.id, y.id]));
    assert!(s.attachments.recorded(Vec::new()).await.unwrap().is_empty());
}

/// A deleted group takes its attachment rows with it (their bytes become orphans).
async fn a_deleted_group_takes_its_attachments(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let (x, y) = (insert(s, g, a, 1).await, insert(s, g, a, 1).await);
    send_with(s, g, a, &[y.id]).await;
    let closing = s.groups.delete_or_close(a, g, at(1)).await.unwrap();
    assert!(matches!(closing, Closing::Deleted { .. }), "{closing:?}");
    assert!(
        s.attachments
            .recorded(vec![x.id, y.id])
            .await
            .unwrap()
            .is_empty()
    );
}

// ---- Messages ----

/// An append MUST give the message the uploads, in the order of `attachment_ids`.
async fn append_gives_the_uploads_to_the_message_in_the_order_sent(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let ups = [
        insert(s, g, a, 1).await,
        insert(s, g, a, 2).await,
        insert(s, g, a, 3).await,
    ];
    let order = [ups[2].id, ups[0].id, ups[1].id];
    let m = send_with(s, g, a, &order).await;
    assert_eq!(ids_of(&m.attachments), order);
    let expected: Vec<_> = [&ups[2], &ups[0], &ups[1]]
        .into_iter()
        .map(|u| taken(u, &m))
        .collect();
    assert_eq!(m.attachments, expected);
    let plain = send_with(s, g, a, &[]).await;
    assert!(plain.attachments.is_empty());
}

/// Whatever `check_attachable` refuses MUST be `Error::Invalid` and write nothing: no message,
/// no counter, and the usable uploads of the refused list still unused.
async fn every_refusal_of_check_attachable_writes_nothing(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let g = group(s, a, &[b]).await;
    let other_group = group(s, a, &[]).await;
    let mine = insert(s, g, a, 1).await;
    let bobs = insert(s, g, b, 1).await;
    let elsewhere = insert(s, other_group, a, 1).await;
    let used = insert(s, g, a, 1).await;
    send_with(s, g, a, &[used.id]).await;
    let before = counters(s, a, g).await;
    let mut many: Vec<_> = Vec::new();
    for _ in 0..10 {
        many.push(insert(s, g, a, 1).await.id);
    }
    many.push(mine.id);
    let refused: [Vec<AttachmentId>; 6] = [
        vec![mine.id, AttachmentId::new()],
        vec![mine.id, bobs.id],
        vec![mine.id, elsewhere.id],
        vec![mine.id, used.id],
        vec![mine.id, mine.id],
        many.clone(),
    ];
    for ids in refused {
        let r = s.messages.append_message(carrying(g, a, "x", &ids)).await;
        invalid(r, "attachment_ids");
    }
    assert_eq!(counters(s, a, g).await, before);
    for id in many.iter().chain([&mine.id, &bobs.id]) {
        let who = if *id == bobs.id { b } else { a };
        let still = s.attachments.attachment(who, *id).await.unwrap();
        assert_eq!(still.message_id, None);
    }
    // The same uploads, within the rules, are taken.
    let m = send_with(s, g, a, &many[..10]).await;
    assert_eq!(ids_of(&m.attachments), many[..10]);
}

/// Every later read (history both ways, changes, search) MUST carry each message's
/// attachments, in order.
async fn history_changes_and_search_carry_the_attachments_in_order(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let g = group(s, a, &[b]).await;
    let (x, y, z) = (
        insert(s, g, a, 1).await,
        insert(s, g, a, 2).await,
        insert(s, g, b, 3).await,
    );
    let m1 = send_with(s, g, a, &[y.id, x.id]).await;
    let m2 = send_with(s, g, a, &[]).await;
    let m3 = send_with(s, g, b, &[z.id]).await;
    let sent = vec![m1.clone(), m2.clone(), m3.clone()];
    assert_eq!(ids_of(&m1.attachments), [y.id, x.id]);
    let oldest_first = s
        .messages
        .history(b, g, Cursor::After(0), 10)
        .await
        .unwrap();
    assert_eq!(oldest_first.messages, sent);
    let latest = s.messages.history(b, g, Cursor::Latest, 10).await.unwrap();
    assert_eq!(latest.messages, vec![m3.clone(), m2, m1.clone()]);
    let changes = s.messages.changes_since(b, g, 0, 10).await.unwrap();
    assert_eq!(changes, sent);
    let found = s
        .messages
        .search_messages(b, vec!["look".into()], Some(g), 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 3);
    for m in found {
        let carried = sent.iter().find(|x| x.id == m.id).unwrap();
        assert_eq!(m.attachments, carried.attachments);
    }
}

/// An edit changes the body only: the message keeps its attachments, on every read.
async fn an_edit_keeps_the_attachments(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let (x, y) = (insert(s, g, a, 1).await, insert(s, g, a, 2).await);
    let m = send_with(s, g, a, &[x.id, y.id]).await;
    let edited = s
        .messages
        .edit_message(a, m.id, crate::messages::body("better"), at(1))
        .await
        .unwrap();
    assert!(edited.freed.is_empty());
    assert_eq!(edited.message.attachments, m.attachments);
    let changes = s.messages.changes_since(a, g, m.rev, 10).await.unwrap();
    assert_eq!(changes, vec![edited.message]);
}

/// A retry MUST return the first message as it is, with its attachments, even though they
/// are no longer unused.
async fn a_retry_returns_the_first_message_with_its_attachments(s: &Fresh) {
    let [a] = users(s, ["alice"]).await;
    let g = group(s, a, &[]).await;
    let x = insert(s, g, a, 1).await;
    let send = || NewMessage {
        attachment_ids: vec![x.id],
        ..message(g, a, "once", Some("c1"))
    };
    let first = s.messages.append_message(send()).await.unwrap();
    let again = s.messages.append_message(send()).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.message, first.message);
    assert_eq!(ids_of(&again.message.attachments), [x.id]);
}

/// A delete MUST remove the message's attachments in its transaction and answer their ids in
/// `freed`; the tombstone and every later read carry none, and their bytes no longer count.
async fn delete_frees_the_attachments_and_no_later_read_shows_them(s: &Fresh) {
    let [o, a] = users(s, ["owner", "alice"]).await;
    let g = group(s, o, &[a]).await;
    let (x, y, kept) = (
        insert(s, g, a, 10).await,
        insert(s, g, a, 20).await,
        insert(s, g, a, 5).await,
    );
    let m = send_with(s, g, a, &[x.id, y.id]).await;
    let other = send_with(s, g, a, &[kept.id]).await;
    // An admin's (here the owner's) delete frees them as well as the sender's would.
    let deleted = s.messages.delete_message(o, m.id, at(1)).await.unwrap();
    assert!(deleted.changed);
    let freed: BTreeSet<_> = deleted.freed.iter().copied().collect();
    assert_eq!(freed, BTreeSet::from([x.id, y.id]));
    assert!(deleted.message.attachments.is_empty());
    let page = s
        .messages
        .history(a, g, Cursor::After(0), 10)
        .await
        .unwrap();
    assert!(page.messages[0].deleted && page.messages[0].attachments.is_empty());
    assert_eq!(page.messages[1], other);
    let changes = s.messages.changes_since(a, g, 0, 10).await.unwrap();
    assert!(
        changes
            .iter()
            .all(|c| c.id != m.id || c.attachments.is_empty())
    );
    for who in [o, a] {
        no_attachment(s.attachments.attachment(who, x.id).await);
        no_attachment(s.attachments.thumbnail(who, y.id).await);
    }
    let left = s.attachments.recorded(vec![x.id, y.id, kept.id]).await;
    assert_eq!(left.unwrap(), vec![kept.id]);
    assert_eq!(s.attachments.uploaded_bytes(a, g, at(1)).await.unwrap(), 5);
    let again = s.messages.delete_message(a, m.id, at(2)).await.unwrap();
    assert!(!again.changed && again.freed.is_empty());
}

/// A refused delete changes nothing: the attachments stay with their message.
async fn a_refused_delete_frees_nothing(s: &Fresh) {
    let [a, b] = users(s, ["alice", "bob"]).await;
    let g = group(s, a, &[b]).await;
    let x = insert(s, g, a, 1).await;
    let m = send_with(s, g, a, &[x.id]).await;
    forbidden(s.messages.delete_message(b, m.id, at(1)).await);
    assert_eq!(
        s.attachments.attachment(b, x.id).await.unwrap(),
        taken(&x, &m)
    );
    let page = s.messages.history(b, g, Cursor::Latest, 10).await.unwrap();
    assert_eq!(page.messages, vec![m]);
}
