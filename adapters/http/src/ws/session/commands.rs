//! A session's commands: `on_frame` hands each client frame to one method here, which goes
//! through the same use case as its HTTP route and answers with an `ack` or an `error` with
//! the command's `ref` (`typing` and `read` answer only errors, `ping` a `pong`). Nothing here
//! touches the cursors except `sync`, which lives with the catch-up.

use confab_domain::{GroupId, MessageId, UserId};
use confab_ports::service::Draft;
use serde_json::Value;
use uuid::Uuid;

use super::{ClientFrame, End, ServerFrame, Session, Step};
use crate::error::ApiError;
use crate::wire;

impl Session {
    /// Answers one client frame: each type has its method below (`sync` in the catch-up).
    pub(super) async fn on_frame(&mut self, frame: ClientFrame) -> Step {
        match frame {
            ClientFrame::MessageSend {
                reference,
                group_id,
                body,
                client_id,
                attachment_ids,
                reply_to,
            } => {
                let draft = Draft {
                    body: &body,
                    client_id: client_id.as_deref(),
                    attachment_ids: &wire::attachment_ids(attachment_ids.as_deref()),
                    reply_to: reply_to.map(MessageId::from_uuid),
                };
                self.send_message(reference, group_id, draft).await
            }
            ClientFrame::ReactionAdd {
                reference,
                id,
                emoji,
            } => self.react(reference, id, &emoji, true).await,
            ClientFrame::ReactionRemove {
                reference,
                id,
                emoji,
            } => self.react(reference, id, &emoji, false).await,
            ClientFrame::MessageEdit {
                reference,
                id,
                body,
            } => self.edit_message(reference, id, &body).await,
            ClientFrame::MessageDelete { reference, id } => {
                self.delete_message(reference, id).await
            }
            ClientFrame::GroupCreate {
                reference,
                name,
                member_ids,
            } => self.create_group(reference, &name, member_ids).await,
            ClientFrame::GroupUpdate {
                reference,
                group_id,
                name,
            } => self.rename_group(reference, group_id, &name).await,
            ClientFrame::GroupDelete {
                reference,
                group_id,
            } => self.delete_group(reference, group_id).await,
            ClientFrame::MemberAdd {
                reference,
                group_id,
                user_id,
                role,
            } => self.add_member(reference, group_id, user_id, role).await,
            ClientFrame::MemberRemove {
                reference,
                group_id,
                user_id,
            } => self.remove_member(reference, group_id, user_id).await,
            ClientFrame::Typing {
                reference,
                group_id,
            } => self.typing(reference, group_id).await,
            ClientFrame::Read {
                reference,
                group_id,
                seq,
            } => self.mark_read(reference, group_id, seq).await,
            ClientFrame::Ping { reference } => self.ping(reference).await,
            ClientFrame::Auth { reference, token } => self.renew(reference, &token).await,
            ClientFrame::Sync { reference, since } => self.sync(reference, since).await,
        }
    }

    async fn send_message(&self, reference: Value, group_id: Uuid, draft: Draft<'_>) -> Step {
        let group = GroupId::from_uuid(group_id);
        let r = self
            .state
            .conversations
            .send_draft(&self.principal, group, draft)
            .await
            .map(|a| ServerFrame::ack_message(reference.clone(), &a.message));
        self.answer(reference, r).await
    }

    async fn react(&self, reference: Value, id: Uuid, emoji: &str, on: bool) -> Step {
        let r = self
            .state
            .conversations
            .react(&self.principal, MessageId::from_uuid(id), emoji, on)
            .await
            .map(|_| ServerFrame::ack(reference.clone()));
        self.answer(reference, r).await
    }

    async fn edit_message(&self, reference: Value, id: Uuid, body: &str) -> Step {
        let message = MessageId::from_uuid(id);
        let r = self
            .state
            .conversations
            .edit_message(&self.principal, message, body)
            .await
            .map(|e| ServerFrame::ack_message(reference.clone(), &e.message));
        self.answer(reference, r).await
    }

    async fn delete_message(&self, reference: Value, id: Uuid) -> Step {
        let message = MessageId::from_uuid(id);
        let r = self
            .state
            .conversations
            .delete_message(&self.principal, message)
            .await
            .map(|_| ServerFrame::ack(reference.clone()));
        self.answer(reference, r).await
    }

    async fn create_group(
        &self,
        reference: Value,
        name: &str,
        member_ids: Option<Vec<Uuid>>,
    ) -> Step {
        let members = member_ids
            .unwrap_or_default()
            .into_iter()
            .map(UserId::from_uuid)
            .collect();
        let r = self
            .state
            .conversations
            .create_group(&self.principal, name, members)
            .await
            .map(|v| ServerFrame::ack_group(reference.clone(), &v));
        self.answer(reference, r).await
    }

    async fn rename_group(&self, reference: Value, group_id: Uuid, name: &str) -> Step {
        let group = GroupId::from_uuid(group_id);
        let r = self
            .state
            .conversations
            .rename_group(&self.principal, group, name)
            .await
            .map(|v| ServerFrame::ack_group(reference.clone(), &v));
        self.answer(reference, r).await
    }

    async fn delete_group(&self, reference: Value, group_id: Uuid) -> Step {
        let group = GroupId::from_uuid(group_id);
        let r = self
            .state
            .conversations
            .delete_group(&self.principal, group)
            .await
            .map(|_| ServerFrame::ack(reference.clone()));
        self.answer(reference, r).await
    }

    async fn add_member(
        &self,
        reference: Value,
        group_id: Uuid,
        user_id: Uuid,
        role: Option<String>,
    ) -> Step {
        let (group, user) = (GroupId::from_uuid(group_id), UserId::from_uuid(user_id));
        let r = self
            .state
            .conversations
            .add_member(&self.principal, group, user, role.as_deref())
            .await
            .map(|_| ServerFrame::ack(reference.clone()));
        self.answer(reference, r).await
    }

    async fn remove_member(&self, reference: Value, group_id: Uuid, user_id: Uuid) -> Step {
        let (group, user) = (GroupId::from_uuid(group_id), UserId::from_uuid(user_id));
        let r = self
            .state
            .conversations
            .remove_member(&self.principal, group, user)
            .await
            .map(|_| ServerFrame::ack(reference.clone()));
        self.answer(reference, r).await
    }

    /// Typing is answered only when it fails.
    async fn typing(&self, reference: Option<Value>, group_id: Uuid) -> Step {
        let group = GroupId::from_uuid(group_id);
        let r = self
            .state
            .conversations
            .typing(&self.principal, group)
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(e) => self.error(reference, ApiError::from(e)).await,
        }
    }

    /// A read marker is answered only when it fails.
    async fn mark_read(&self, reference: Option<Value>, group_id: Uuid, seq: i64) -> Step {
        let group = GroupId::from_uuid(group_id);
        let r = self
            .state
            .conversations
            .mark_read(&self.principal, group, seq)
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) => self.error(reference, ApiError::from(e)).await,
        }
    }

    async fn ping(&self, reference: Option<Value>) -> Step {
        self.send(&ServerFrame::Pong { reference }).await
    }

    pub(super) async fn renew(&mut self, reference: Value, token: &str) -> Step {
        match self.state.accounts.authenticate_until(token).await {
            Ok((principal, expires_at)) if principal.user_id == self.principal.user_id => {
                self.principal = principal;
                self.expires_at = expires_at;
                self.send(&ServerFrame::ack(reference)).await
            }
            Ok(_) => {
                self.error(
                    Some(reference),
                    ApiError::unauthorized("the token belongs to another user"),
                )
                .await
            }
            // Banned meanwhile (the bus may not have told this instance yet): end the socket.
            Err(confab_ports::Error::Banned) => Err(End::Banned),
            Err(e) => self.error(Some(reference), ApiError::from(e)).await,
        }
    }
}
