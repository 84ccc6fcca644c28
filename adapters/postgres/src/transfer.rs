//! `Transfer` on PostgreSQL: whole tables in the portable row format, for `confab port`.
//!
//! The SQL is built from the static description in `confab_ports::store::TABLES` only (never
//! from input), with every name quoted. `messages.words` is this store's own: an insert fills
//! it from the body with the very function the store's own writes use, so copied messages are
//! found by search exactly like sent ones.

use async_trait::async_trait;
use confab_ports::Result;
use confab_ports::store::{Column, Kind, Row, Table, TableLayout, Transfer, Value};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, Postgres, Row as _};
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::{PgStore, search};

/// A column only this store keeps, computed on insert from a portable text column.
struct Derived {
    table: &'static str,
    column: &'static str,
    /// The portable column it is computed from.
    from: &'static str,
    /// Its SQL value around the placeholder (`{}`) of the computed parameter.
    sql: &'static str,
    /// Its parameter, from the portable column's text.
    compute: fn(&str) -> String,
}

/// `messages.words`: the body's words, as the store's appends and edits fill it.
const DERIVED: &[Derived] = &[Derived {
    table: "messages",
    column: "words",
    from: "body",
    sql: "{}::tsvector",
    compute: search::document,
}];

/// Tables only this store keeps: the migration bookkeeping, and the in-database blob store
/// (attachment bytes move between stores through the `Blobs` port, checked by their sha256).
const STORE_ONLY_TABLES: &[&str] = &["confab_schema", "blobs", "blob_chunks"];

/// The most parameters one statement may carry (the protocol counts them in 16 bits).
const MAX_PARAMS: usize = 65_535;

/// `"name"`: the names come from the static description, quoted all the same.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn derived(table: &Table) -> Vec<(&'static Derived, usize)> {
    DERIVED
        .iter()
        .filter(|d| d.table == table.name)
        .filter_map(|d| {
            let from = table.columns.iter().position(|c| c.name == d.from)?;
            Some((d, from))
        })
        .collect()
}

/// A key column as it orders: text in byte order (`COLLATE "C"`), whatever the database's
/// collation, so that `>` and `ORDER BY` agree and no row is skipped between two batches.
fn key_expr(table: &Table) -> String {
    table
        .key_columns()
        .map(|(_, c)| match c.kind {
            Kind::Text => format!("{} COLLATE \"C\"", quoted(c.name)),
            _ => quoted(c.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `SELECT … WHERE (k1, k2) > ($1, $2) ORDER BY k1, k2 LIMIT $3`; without `after`, from the
/// start.
fn select_sql(table: &Table, after: bool) -> String {
    let columns: Vec<String> = table.columns.iter().map(|c| quoted(c.name)).collect();
    let keys = key_expr(table);
    let (filter, limit) = if after {
        let params: Vec<String> = (1..=table.key.len()).map(|i| format!("${i}")).collect();
        (
            format!("WHERE ({keys}) > ({})", params.join(", ")),
            table.key.len() + 1,
        )
    } else {
        (String::new(), 1)
    };
    format!(
        "SELECT {} FROM {} {filter} ORDER BY {keys} LIMIT ${limit}",
        columns.join(", "),
        quoted(table.name),
    )
}

/// `INSERT INTO t (…) VALUES (…), (…)` for `rows` rows, derived columns last.
fn insert_sql(table: &Table, derived: &[(&Derived, usize)], rows: usize) -> String {
    let mut columns: Vec<String> = table.columns.iter().map(|c| quoted(c.name)).collect();
    columns.extend(derived.iter().map(|(d, _)| quoted(d.column)));
    let per_row = columns.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let mut values: Vec<String> = (1..=table.columns.len())
                .map(|i| format!("${}", r * per_row + i))
                .collect();
            values.extend(derived.iter().enumerate().map(|(j, (d, _))| {
                let n = r * per_row + table.columns.len() + j + 1;
                d.sql.replace("{}", &format!("${n}"))
            }));
            format!("({})", values.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES {}",
        quoted(table.name),
        columns.join(", "),
        tuples.join(", ")
    )
}

type PgQuery<'q> = Query<'q, Postgres, PgArguments>;

/// Binds a portable value as the column's type (a null typed by the column's kind).
fn bind<'q>(q: PgQuery<'q>, column: &Column, value: &Value) -> PgQuery<'q> {
    match (value, column.kind) {
        (Value::Null, Kind::Uuid) => q.bind(None::<Uuid>),
        (Value::Null, Kind::Text) => q.bind(None::<String>),
        (Value::Null, Kind::Int) => q.bind(None::<i64>),
        (Value::Null, Kind::Bool) => q.bind(None::<bool>),
        (Value::Null, Kind::Bytes) => q.bind(None::<Vec<u8>>),
        (Value::Int(n), _) => q.bind(*n),
        (Value::Text(s), _) => q.bind(s.clone()),
        (Value::Bytes(b), _) => q.bind(b.clone()),
        (Value::Bool(b), _) => q.bind(*b),
        (Value::Uuid(u), _) => q.bind(*u),
    }
}

/// A stored value read as its column's kind.
fn value_at(row: &PgRow, i: usize, column: &Column) -> sqlx::Result<Value> {
    Ok(match column.kind {
        Kind::Uuid => row.try_get::<Option<Uuid>, _>(i)?.map(Value::Uuid),
        Kind::Text => row.try_get::<Option<String>, _>(i)?.map(Value::Text),
        Kind::Int => row.try_get::<Option<i64>, _>(i)?.map(Value::Int),
        Kind::Bool => row.try_get::<Option<bool>, _>(i)?.map(Value::Bool),
        Kind::Bytes => row.try_get::<Option<Vec<u8>>, _>(i)?.map(Value::Bytes),
    }
    .unwrap_or(Value::Null))
}

impl PgStore {
    async fn layout_of(&self) -> StoreResult<Vec<TableLayout>> {
        let pairs: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position",
        )
        .fetch_all(self.pool())
        .await?;
        Ok(TableLayout::from_columns(pairs, |table, column| {
            STORE_ONLY_TABLES.contains(&table)
                || DERIVED
                    .iter()
                    .any(|d| d.table == table && d.column == column)
        }))
    }

    async fn read_rows(
        &self,
        table: &'static Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> StoreResult<Vec<Row>> {
        let sql = select_sql(table, after.is_some());
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(key) = &after {
            table.check_key(key)?;
            for ((_, column), value) in table.key_columns().zip(key) {
                q = bind(q, column, value);
            }
        }
        let rows = q.bind(i64::from(limit)).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| -> StoreResult<Row> {
                let row = table
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| value_at(r, i, c))
                    .collect::<sqlx::Result<Row>>()?;
                table.check_row(&row)?;
                Ok(row)
            })
            .collect()
    }

    async fn write_rows(&self, table: &'static Table, rows: &[Row]) -> StoreResult<()> {
        for row in rows {
            table.check_row(row)?;
        }
        let derived = derived(table);
        let per_row = table.columns.len() + derived.len();
        let rows_per_statement = (MAX_PARAMS / per_row).max(1);
        let mut tx = self.begin().await?;
        for chunk in rows.chunks(rows_per_statement) {
            let mut q = sqlx::query(AssertSqlSafe(insert_sql(table, &derived, chunk.len())));
            for row in chunk {
                for (column, value) in table.columns.iter().zip(row) {
                    q = bind(q, column, value);
                }
                for (d, from) in &derived {
                    let text = match &row[*from] {
                        Value::Text(t) => t.as_str(),
                        _ => "",
                    };
                    q = q.bind((d.compute)(text));
                }
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl Transfer for PgStore {
    async fn layout(&self) -> Result<Vec<TableLayout>> {
        self.run(self.layout_of()).await
    }

    async fn count(&self, table: &'static Table) -> Result<u64> {
        self.run(async {
            let sql = format!("SELECT count(*) FROM {}", quoted(table.name));
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(self.pool())
                .await?;
            u64::try_from(n).map_err(|_| StoreError::Internal("a negative count".into()))
        })
        .await
    }

    async fn read_batch(
        &self,
        table: &'static Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Row>> {
        self.run(self.read_rows(table, after, limit)).await
    }

    async fn write_batch(&self, table: &'static Table, rows: Vec<Row>) -> Result<()> {
        self.run(self.write_rows(table, &rows)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_sql_is_built_from_the_description() {
        let members = Table::named("members").unwrap();
        assert_eq!(
            select_sql(members, true),
            "SELECT \"group_id\", \"user_id\", \"role\", \"alias\", \"joined_at\", \
             \"last_read_seq\" FROM \"members\" WHERE (\"group_id\", \"user_id\") > ($1, $2) \
             ORDER BY \"group_id\", \"user_id\" LIMIT $3"
        );
        let settings = Table::named("settings").unwrap();
        assert_eq!(
            select_sql(settings, false),
            "SELECT \"key\", \"value\" FROM \"settings\"  ORDER BY \"key\" COLLATE \"C\" LIMIT $1"
        );
        let messages = Table::named("messages").unwrap();
        let d = derived(messages);
        assert_eq!(d.len(), 1);
        let sql = insert_sql(messages, &d, 2);
        // Each row's portable columns in order, then its derived words.
        let n = messages.columns.len();
        let tuple = |from: usize| {
            let mut values: Vec<String> = (from..from + n).map(|i| format!("${i}")).collect();
            values.push(format!("${}::tsvector", from + n));
            format!("({})", values.join(", "))
        };
        assert!(
            sql.ends_with(&format!("\"words\") VALUES {}, {}", tuple(1), tuple(n + 2))),
            "{sql}"
        );
        assert!(derived(settings).is_empty());
    }
}
