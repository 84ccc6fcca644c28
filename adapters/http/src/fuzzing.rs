//! For the fuzz targets in `fuzz/` only, not an API: the edge's private decoders, reachable
//! from outside the crate so the fuzzers feed exactly what a client's bytes reach.
//!
//! Request bodies go through [`ApiJson`], the extractor every JSON route uses, into the wire
//! types below; WebSocket frames through [`frames`]. Nothing in the server uses this module.

pub use crate::error::ApiError;
pub use crate::extract::ApiJson;
pub use crate::wire::{
    AddMemberRequest, AliasRequest, AnnounceRequest, ChangeRoleRequest, CreateGroupRequest,
    DirectRequest, EditMessageRequest, JoinPoolRequest, LoginRequest, LogoutRequest,
    OtpRequestBody, PasswordResetRequest, PatchMeRequest, ReadRequest, RefreshRequest,
    RegisterRequest, RenameGroupRequest, SendMessageRequest,
};

/// The WebSocket frames: the `ClientFrame` decoder and `ServerFrame` encoder the server uses.
pub use crate::ws::frames;
