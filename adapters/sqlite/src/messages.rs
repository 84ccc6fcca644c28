//! `Messages` on SQLite (being written).

use async_trait::async_trait;
use confab_domain::{Body, GroupId, Message, MessageId, Timestamp, UserId};
use confab_ports::store::{Appended, Changed, Cursor, Messages, NewMessage, Page};
use confab_ports::{Error, Result};

use crate::SqliteStore;

#[async_trait]
impl Messages for SqliteStore {
    async fn append_message(&self, _message: NewMessage) -> Result<Appended> {
        Err(Error::Internal("not yet".into()))
    }
    async fn history(
        &self,
        _user: UserId,
        _group: GroupId,
        _cursor: Cursor,
        _limit: u32,
    ) -> Result<Page> {
        Err(Error::Internal("not yet".into()))
    }
    async fn edit_message(
        &self,
        _actor: UserId,
        _message: MessageId,
        _body: Body,
        _now: Timestamp,
    ) -> Result<Changed> {
        Err(Error::Internal("not yet".into()))
    }
    async fn delete_message(
        &self,
        _actor: UserId,
        _message: MessageId,
        _now: Timestamp,
    ) -> Result<Changed> {
        Err(Error::Internal("not yet".into()))
    }
    async fn search_messages(
        &self,
        _user: UserId,
        _terms: Vec<String>,
        _group: Option<GroupId>,
        _limit: u32,
    ) -> Result<Vec<Message>> {
        Err(Error::Internal("not yet".into()))
    }
}
