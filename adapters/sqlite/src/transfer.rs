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

/// Whether a table is this store's own: SQLite's internal tables, the full-text index with its
/// shadow tables and its list of messages still to index, and the in-database blobs (bytes
/// move through the `Blobs` port, whichever adapter holds them on either side).
fn store_only_table(name: &str) -> bool {
    name.starts_with("sqlite_")
        || name == "messages_fts"
        || name.starts_with("messages_fts_")
        || name == "search_pending"
        || name == "blobs"
        || name == "blob_chunks"
        || name == "confab_migrations"
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
