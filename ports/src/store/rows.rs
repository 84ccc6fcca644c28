//! What both stores read rows into, written once: the columns they select for a user, a group
//! and a message (the same names in the same order on both, so `confab port` and the
//! conversions agree), and the conversions from such a row to the model, over [`ReadRow`] — a
//! small trait each store implements for its driver's row. The SQL around the columns stays in
//! each store (placeholders, booleans, locks differ); the store checks in a unit test that its
//! column list is [`select_list`] of these names.
//!
//! Nothing here knows a driver: a store maps [`BadColumn`] into its driver's error.

use confab_domain::{
    Alias, Attachment, AttachmentId, ClientId, ContentType, Country, DisplayName, Email, FileName,
    Group, GroupId, GroupKind, GroupName, Message, MessageId, Role, Timestamp, User, UserId,
    Username, from_unix_millis,
};
use uuid::Uuid;

use crate::store::{GroupView, MyMembership};

/// A column whose value is not what the model allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {index}: {why}")]
pub struct BadColumn {
    pub index: usize,
    pub why: String,
}

impl BadColumn {
    pub fn new(index: usize, why: impl Into<String>) -> Self {
        Self {
            index,
            why: why.into(),
        }
    }
}

/// One row of a driver, read by column index.
pub trait ReadRow {
    /// An id (text on SQLite, `uuid` on PostgreSQL).
    fn id(&self, i: usize) -> Result<Uuid, BadColumn>;
    /// An id that may be NULL.
    fn opt_id(&self, i: usize) -> Result<Option<Uuid>, BadColumn>;
    fn text(&self, i: usize) -> Result<String, BadColumn>;
    fn opt_text(&self, i: usize) -> Result<Option<String>, BadColumn>;
    fn int(&self, i: usize) -> Result<i64, BadColumn>;
    fn opt_int(&self, i: usize) -> Result<Option<i64>, BadColumn>;
    fn flag(&self, i: usize) -> Result<bool, BadColumn>;
}

/// The columns [`user`] reads, in order.
pub const USER: &[&str] = &[
    "id",
    "username",
    "display_name",
    "email",
    "country",
    "is_admin",
    "two_factor",
    "created_at",
    "banned_at",
    "last_seen_at",
];

/// The columns [`group`] reads, in order.
pub const GROUP: &[&str] = &[
    "id",
    "kind",
    "name",
    "created_by",
    "created_at",
    "expires_at",
    "closed_at",
    "last_seq",
    "last_rev",
];

/// The columns [`message`] reads, in order.
pub const MESSAGE: &[&str] = &[
    "id",
    "group_id",
    "seq",
    "rev",
    "sender_id",
    "body",
    "client_id",
    "created_at",
    "edited_at",
    "deleted",
    "created_rev",
    "pinned_at",
];

/// The columns [`announcement`] reads, in order.
pub const ANNOUNCEMENT: &[&str] = &["id", "sender_id", "body", "created_at"];

/// The columns [`waiting`] reads (of `pool_entries`), in order.
pub const WAITING: &[&str] = &[
    "user_id",
    "country",
    "same_country",
    "joined_at",
    "expires_at",
];

/// `columns` as a select list, each prefixed with `alias.` unless `alias` is empty.
pub fn select_list(alias: &str, columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| {
            if alias.is_empty() {
                (*c).to_owned()
            } else {
                format!("{alias}.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn time(row: &impl ReadRow, i: usize) -> Result<Timestamp, BadColumn> {
    let ms = row.int(i)?;
    from_unix_millis(ms).ok_or_else(|| BadColumn::new(i, format!("time {ms} out of range")))
}

fn opt_time(row: &impl ReadRow, i: usize) -> Result<Option<Timestamp>, BadColumn> {
    row.opt_int(i)?
        .map(|ms| {
            from_unix_millis(ms).ok_or_else(|| BadColumn::new(i, format!("time {ms} out of range")))
        })
        .transpose()
}

/// A counter (seq, rev, a count) stored as a signed integer.
pub fn count(row: &impl ReadRow, i: usize) -> Result<u64, BadColumn> {
    let n = row.int(i)?;
    u64::try_from(n).map_err(|_| BadColumn::new(i, format!("negative counter {n}")))
}

/// A role stored by name.
pub fn role(row: &impl ReadRow, i: usize) -> Result<Role, BadColumn> {
    let name = row.text(i)?;
    Role::parse(&name).map_err(|_| BadColumn::new(i, format!("unknown role {name:?}")))
}

/// A user from the [`USER`] columns starting at `at`.
pub fn user(row: &impl ReadRow, at: usize) -> Result<User, BadColumn> {
    Ok(User {
        id: UserId::from_uuid(row.id(at)?),
        username: Username::from_trusted(row.text(at + 1)?),
        display_name: row.opt_text(at + 2)?.map(DisplayName::from_trusted),
        email: row.opt_text(at + 3)?.map(Email::from_trusted),
        country: row.opt_text(at + 4)?.map(Country::from_trusted),
        is_admin: row.flag(at + 5)?,
        two_factor: row.flag(at + 6)?,
        created_at: time(row, at + 7)?,
        banned: row.opt_int(at + 8)?.is_some(),
        last_seen_at: opt_time(row, at + 9)?,
    })
}

/// A group from the [`GROUP`] columns starting at `at`.
pub fn group(row: &impl ReadRow, at: usize) -> Result<Group, BadColumn> {
    let kind = row.text(at + 1)?;
    Ok(Group {
        id: GroupId::from_uuid(row.id(at)?),
        kind: GroupKind::parse(&kind)
            .ok_or_else(|| BadColumn::new(at + 1, format!("unknown kind {kind:?}")))?,
        name: row.opt_text(at + 2)?.map(GroupName::from_trusted),
        created_by: UserId::from_uuid(row.id(at + 3)?),
        created_at: time(row, at + 4)?,
        expires_at: opt_time(row, at + 5)?,
        closed_at: opt_time(row, at + 6)?,
        last_seq: count(row, at + 7)?,
        last_rev: count(row, at + 8)?,
    })
}

/// A group as a member sees it: the [`GROUP`] columns, then the member's role, alias and read
/// marker, the member count, the unread count and the unread mentions.
pub fn view(row: &impl ReadRow) -> Result<GroupView, BadColumn> {
    let g = GROUP.len();
    Ok(GroupView {
        group: group(row, 0)?,
        my: MyMembership {
            role: role(row, g)?,
            alias: row.opt_text(g + 1)?.map(Alias::from_trusted),
            last_read_seq: count(row, g + 2)?,
            unread_count: count(row, g + 4)?,
            mention_count: count(row, g + 5)?,
        },
        member_count: count(row, g + 3)?,
    })
}

/// A message from the [`MESSAGE`] columns starting at `at`.
pub fn message(row: &impl ReadRow, at: usize) -> Result<Message, BadColumn> {
    Ok(Message {
        id: MessageId::from_uuid(row.id(at)?),
        group_id: GroupId::from_uuid(row.id(at + 1)?),
        seq: count(row, at + 2)?,
        rev: count(row, at + 3)?,
        sender_id: UserId::from_uuid(row.id(at + 4)?),
        body: row.text(at + 5)?,
        client_id: row.opt_text(at + 6)?.map(ClientId::from_trusted),
        created_at: time(row, at + 7)?,
        edited_at: opt_time(row, at + 8)?,
        deleted: row.flag(at + 9)?,
        created_rev: count(row, at + 10)?,
        // The stores load attachments, the replied-to message, reactions and mentions with
        // one query a page each.
        attachments: Vec::new(),
        reply_to: None,
        reactions: Vec::new(),
        mentions: Vec::new(),
        pinned: row.opt_int(at + 11)?.is_some(),
    })
}

/// The columns [`attachment`] reads, in order.
pub const ATTACHMENT: &[&str] = &[
    "id",
    "group_id",
    "uploader_id",
    "message_id",
    "name",
    "content_type",
    "size",
    "sha256",
    "width",
    "height",
    "created_at",
];

/// An attachment from the [`ATTACHMENT`] columns, starting at column `at`.
pub fn attachment(row: &impl ReadRow, at: usize) -> Result<Attachment, BadColumn> {
    let pixels = |i: usize| -> Result<Option<u32>, BadColumn> {
        row.opt_int(i)?
            .map(|n| u32::try_from(n).map_err(|_| BadColumn::new(i, format!("{n} pixels"))))
            .transpose()
    };
    Ok(Attachment {
        id: AttachmentId::from_uuid(row.id(at)?),
        group_id: GroupId::from_uuid(row.id(at + 1)?),
        uploader_id: UserId::from_uuid(row.id(at + 2)?),
        message_id: row.opt_id(at + 3)?.map(MessageId::from_uuid),
        name: FileName::from_trusted(row.text(at + 4)?),
        content_type: ContentType::from_trusted(row.text(at + 5)?),
        size: count(row, at + 6)?,
        sha256: row.text(at + 7)?,
        width: pixels(at + 8)?,
        height: pixels(at + 9)?,
        created_at: time(row, at + 10)?,
    })
}

/// An announcement from the [`ANNOUNCEMENT`] columns.
pub fn announcement(row: &impl ReadRow) -> Result<confab_domain::Announcement, BadColumn> {
    Ok(confab_domain::Announcement {
        id: confab_domain::AnnouncementId::from_uuid(row.id(0)?),
        sender_id: UserId::from_uuid(row.id(1)?),
        body: row.text(2)?,
        created_at: time(row, 3)?,
    })
}

/// The columns [`report`] reads (of `reports`), in order.
pub const REPORT: &[&str] = &[
    "id",
    "reporter_id",
    "message_id",
    "user_id",
    "reason",
    "status",
    "created_at",
    "message_body",
];

/// A report from the [`REPORT`] columns.
pub fn report(row: &impl ReadRow) -> Result<confab_domain::Report, BadColumn> {
    let status = row.text(5)?;
    Ok(confab_domain::Report {
        id: confab_domain::ReportId::from_uuid(row.id(0)?),
        reporter_id: UserId::from_uuid(row.id(1)?),
        message_id: row.opt_id(2)?.map(MessageId::from_uuid),
        user_id: UserId::from_uuid(row.id(3)?),
        reason: row.text(4)?,
        status: confab_domain::ReportStatus::parse(&status)
            .map_err(|_| BadColumn::new(5, format!("unknown status {status:?}")))?,
        created_at: time(row, 6)?,
        message_body: row.opt_text(7)?,
    })
}

/// The columns [`invite`] reads, in order.
pub const INVITE: &[&str] = &[
    "code",
    "created_by",
    "created_at",
    "expires_at",
    "max_uses",
    "uses",
];

/// An invite from the [`INVITE`] columns.
pub fn invite(row: &impl ReadRow) -> Result<confab_domain::Invite, BadColumn> {
    let count =
        |i: usize| u32::try_from(row.int(i)?).map_err(|_| BadColumn::new(i, "not a count of uses"));
    Ok(confab_domain::Invite {
        code: confab_domain::InviteCode::parse(&row.text(0)?)
            .map_err(|e| BadColumn::new(0, e.to_string()))?,
        created_by: row.opt_id(1)?.map(UserId::from_uuid),
        created_at: time(row, 2)?,
        expires_at: time(row, 3)?,
        max_uses: count(4)?,
        uses: count(5)?,
    })
}

/// A pool entry from the [`WAITING`] columns.
pub fn waiting(row: &impl ReadRow) -> Result<confab_domain::pool::Waiting, BadColumn> {
    Ok(confab_domain::pool::Waiting {
        user: UserId::from_uuid(row.id(0)?),
        country: row.opt_text(1)?.map(Country::from_trusted),
        same_country: row.flag(2)?,
        joined_at: time(row, 3)?,
        expires_at: time(row, 4)?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A row of plain values, as a driver would hand them over.
    enum Cell {
        Text(&'static str),
        Int(i64),
        Null,
    }

    struct Cells(Vec<Cell>);

    impl ReadRow for Cells {
        fn id(&self, i: usize) -> Result<Uuid, BadColumn> {
            Uuid::parse_str(&self.text(i)?).map_err(|e| BadColumn::new(i, e.to_string()))
        }
        fn opt_id(&self, i: usize) -> Result<Option<Uuid>, BadColumn> {
            self.opt_text(i)?
                .map(|t| Uuid::parse_str(&t).map_err(|e| BadColumn::new(i, e.to_string())))
                .transpose()
        }
        fn text(&self, i: usize) -> Result<String, BadColumn> {
            self.opt_text(i)?.ok_or_else(|| BadColumn::new(i, "null"))
        }
        fn opt_text(&self, i: usize) -> Result<Option<String>, BadColumn> {
            match &self.0[i] {
                Cell::Text(t) => Ok(Some((*t).to_owned())),
                Cell::Null => Ok(None),
                Cell::Int(_) => Err(BadColumn::new(i, "not text")),
            }
        }
        fn int(&self, i: usize) -> Result<i64, BadColumn> {
            self.opt_int(i)?.ok_or_else(|| BadColumn::new(i, "null"))
        }
        fn opt_int(&self, i: usize) -> Result<Option<i64>, BadColumn> {
            match &self.0[i] {
                Cell::Int(n) => Ok(Some(*n)),
                Cell::Null => Ok(None),
                Cell::Text(_) => Err(BadColumn::new(i, "not an integer")),
            }
        }
        fn flag(&self, i: usize) -> Result<bool, BadColumn> {
            Ok(self.int(i)? != 0)
        }
    }

    const ID: &str = "0190c0ff-ee00-7000-8000-000000000001";

    fn group_cells(kind: &'static str, last_seq: i64) -> Vec<Cell> {
        vec![
            Cell::Text(ID),
            Cell::Text(kind),
            Cell::Text("team"),
            Cell::Text(ID),
            Cell::Int(1_764_590_400_000),
            Cell::Null,
            Cell::Null,
            Cell::Int(last_seq),
            Cell::Int(3),
        ]
    }

    #[test]
    fn a_group_row_reads_into_a_group() {
        let g = group(&Cells(group_cells("group", 2)), 0).unwrap();
        assert_eq!(g.kind, GroupKind::Group);
        assert_eq!((g.last_seq, g.last_rev), (2, 3));
        assert_eq!(g.name.unwrap().as_str(), "team");
    }

    #[test]
    fn a_bad_kind_or_a_negative_counter_names_its_column() {
        assert_eq!(
            group(&Cells(group_cells("club", 2)), 0).unwrap_err().index,
            1
        );
        assert_eq!(
            group(&Cells(group_cells("group", -1)), 0)
                .unwrap_err()
                .index,
            7
        );
    }

    #[test]
    fn a_report_row_reads_into_a_report_and_a_bad_status_names_its_column() {
        let cells = |status: &'static str, message: Option<&'static str>| {
            Cells(vec![
                Cell::Text(ID),
                Cell::Text(ID),
                message.map_or(Cell::Null, Cell::Text),
                Cell::Text(ID),
                Cell::Text("spam"),
                Cell::Text(status),
                Cell::Int(1_764_590_400_000),
                message.map_or(Cell::Null, |_| Cell::Text("buy now")),
            ])
        };
        let r = report(&cells("resolved", Some(ID))).unwrap();
        assert_eq!(r.status, confab_domain::ReportStatus::Resolved);
        assert_eq!(r.message_body.as_deref(), Some("buy now"));
        assert!(r.message_id.is_some());
        let r = report(&cells("open", None)).unwrap();
        assert_eq!((r.message_id, r.message_body), (None, None));
        assert_eq!(report(&cells("closed", None)).unwrap_err().index, 5);
    }

    #[test]
    fn select_lists_prefix_each_column() {
        assert_eq!(select_list("g", &GROUP[..2]), "g.id, g.kind");
        assert_eq!(select_list("", &GROUP[..2]), "id, kind");
    }
}
