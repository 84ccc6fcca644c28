//! `Groups` on SQLite (being written).

use async_trait::async_trait;
use confab_domain::{Alias, GroupId, GroupName, Role, Timestamp, UserId};
use confab_ports::store::{Closing, GroupView, Groups, Member, NewGroup, Removal};
use confab_ports::{Error, Result};

use crate::SqliteStore;

#[async_trait]
impl Groups for SqliteStore {
    async fn create_group(&self, _group: NewGroup) -> Result<GroupView> {
        Err(Error::Internal("not yet".into()))
    }
    async fn open_direct(
        &self,
        _me: UserId,
        _other: UserId,
        _id: GroupId,
        _now: Timestamp,
    ) -> Result<(GroupView, bool)> {
        Err(Error::Internal("not yet".into()))
    }
    async fn groups_of(&self, _user: UserId) -> Result<Vec<GroupView>> {
        Err(Error::Internal("not yet".into()))
    }
    async fn group_of(&self, _user: UserId, _group: GroupId) -> Result<GroupView> {
        Err(Error::Internal("not yet".into()))
    }
    async fn rename_group(
        &self,
        _actor: UserId,
        _group: GroupId,
        _name: GroupName,
    ) -> Result<GroupView> {
        Err(Error::Internal("not yet".into()))
    }
    async fn delete_or_close(
        &self,
        _actor: UserId,
        _group: GroupId,
        _now: Timestamp,
    ) -> Result<Closing> {
        Err(Error::Internal("not yet".into()))
    }
    async fn set_alias(
        &self,
        _user: UserId,
        _group: GroupId,
        _alias: Option<Alias>,
    ) -> Result<GroupView> {
        Err(Error::Internal("not yet".into()))
    }
    async fn members(&self, _user: UserId, _group: GroupId) -> Result<Vec<Member>> {
        Err(Error::Internal("not yet".into()))
    }
    async fn add_member(
        &self,
        _actor: UserId,
        _group: GroupId,
        _target: UserId,
        _role: Role,
        _now: Timestamp,
    ) -> Result<Member> {
        Err(Error::Internal("not yet".into()))
    }
    async fn change_role(
        &self,
        _actor: UserId,
        _group: GroupId,
        _target: UserId,
        _role: Role,
    ) -> Result<Member> {
        Err(Error::Internal("not yet".into()))
    }
    async fn remove_member(
        &self,
        _actor: UserId,
        _group: GroupId,
        _target: UserId,
        _now: Timestamp,
    ) -> Result<Removal> {
        Err(Error::Internal("not yet".into()))
    }
    async fn mark_read(&self, _user: UserId, _group: GroupId, _seq: u64) -> Result<u64> {
        Err(Error::Internal("not yet".into()))
    }
}
