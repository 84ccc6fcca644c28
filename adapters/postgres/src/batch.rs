//! The statements of a batch of appends (the queue and the decisions are in `appender`): lock
//! the batch's groups, load what the rule needs about each message, insert the accepted ones
//! with everything they carry in one statement.

use std::collections::{BTreeMap, HashMap};

use confab_domain::{Attachment, Group, GroupId, Message, MessageId, ReplyRef, Timestamp, UserId};
use confab_ports::store::NewMessage;
use confab_ports::store::rows::{self, GROUP, select_list};
use sqlx::{AssertSqlSafe, PgConnection, Row};
use uuid::Uuid;

use crate::chat_rows::{MESSAGE_COLUMNS, message_from_row};
use crate::error::{StoreError, StoreResult};
use crate::rows::{Cols, as_i64, driver, millis};
use crate::search;
use crate::social::{self, Mentioning};

/// Locks the rows of the batch's groups until the transaction ends, in id order (so two
/// batches, here or on another instance, never wait for each other in a cycle). Every write
/// to a group takes this lock first; see `chat_rows::standing_for_write`.
pub(crate) async fn lock_groups(conn: &mut PgConnection, batch: &[NewMessage]) -> StoreResult<()> {
    let mut ids = each(batch, |m| m.group_id.as_uuid());
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT 1 FROM groups WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}

/// What the rule needs about one message to append: its group; when its sender already sent
/// its client id to that group, the message that did; the message it replies to, when that is
/// one of the same group; and the members its body mentions.
pub(crate) struct Facts {
    pub group: Group,
    pub earlier: Option<Message>,
    pub reply_to: Option<ReplyRef>,
    pub mentions: Vec<UserId>,
}

/// Each message's facts, in batch order: `None` when the group does not exist or the sender
/// is not a member. Called after `lock_groups` (READ COMMITTED reads each statement afresh), so
/// a membership change or a retry's original that committed meanwhile is seen. One query, and
/// one more when a body names anyone (`social::resolve_mentions`).
pub(crate) async fn load_facts(
    conn: &mut PgConnection,
    batch: &[NewMessage],
) -> StoreResult<Vec<Option<Facts>>> {
    let sql = format!(
        "SELECT i.n, {}, {MESSAGE_COLUMNS}, r.id, r.seq, r.sender_id, r.body, r.deleted
           FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[])
                WITH ORDINALITY AS i (group_id, sender_id, client_id, reply_to, n)
           JOIN members mb ON mb.group_id = i.group_id AND mb.user_id = i.sender_id
           JOIN groups g ON g.id = i.group_id
           LEFT JOIN messages m ON m.group_id = i.group_id AND m.sender_id = i.sender_id
                AND m.client_id = i.client_id AND m.client_id IS NOT NULL
           LEFT JOIN messages r ON r.id = i.reply_to AND r.group_id = i.group_id",
        select_list("g", GROUP)
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(each(batch, |m| m.group_id.as_uuid()))
        .bind(each(batch, |m| m.sender_id.as_uuid()))
        .bind(each(batch, |m| m.client_id.as_ref().map(|c| c.as_str())))
        .bind(each(batch, |m| m.reply_to.map(|r| r.as_uuid())))
        .fetch_all(&mut *conn)
        .await?;
    let mut facts: Vec<Option<Facts>> = batch.iter().map(|_| None).collect();
    let at_message = 1 + GROUP.len();
    let at_reply = at_message + rows::MESSAGE.len();
    for row in &rows {
        let n: i64 = row.try_get(0)?;
        let slot = usize::try_from(n - 1)
            .ok()
            .and_then(|i| facts.get_mut(i))
            .ok_or_else(|| StoreError::Internal(format!("no message {n} in the batch")))?;
        let earlier: Option<Uuid> = row.try_get(at_message)?;
        let reply_to: Option<Uuid> = row.try_get(at_reply)?;
        *slot = Some(Facts {
            group: rows::group(&Cols(row), 1).map_err(driver)?,
            earlier: earlier
                .map(|_| rows::message(&Cols(row), at_message).map_err(driver))
                .transpose()?,
            reply_to: reply_to
                .map(|_| social::reply_ref_at(row, at_reply))
                .transpose()?,
            mentions: Vec::new(),
        });
    }
    // Only the messages that may be inserted need their mentions.
    let wanted: Vec<(usize, Mentioning<'_>)> = batch
        .iter()
        .zip(&facts)
        .enumerate()
        .filter(|(_, (_, f))| f.as_ref().is_some_and(|f| f.earlier.is_none()))
        .map(|(i, (m, _))| {
            let mentioning = Mentioning {
                group: m.group_id,
                sender: m.sender_id,
                body: m.body.as_str(),
            };
            (i, mentioning)
        })
        .collect();
    let (at, bodies): (Vec<usize>, Vec<Mentioning<'_>>) = wanted.into_iter().unzip();
    let resolved = social::resolve_mentions(conn, &bodies).await?;
    for (i, mentions) in at.into_iter().zip(resolved) {
        if let Some(Some(f)) = facts.get_mut(i) {
            f.mentions = mentions;
        }
    }
    Ok(facts)
}

/// A message to insert, with the seq and rev it takes, the uploads it carries (in order,
/// their `message_id` already its id), the message it replies to and the members it mentions.
pub(crate) struct NewRow<'a> {
    pub message: &'a NewMessage,
    pub seq: u64,
    pub rev: u64,
    pub attachments: Vec<Attachment>,
    pub reply_to: Option<ReplyRef>,
    pub mentions: Vec<UserId>,
}

impl NewRow<'_> {
    /// The message this row will be once stored.
    pub(crate) fn as_message(&self) -> Message {
        let m = self.message;
        Message {
            id: m.id,
            group_id: m.group_id,
            seq: self.seq,
            rev: self.rev,
            created_rev: self.rev,
            sender_id: m.sender_id,
            body: m.body.as_str().to_owned(),
            client_id: m.client_id.clone(),
            created_at: m.now,
            edited_at: None,
            deleted: false,
            attachments: self.attachments.clone(),
            reply_to: self.reply_to.clone(),
            reactions: Vec::new(),
            mentions: self.mentions.clone(),
            pinned: false,
        }
    }
}

/// A group's counters and last activity after a batch.
pub(crate) struct Advance {
    pub last_seq: u64,
    pub last_rev: u64,
    pub at: Timestamp,
}

/// One column of a batch, as an array to bind.
fn each<'a, T, U>(items: &'a [T], f: impl Fn(&'a T) -> U) -> Vec<U> {
    items.iter().map(f).collect()
}

/// Inserts `new` with their replied-to messages and mentions, gives each its uploads (locked by
/// `attachments::lock_requested`) and advances `groups` (locked), in one statement; returns the
/// messages as stored, with all they carry.
/// Each row is what an append has always written: `created_rev` = `rev`, `words` =
/// `search::document(body)`; the counters are set to what the batch took, and the last activity
/// only ever moves forward.
pub(crate) async fn insert_rows(
    conn: &mut PgConnection,
    new: &[NewRow<'_>],
    groups: &BTreeMap<GroupId, Advance>,
) -> StoreResult<HashMap<MessageId, Message>> {
    if new.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "WITH inserted AS (
            INSERT INTO messages AS m (id, group_id, seq, rev, created_rev, sender_id, body,
                                       client_id, created_at, words, reply_to_id)
            SELECT id, group_id, seq, rev, rev, sender_id, body, client_id, created_at,
                   words::tsvector, reply_to_id
              FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::int8[], $5::uuid[],
                          $6::text[], $7::text[], $8::int8[], $9::text[], $17::uuid[])
                AS r (id, group_id, seq, rev, sender_id, body, client_id, created_at, words,
                      reply_to_id)
            RETURNING {MESSAGE_COLUMNS}
         ), advanced AS (
            UPDATE groups g SET last_seq = a.last_seq, last_rev = a.last_rev,
                   last_activity_at = greatest(g.last_activity_at, a.at)
              FROM unnest($10::uuid[], $11::int8[], $12::int8[], $13::int8[])
                AS a (id, last_seq, last_rev, at)
             WHERE g.id = a.id
         ), attached AS (
            UPDATE attachments t SET message_id = x.message_id, position = x.position
              FROM unnest($14::uuid[], $15::uuid[], $16::int8[]) AS x (id, message_id, position)
             WHERE t.id = x.id
         ), mentioned AS (
            INSERT INTO mentions (message_id, user_id, position)
            SELECT * FROM unnest($18::uuid[], $19::uuid[], $20::int8[])
         )
         SELECT * FROM inserted"
    );
    let advances: Vec<(&GroupId, &Advance)> = groups.iter().collect();
    // Each upload with its message and its place in it.
    let uploads: Vec<(Uuid, Uuid, i64)> = new
        .iter()
        .flat_map(|r| {
            let message = r.message.id.as_uuid();
            r.attachments
                .iter()
                .zip(0..)
                .map(move |(a, position)| (a.id.as_uuid(), message, position))
        })
        .collect();
    let mentions = social::mention_rows(new.iter().map(|r| (r.message.id, r.mentions.as_slice())));
    let stored = sqlx::query(AssertSqlSafe(sql))
        .bind(each(new, |r| r.message.id.as_uuid()))
        .bind(each(new, |r| r.message.group_id.as_uuid()))
        .bind(each(new, |r| as_i64(r.seq)))
        .bind(each(new, |r| as_i64(r.rev)))
        .bind(each(new, |r| r.message.sender_id.as_uuid()))
        .bind(each(new, |r| r.message.body.as_str()))
        .bind(each(new, |r| {
            r.message.client_id.as_ref().map(|c| c.as_str())
        }))
        .bind(each(new, |r| millis(r.message.now)))
        .bind(each(new, |r| search::document(r.message.body.as_str())))
        .bind(each(&advances, |(g, _)| g.as_uuid()))
        .bind(each(&advances, |(_, a)| as_i64(a.last_seq)))
        .bind(each(&advances, |(_, a)| as_i64(a.last_rev)))
        .bind(each(&advances, |(_, a)| millis(a.at)))
        .bind(each(&uploads, |u| u.0))
        .bind(each(&uploads, |u| u.1))
        .bind(each(&uploads, |u| u.2))
        .bind(each(new, |r| r.reply_to.as_ref().map(|x| x.id.as_uuid())))
        .bind(mentions.0)
        .bind(mentions.1)
        .bind(mentions.2)
        .fetch_all(conn)
        .await?;
    let mut carried: HashMap<MessageId, &NewRow<'_>> =
        new.iter().map(|r| (r.message.id, r)).collect();
    stored
        .iter()
        .map(|row| {
            let mut m = message_from_row(row)?;
            if let Some(r) = carried.remove(&m.id) {
                m.attachments = r.attachments.clone();
                m.reply_to = r.reply_to.clone();
                m.mentions = r.mentions.clone();
            }
            Ok((m.id, m))
        })
        .collect()
}
