//! Appends on PostgreSQL, in batches: `append_message` queues its message here, and a few lane
//! tasks each commit whatever has queued up as one transaction, then answer every caller.
//!
//! Why: an append holds its group's row lock from its first statement to its COMMIT, fsync
//! included, so appends one transaction each cap a busy group at a few hundred a second. One
//! transaction for a whole batch pays for the lock, the round trips and the fsync once. Its
//! round trips do not grow with the batch: BEGIN; lock the batch's groups; load every sender's
//! standing and earlier message; lock the uploads the batch names (only when it names any); one
//! statement inserting every row, giving each its uploads and advancing every group; read the
//! attachments of repeats (only when there are any); COMMIT.
//!
//! A group's appends always queue in the same lane (by its id, hashed), so a busy group's appends
//! batch together; many groups spread over the lanes, which commit in parallel. Groups are
//! locked in id order, so lanes (and other instances) never deadlock on each other.
//!
//! It must never answer `Ok` before the COMMIT that holds the message has succeeded
//! (acknowledged means durable), never let one message's refusal spoil the others, and never
//! decide a rule itself: `confab_domain::decide::append` decides each message, in queue order,
//! and `confab_domain::attachment::check_attachable` what it may carry.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use confab_domain::attachment::check_attachable;
use confab_domain::decide::{self, Append};
use confab_domain::reaction::excerpt;
use confab_domain::{
    Attachment, AttachmentId, Group, GroupId, Message, MessageId, ReplyRef, UserId,
};
use confab_ports::store::{Appended, NewMessage};
use confab_ports::{Error, Result};
use sqlx::{PgConnection, PgPool};
use tokio::sync::{mpsc, oneshot};

use crate::batch::{Advance, Facts, NewRow, insert_rows, load_facts, lock_groups};
use crate::error::{StoreError, StoreResult};
use crate::{attachments, social};

/// Lanes, each committing one batch at a time on one connection.
const LANES: usize = 4;
/// Most appends in one transaction: bounds what one batch adds to its first caller's wait.
const MAX_BATCH: usize = 256;
/// Appends queued per lane before callers wait (back-pressure, not unbounded memory).
const QUEUE: usize = 1024;

/// One queued append and where its answer goes.
struct Job {
    message: NewMessage,
    reply: oneshot::Sender<Result<Appended>>,
}

/// The queues into the lane tasks. The lanes end once this is dropped and they have answered
/// what was queued.
#[derive(Debug)]
pub(crate) struct Appender {
    lanes: Vec<mpsc::Sender<Job>>,
}

impl Appender {
    /// Starts the lane tasks on the current runtime; each transaction is bounded by `timeout`.
    pub(crate) fn start(pool: &PgPool, timeout: Duration) -> Self {
        let lanes = (0..LANES)
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(lane(pool.clone(), timeout, rx));
                tx
            })
            .collect();
        Self { lanes }
    }

    /// Appends `message`, answering once the transaction holding it has committed (or failed).
    pub(crate) async fn append(&self, message: NewMessage) -> Result<Appended> {
        let mut hasher = DefaultHasher::new();
        message.group_id.hash(&mut hasher);
        let lane = usize::try_from(hasher.finish() % self.lanes.len() as u64).unwrap_or(0);
        let (reply, answer) = oneshot::channel();
        self.lanes[lane]
            .send(Job { message, reply })
            .await
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("an append batch ended without an answer".into()))?
    }
}

async fn lane(pool: PgPool, timeout: Duration, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let batch = std::mem::take(&mut jobs);
        let pool = pool.clone();
        // A panic must end this batch only (its callers hear an internal error), not the lane
        // every later append to its groups goes through.
        let done = tokio::spawn(async move { commit(&pool, timeout, batch).await }).await;
        if let Err(e) = done {
            tracing::error!(error = %e, "an append batch panicked");
        }
    }
    tracing::debug!("PostgreSQL append lane stopped");
}

/// Commits `jobs` and answers each.
///
/// When the batch fails as a whole for something other than the database being out of reach
/// (say a deadlock with some other multi-row write, or a constraint one message broke), each
/// message is tried again in a transaction of its own, so one cannot spoil the others. When the
/// database is out of reach, the COMMIT's outcome may be unknown: nothing is tried again, every
/// caller hears the error, as a single append would have (a client retries with its client id).
async fn commit(pool: &PgPool, timeout: Duration, jobs: Vec<Job>) {
    // A caller that gave up (its own timeout) waits no more: write nothing for it.
    let (messages, replies): (Vec<_>, Vec<_>) = jobs
        .into_iter()
        .filter(|j| !j.reply.is_closed())
        .map(|j| (j.message, j.reply))
        .unzip();
    if messages.is_empty() {
        return;
    }
    match bounded(pool, timeout, &messages).await {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(answer);
            }
        }
        Err(e) if messages.len() > 1 && !out_of_reach(&e) => {
            tracing::warn!(error = %e, n = messages.len(), "an append batch failed; retrying its messages one by one");
            for (message, reply) in messages.iter().zip(replies) {
                if reply.is_closed() {
                    continue;
                }
                let answer = match bounded(pool, timeout, std::slice::from_ref(message)).await {
                    Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                        Err(Error::Internal(
                            "an append came back without an answer".into(),
                        ))
                    }),
                    Err(e) => Err(e.into()),
                };
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            let e = Error::from(e);
            for reply in replies {
                let _ = reply.send(Err(copy(&e)));
            }
        }
    }
}

/// The batch's transaction, within the store's timeout.
async fn bounded(
    pool: &PgPool,
    timeout: Duration,
    batch: &[NewMessage],
) -> StoreResult<Vec<Result<Appended>>> {
    match tokio::time::timeout(timeout, transaction(pool, batch)).await {
        Ok(done) => done,
        Err(_) => Err(Error::Unavailable(format!(
            "the database did not answer within {timeout:?}"
        ))
        .into()),
    }
}

/// Whether a failure says the database is out of reach (as `error.rs` judges it) rather than
/// anything about the batch's messages. Deadlocks and serialization failures are not: a
/// transaction of one message (one group locked) may well avoid them.
fn out_of_reach(e: &StoreError) -> bool {
    match e {
        StoreError::Sql(e) => crate::error::out_of_reach(e),
        StoreError::Port(Error::Unavailable(_)) => true,
        _ => false,
    }
}

/// The batch's error for each of its callers (`Error` is not `Clone`).
fn copy(e: &Error) -> Error {
    match e {
        Error::Unavailable(m) => Error::Unavailable(m.clone()),
        Error::Conflict { field } => Error::Conflict { field },
        Error::NotFound(what) => Error::NotFound(what),
        Error::Gone(m) => Error::Gone(m.clone()),
        other => Error::Internal(other.to_string()),
    }
}

/// One transaction for `batch`: each message's answer, once committed.
async fn transaction(pool: &PgPool, batch: &[NewMessage]) -> StoreResult<Vec<Result<Appended>>> {
    let mut tx = pool.begin().await?;
    lock_groups(&mut tx, batch).await?;
    let facts = load_facts(&mut tx, batch).await?;
    let uploads = attachments::lock_requested(&mut tx, batch).await?;
    let plan = plan(batch, facts, uploads);
    let stored = insert_rows(&mut tx, &plan.rows, &plan.groups).await?;
    let answers = with_earlier_extras(&mut tx, plan.answers(stored)).await?;
    tx.commit().await?;
    crate::committed();
    Ok(answers)
}

/// Fills in what the messages answered as repeats of earlier ones carry (attachments, reply,
/// reactions, mentions: those of this batch already carry theirs; re-reading them inside the
/// transaction gives the same).
async fn with_earlier_extras(
    conn: &mut PgConnection,
    mut answers: Vec<Result<Appended>>,
) -> StoreResult<Vec<Result<Appended>>> {
    let mut repeats: Vec<Message> = answers
        .iter()
        .flatten()
        .filter(|a| a.duplicate)
        .map(|a| a.message.clone())
        .collect();
    if repeats.is_empty() {
        return Ok(answers);
    }
    social::fill(conn, &mut repeats).await?;
    let by_id: HashMap<MessageId, Message> = repeats.into_iter().map(|m| (m.id, m)).collect();
    for a in answers.iter_mut().flatten().filter(|a| a.duplicate) {
        if let Some(m) = by_id.get(&a.message.id) {
            a.message = m.clone();
        }
    }
    Ok(answers)
}

/// What the rule made of one message.
enum Outcome {
    Refused(Error),
    /// A repeat of this message: stored earlier, or inserted by this batch (then answered as
    /// stored).
    Repeat(Box<Message>),
    Inserted(MessageId),
}

/// The batch's decisions and what to write for them.
struct Plan<'a> {
    outcomes: Vec<Outcome>,
    rows: Vec<NewRow<'a>>,
    groups: BTreeMap<GroupId, Advance>,
}

/// Gives `m` the uploads it names, if `check_attachable` allows it over those of `uploads` (the
/// stored ones the batch names, as locked); marks them taken, so that a later message of the
/// same batch finds them used, exactly as if the two had come one after the other.
fn take_uploads(
    m: &NewMessage,
    uploads: &mut HashMap<AttachmentId, Attachment>,
) -> std::result::Result<Vec<Attachment>, Error> {
    let found: Vec<Attachment> = m
        .attachment_ids
        .iter()
        .filter_map(|id| uploads.get(id).cloned())
        .collect();
    check_attachable(&m.attachment_ids, &found, m.sender_id, m.group_id)?;
    let mut taken = Vec::with_capacity(m.attachment_ids.len());
    for id in &m.attachment_ids {
        if let Some(a) = uploads.get_mut(id) {
            a.message_id = Some(m.id);
            taken.push(a.clone());
        }
    }
    Ok(taken)
}

/// The message `m` replies to, if it names one: `found` (a stored message of its group, as
/// loaded with its facts) or one inserted earlier in this batch to the same group; else
/// `Invalid` on `reply_to`, refusing this message only.
fn replied(
    m: &NewMessage,
    found: Option<ReplyRef>,
    inserted: &HashMap<MessageId, (GroupId, ReplyRef)>,
) -> std::result::Result<Option<ReplyRef>, Error> {
    let Some(id) = m.reply_to else {
        return Ok(None);
    };
    found
        .filter(|r| r.id == id)
        .or_else(|| {
            inserted
                .get(&id)
                .filter(|(group, _)| *group == m.group_id)
                .map(|(_, r)| r.clone())
        })
        .map(Some)
        .ok_or_else(|| Error::invalid("reply_to", "must be a message of this group"))
}

/// Decides each message in batch order, numbering the accepted ones consecutively per group
/// from the group's counters as locked. A message repeating a client id sent earlier in the
/// same batch is a repeat of that one, exactly as if the two had come one after the other.
fn plan(
    batch: &[NewMessage],
    facts: Vec<Option<Facts>>,
    mut uploads: HashMap<AttachmentId, Attachment>,
) -> Plan<'_> {
    let mut plan = Plan {
        outcomes: Vec::with_capacity(batch.len()),
        rows: Vec::new(),
        groups: BTreeMap::new(),
    };
    let mut sent: HashMap<(GroupId, UserId, &str), Message> = HashMap::new();
    // What a later message of the batch may reply to: those inserted before it.
    let mut inserted: HashMap<MessageId, (GroupId, ReplyRef)> = HashMap::new();
    for (m, facts) in batch.iter().zip(facts) {
        // Not a member (or no such group) comes before every other answer, retries included.
        let Some(Facts {
            group,
            earlier,
            reply_to,
            mentions,
        }) = facts
        else {
            plan.outcomes
                .push(Outcome::Refused(Error::NotFound("group")));
            continue;
        };
        let key = m
            .client_id
            .as_ref()
            .map(|c| (m.group_id, m.sender_id, c.as_str()));
        let earlier = earlier.or_else(|| key.and_then(|k| sent.get(&k).cloned()));
        let outcome = match decide::append(&group, earlier, m.now) {
            Err(refusal) => Outcome::Refused(refusal.into()),
            Ok(Append::Repeat(first)) => Outcome::Repeat(first),
            Ok(Append::Insert) => match replied(m, reply_to, &inserted)
                .and_then(|reply| Ok((reply, take_uploads(m, &mut uploads)?)))
            {
                Err(refusal) => Outcome::Refused(refusal),
                Ok((reply, attachments)) => {
                    let row = plan.number(m, &group, attachments, reply, mentions);
                    let as_reply = ReplyRef {
                        id: m.id,
                        seq: row.seq,
                        sender_id: m.sender_id,
                        excerpt: excerpt(m.body.as_str(), false),
                    };
                    inserted.insert(m.id, (m.group_id, as_reply));
                    if let Some(k) = key {
                        sent.insert(k, row.as_message());
                    }
                    plan.rows.push(row);
                    Outcome::Inserted(m.id)
                }
            },
        };
        plan.outcomes.push(outcome);
    }
    plan
}

impl<'a> Plan<'a> {
    /// The row of an accepted message: the next seq and rev of its group (counted on from the
    /// group's counters as locked).
    fn number(
        &mut self,
        m: &'a NewMessage,
        group: &Group,
        attachments: Vec<Attachment>,
        reply_to: Option<ReplyRef>,
        mentions: Vec<UserId>,
    ) -> NewRow<'a> {
        let next = self.groups.entry(m.group_id).or_insert(Advance {
            last_seq: group.last_seq,
            last_rev: group.last_rev,
            at: m.now,
        });
        next.last_seq += 1;
        next.last_rev += 1;
        next.at = next.at.max(m.now);
        NewRow {
            message: m,
            seq: next.last_seq,
            rev: next.last_rev,
            attachments,
            reply_to,
            mentions,
        }
    }

    /// Each message's answer, given the rows as stored (a repeat of a message inserted in this
    /// batch is answered with that message as stored, too).
    fn answers(self, stored: HashMap<MessageId, Message>) -> Vec<Result<Appended>> {
        let as_stored = |id: &MessageId| stored.get(id).cloned();
        self.outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Refused(e) => Err(e),
                Outcome::Repeat(first) => Ok(Appended {
                    message: as_stored(&first.id).unwrap_or(*first),
                    duplicate: true,
                }),
                Outcome::Inserted(id) => as_stored(&id)
                    .map(|message| Appended {
                        message,
                        duplicate: false,
                    })
                    .ok_or_else(|| Error::Internal("an inserted message was not returned".into())),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
