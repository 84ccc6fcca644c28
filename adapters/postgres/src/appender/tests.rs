//! The batch planner's decisions, without a database.

use super::*;
use confab_domain::{Body, ClientId, ContentType, FileName, GroupKind, Timestamp};

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
        attachment_ids: vec![],
        reply_to: None,
        now: T0,
    }
}

fn facts(g: &Group) -> Option<Facts> {
    Some(Facts {
        group: g.clone(),
        earlier: None,
        reply_to: None,
        mentions: vec![],
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
    let plan = plan(&batch, facts, HashMap::new());
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
        attachments: vec![],
        reply_to: None,
        mentions: vec![],
    }
    .as_message();
    first.id = MessageId::new();
    let facts = vec![Some(Facts {
        group: closed.clone(),
        earlier: Some(first.clone()),
        reply_to: None,
        mentions: vec![],
    })];
    let plan = plan(&batch, facts, HashMap::new());
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

fn upload(g: &Group, uploader: UserId) -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        group_id: g.id,
        uploader_id: uploader,
        message_id: None,
        name: FileName::clean("a.txt"),
        content_type: ContentType::parse("text/plain").unwrap(),
        size: 3,
        sha256: "0".repeat(64),
        width: None,
        height: None,
        created_at: T0,
    }
}

#[test]
fn an_upload_goes_to_the_first_message_of_a_batch_and_a_refusal_takes_nothing() {
    let g = group(0, false);
    let (a, b) = (UserId::new(), UserId::new());
    let (x, y, theirs) = (upload(&g, a), upload(&g, a), upload(&g, b));
    let missing = AttachmentId::new();
    let with = |ids: &[AttachmentId]| NewMessage {
        attachment_ids: ids.to_vec(),
        ..new(&g, a, None)
    };
    let batch = vec![
        with(&[y.id, x.id]),
        with(&[x.id]),      // taken by the first, in this very batch
        with(&[theirs.id]), // someone else's upload
        with(&[missing]),   // no such upload
        with(&[]),
    ];
    let uploads: HashMap<_, _> = [&x, &y, &theirs]
        .into_iter()
        .map(|u| (u.id, u.clone()))
        .collect();
    let plan = plan(&batch, batch.iter().map(|_| facts(&g)).collect(), uploads);
    let rows: Vec<_> = plan
        .rows
        .iter()
        .map(|r| {
            (
                r.message.id,
                r.seq,
                r.attachments.iter().map(|u| u.id).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![(batch[0].id, 1, vec![y.id, x.id]), (batch[4].id, 2, vec![])]
    );
    assert!(
        plan.rows[0]
            .attachments
            .iter()
            .all(|u| u.message_id == Some(batch[0].id))
    );
    assert_eq!(
        plan.rows[0].as_message().attachments,
        plan.rows[0].attachments
    );
    let answers = plan.answers(HashMap::new());
    for refused in &answers[1..4] {
        assert!(matches!(refused, Err(Error::Invalid(i)) if i.field == "attachment_ids"));
    }
}

#[test]
fn a_reply_must_answer_a_message_of_its_group_stored_or_earlier_in_the_batch() {
    let (g, other) = (group(4, false), group(0, false));
    let a = UserId::new();
    let stored = ReplyRef {
        id: MessageId::new(),
        seq: 2,
        sender_id: a,
        excerpt: "hello".into(),
    };
    let first = new(&g, a, None);
    let reply = |to: MessageId, grp: &Group| NewMessage {
        reply_to: Some(to),
        ..new(grp, a, None)
    };
    let batch = vec![
        reply(stored.id, &g),        // found with its facts
        first.clone(),               // inserted, then replied to below
        reply(first.id, &g),         // earlier in this batch, same group
        reply(first.id, &other),     // earlier in this batch, another group
        reply(MessageId::new(), &g), // nowhere
    ];
    let mentioned = UserId::new();
    let mut facts: Vec<_> = batch
        .iter()
        .map(|m| {
            if m.group_id == g.id {
                facts(&g)
            } else {
                facts(&other)
            }
        })
        .collect();
    if let Some(Some(f)) = facts.get_mut(0) {
        f.reply_to = Some(stored.clone());
        f.mentions = vec![mentioned];
    }
    let plan = plan(&batch, facts, HashMap::new());
    let rows: Vec<_> = plan
        .rows
        .iter()
        .map(|r| (r.message.id, r.reply_to.as_ref().map(|x| (x.id, x.seq))))
        .collect();
    assert_eq!(
        rows,
        vec![
            (batch[0].id, Some((stored.id, 2))),
            (batch[1].id, None),
            (batch[2].id, Some((first.id, 6))),
        ]
    );
    let m = plan.rows[0].as_message();
    assert_eq!((m.reply_to, m.mentions), (Some(stored), vec![mentioned]));
    assert_eq!(plan.rows[2].as_message().reply_to.unwrap().excerpt, "hi");
    let answers = plan.answers(HashMap::new());
    for refused in &answers[3..] {
        assert!(matches!(refused, Err(Error::Invalid(i)) if i.field == "reply_to"));
    }
}
