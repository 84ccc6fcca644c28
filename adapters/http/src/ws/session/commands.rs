//! A session's commands: every client frame, answered through the same use case as its HTTP
//! route (`ack` or an `error` with the command's `ref`). Nothing here touches the cursors
//! except `sync`, which lives with the catch-up.

use confab_domain::{GroupId, UserId};
use serde_json::Value;

use super::{ClientFrame, ServerFrame, Session, Step};
use crate::error::ApiError;

impl Session {
    pub(super) async fn on_frame(&mut self, frame: ClientFrame) -> Step {
        let c = self.state.conversations.clone();
        let p = self.principal;
        let gid = GroupId::from_uuid;
        let ack = |reference: &Value| ServerFrame::ack(reference.clone());
        match frame {
            ClientFrame::MessageSend {
                reference,
                group_id,
                body,
                client_id,
            } => {
                let r = c
                    .send_message(&p, gid(group_id), &body, client_id.as_deref())
                    .await
                    .map(|a| ServerFrame::ack_message(reference.clone(), &a.message));
                self.answer(reference, r).await
            }
            ClientFrame::MessageEdit {
                reference,
                id,
                body,
            } => {
                let r = c
                    .edit_message(&p, confab_domain::MessageId::from_uuid(id), &body)
                    .await
                    .map(|e| ServerFrame::ack_message(reference.clone(), &e.message));
                self.answer(reference, r).await
            }
            ClientFrame::MessageDelete { reference, id } => {
                let r = c
                    .delete_message(&p, confab_domain::MessageId::from_uuid(id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::GroupCreate {
                reference,
                name,
                member_ids,
            } => {
                let members = member_ids
                    .unwrap_or_default()
                    .into_iter()
                    .map(UserId::from_uuid)
                    .collect();
                let r = c
                    .create_group(&p, &name, members)
                    .await
                    .map(|v| ServerFrame::ack_group(reference.clone(), &v));
                self.answer(reference, r).await
            }
            ClientFrame::GroupUpdate {
                reference,
                group_id,
                name,
            } => {
                let r = c
                    .rename_group(&p, gid(group_id), &name)
                    .await
                    .map(|v| ServerFrame::ack_group(reference.clone(), &v));
                self.answer(reference, r).await
            }
            ClientFrame::GroupDelete {
                reference,
                group_id,
            } => {
                let r = c
                    .delete_group(&p, gid(group_id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::MemberAdd {
                reference,
                group_id,
                user_id,
                role,
            } => {
                let r = c
                    .add_member(
                        &p,
                        gid(group_id),
                        UserId::from_uuid(user_id),
                        role.as_deref(),
                    )
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::MemberRemove {
                reference,
                group_id,
                user_id,
            } => {
                let r = c
                    .remove_member(&p, gid(group_id), UserId::from_uuid(user_id))
                    .await
                    .map(|_| ack(&reference));
                self.answer(reference, r).await
            }
            ClientFrame::Typing {
                reference,
                group_id,
            } => match c.typing(&p, gid(group_id)).await {
                Ok(()) => Ok(()),
                Err(e) => self.error(reference, ApiError::from(e)).await,
            },
            ClientFrame::Read {
                reference,
                group_id,
                seq,
            } => match c.mark_read(&p, gid(group_id), seq).await {
                Ok(_) => Ok(()),
                Err(e) => self.error(reference, ApiError::from(e)).await,
            },
            ClientFrame::Ping { reference } => self.send(&ServerFrame::Pong { reference }).await,
            ClientFrame::Auth { reference, token } => self.renew(reference, &token).await,
            ClientFrame::Sync { reference, since } => self.sync(reference, since).await,
        }
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
            Err(e) => self.error(Some(reference), ApiError::from(e)).await,
        }
    }
}
