//! Wire types: the JSON the API speaks. Domain types are never serialized directly; they are
//! converted here, at the edge.

mod announcements;
mod attachments;
mod auth;
mod groups;
mod invites;
mod messages;
mod otp;
mod pool;
mod reports;
mod rules;
mod time;
mod users;

pub use announcements::{
    AnnounceRequest, AnnouncementBody, AnnouncementPageBody, AnnouncementsQuery,
};
pub use attachments::{AttachmentBody, UploadQuery, attachment_ids};
pub use auth::{AuthResponse, LoginRequest, LogoutRequest, RefreshRequest, RegisterRequest};
pub use groups::{
    AddMemberRequest, AliasRequest, ChangeRoleRequest, CreateGroupRequest, DirectRequest,
    GroupBody, GroupsBody, MemberBody, MembersBody, ReadRequest, RenameGroupRequest,
};
pub use invites::{CreateInviteRequest, InviteBody, InvitesBody};
pub use messages::{
    EditMessageRequest, HistoryQuery, MessageBody, MessagePageBody, MessagesBody, RepliesQuery,
    SearchQuery, SendMessageRequest,
};
pub use otp::{OtpRequestBody, PasswordResetRequest};
pub use pool::{JoinPoolRequest, PoolBody};
pub use reports::{DecideReportRequest, ReportBody, ReportPageBody, ReportRequest, ReportsQuery};
pub use time::rfc3339_ms;
pub use users::{BanRequest, MeBody, PatchMeRequest, RolePath, UserBody, UserQuery, UsersBody};

use serde::{Deserialize, Deserializer};

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
