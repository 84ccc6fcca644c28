//! The portable row format for moving a whole store to another backend (`confab port`).
//!
//! Both stores keep the same tables with the same column names; they differ only in how a
//! value is spelt (a UUID is `uuid` on PostgreSQL and text on SQLite, a boolean `boolean` or
//! 0/1). [`TABLES`] describes every table once — its columns, their [`Kind`] and nullability,
//! and the key that orders it — and a row travels as a `Vec<Value>` in the order of its
//! columns. Each adapter turns that description into its own SQL; columns a store keeps only
//! for itself (SQLite's integer key of the full-text index, PostgreSQL's search words) are
//! not in it: the target derives them.
//!
//! A table added by a later migration is one more entry in [`TABLES`]. Forgetting it cannot
//! lose data silently: the copy compares each store's own [`Transfer::layout`] with
//! [`TABLES`] first and refuses any difference.

use async_trait::async_trait;
use uuid::Uuid;

use crate::{Error, Result};

/// What a column holds, whatever the store spells it as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An id: `uuid` on PostgreSQL, hyphenated lower-case text on SQLite.
    Uuid,
    /// UTF-8 text.
    Text,
    /// A 64-bit integer: counters, and times as Unix milliseconds.
    Int,
    /// `boolean` on PostgreSQL, 0 or 1 on SQLite.
    Bool,
    /// `bytea` on PostgreSQL, a BLOB on SQLite.
    Bytes,
}

/// One column of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name in both schemas.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether it may hold [`Value::Null`].
    pub nullable: bool,
}

/// One table: its columns in the order a row carries them, and the columns of a unique key
/// (NOT NULL) that orders it, so it can be read in batches (`WHERE key > last ORDER BY key`).
#[derive(Debug, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub key: &'static [&'static str],
}

/// One value of a row: `Null`, or a value of its column's [`Kind`] (the variant of that name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Uuid(Uuid),
}

/// One row: a value per column, in the order of [`Table::columns`].
pub type Row = Vec<Value>;

const fn req(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: false,
    }
}

const fn opt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
    }
}

/// Tables both stores have that a move deliberately leaves behind: short-lived state that is
/// worthless on another server (waiting pool entries, pending one-time codes). A table must be
/// named either here or in [`TABLES`], or the copy refuses to start.
pub const NOT_COPIED: &[&str] = &["otp_codes", "pool_entries"];

/// Every table of the store, parents before children: copied in this order, every foreign
/// key of a row points at a row already copied.
pub const TABLES: &[Table] = &[
    Table {
        name: "settings",
        // The generated JWT signing secret lives here: copying it keeps tokens valid.
        columns: &[req("key", Kind::Text), req("value", Kind::Bytes)],
        key: &["key"],
    },
    Table {
        name: "users",
        columns: &[
            req("id", Kind::Uuid),
            req("username", Kind::Text),
            opt("display_name", Kind::Text),
            opt("email", Kind::Text),
            opt("country", Kind::Text),
            req("password_hash", Kind::Text),
            req("is_admin", Kind::Bool),
            req("two_factor", Kind::Bool),
            req("created_at", Kind::Int),
            opt("banned_at", Kind::Int),
            opt("ban_reason", Kind::Text),
            opt("last_seen_at", Kind::Int),
        ],
        key: &["id"],
    },
    Table {
        name: "sessions",
        columns: &[
            req("id", Kind::Uuid),
            req("user_id", Kind::Uuid),
            req("created_at", Kind::Int),
            opt("revoked_at", Kind::Int),
        ],
        key: &["id"],
    },
    Table {
        name: "refresh_tokens",
        columns: &[
            req("token_hash", Kind::Bytes),
            req("session_id", Kind::Uuid),
            req("expires_at", Kind::Int),
            opt("used_at", Kind::Int),
        ],
        key: &["token_hash"],
    },
    Table {
        name: "blocks",
        columns: &[
            req("blocker_id", Kind::Uuid),
            req("blocked_id", Kind::Uuid),
            req("created_at", Kind::Int),
        ],
        key: &["blocker_id", "blocked_id"],
    },
    Table {
        name: "groups",
        columns: &[
            req("id", Kind::Uuid),
            req("kind", Kind::Text),
            opt("name", Kind::Text),
            req("created_by", Kind::Uuid),
            req("created_at", Kind::Int),
            opt("expires_at", Kind::Int),
            opt("closed_at", Kind::Int),
            req("last_seq", Kind::Int),
            req("last_rev", Kind::Int),
            req("last_activity_at", Kind::Int),
            opt("direct_key", Kind::Text),
        ],
        key: &["id"],
    },
    Table {
        name: "members",
        columns: &[
            req("group_id", Kind::Uuid),
            req("user_id", Kind::Uuid),
            req("role", Kind::Text),
            opt("alias", Kind::Text),
            req("joined_at", Kind::Int),
            req("last_read_seq", Kind::Int),
        ],
        key: &["group_id", "user_id"],
    },
    Table {
        name: "messages",
        columns: &[
            req("id", Kind::Uuid),
            req("group_id", Kind::Uuid),
            req("seq", Kind::Int),
            req("rev", Kind::Int),
            req("created_rev", Kind::Int),
            req("sender_id", Kind::Uuid),
            req("body", Kind::Text),
            opt("client_id", Kind::Text),
            req("created_at", Kind::Int),
            opt("edited_at", Kind::Int),
            req("deleted", Kind::Bool),
            opt("reply_to_id", Kind::Uuid),
            opt("pinned_at", Kind::Int),
        ],
        // By group, then in the order they were sent: a reply always comes after the message
        // it answers (same group, lower seq), so its foreign key finds it. Ids would not do:
        // UUIDv7 from instances with skewed clocks can sort a reply before its original.
        key: &["group_id", "seq"],
    },
    Table {
        name: "attachments",
        columns: &[
            req("id", Kind::Uuid),
            req("group_id", Kind::Uuid),
            req("uploader_id", Kind::Uuid),
            opt("message_id", Kind::Uuid),
            opt("position", Kind::Int),
            req("name", Kind::Text),
            req("content_type", Kind::Text),
            req("size", Kind::Int),
            req("sha256", Kind::Text),
            opt("width", Kind::Int),
            opt("height", Kind::Int),
            opt("thumbnail", Kind::Bytes),
            opt("thumbnail_type", Kind::Text),
            req("created_at", Kind::Int),
        ],
        // Their bytes are not rows: `confab port` moves them through the blob store.
        key: &["id"],
    },
    Table {
        name: "reactions",
        columns: &[
            req("message_id", Kind::Uuid),
            req("emoji", Kind::Text),
            req("user_id", Kind::Uuid),
            req("position", Kind::Int),
            req("created_at", Kind::Int),
        ],
        key: &["message_id", "emoji", "user_id"],
    },
    Table {
        name: "mentions",
        columns: &[
            req("message_id", Kind::Uuid),
            req("user_id", Kind::Uuid),
            req("position", Kind::Int),
        ],
        key: &["message_id", "user_id"],
    },
    Table {
        name: "announcements",
        columns: &[
            req("id", Kind::Uuid),
            req("sender_id", Kind::Uuid),
            req("body", Kind::Text),
            req("created_at", Kind::Int),
        ],
        key: &["id"],
    },
    Table {
        name: "reports",
        columns: &[
            req("id", Kind::Uuid),
            req("reporter_id", Kind::Uuid),
            // NULL for a user report, and once the reported message's group is deleted.
            opt("message_id", Kind::Uuid),
            req("user_id", Kind::Uuid),
            req("reason", Kind::Text),
            req("status", Kind::Text),
            req("created_at", Kind::Int),
            // The body as it was reported: a copy, kept whatever becomes of the message.
            opt("message_body", Kind::Text),
        ],
        key: &["id"],
    },
    Table {
        name: "invites",
        columns: &[
            req("code", Kind::Text),
            // NULL when an operator made it with `confab invite create`.
            opt("created_by", Kind::Uuid),
            req("created_at", Kind::Int),
            req("expires_at", Kind::Int),
            req("max_uses", Kind::Int),
            req("uses", Kind::Int),
        ],
        key: &["code"],
    },
];

impl Kind {
    /// Whether `value` is of this kind (`Null` is of none).
    pub fn holds(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (Kind::Uuid, Value::Uuid(_))
                | (Kind::Text, Value::Text(_))
                | (Kind::Int, Value::Int(_))
                | (Kind::Bool, Value::Bool(_))
                | (Kind::Bytes, Value::Bytes(_))
        )
    }
}

impl Table {
    /// The table named `name`.
    pub fn named(name: &str) -> Option<&'static Table> {
        TABLES.iter().find(|t| t.name == name)
    }

    /// The key's columns, in key order.
    pub fn key_columns(&self) -> impl Iterator<Item = (usize, &'static Column)> + '_ {
        self.key
            .iter()
            .filter_map(|k| self.columns.iter().enumerate().find(|(_, c)| c.name == *k))
    }

    /// The key of `row`, to continue reading after it.
    pub fn key_of(&self, row: &[Value]) -> Result<Vec<Value>> {
        self.check_row(row)?;
        Ok(self.key_columns().map(|(i, _)| row[i].clone()).collect())
    }

    /// MUST hold for every row read or written: one value per column, each of the column's
    /// kind, `Null` only where the column is nullable. Answers `Error::Internal` otherwise.
    pub fn check_row(&self, row: &[Value]) -> Result<()> {
        if row.len() != self.columns.len() {
            return Err(Error::Internal(format!(
                "a row of {} has {} values for {} columns",
                self.name,
                row.len(),
                self.columns.len()
            )));
        }
        for (column, value) in self.columns.iter().zip(row) {
            let fits = match value {
                Value::Null => column.nullable,
                v => column.kind.holds(v),
            };
            if !fits {
                return Err(Error::Internal(format!(
                    "{}.{} ({:?}{}) cannot hold {value:?}",
                    self.name,
                    column.name,
                    column.kind,
                    if column.nullable { ", nullable" } else { "" }
                )));
            }
        }
        Ok(())
    }

    /// MUST hold for a key to read after: one non-null value per key column, of its kind.
    pub fn check_key(&self, key: &[Value]) -> Result<()> {
        let fits = key.len() == self.key.len()
            && self
                .key_columns()
                .zip(key)
                .all(|((_, column), value)| column.kind.holds(value));
        if fits {
            Ok(())
        } else {
            Err(Error::Internal(format!(
                "{key:?} is not a key of {}",
                self.name
            )))
        }
    }
}

/// One table as a store has it: its name and its column names, leaving out what only that
/// store keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLayout {
    pub name: String,
    pub columns: Vec<String>,
}

impl TableLayout {
    /// Tables from `(table, column)` pairs ordered by table, without the pairs `store_only`
    /// names (what only one store keeps: its indexes' shadow tables, derived columns).
    pub fn from_columns(
        pairs: impl IntoIterator<Item = (String, String)>,
        store_only: impl Fn(&str, &str) -> bool,
    ) -> Vec<TableLayout> {
        let mut tables: Vec<TableLayout> = Vec::new();
        for (table, column) in pairs {
            if store_only(&table, &column) {
                continue;
            }
            match tables.last_mut() {
                Some(last) if last.name == table => last.columns.push(column),
                _ => tables.push(TableLayout {
                    name: table,
                    columns: vec![column],
                }),
            }
        }
        tables
    }
}

/// Whole-table reads and writes in the portable row format, for moving a store. Not for
/// serving requests: nothing here checks a rule, since it copies rows that already obey them.
///
/// Both stores MUST order a table's keys alike, so that a copy between them reads every row
/// once: text by its UTF-8 bytes (whatever the database's collation), ids and bytes by their
/// bytes, a key of several columns column by column.
#[cfg_attr(test, mockall::automock)]
#[async_trait]
pub trait Transfer: Send + Sync {
    /// Every table the store's schema has, each with its columns, leaving out tables and
    /// columns that only this store keeps and derives itself (search indexes, the migration
    /// bookkeeping). For a store migrated by this build it MUST name exactly the tables of
    /// [`TABLES`] and [`NOT_COPIED`], each table of [`TABLES`] with exactly the columns of its
    /// description: the copy refuses to start otherwise.
    async fn layout(&self) -> Result<Vec<TableLayout>>;

    /// MUST answer how many rows `table` holds: 0 for every table of a freshly migrated
    /// store (the copy refuses a target that holds any row, so migrations insert none).
    async fn count(&self, table: &'static Table) -> Result<u64>;

    /// MUST answer up to `limit` rows of `table` whose key is greater than `after` (all when
    /// `None`), ordered by key, each value as it was written. Each row MUST pass
    /// [`Table::check_row`]. MUST answer `Error::Internal` for an `after` that fails
    /// [`Table::check_key`], and for a value the store holds in a form it cannot read as the
    /// column's kind.
    async fn read_batch(
        &self,
        table: &'static Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Row>>;

    /// Inserts `rows` into `table` as they are, filling the columns only this store keeps (a
    /// copied message MUST be found by search like a sent one), in one transaction: all or
    /// none, and durable when it answers `Ok`. MUST refuse (with `Error::Internal`) a row
    /// that fails [`Table::check_row`], writing nothing. MUST fail, writing nothing, when a
    /// row breaks the schema's constraints (a key already there, a parent row missing); the
    /// error then differs between the stores (`Error::Conflict { field: "value" }` for a
    /// duplicate key on PostgreSQL, `Error::Internal` on SQLite), and the copy reports either.
    async fn write_batch(&self, table: &'static Table, rows: Vec<Row>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_key_names_non_null_columns_and_every_name_is_plain() {
        // Safe to write into SQL unquoted: a lower-case letter, then letters, digits and `_`.
        let plain = |s: &str| {
            s.starts_with(|c: char| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        for table in TABLES {
            assert!(plain(table.name), "{}", table.name);
            assert!(!table.key.is_empty(), "{} has no key", table.name);
            assert_eq!(
                table.key_columns().count(),
                table.key.len(),
                "{}",
                table.name
            );
            assert!(
                table.key_columns().all(|(_, c)| !c.nullable),
                "{}",
                table.name
            );
            for column in table.columns {
                assert!(plain(column.name), "{}.{}", table.name, column.name);
            }
            assert_eq!(Table::named(table.name), Some(table));
        }
    }

    #[test]
    fn rows_are_checked_against_the_description() {
        let members = Table::named("members").unwrap();
        let g = Uuid::now_v7();
        let u = Uuid::now_v7();
        let mut row = vec![
            Value::Uuid(g),
            Value::Uuid(u),
            Value::Text("owner".into()),
            Value::Null,
            Value::Int(1),
            Value::Int(0),
        ];
        assert!(members.check_row(&row).is_ok());
        assert_eq!(
            members.key_of(&row).unwrap(),
            [Value::Uuid(g), Value::Uuid(u)]
        );
        assert!(members.check_key(&[Value::Uuid(g), Value::Uuid(u)]).is_ok());
        assert!(members.check_key(&[Value::Uuid(g)]).is_err());
        assert!(members.check_key(&[Value::Uuid(g), Value::Null]).is_err());

        row[4] = Value::Null; // joined_at is NOT NULL
        assert!(members.check_row(&row).is_err());
        row[4] = Value::Text("1".into()); // and an integer
        assert!(members.check_row(&row).is_err());
        row[4] = Value::Int(1);
        row.pop();
        assert!(members.check_row(&row).is_err());
    }
}
