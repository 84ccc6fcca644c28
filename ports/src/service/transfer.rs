//! Moving a whole store to another backend (`confab port`), written once over the
//! [`Transfer`] port, whichever the two stores are.
//!
//! Only into an empty target: merging two histories would need rules (clashing ids, seqs,
//! usernames) this copy does not have. The source must not be written meanwhile (stop the
//! server first): each batch is read on its own, so the copy is one consistent snapshot only
//! of a store nobody changes, and the final count comparison fails when it was changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::Error;
use crate::store::{NOT_COPIED, TABLES, Table, Transfer};

/// Rows per batch: one read and one target transaction each.
pub const TRANSFER_BATCH: u32 = 1_000;

/// Which of the two stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Source,
    Target,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Source => "source",
            Side::Target => "target",
        })
    }
}

/// How far the copy of one table is; reported before its first batch and after each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub table: &'static str,
    pub copied: u64,
    /// The source's rows when the table's copy began.
    pub total: u64,
}

/// One table after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub table: &'static str,
    /// Rows the copy wrote.
    pub copied: u64,
    /// Rows counted in each store at the end.
    pub source: u64,
    pub target: u64,
}

impl Verified {
    /// Whether both stores hold exactly the rows copied.
    pub fn matches(&self) -> bool {
        self.copied == self.source && self.source == self.target
    }
}

/// What a finished copy verified, table by table in copy order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub tables: Vec<Verified>,
    /// Attachment files copied (each read back from the target and its SHA-256 checked);
    /// `copy_blobs` counts them, after the tables.
    pub files: u64,
}

impl fmt::Display for Report {
    /// `settings 1 = 1, users 120 = 120, …`: source = target, per table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tables: Vec<String> = self
            .tables
            .iter()
            .map(|t| format!("{} {} = {}", t.table, t.source, t.target))
            .collect();
        write!(
            f,
            "{}, attachment files {} (sha256 checked)",
            tables.join(", "),
            self.files
        )
    }
}

/// Why a copy did not happen or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The target holds rows; nothing was written.
    #[error(
        "the target already has data ({}); confab port only copies into an empty database",
        describe_counts(.0)
    )]
    TargetNotEmpty(Vec<(&'static str, u64)>),
    /// A store's schema is not the one this confab copies; nothing was written.
    #[error("the {side} database does not have the schema this confab copies: {problem}")]
    Layout { side: Side, problem: String },
    /// A store failed. From the first write on, the target holds part of the source.
    #[error("{doing} {table} in the {side} failed: {source}{}", incomplete(*.written))]
    Store {
        side: Side,
        doing: &'static str,
        table: &'static str,
        source: Error,
        /// Whether anything had been written to the target before the failure.
        written: bool,
    },
    /// The counts differ at the end: the source changed during the copy, or a store lost
    /// rows.
    #[error(
        "verification failed: {}; was the source in use?{}",
        describe_mismatches(.0),
        incomplete(true)
    )]
    Unverified(Vec<Verified>),
}

fn describe_counts(counts: &[(&'static str, u64)]) -> String {
    counts
        .iter()
        .map(|(t, n)| format!("{t}: {n} row{}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_mismatches(tables: &[Verified]) -> String {
    tables
        .iter()
        .filter(|t| !t.matches())
        .map(|t| {
            format!(
                "{} has {} rows in the source and {} in the target, {} copied",
                t.table, t.source, t.target, t.copied
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn incomplete(written: bool) -> &'static str {
    if written {
        "; the target now holds an incomplete copy: empty it (or remove the file) before trying again"
    } else {
        ""
    }
}

/// Copies every table of `from` into `to`, which must be empty, in batches of `batch` rows,
/// calling `progress` before each table and after each batch; then counts both stores and
/// fails unless every table holds exactly the rows copied on both sides.
pub async fn copy_store(
    from: &dyn Transfer,
    to: &dyn Transfer,
    batch: u32,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<Report, TransferError> {
    let batch = batch.max(1);
    check_layout(Side::Source, from).await?;
    check_layout(Side::Target, to).await?;
    refuse_unless_empty(to).await?;

    let mut copied = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let written = copied.iter().any(|(_, n)| *n > 0);
        let n = copy_table(from, to, table, batch, written, progress).await?;
        copied.push((table, n));
    }
    let written = copied.iter().any(|(_, n)| *n > 0);

    let mut tables = Vec::with_capacity(copied.len());
    for (table, n) in copied {
        let fail = |side, source| TransferError::Store {
            side,
            doing: "counting",
            table: table.name,
            source,
            written,
        };
        tables.push(Verified {
            table: table.name,
            copied: n,
            source: from.count(table).await.map_err(|e| fail(Side::Source, e))?,
            target: to.count(table).await.map_err(|e| fail(Side::Target, e))?,
        });
    }
    if tables.iter().all(Verified::matches) {
        Ok(Report { tables, files: 0 })
    } else {
        Err(TransferError::Unverified(tables))
    }
}

/// Refuses a store whose tables or columns differ from [`TABLES`]: a table or column this
/// confab does not know would otherwise be left behind without a word.
async fn check_layout(side: Side, store: &dyn Transfer) -> Result<(), TransferError> {
    let layout = store
        .layout()
        .await
        .map_err(|source| TransferError::Store {
            side,
            doing: "reading the schema of",
            table: "the database",
            source,
            written: false,
        })?;
    let has: BTreeMap<&str, BTreeSet<&str>> = layout
        .iter()
        .map(|t| {
            (
                t.name.as_str(),
                t.columns.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for table in TABLES {
        let Some(columns) = has.get(table.name) else {
            problems.push(format!("no table {}", table.name));
            continue;
        };
        let wanted: BTreeSet<&str> = table.columns.iter().map(|c| c.name).collect();
        for missing in wanted.difference(columns) {
            problems.push(format!("no column {}.{missing}", table.name));
        }
        for extra in columns.difference(&wanted) {
            problems.push(format!("an unknown column {}.{extra}", table.name));
        }
    }
    for name in has.keys() {
        if Table::named(name).is_none() && !NOT_COPIED.contains(name) {
            problems.push(format!("an unknown table {name}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TransferError::Layout {
            side,
            problem: problems.join(", "),
        })
    }
}

async fn refuse_unless_empty(to: &dyn Transfer) -> Result<(), TransferError> {
    let mut filled = Vec::new();
    for table in TABLES {
        let n = to
            .count(table)
            .await
            .map_err(|source| TransferError::Store {
                side: Side::Target,
                doing: "counting",
                table: table.name,
                source,
                written: false,
            })?;
        if n > 0 {
            filled.push((table.name, n));
        }
    }
    if filled.is_empty() {
        Ok(())
    } else {
        Err(TransferError::TargetNotEmpty(filled))
    }
}

/// Copies one table, batch after batch in key order; returns the rows written.
async fn copy_table(
    from: &dyn Transfer,
    to: &dyn Transfer,
    table: &'static Table,
    batch: u32,
    mut written: bool,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<u64, TransferError> {
    let fail = |side, doing, written, source| TransferError::Store {
        side,
        doing,
        table: table.name,
        source,
        written,
    };
    let total = from
        .count(table)
        .await
        .map_err(|e| fail(Side::Source, "counting", written, e))?;
    let mut copied = 0u64;
    progress(&Progress {
        table: table.name,
        copied,
        total,
    });
    let mut after = None;
    loop {
        let rows = from
            .read_batch(table, after.take(), batch)
            .await
            .map_err(|e| fail(Side::Source, "reading", written, e))?;
        let Some(last) = rows.last() else {
            break;
        };
        let last_key = table
            .key_of(last)
            .map_err(|e| fail(Side::Source, "reading", written, e))?;
        let n = rows.len();
        to.write_batch(table, rows)
            .await
            .map_err(|e| fail(Side::Target, "writing", written, e))?;
        written = true;
        copied += n as u64;
        progress(&Progress {
            table: table.name,
            copied,
            total,
        });
        // A short batch was the last; a full one may have more behind it.
        if n < batch as usize {
            break;
        }
        after = Some(last_key);
    }
    Ok(copied)
}
