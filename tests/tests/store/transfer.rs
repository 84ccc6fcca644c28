//! `Transfer`: the schema as the description says, whole tables read in key order and written
//! all or nothing, and rows that move between the two stores unchanged.

use std::collections::BTreeSet;

use confab_domain::{
    AnnouncementId, Body, GroupId, ReportId, ReportReason, ReportTarget, SessionId, UserId,
};
use confab_ports::Error;
use confab_ports::service::copy_store;
use confab_ports::store::{
    Kind, NOT_COPIED, NewAnnouncement, NewReport, NewSession, Row, TABLES, Table, Value,
};
use confab_ports::tokens::TokenHash;
use uuid::Uuid;

use crate::fixtures::{self, Fresh, at, group, message, new_user, user};

crate::store_cases!(
    the_layout_is_the_description,
    a_fresh_store_holds_no_rows,
    every_table_reads_back_what_was_written_in_key_order_across_batches,
    text_keys_are_read_in_byte_order,
    a_batch_reads_only_keys_after_the_given_one,
    an_after_that_is_no_key_is_internal,
    a_row_against_the_description_is_refused_and_nothing_is_written,
    a_batch_breaking_the_schema_writes_nothing,
    rows_the_store_wrote_itself_read_back,
    a_copied_message_is_found_by_search,
    rows_move_to_the_other_store_unchanged,
    a_reply_whose_id_sorts_first_moves_after_its_original,
);

fn table(name: &str) -> &'static Table {
    Table::named(name).unwrap()
}

/// The `n`th row of `table`, with values of every kind, nullable columns null on odd rows.
/// Every id of row `n` is the same UUID, so each foreign key points at row `n` of its parent
/// table, written before it.
fn row(table: &Table, n: u64) -> Row {
    table
        .columns
        .iter()
        .map(|c| match c.kind {
            _ if c.nullable && n % 2 == 1 => Value::Null,
            Kind::Uuid => Value::Uuid(Uuid::from_u128(u128::from(n) + 1)),
            Kind::Text => Value::Text(match c.name {
                "kind" => "group".into(),
                "role" => "member".into(),
                "status" => "open".into(),
                _ => format!("{} {n} ü'\"", c.name),
            }),
            Kind::Int => Value::Int(i64::MAX - i64::try_from(n).unwrap()),
            Kind::Bool => Value::Bool(n.is_multiple_of(2)),
            Kind::Bytes => Value::Bytes(vec![0, 255, u8::try_from(n).unwrap()]),
        })
        .collect()
}

/// Writes rows `0..n` of every table, parents first, each batch in descending key order.
async fn fill(s: &Fresh, n: u64) {
    for table in TABLES {
        let rows = (0..n).rev().map(|i| row(table, i)).collect();
        s.transfer.write_batch(table, rows).await.unwrap();
    }
}

/// Every row of `table`, read in batches of `batch`.
async fn read_all(s: &Fresh, table: &'static Table, batch: u32) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut after = None;
    loop {
        let got = s
            .transfer
            .read_batch(table, after.take(), batch)
            .await
            .unwrap();
        assert!(got.len() <= batch as usize);
        let Some(last) = got.last() else { break };
        after = Some(table.key_of(last).unwrap());
        rows.extend(got);
    }
    rows
}

fn settings_row(key: &str) -> Row {
    vec![
        Value::Text(key.into()),
        Value::Bytes(key.as_bytes().to_vec()),
    ]
}

/// MUST name exactly the tables of `TABLES` and `NOT_COPIED`, each of `TABLES` with exactly
/// its described columns (store-only tables and columns left out).
async fn the_layout_is_the_description(s: &Fresh) {
    let layout = s.transfer.layout().await.unwrap();
    let names: BTreeSet<&str> = layout.iter().map(|t| t.name.as_str()).collect();
    let described: BTreeSet<&str> = TABLES
        .iter()
        .map(|t| t.name)
        .chain(NOT_COPIED.iter().copied())
        .collect();
    assert_eq!(names, described);
    for table in TABLES {
        let has = layout.iter().find(|t| t.name == table.name).unwrap();
        let columns: BTreeSet<&str> = has.columns.iter().map(String::as_str).collect();
        let wanted: BTreeSet<&str> = table.columns.iter().map(|c| c.name).collect();
        assert_eq!(columns, wanted, "{}", table.name);
        assert_eq!(has.columns.len(), wanted.len(), "{}", table.name);
    }
}

/// A freshly migrated store MUST count no row in any table (the copy's target check).
async fn a_fresh_store_holds_no_rows(s: &Fresh) {
    for table in TABLES {
        assert_eq!(s.transfer.count(table).await.unwrap(), 0, "{}", table.name);
        assert!(
            s.transfer
                .read_batch(table, None, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// MUST write rows as they are and read them back in key order, batch after batch, with
/// every kind and nulls intact; `count` MUST count them.
async fn every_table_reads_back_what_was_written_in_key_order_across_batches(s: &Fresh) {
    fill(s, 7).await;
    for table in TABLES {
        let expected: Vec<Row> = (0..7).map(|i| row(table, i)).collect();
        assert_eq!(read_all(s, table, 3).await, expected, "{}", table.name);
        assert_eq!(read_all(s, table, 7).await, expected, "{}", table.name);
        assert_eq!(s.transfer.count(table).await.unwrap(), 7, "{}", table.name);
    }
}

/// Text keys MUST be ordered by their UTF-8 bytes on both stores, whatever the collation, so
/// that `after` skips nothing.
async fn text_keys_are_read_in_byte_order(s: &Fresh) {
    let mut keys = vec![
        "b", "B", "ä", "a", "Z", "_", "0", "é", "a b", "ab", "A", "z", "ß",
    ];
    let settings = table("settings");
    let rows = keys.iter().map(|k| settings_row(k)).collect();
    s.transfer.write_batch(settings, rows).await.unwrap();
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let expected: Vec<Row> = keys.iter().map(|k| settings_row(k)).collect();
    assert_eq!(read_all(s, settings, 2).await, expected);
}

/// MUST answer only rows whose key is greater than `after`, at most `limit`; a key of several
/// columns compares column by column.
async fn a_batch_reads_only_keys_after_the_given_one(s: &Fresh) {
    fill(s, 5).await;
    let users = table("users");
    let after = Some(users.key_of(&row(users, 1)).unwrap());
    let got = s.transfer.read_batch(users, after, 2).await.unwrap();
    assert_eq!(got, vec![row(users, 2), row(users, 3)]);
    let past_the_end = Some(vec![Value::Uuid(Uuid::max())]);
    assert!(
        s.transfer
            .read_batch(users, past_the_end, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Members: (group 3, user 3) is after (group 3, user 2) and (group 2, user 9).
    let members = table("members");
    let id = |n: u128| Value::Uuid(Uuid::from_u128(n));
    let got = s
        .transfer
        .read_batch(members, Some(vec![id(3), id(2)]), 10)
        .await
        .unwrap();
    assert_eq!(got, (2..5).map(|i| row(members, i)).collect::<Vec<_>>());
    let got = s
        .transfer
        .read_batch(members, Some(vec![id(2), id(9)]), 10)
        .await
        .unwrap();
    assert_eq!(got, (2..5).map(|i| row(members, i)).collect::<Vec<_>>());
    let got = s
        .transfer
        .read_batch(members, Some(vec![id(3), id(3)]), 10)
        .await
        .unwrap();
    assert_eq!(got, (3..5).map(|i| row(members, i)).collect::<Vec<_>>());
}

/// MUST answer `Error::Internal` for an `after` that fails `Table::check_key`.
async fn an_after_that_is_no_key_is_internal(s: &Fresh) {
    let users = table("users");
    let members = table("members");
    let id = Value::Uuid(Uuid::now_v7());
    for (table, key) in [
        (users, vec![Value::Text("not an id".into())]),
        (users, vec![Value::Null]),
        (users, vec![]),
        (members, vec![id.clone()]),
        (members, vec![id.clone(), id.clone(), id]),
    ] {
        let err = s
            .transfer
            .read_batch(table, Some(key.clone()), 10)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{key:?}: {err:?}");
    }
}

/// MUST refuse with `Error::Internal` a batch with a row that fails `Table::check_row`,
/// writing none of its rows.
async fn a_row_against_the_description_is_refused_and_nothing_is_written(s: &Fresh) {
    let users = table("users");
    let good = row(users, 0);
    let mut wrong_kind = row(users, 1);
    wrong_kind[8] = Value::Text("yesterday".into()); // created_at
    let mut null_where_required = row(users, 2);
    null_where_required[1] = Value::Null; // username
    let mut short = row(users, 3);
    short.pop();
    let mut long = row(users, 4);
    long.push(Value::Int(1));
    for bad in [wrong_kind, null_where_required, short, long] {
        let err = s
            .transfer
            .write_batch(users, vec![good.clone(), bad.clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Internal(_)), "{bad:?}: {err:?}");
        assert_eq!(s.transfer.count(users).await.unwrap(), 0, "{bad:?}");
    }
}

/// MUST write nothing of a batch with a row the schema refuses: a key already there (the
/// stores answer differently, see the port), a parent row missing (`Error::Internal`).
async fn a_batch_breaking_the_schema_writes_nothing(s: &Fresh) {
    let settings = table("settings");
    let err = s
        .transfer
        .write_batch(
            settings,
            vec![settings_row("a"), settings_row("b"), settings_row("a")],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Internal(_) | Error::Conflict { field: "value" }),
        "{err:?}"
    );
    assert_eq!(s.transfer.count(settings).await.unwrap(), 0);

    // The same key as a row written before.
    s.transfer
        .write_batch(settings, vec![settings_row("a")])
        .await
        .unwrap();
    assert!(
        s.transfer
            .write_batch(settings, vec![settings_row("b"), settings_row("a")])
            .await
            .is_err()
    );
    assert_eq!(s.transfer.count(settings).await.unwrap(), 1);

    // A member of a group that is not there.
    let users = table("users");
    s.transfer
        .write_batch(users, vec![row(users, 0), row(users, 1)])
        .await
        .unwrap();
    let groups = table("groups");
    s.transfer
        .write_batch(groups, vec![row(groups, 0)])
        .await
        .unwrap();
    let members = table("members");
    let err = s
        .transfer
        .write_batch(members, vec![row(members, 0), row(members, 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Internal(_)), "{err:?}");
    assert_eq!(s.transfer.count(members).await.unwrap(), 0);
}

/// What the store's own operations wrote MUST read back, every row passing `check_row`.
async fn rows_the_store_wrote_itself_read_back(s: &Fresh) {
    let ada = seed(s).await;
    for table in TABLES {
        let rows = read_all(s, table, 2).await;
        assert_eq!(
            rows.len() as u64,
            s.transfer.count(table).await.unwrap(),
            "{}",
            table.name
        );
        for r in &rows {
            table.check_row(r).unwrap();
        }
    }
    let users = read_all(s, table("users"), 10).await;
    assert!(users.iter().any(|r| r[0] == Value::Uuid(ada.as_uuid())));
    assert_eq!(read_all(s, table("messages"), 10).await.len(), 2);
    assert_eq!(read_all(s, table("reports"), 10).await.len(), 1);
    assert_eq!(read_all(s, table("invites"), 10).await.len(), 1);
}

/// Writes through the store's own ports: two users (one admin, with a login), a group with
/// two messages, a report of one of them, an announcement, the signing secret. Returns the
/// admin.
async fn seed(s: &Fresh) -> UserId {
    let mut new = new_user("ada");
    new.is_admin = true;
    new.email = Some(fixtures::email("ada@example.com"));
    let ada = new.id;
    let login = NewSession {
        id: SessionId::new(),
        user_id: ada,
        refresh_hash: TokenHash(vec![7; 32]),
        refresh_expires_at: at(3_600),
        now: at(0),
    };
    s.users.create_user(new, Some(login)).await.unwrap();
    let bob = user(s, "bob").await;
    let g = group(s, ada, &[bob]).await;
    s.messages
        .append_message(message(g, ada, "Meet at the lighthouse", Some("c1")))
        .await
        .unwrap();
    let said = s
        .messages
        .append_message(message(g, bob, "On my way", None))
        .await
        .unwrap();
    s.reports
        .create_report(NewReport {
            id: ReportId::new(),
            reporter_id: ada,
            target: ReportTarget::Message(said.message.id),
            reason: ReportReason::parse("off topic").unwrap(),
            now: at(2),
        })
        .await
        .unwrap();
    s.announcements
        .create_announcement(NewAnnouncement {
            id: AnnouncementId::new(),
            sender_id: ada,
            body: Body::parse("Welcome").unwrap(),
            now: at(1),
        })
        .await
        .unwrap();
    s.health.signing_secret_or_init(vec![5; 48]).await.unwrap();
    s.invites
        .create_invite(confab_domain::Invite {
            code: confab_domain::InviteCode::parse("seeded-invite").unwrap(),
            created_by: Some(ada),
            created_at: at(3),
            expires_at: at(3_600),
            max_uses: 2,
            uses: 0,
        })
        .await
        .unwrap();
    ada
}

/// MUST fill the columns only this store keeps: a copied message is found by search.
async fn a_copied_message_is_found_by_search(s: &Fresh) {
    let (user, group) = (Uuid::now_v7(), Uuid::now_v7());
    write_message_parents(s, user, group).await;
    let row = message_row(
        Uuid::now_v7(),
        group,
        1,
        user,
        "Meet at the lighthouse",
        None,
    );
    s.transfer
        .write_batch(table("messages"), vec![row])
        .await
        .unwrap();
    let found = s
        .messages
        .search_messages(
            UserId::from_uuid(user),
            vec!["lighthouse".into()],
            Some(GroupId::from_uuid(group)),
            10,
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].body.as_str(), "Meet at the lighthouse");
}

/// The messages table is read by group, then seq: a reply always after the message it
/// answers, even when its id sorts first (instances with skewed clocks), so a copy in batches
/// of one meets no missing original.
async fn a_reply_whose_id_sorts_first_moves_after_its_original(s: &Fresh) {
    let (user, group) = (Uuid::now_v7(), Uuid::now_v7());
    write_message_parents(s, user, group).await;
    let (reply, original) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(reply < original);
    let rows = vec![
        message_row(original, group, 1, user, "original", None),
        message_row(reply, group, 2, user, "reply", Some(original)),
    ];
    s.transfer
        .write_batch(table("messages"), rows.clone())
        .await
        .unwrap();
    assert_eq!(read_all(s, table("messages"), 1).await, rows);
    let other = Fresh::new(match s.kind {
        crate::fixtures::Kind::Sqlite => crate::fixtures::Kind::Postgres,
        crate::fixtures::Kind::Postgres => crate::fixtures::Kind::Sqlite,
    })
    .await;
    let report = copy_store(&*s.transfer, &*other.transfer, 1, &mut |_| {})
        .await
        .unwrap();
    assert!(report.tables.iter().all(|t| t.matches()), "{report}");
    assert_eq!(read_all(&other, table("messages"), 1).await, rows);
}

/// A user, and a group they own, written as copied rows.
async fn write_message_parents(s: &Fresh, user: Uuid, group: Uuid) {
    let mut user_row = row(table("users"), 0);
    user_row[0] = Value::Uuid(user);
    let group_row = vec![
        Value::Uuid(group),
        Value::Text("group".into()),
        Value::Text("lounge".into()),
        Value::Uuid(user),
        Value::Int(1),
        Value::Null,
        Value::Null,
        Value::Int(1),
        Value::Int(1),
        Value::Int(1),
        Value::Null,
    ];
    let member_row = vec![
        Value::Uuid(group),
        Value::Uuid(user),
        Value::Text("owner".into()),
        Value::Null,
        Value::Int(1),
        Value::Int(0),
    ];
    for (name, r) in [
        ("users", user_row),
        ("groups", group_row),
        ("members", member_row),
    ] {
        s.transfer.write_batch(table(name), vec![r]).await.unwrap();
    }
}

/// A row of `messages`: message `seq` of `group` (its rev too) by `sender`.
fn message_row(
    id: Uuid,
    group: Uuid,
    seq: i64,
    sender: Uuid,
    body: &str,
    reply_to: Option<Uuid>,
) -> Row {
    vec![
        Value::Uuid(id),
        Value::Uuid(group),
        Value::Int(seq),
        Value::Int(seq),
        Value::Int(seq),
        Value::Uuid(sender),
        Value::Text(body.into()),
        Value::Null,
        Value::Int(1),
        Value::Null,
        Value::Bool(false),
        reply_to.map_or(Value::Null, Value::Uuid),
        Value::Null,
    ]
}

/// Both stores MUST spell the portable rows alike: what one store reads, the other writes,
/// and reads back the same, key order included.
async fn rows_move_to_the_other_store_unchanged(s: &Fresh) {
    use crate::fixtures::Kind as Store;
    let ada = seed(s).await;
    fill(s, 5).await;
    let other = Fresh::new(match s.kind {
        Store::Sqlite => Store::Postgres,
        Store::Postgres => Store::Sqlite,
    })
    .await;
    let report = copy_store(&*s.transfer, &*other.transfer, 3, &mut |_| {})
        .await
        .unwrap();
    assert!(report.tables.iter().all(|t| t.matches()), "{report}");
    for table in TABLES {
        assert_eq!(
            read_all(&other, table, 4).await,
            read_all(s, table, 4).await,
            "{}",
            table.name
        );
    }
    let found = other
        .messages
        .search_messages(ada, vec!["lighthouse".into()], None, 10)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
}
