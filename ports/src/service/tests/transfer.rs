//! Moving a store: only into an empty target, every table in order, in batches that continue
//! after the last key, with progress, and a final count that must match on both sides.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use uuid::Uuid;

use crate::service::{Progress, Side, TransferError, copy_store};
use crate::store::{Kind, MockTransfer, Row, TABLES, Table, TableLayout, Transfer, Value};
use crate::{Error, Result};

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// The `n`th made-up row of `table`: every value of its column's kind, nullable columns null
/// on odd rows, keys distinct per `n`.
fn row(table: &Table, n: u64) -> Row {
    table
        .columns
        .iter()
        .map(|c| {
            if c.nullable && n % 2 == 1 {
                return Value::Null;
            }
            match c.kind {
                Kind::Uuid => Value::Uuid(Uuid::from_u128(u128::from(n) + 1)),
                Kind::Text => Value::Text(format!("{}-{n}", c.name)),
                Kind::Int => Value::Int(n as i64),
                Kind::Bool => Value::Bool(n.is_multiple_of(2)),
                Kind::Bytes => Value::Bytes(n.to_be_bytes().to_vec()),
            }
        })
        .collect()
}

fn table(name: &str) -> &'static Table {
    Table::named(name).unwrap()
}

/// The layout of [`TABLES`] exactly.
fn layout() -> Vec<TableLayout> {
    TABLES
        .iter()
        .map(|t| TableLayout {
            name: t.name.to_owned(),
            columns: t.columns.iter().map(|c| c.name.to_owned()).collect(),
        })
        .collect()
}

/// A store in memory whose key order is the order rows were written in.
#[derive(Default)]
struct Memory {
    rows: Mutex<HashMap<&'static str, Vec<Row>>>,
    /// Every write: the table and how many rows.
    writes: Mutex<Vec<(&'static str, usize)>>,
    /// Writes to this table fail (the store is down).
    fail_writes_to: Option<&'static str>,
    /// Writes to this table lose their last row, yet answer `Ok`.
    loses_a_row_of: Option<&'static str>,
}

impl Memory {
    fn with(counts: &[(&'static str, u64)]) -> Self {
        let m = Memory::default();
        for (name, n) in counts {
            let t = table(name);
            m.rows
                .lock()
                .unwrap()
                .insert(t.name, (0..*n).map(|i| row(t, i)).collect());
        }
        m
    }

    fn rows(&self, table: &str) -> Vec<Row> {
        self.rows
            .lock()
            .unwrap()
            .get(table)
            .cloned()
            .unwrap_or_default()
    }

    fn writes(&self) -> Vec<(&'static str, usize)> {
        self.writes.lock().unwrap().clone()
    }
}

#[async_trait]
impl Transfer for Memory {
    async fn layout(&self) -> Result<Vec<TableLayout>> {
        Ok(layout())
    }

    async fn count(&self, table: &'static Table) -> Result<u64> {
        Ok(self.rows(table.name).len() as u64)
    }

    async fn read_batch(
        &self,
        table: &'static Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        let rows = self.rows(table.name);
        let start = match after {
            None => 0,
            Some(key) => {
                table.check_key(&key)?;
                rows.iter()
                    .position(|r| table.key_of(r).unwrap() == key)
                    .expect("reads continue after a key that was read")
                    + 1
            }
        };
        Ok(rows.into_iter().skip(start).take(limit as usize).collect())
    }

    async fn write_batch(&self, table: &'static Table, mut rows: Vec<Row>) -> Result<()> {
        for r in &rows {
            table.check_row(r)?;
        }
        if self.fail_writes_to == Some(table.name) {
            return Err(Error::Unavailable("the disk is gone".into()));
        }
        self.writes.lock().unwrap().push((table.name, rows.len()));
        if self.loses_a_row_of == Some(table.name) {
            rows.pop();
        }
        self.rows
            .lock()
            .unwrap()
            .entry(table.name)
            .or_default()
            .extend(rows);
        Ok(())
    }
}

/// Runs a copy, collecting its progress reports.
async fn copy(
    from: &dyn Transfer,
    to: &dyn Transfer,
    batch: u32,
) -> (
    std::result::Result<crate::service::Report, TransferError>,
    Vec<Progress>,
) {
    let mut seen = Vec::new();
    let result = copy_store(from, to, batch, &mut |p: &Progress| seen.push(p.clone())).await;
    (result, seen)
}

/// A target that is empty and has the right schema, and must never be written to.
fn empty_mock_target() -> MockTransfer {
    let mut to = MockTransfer::new();
    to.expect_layout().returning(|| Ok(layout()));
    to.expect_count().returning(|_| Ok(0));
    to
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn every_table_is_copied_in_order_in_batches_and_verified() {
    let from = Memory::with(&[
        ("settings", 1),
        ("users", 5),
        ("groups", 2),
        ("members", 3),
        ("messages", 2_500),
        ("announcements", 4),
        ("reports", 3),
    ]);
    let to = Memory::default();
    let (result, progress) = copy(&from, &to, 1_000).await;
    let report = result.unwrap();

    for t in TABLES {
        assert_eq!(to.rows(t.name), from.rows(t.name), "{}", t.name);
    }
    // Parents before children, one transaction per batch.
    assert_eq!(
        to.writes(),
        [
            ("settings", 1),
            ("users", 5),
            ("groups", 2),
            ("members", 3),
            ("messages", 1_000),
            ("messages", 1_000),
            ("messages", 500),
            ("announcements", 4),
            ("reports", 3),
        ]
    );
    let at = |table: &'static str, copied, total| Progress {
        table,
        copied,
        total,
    };
    assert_eq!(
        progress,
        [
            at("settings", 0, 1),
            at("settings", 1, 1),
            at("users", 0, 5),
            at("users", 5, 5),
            at("sessions", 0, 0),
            at("refresh_tokens", 0, 0),
            at("blocks", 0, 0),
            at("groups", 0, 2),
            at("groups", 2, 2),
            at("members", 0, 3),
            at("members", 3, 3),
            at("messages", 0, 2_500),
            at("messages", 1_000, 2_500),
            at("messages", 2_000, 2_500),
            at("messages", 2_500, 2_500),
            at("attachments", 0, 0),
            at("reactions", 0, 0),
            at("mentions", 0, 0),
            at("announcements", 0, 4),
            at("announcements", 4, 4),
            at("reports", 0, 3),
            at("reports", 3, 3),
            at("invites", 0, 0),
        ]
    );
    let names: Vec<_> = report.tables.iter().map(|t| t.table).collect();
    let order: Vec<_> = TABLES.iter().map(|t| t.name).collect();
    assert_eq!(names, order);
    assert!(report.tables.iter().all(|t| t.matches()));
    assert_eq!(
        report.to_string(),
        "settings 1 = 1, users 5 = 5, sessions 0 = 0, refresh_tokens 0 = 0, blocks 0 = 0, \
         groups 2 = 2, \
         members 3 = 3, messages 2500 = 2500, attachments 0 = 0, reactions 0 = 0, \
         mentions 0 = 0, announcements 4 = 4, reports 3 = 3, invites 0 = 0, \
         attachment files 0 (sha256 checked)"
    );
}

#[tokio::test]
async fn reads_continue_after_the_last_key_until_a_short_batch() {
    let users = table("users");
    let rows: Vec<Row> = (0..3).map(|n| row(users, n)).collect();
    let second_key = users.key_of(&rows[1]).unwrap();

    let mut from = MockTransfer::new();
    from.expect_layout().returning(|| Ok(layout()));
    from.expect_count()
        .returning(|t| Ok(if t.name == "users" { 3 } else { 0 }));
    let (first, last) = (rows[..2].to_vec(), rows[2..].to_vec());
    from.expect_read_batch()
        .withf(|t, after, limit| t.name == "users" && after.is_none() && *limit == 2)
        .times(1)
        .return_once(move |_, _, _| Ok(first));
    from.expect_read_batch()
        .withf(move |t, after, _| t.name == "users" && after.as_ref() == Some(&second_key))
        .times(1)
        .return_once(move |_, _, _| Ok(last));
    // Every other table is empty: one read each, from the start.
    from.expect_read_batch()
        .withf(|t, after, _| t.name != "users" && after.is_none())
        .times(TABLES.len() - 1)
        .returning(|_, _, _| Ok(Vec::new()));

    let to = Memory::default();
    let (result, _) = copy(&from, &to, 2).await;
    result.unwrap();
    assert_eq!(to.rows("users"), rows);
    assert_eq!(to.writes(), [("users", 2), ("users", 1)]);
}

#[tokio::test]
async fn a_target_with_data_is_refused_naming_its_tables_and_nothing_is_written() {
    let from = Memory::with(&[("users", 3)]);
    let mut to = MockTransfer::new();
    to.expect_layout().returning(|| Ok(layout()));
    to.expect_count().returning(|t| {
        Ok(match t.name {
            "settings" => 1,
            "messages" => 20,
            _ => 0,
        })
    });
    // No write_batch expectation: a write fails the test.
    let (result, progress) = copy(&from, &to, 1_000).await;
    let err = result.unwrap_err();
    assert!(
        matches!(&err, TransferError::TargetNotEmpty(t) if t == &[("settings", 1), ("messages", 20)]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the target already has data (settings: 1 row, messages: 20 rows); \
         confab port only copies into an empty database"
    );
    assert!(progress.is_empty());
}

#[tokio::test]
async fn a_schema_other_than_the_description_is_refused_before_anything_is_written() {
    let from = Memory::with(&[("users", 3)]);
    let mut to = MockTransfer::new();
    to.expect_layout().returning(|| {
        let mut l = layout();
        for t in &mut l {
            if t.name == "users" {
                t.columns.retain(|c| c != "country");
            }
            if t.name == "messages" {
                t.columns.push("reactions".into());
            }
        }
        l.retain(|t| t.name != "sessions");
        l.push(TableLayout {
            name: "stickers".into(),
            columns: vec!["id".into()],
        });
        Ok(l)
    });
    let (result, _) = copy(&from, &to, 1_000).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::Layout {
                side: Side::Target,
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    for problem in [
        "no column users.country",
        "an unknown column messages.reactions",
        "no table sessions",
        "an unknown table stickers",
    ] {
        assert!(text.contains(problem), "{problem:?} missing from {text:?}");
    }

    // The source is checked as well.
    let mut from = MockTransfer::new();
    from.expect_layout().returning(|| Ok(Vec::new()));
    let (result, _) = copy(&from, &empty_mock_target(), 1_000).await;
    assert!(
        matches!(
            result,
            Err(TransferError::Layout {
                side: Side::Source,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn counts_that_differ_at_the_end_fail_loudly() {
    let from = Memory::with(&[("users", 4), ("messages", 10)]);
    let to = Memory {
        loses_a_row_of: Some("messages"),
        ..Memory::default()
    };
    let (result, _) = copy(&from, &to, 1_000).await;
    let err = result.unwrap_err();
    let TransferError::Unverified(tables) = &err else {
        panic!("{err:?}");
    };
    let bad: Vec<_> = tables.iter().filter(|t| !t.matches()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(
        (bad[0].table, bad[0].copied, bad[0].source, bad[0].target),
        ("messages", 10, 10, 9)
    );
    let text = err.to_string();
    assert!(
        text.contains("messages has 10 rows in the source and 9 in the target, 10 copied"),
        "{text}"
    );
    assert!(text.contains("incomplete"), "{text}");
}

#[tokio::test]
async fn a_failed_write_names_the_table_and_says_whether_the_target_is_incomplete() {
    let from = Memory::with(&[("users", 4), ("groups", 1)]);
    let to = Memory {
        fail_writes_to: Some("groups"),
        ..Memory::default()
    };
    let (result, _) = copy(&from, &to, 1_000).await;
    let err = result.unwrap_err();
    assert!(
        matches!(
            &err,
            TransferError::Store {
                side: Side::Target,
                table: "groups",
                written: true,
                source: Error::Unavailable(_),
                ..
            }
        ),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("writing groups in the target failed"),
        "{text}"
    );
    assert!(text.contains("incomplete copy"), "{text}");

    // A failure before anything was written leaves nothing to clean up.
    let to = Memory {
        fail_writes_to: Some("users"),
        ..Memory::default()
    };
    let (result, _) = copy(&from, &to, 1_000).await;
    let text = result.unwrap_err().to_string();
    assert!(
        text.starts_with("writing users in the target failed"),
        "{text}"
    );
    assert!(!text.contains("incomplete"), "{text}");
}

#[tokio::test]
async fn a_failed_read_names_the_source() {
    let mut from = MockTransfer::new();
    from.expect_layout().returning(|| Ok(layout()));
    from.expect_count().returning(|_| Ok(1));
    from.expect_read_batch()
        .returning(|_, _, _| Err(Error::Internal("malformed".into())));
    let (result, _) = copy(&from, &empty_mock_target(), 1_000).await;
    let err = result.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("reading settings in the source failed: internal error: malformed"),
        "{err}"
    );
}
