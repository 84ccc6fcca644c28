//! Appends on PostgreSQL, in batches: `append_message` queues its message here, and a few lane
//! tasks each commit whatever has queued up as one transaction, then answer every caller.
//!
//! Why: an append holds its group's row lock from its first statement to its COMMIT, fsync
//! included, so appends one transaction each cap a busy group at a few hundred a second. One
//! transaction for a whole batch pays for the lock, the round trips and the fsync once. Its
//! round trips do not grow with the batch: BEGIN; lock the batch's groups; load every sender's
//! standing and earlier message; one statement inserting every row and advancing every group;
//! COMMIT.
//!
//! A group's appends always queue in the same lane (by its id, hashed), so a busy group's appends
//! batch together; many groups spread over the lanes, which commit in parallel. Groups are
//! locked in id order, so lanes (and other instances) never deadlock on each other.
//!
//! It must never answer `Ok` before the COMMIT that holds the message has succeeded
//! (acknowledged means durable), never let one message's refusal spoil the others, and never
//! decide a rule itself: `confab_domain::decide::append` decides each message, in queue order.

use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use confab_domain::decide::{self, Append};
use confab_domain::{GroupId, Message, MessageId, UserId};
use confab_ports::store::{Appended, NewMessage};
use confab_ports::{Error, Result};
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::error::{StoreError, StoreResult};
use crate::messages::{Advance, Facts, NewRow, insert_rows, load_facts, lock_groups};

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
    let plan = plan(batch, facts);
    let stored = insert_rows(&mut tx, &plan.rows, &plan.groups).await?;
    tx.commit().await?;
    crate::committed();
    Ok(plan.answers(stored))
}

/// What the rule made of one message.
enum Outcome {
    Refused(Error),
    /// A repeat of this message: stored earlier, or inserted by this batch (then answered as
    /// stored).
    Repeat(Message),
    Inserted(MessageId),
}

/// The batch's decisions and what to write for them.
struct Plan<'a> {
    outcomes: Vec<Outcome>,
    rows: Vec<NewRow<'a>>,
    groups: BTreeMap<GroupId, Advance>,
}

/// Decides each message in batch order, numbering the accepted ones consecutively per group
/// from the group's counters as locked. A message repeating a client id sent earlier in the
/// same batch is a repeat of that one, exactly as if the two had come one after the other.
fn plan(batch: &[NewMessage], facts: Vec<Option<Facts>>) -> Plan<'_> {
    let mut plan = Plan {
        outcomes: Vec::with_capacity(batch.len()),
        rows: Vec::new(),
        groups: BTreeMap::new(),
    };
    let mut sent: HashMap<(GroupId, UserId, &str), Message> = HashMap::new();
    for (m, facts) in batch.iter().zip(facts) {
        // Not a member (or no such group) comes before every other answer, retries included.
        let Some(Facts { group, earlier }) = facts else {
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
            Ok(Append::Insert) => {
                let next = plan.groups.entry(m.group_id).or_insert(Advance {
                    last_seq: group.last_seq,
                    last_rev: group.last_rev,
                    at: m.now,
                });
                next.last_seq += 1;
                next.last_rev += 1;
                next.at = next.at.max(m.now);
                let row = NewRow {
                    message: m,
                    seq: next.last_seq,
                    rev: next.last_rev,
                };
                if let Some(k) = key {
                    sent.insert(k, row.as_message());
                }
                plan.rows.push(row);
                Outcome::Inserted(m.id)
            }
        };
        plan.outcomes.push(outcome);
    }
    plan
}

impl Plan<'_> {
    /// Each message's answer, given the rows as stored (a repeat of a message inserted in this
    /// batch is answered with that message as stored, too).
    fn answers(self, stored: HashMap<MessageId, Message>) -> Vec<Result<Appended>> {
        let as_stored = |id: &MessageId| stored.get(id).cloned();
        self.outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Refused(e) => Err(e),
                Outcome::Repeat(first) => Ok(Appended {
                    message: as_stored(&first.id).unwrap_or(first),
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
mod tests {
    use super::*;
    use confab_domain::{Body, ClientId, Group, GroupKind, Timestamp};

    const T0: Timestamp = time::macros::datetime!(2026-12-01 12:00 UTC);

    fn group(last: u64, closed: bool) -> Group {
        Group {
            id: GroupId::new(),
            kind: GroupKind::Group,
            name: None,
            created_by: UserId::new(),
            created_at: T0,
            expires_at: None,
            closed_at: closed.then_some(T0),
            last_seq: last,
            last_rev: last + 10,
        }
    }

    fn new(g: &Group, sender: UserId, client_id: Option<&str>) -> NewMessage {
        NewMessage {
            id: MessageId::new(),
            group_id: g.id,
            sender_id: sender,
            body: Body::parse("hi").unwrap(),
            client_id: client_id.map(|c| ClientId::parse(c).unwrap()),
            now: T0,
        }
    }

    fn facts(g: &Group) -> Option<Facts> {
        Some(Facts {
            group: g.clone(),
            earlier: None,
        })
    }

    #[test]
    fn a_batch_is_decided_in_order_numbered_per_group_and_refused_alone() {
        let (hot, other, closed) = (group(5, false), group(0, false), group(0, true));
        let (a, b) = (UserId::new(), UserId::new());
        let batch = vec![
            new(&hot, a, Some("c")),
            new(&other, a, None),
            new(&hot, b, Some("c")), // another sender's "c": a message of its own
            new(&hot, a, Some("c")), // a repeat of the first, in the same batch
            new(&closed, a, None),
            new(&hot, b, None), // not a member (no facts)
            new(&hot, a, None),
        ];
        let facts = vec![
            facts(&hot),
            facts(&other),
            facts(&hot),
            facts(&hot),
            facts(&closed),
            None,
            facts(&hot),
        ];
        let plan = plan(&batch, facts);
        let numbered: Vec<_> = plan
            .rows
            .iter()
            .map(|r| (r.message.id, r.seq, r.rev))
            .collect();
        assert_eq!(
            numbered,
            vec![
                (batch[0].id, 6, 16),
                (batch[1].id, 1, 11),
                (batch[2].id, 7, 17),
                (batch[6].id, 8, 18),
            ]
        );
        let advanced: Vec<_> = plan
            .groups
            .iter()
            .map(|(g, a)| (*g, a.last_seq, a.last_rev))
            .collect();
        let mut expected = vec![(hot.id, 8, 18), (other.id, 1, 11)];
        expected.sort();
        assert_eq!(advanced, expected);
        // As stored, the database's version of each row is what callers get.
        let stored: HashMap<_, _> = plan
            .rows
            .iter()
            .map(|r| {
                let mut m = r.as_message();
                m.body = format!("stored {}", r.seq);
                (m.id, m)
            })
            .collect();
        let answers = plan.answers(stored);
        let shape: Vec<_> = answers
            .iter()
            .map(|a| a.as_ref().map(|x| (x.message.id, x.duplicate)))
            .collect();
        assert!(matches!(shape[0], Ok((id, false)) if id == batch[0].id));
        assert!(matches!(shape[3], Ok((id, true)) if id == batch[0].id));
        assert_eq!(answers[3].as_ref().unwrap().message.body, "stored 6");
        assert!(matches!(answers[4], Err(Error::Gone(_))));
        assert!(matches!(answers[5], Err(Error::NotFound("group"))));
        assert!(matches!(shape[6], Ok((id, false)) if id == batch[6].id));
    }

    #[test]
    fn a_retry_of_a_stored_message_takes_nothing_even_in_a_closed_group() {
        let closed = group(3, true);
        let a = UserId::new();
        let batch = vec![new(&closed, a, Some("c"))];
        let mut first = NewRow {
            message: &batch[0],
            seq: 3,
            rev: 13,
        }
        .as_message();
        first.id = MessageId::new();
        let facts = vec![Some(Facts {
            group: closed.clone(),
            earlier: Some(first.clone()),
        })];
        let plan = plan(&batch, facts);
        assert!(plan.rows.is_empty() && plan.groups.is_empty());
        let answer = plan.answers(HashMap::new()).pop().unwrap().unwrap();
        assert_eq!((answer.message, answer.duplicate), (first, true));
    }

    #[test]
    fn only_an_unreachable_database_keeps_a_batch_from_being_retried_alone() {
        let timeout = StoreError::Port(Error::Unavailable("slow".into()));
        assert!(out_of_reach(&timeout));
        assert!(out_of_reach(&StoreError::Sql(sqlx::Error::PoolTimedOut)));
        assert!(!out_of_reach(&StoreError::Internal("odd row".into())));
        assert!(!out_of_reach(&StoreError::Port(Error::Conflict {
            field: "client_id"
        })));
    }
}
