//! Use cases, written once over the ports and called by every transport (HTTP, WebSocket, CLI).

mod account_deletion;
mod accounts;
mod admin;
mod announcements;
mod auth;
mod blob_copy;
mod conversations;
mod files;
mod invites;
mod messaging;
mod moderation;
mod otp;
mod pool;
mod presence;
mod profile;
mod reactions;
mod reports;
mod transfer;

pub use account_deletion::{DELETED_PREFIX, DeletedUser};
pub use accounts::{Accounts, Authenticated, IssuedTokens, Registration};
pub use announcements::{ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX};
pub use blob_copy::copy_blobs;
pub use conversations::{Conversations, DirectWith, MAX_INITIAL_MEMBERS};
pub use files::{Files, FilesSwept, InMemory, UploadHeader, UploadSettings};
pub use invites::{INVITE_DEFAULT_TTL, INVITE_MAX_TTL, INVITES_MAX, InviteDraft};
pub use messaging::{Draft, MESSAGES_DEFAULT, MESSAGES_MAX, search_terms};
pub use otp::{OtpRequest, PasswordReset};
pub use pool::{Matchmaking, PoolOutcome, PoolSettings};
pub use presence::{Presence, PresenceSettings, PresenceWorker};
pub use profile::{
    ProfilePatch, USER_SEARCH_DEFAULT, USER_SEARCH_MAX, USER_SEARCH_QUERY_MAX, UserLookup,
    page_limit,
};
pub use reports::{REPORTS_DEFAULT, REPORTS_MAX, ReportDraft, ReportLine};
pub use transfer::{Progress, Report, Side, TRANSFER_BATCH, TransferError, Verified, copy_store};

#[cfg(test)]
mod tests;
