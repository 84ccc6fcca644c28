//! Groups, direct chats, members and roles, read markers.

use std::sync::Arc;

use confab_domain::{Alias, Event, GroupId, GroupName, Role, UserId, Username, policy};

use crate::rate_limit::Bucket;

use crate::store::{Closing, GroupView, Member, NewGroup, Principal, Removal, RoleChanged};
use crate::{Error, Ports, Result};

/// Conversation use cases. Cheap to clone; shared by every transport.
#[derive(Clone)]
pub struct Conversations {
    /// Shared: every request clones the use cases, and a clone must cost one count.
    pub(crate) ports: Arc<Ports>,
}

/// Whom a direct chat is with.
#[derive(Debug, Clone)]
pub enum DirectWith {
    Id(UserId),
    Username(String),
}

/// Most initial members a group may be created with.
pub const MAX_INITIAL_MEMBERS: usize = 1000;

impl Conversations {
    /// Builds the use cases over the given ports.
    pub fn new(ports: Ports) -> Self {
        Self {
            ports: Arc::new(ports),
        }
    }

    /// Creates a named group; the caller is its owner and `member_ids` join as members.
    pub async fn create_group(
        &self,
        caller: &Principal,
        name: &str,
        member_ids: Vec<UserId>,
    ) -> Result<GroupView> {
        let name = GroupName::parse(name)?;
        if member_ids.len() > MAX_INITIAL_MEMBERS {
            return Err(Error::invalid(
                "member_ids",
                format!("at most {MAX_INITIAL_MEMBERS} initial members"),
            ));
        }
        let mut members: Vec<UserId> = Vec::with_capacity(member_ids.len());
        for id in member_ids {
            if id != caller.user_id && !members.contains(&id) {
                members.push(id);
            }
        }
        let mut everyone = vec![caller.user_id];
        everyone.extend(&members);
        let view = self
            .ports
            .groups
            .create_group(NewGroup {
                id: GroupId::new(),
                name,
                created_by: caller.user_id,
                created_at: self.ports.clock.now(),
                members,
            })
            .await?;
        self.publish(Event::GroupCreated {
            group_id: view.group.id,
            members: everyone,
        })
        .await;
        Ok(view)
    }

    /// Hands an event to the bus; called only after the store has committed the change.
    pub(crate) async fn publish(&self, event: Event) {
        self.ports.bus.publish(event).await;
    }

    /// The open direct chat with another user, created if needed; `true` when created.
    pub async fn open_direct(
        &self,
        caller: &Principal,
        with: DirectWith,
    ) -> Result<(GroupView, bool)> {
        // The refusal names the field the client sent.
        let (other, field) = match with {
            DirectWith::Id(id) => (id, "user_id"),
            DirectWith::Username(raw) => {
                let username = Username::parse(&raw)?;
                let user = self
                    .ports
                    .users
                    .user_by_username(&username)
                    .await?
                    .ok_or(Error::NotFound("user"))?;
                (user.id, "username")
            }
        };
        if other == caller.user_id {
            return Err(Error::invalid(field, "a direct chat needs another user"));
        }
        let now = self.ports.clock.now();
        let (view, created) = self
            .ports
            .groups
            .open_direct(caller.user_id, other, GroupId::new(), now)
            .await?;
        if created {
            self.publish(Event::GroupCreated {
                group_id: view.group.id,
                members: vec![caller.user_id, other],
            })
            .await;
        }
        Ok((view, created))
    }

    /// The caller's groups, most recent activity first.
    pub async fn list_groups(&self, caller: &Principal) -> Result<Vec<GroupView>> {
        self.ports.groups.groups_of(caller.user_id).await
    }

    /// One of the caller's groups.
    pub async fn group(&self, caller: &Principal, group: GroupId) -> Result<GroupView> {
        self.ports.groups.group_of(caller.user_id, group).await
    }

    /// Renames a group (owner or admin).
    pub async fn rename_group(
        &self,
        caller: &Principal,
        group: GroupId,
        name: &str,
    ) -> Result<GroupView> {
        let name = GroupName::parse(name)?;
        let view = self
            .ports
            .groups
            .rename_group(caller.user_id, group, name)
            .await?;
        self.publish(Event::GroupUpdated { group_id: group }).await;
        Ok(view)
    }

    /// Deletes a named group (owner) or closes a direct chat (either member).
    pub async fn delete_group(&self, caller: &Principal, group: GroupId) -> Result<Closing> {
        let now = self.ports.clock.now();
        let closing = self
            .ports
            .groups
            .delete_or_close(caller.user_id, group, now)
            .await?;
        match &closing {
            Closing::Deleted { members } => {
                self.publish(Event::GroupDeleted {
                    group_id: group,
                    members: members.clone(),
                })
                .await;
            }
            Closing::Closed => self.publish(Event::GroupClosed { group_id: group }).await,
            Closing::AlreadyClosed => {}
        }
        Ok(closing)
    }

    /// Sets (or with `None`, clears) the caller's own name for a group.
    pub async fn set_alias(
        &self,
        caller: &Principal,
        group: GroupId,
        alias: Option<&str>,
    ) -> Result<GroupView> {
        let alias = alias.map(Alias::parse).transpose()?;
        self.ports
            .groups
            .set_alias(caller.user_id, group, alias)
            .await
    }

    /// The members of one of the caller's groups.
    pub async fn members(&self, caller: &Principal, group: GroupId) -> Result<Vec<Member>> {
        self.ports.groups.members(caller.user_id, group).await
    }

    /// Adds a member (owner or admin); `role` defaults to `member`, never `owner`.
    pub async fn add_member(
        &self,
        caller: &Principal,
        group: GroupId,
        target: UserId,
        role: Option<&str>,
    ) -> Result<Member> {
        let role = match role {
            Some(raw) => policy::joining_role(Role::parse(raw)?)?,
            None => Role::Member,
        };
        let now = self.ports.clock.now();
        let member = self
            .ports
            .groups
            .add_member(caller.user_id, group, target, role, now)
            .await?;
        self.publish(Event::MemberJoined {
            group_id: group,
            user_id: member.user.id,
            role: member.role,
        })
        .await;
        Ok(member)
    }

    /// Changes a member's role (owner only); `owner` transfers ownership.
    pub async fn change_role(
        &self,
        caller: &Principal,
        group: GroupId,
        target: UserId,
        role: &str,
    ) -> Result<Member> {
        let role = Role::parse(role)?;
        let changed = self
            .ports
            .groups
            .change_role(caller.user_id, group, target, role)
            .await?;
        let changed_role = |user_id, role| Event::MemberRoleChanged {
            group_id: group,
            user_id,
            role,
        };
        match &changed {
            RoleChanged::Unchanged(_) => {}
            RoleChanged::Set(m) => self.publish(changed_role(m.user.id, m.role)).await,
            RoleChanged::Transferred {
                member,
                previous_owner,
            } => {
                self.publish(changed_role(member.user.id, Role::Owner))
                    .await;
                self.publish(changed_role(*previous_owner, Role::Admin))
                    .await;
            }
        }
        Ok(changed.member().clone())
    }

    /// Removes a member, or leaves when `target` is the caller.
    pub async fn remove_member(
        &self,
        caller: &Principal,
        group: GroupId,
        target: UserId,
    ) -> Result<Removal> {
        let now = self.ports.clock.now();
        let removal = self
            .ports
            .groups
            .remove_member(caller.user_id, group, target, now)
            .await?;
        let left = Event::MemberLeft {
            group_id: group,
            user_id: target,
        };
        match removal {
            Removal::Removed => self.publish(left).await,
            Removal::Left { new_owner } => {
                self.publish(left).await;
                if let Some(user_id) = new_owner {
                    self.publish(Event::MemberRoleChanged {
                        group_id: group,
                        user_id,
                        role: Role::Owner,
                    })
                    .await;
                }
            }
            Removal::GroupDeleted => {
                self.publish(Event::GroupDeleted {
                    group_id: group,
                    members: vec![caller.user_id],
                })
                .await;
            }
        }
        Ok(removal)
    }

    /// Moves the caller's read marker forward (never backwards, never past the last message).
    pub async fn mark_read(&self, caller: &Principal, group: GroupId, seq: i64) -> Result<u64> {
        let seq = u64::try_from(seq).map_err(|_| Error::invalid("seq", "must not be negative"))?;
        let marker = self
            .ports
            .groups
            .mark_read(caller.user_id, group, seq)
            .await?;
        self.publish(Event::Read {
            group_id: group,
            user_id: caller.user_id,
            seq: marker,
        })
        .await;
        Ok(marker)
    }

    /// Tells the group's other members that the caller is typing: relayed, never stored, and
    /// at most once per interval per user and group (more often is ignored, not an error).
    pub async fn typing(&self, caller: &Principal, group: GroupId) -> Result<()> {
        self.ports.groups.group_of(caller.user_id, group).await?;
        let key = format!("{}:{group}", caller.user_id);
        if self.ports.limiter.hit(Bucket::Typing, &key).await.is_ok() {
            self.publish(Event::Typing {
                group_id: group,
                user_id: caller.user_id,
            })
            .await;
        }
        Ok(())
    }
}
