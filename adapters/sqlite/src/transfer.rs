//! `Transfer` on SQLite: whole tables in the portable row format, for `confab port`.
//!
//! The SQL is built from the static description in `confab_ports::store::TABLES` only (never
//! from input), with every name quoted. Ids are stored as hyphenated lower-case text and
//! booleans as 0/1, as the rest of the adapter writes them. `messages.pk` and the full-text
//! index are this store's own: the insert leaves `pk` to SQLite and the triggers index the
//! body, so neither is in the portable row.

use async_trait::async_trait;
use confab_ports::Result;
use confab_ports::store::{Column, Kind, Row, Table, TableLayout, Transfer, Value};
use rusqlite::Connection;
use rusqlite::types::{Value as Sql, ValueRef};

use crate::SqliteStore;
use crate::error::{StoreError, StoreResult};

/// Columns only this store keeps: `messages.pk`, the integer key of the full-text index.
const STORE_ONLY_COLUMNS: &[(&str, &str)] = &[("messages", "pk")];

/// Whether a table is this store's own: SQLite's internal tables, and the full-text index
/// with its shadow tables.
fn store_only_table(name: &str) -> bool {
    name.starts_with("sqlite_") || name == "messages_fts" || name.starts_with("messages_fts_")
}

/// `"name"`: the names come from the static description, quoted all the same.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| quoted(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_list(table: &Table) -> String {
    table
        .key
        .iter()
        .map(|k| quoted(k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT … WHERE (k1, k2) > (?1, ?2) ORDER BY k1, k2 LIMIT ?3`; without `after`, from the
/// start.
fn select_sql(table: &Table, after: bool) -> String {
    let keys = key_list(table);
    let filter = if after {
        let params: Vec<String> = (1..=table.key.len()).map(|i| format!("?{i}")).collect();
        format!("WHERE ({keys}) > ({})", params.join(", "))
    } else {
        String::new()
    };
    let limit = if after { table.key.len() + 1 } else { 1 };
    format!(
        "SELECT {} FROM {} {filter} ORDER BY {keys} LIMIT ?{limit}",
        column_list(table),
        quoted(table.name),
    )
}

fn insert_sql(table: &Table) -> String {
    let params: Vec<String> = (1..=table.columns.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quoted(table.name),
        column_list(table),
        params.join(", ")
    )
}

/// A portable value as this store spells it.
fn to_sql(value: &Value) -> Sql {
    match value {
        Value::Null => Sql::Null,
        Value::Int(n) => Sql::Integer(*n),
        Value::Text(s) => Sql::Text(s.clone()),
        Value::Bytes(b) => Sql::Blob(b.clone()),
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Uuid(u) => Sql::Text(u.hyphenated().to_string()),
    }
}

/// A stored value read as its column's kind.
fn from_sql(table: &Table, column: &Column, value: ValueRef<'_>) -> StoreResult<Value> {
    let wrong = |what: &str| {
        StoreError::Internal(format!(
            "{}.{} holds {what} where {:?} was expected",
            table.name, column.name, column.kind
        ))
    };
    let text =
        |t: &[u8]| String::from_utf8(t.to_vec()).map_err(|_| wrong("text that is not UTF-8"));
    Ok(match (column.kind, value) {
        (_, ValueRef::Null) => Value::Null,
        (Kind::Int, ValueRef::Integer(n)) => Value::Int(n),
        (Kind::Bool, ValueRef::Integer(0)) => Value::Bool(false),
        (Kind::Bool, ValueRef::Integer(1)) => Value::Bool(true),
        (Kind::Text, ValueRef::Text(t)) => Value::Text(text(t)?),
        (Kind::Uuid, ValueRef::Text(t)) => Value::Uuid(
            uuid::Uuid::parse_str(&text(t)?).map_err(|_| wrong("text that is not a UUID"))?,
        ),
        (Kind::Bytes, ValueRef::Blob(b)) => Value::Bytes(b.to_vec()),
        (_, other) => return Err(wrong(&format!("{:?}", other.data_type()))),
    })
}

fn read_rows(
    conn: &Connection,
    table: &'static Table,
    after: Option<Vec<Value>>,
    limit: u32,
) -> StoreResult<Vec<Row>> {
    let mut params: Vec<Sql> = Vec::with_capacity(table.key.len() + 1);
    if let Some(key) = &after {
        table.check_key(key)?;
        params.extend(key.iter().map(to_sql));
    }
    params.push(Sql::Integer(i64::from(limit)));
    let mut stmt = conn.prepare_cached(&select_sql(table, after.is_some()))?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let row = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| from_sql(table, c, r.get_ref(i)?))
            .collect::<StoreResult<Row>>()?;
        table.check_row(&row)?;
        out.push(row);
    }
    Ok(out)
}

fn write_rows(conn: &Connection, table: &'static Table, rows: &[Row]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(&insert_sql(table))?;
    for row in rows {
        table.check_row(row)?;
        stmt.execute(rusqlite::params_from_iter(row.iter().map(to_sql)))?;
    }
    Ok(())
}

fn layout(conn: &Connection) -> StoreResult<Vec<TableLayout>> {
    let mut stmt = conn.prepare(
        "SELECT t.name, c.name FROM sqlite_schema t, pragma_table_info(t.name) c
          WHERE t.type = 'table' ORDER BY t.name, c.cid",
    )?;
    let pairs = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(TableLayout::from_columns(pairs, |table, column| {
        store_only_table(table) || STORE_ONLY_COLUMNS.contains(&(table, column))
    }))
}

#[async_trait]
impl Transfer for SqliteStore {
    async fn layout(&self) -> Result<Vec<TableLayout>> {
        Ok(self.readers.read(layout).await?)
    }

    async fn count(&self, table: &'static Table) -> Result<u64> {
        let n: i64 = self
            .readers
            .read(move |conn| {
                let sql = format!("SELECT count(*) FROM {}", quoted(table.name));
                Ok(conn.query_row(&sql, [], |r| r.get(0))?)
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn read_batch(
        &self,
        table: &'static Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        Ok(self
            .readers
            .read(move |conn| read_rows(conn, table, after, limit))
            .await?)
    }

    async fn write_batch(&self, table: &'static Table, rows: Vec<Row>) -> Result<()> {
        // One job of the writer: its own savepoint, so the batch commits whole or not at all,
        // and the answer comes after the commit.
        Ok(self
            .writer
            .write(move |conn| write_rows(conn, table, &rows))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use confab_ports::store::{NOT_COPIED, TABLES};

    use super::*;

    fn open(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
        SqliteStore::open(&dir.path().join(name), Duration::from_secs(5)).unwrap()
    }

    /// The `n`th row of `table` with values of every kind; nullable columns null on odd rows.
    fn row(table: &Table, n: u64) -> Row {
        table
            .columns
            .iter()
            .map(|c| match c.kind {
                _ if c.nullable && n % 2 == 1 => Value::Null,
                Kind::Uuid => Value::Uuid(uuid::Uuid::from_u128(u128::from(n) + 1)),
                Kind::Text => Value::Text(match c.name {
                    "kind" => "group".into(),
                    "role" => "member".into(),
                    _ => format!("{} {n} ü'\"", c.name),
                }),
                Kind::Int => Value::Int(i64::MAX - n as i64),
                Kind::Bool => Value::Bool(n.is_multiple_of(2)),
                Kind::Bytes => Value::Bytes(vec![0, 255, n as u8]),
            })
            .collect()
    }

    #[tokio::test]
    async fn the_schema_is_the_description() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, "a.db");
        // Short-lived tables are in the schema but deliberately not in the description.
        let got: Vec<TableLayout> = store
            .layout()
            .await
            .unwrap()
            .into_iter()
            .filter(|t| !NOT_COPIED.contains(&t.name.as_str()))
            .collect();
        let want: Vec<TableLayout> = TABLES
            .iter()
            .map(|t| TableLayout {
                name: t.name.into(),
                columns: t.columns.iter().map(|c| c.name.into()).collect(),
            })
            .collect();
        let sorted = |mut v: Vec<TableLayout>| {
            v.sort_by(|a, b| a.name.cmp(&b.name));
            v
        };
        assert_eq!(sorted(got), sorted(want));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rows_round_trip_in_key_order_across_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, "a.db");
        let users = Table::named("users").unwrap();
        // Written out of key order; read back in it.
        let rows: Vec<Row> = (0..7).rev().map(|n| row(users, n)).collect();
        store.write_batch(users, rows.clone()).await.unwrap();
        assert_eq!(store.count(users).await.unwrap(), 7);

        let mut read = Vec::new();
        let mut after = None;
        loop {
            let batch = store.read_batch(users, after.take(), 3).await.unwrap();
            let Some(last) = batch.last() else { break };
            after = Some(users.key_of(last).unwrap());
            read.extend(batch);
        }
        let mut expected = rows;
        expected.reverse();
        assert_eq!(read, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_batch_is_all_or_nothing_and_a_bad_row_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, "a.db");
        let settings = Table::named("settings").unwrap();
        let good = vec![Value::Text("a".into()), Value::Bytes(vec![1])];
        let duplicate = good.clone();
        assert!(
            store
                .write_batch(settings, vec![good.clone(), duplicate])
                .await
                .is_err()
        );
        let wrong_kind = vec![Value::Text("b".into()), Value::Text("not bytes".into())];
        assert!(
            store
                .write_batch(settings, vec![good, wrong_kind])
                .await
                .is_err()
        );
        assert_eq!(store.count(settings).await.unwrap(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn copied_messages_are_searchable() {
        use confab_domain::{GroupId, UserId};
        use confab_ports::store::Messages;

        let dir = tempfile::tempdir().unwrap();
        let store = open(&dir, "a.db");
        let user = uuid::Uuid::now_v7();
        let group = uuid::Uuid::now_v7();
        let t = |name| Table::named(name).unwrap();
        let user_row = vec![
            Value::Uuid(user),
            Value::Text("alice".into()),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Text("hash".into()),
            Value::Bool(false),
            Value::Bool(false),
            Value::Int(1),
        ];
        let group_row = vec![
            Value::Uuid(group),
            Value::Text("group".into()),
            Value::Text("g".into()),
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
        let message_row = vec![
            Value::Uuid(uuid::Uuid::now_v7()),
            Value::Uuid(group),
            Value::Int(1),
            Value::Int(1),
            Value::Int(1),
            Value::Uuid(user),
            Value::Text("Meet at the Café".into()),
            Value::Null,
            Value::Int(1),
            Value::Null,
            Value::Bool(false),
        ];
        store.write_batch(t("users"), vec![user_row]).await.unwrap();
        store
            .write_batch(t("groups"), vec![group_row])
            .await
            .unwrap();
        store
            .write_batch(t("members"), vec![member_row])
            .await
            .unwrap();
        store
            .write_batch(t("messages"), vec![message_row])
            .await
            .unwrap();
        let found = store
            .search_messages(
                UserId::from_uuid(user),
                vec!["cafe".into()],
                Some(GroupId::from_uuid(group)),
                10,
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].body.as_str(), "Meet at the Café");
    }
}
