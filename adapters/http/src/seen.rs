//! `user` objects with their presence, as the viewer may see it: the handlers' one way to
//! answer users. A list costs one store query (who shares a group with the viewer) and one
//! presence read, whatever its length; a group's members skip it (they share the group), and
//! only the viewer's blocks are read.
//! Never builds a `user` without asking presence what the viewer may see.

use confab_domain::User;
use confab_domain::presence::Seen;
use confab_ports::store::{Member, Principal};

use crate::AppState;
use crate::error::ApiResult;
use crate::wire::{MemberBody, UserBody};

impl AppState {
    /// How `viewer` sees each of `users`, in order (`banned` for admins).
    pub(crate) async fn user_bodies(
        &self,
        viewer: &Principal,
        users: &[User],
    ) -> ApiResult<Vec<UserBody>> {
        let refs: Vec<&User> = users.iter().collect();
        let seen = self.presence.seen_by(viewer.user_id, &refs).await?;
        Ok(users
            .iter()
            .zip(seen)
            .map(|(u, seen)| UserBody::seen_by(u, seen, viewer.is_admin))
            .collect())
    }

    /// How `viewer` sees `user`.
    pub(crate) async fn user_body(&self, viewer: &Principal, user: &User) -> ApiResult<UserBody> {
        let seen = self.own_or_shared(viewer, user).await?;
        Ok(UserBody::seen_by(user, seen, viewer.is_admin))
    }

    /// The presence `viewer` may see of `user` (their own, to themselves).
    pub(crate) async fn own_or_shared(&self, viewer: &Principal, user: &User) -> ApiResult<Seen> {
        let seen = self.presence.seen_by(viewer.user_id, &[user]).await?;
        Ok(seen.first().copied().unwrap_or(Seen::HIDDEN))
    }

    /// A user's own presence, for the answers that carry their account.
    pub(crate) async fn own_presence(&self, user: &User) -> ApiResult<Seen> {
        let seen = self.presence.seen_by(user.id, &[user]).await?;
        Ok(seen.first().copied().unwrap_or(Seen::HIDDEN))
    }

    /// A member of one of `viewer`'s groups, with their presence as the viewer may see it.
    pub(crate) async fn member_body(&self, viewer: &Principal, member: &Member) -> MemberBody {
        let seen = self
            .presence
            .seen_among(viewer.user_id, &[&member.user])
            .await;
        MemberBody::new(member, seen.first().copied().unwrap_or(Seen::HIDDEN))
    }

    /// Members of one of `viewer`'s groups, with their presence as the viewer may see it.
    pub(crate) async fn member_bodies(
        &self,
        viewer: &Principal,
        members: &[Member],
    ) -> Vec<MemberBody> {
        let users: Vec<&User> = members.iter().map(|m| &m.user).collect();
        let seen = self.presence.seen_among(viewer.user_id, &users).await;
        members
            .iter()
            .zip(seen)
            .map(|(m, seen)| MemberBody::new(m, seen))
            .collect()
    }
}
