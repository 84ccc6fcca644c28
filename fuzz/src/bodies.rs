//! `request_body`: every JSON body an HTTP route accepts. The first byte picks the body type
//! (see [`BODIES`]); the rest is the request body, read by `ApiJson` — the extractor the routes
//! use, with its 400s for bad JSON and wrong shapes — and, when it is well-formed, validated
//! as the route's use case validates it (the same domain constructors, in the same order, as
//! the `confab_ports::service` method the route calls; each mirror names it). Bit 7 of the
//! first byte sends the body without `Content-Type: application/json` (415).
//!
//! Whatever the bytes, the answer is the body or a 4xx with the error body; never a panic,
//! never a 500.

use axum::body::Body as HttpBody;
use axum::extract::{FromRequest, Request};
use axum::http::header::CONTENT_TYPE;
use confab_domain::{
    Alias, Body, ClientId, Country, DisplayName, Email, GroupName, OtpCode, OtpPurpose, Password,
    Role, Username, policy,
};
use confab_http::fuzzing::{
    AddMemberRequest, AliasRequest, AnnounceRequest, ApiError, ApiJson, ChangeRoleRequest,
    CreateGroupRequest, DirectRequest, EditMessageRequest, JoinPoolRequest, LoginRequest,
    LogoutRequest, OtpRequestBody, PasswordResetRequest, PatchMeRequest, ReadRequest,
    RefreshRequest, RegisterRequest, RenameGroupRequest, SendMessageRequest,
};
use confab_ports::Error;
use confab_ports::service::{DirectWith, MAX_INITIAL_MEMBERS};
use confab_ports::tokens::TokenIssuer;
use serde::de::DeserializeOwned;

use crate::check_client_error;

/// The body types, in the order of the selector byte (`(byte & 0x7f) % BODIES.len()`), each
/// with the route that takes it.
pub const BODIES: [(&str, &str); 18] = [
    ("register", "POST /auth/register"),
    ("login", "POST /auth/login"),
    ("refresh", "POST /auth/refresh"),
    ("logout", "POST /auth/logout"),
    ("otp", "POST /auth/otp"),
    ("password_reset", "POST /auth/password-reset"),
    ("patch_me", "PATCH /users/me"),
    ("create_group", "POST /groups"),
    ("rename_group", "PATCH /groups/{id}"),
    ("alias", "PUT /groups/{id}/alias"),
    ("direct", "POST /direct"),
    ("add_member", "POST /groups/{id}/members"),
    ("change_role", "PATCH /groups/{id}/members/{user_id}"),
    ("read", "POST /groups/{id}/read"),
    ("send_message", "POST /groups/{id}/messages"),
    ("edit_message", "PATCH /messages/{id}"),
    ("announce", "POST /announcements"),
    ("join_pool", "POST /pool"),
];

type Checked = Result<(), ApiError>;

pub fn request_body(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let json = selector & 0x80 == 0;
    match BODIES[usize::from(selector & 0x7f) % BODIES.len()].0 {
        "register" => run(body, json, register),
        "login" => run(body, json, login),
        "refresh" => run(body, json, |r: RefreshRequest| {
            refresh_token(&r.refresh_token)
        }),
        "logout" => run(body, json, |r: LogoutRequest| {
            refresh_token(&r.refresh_token)
        }),
        "otp" => run(body, json, otp),
        "password_reset" => run(body, json, password_reset),
        "patch_me" => run(body, json, patch_me),
        "create_group" => run(body, json, create_group),
        "rename_group" => run(body, json, |r: RenameGroupRequest| {
            invalid(GroupName::parse(&r.name))
        }),
        "alias" => run(body, json, |r: AliasRequest| match r.alias {
            Some(a) => invalid(Alias::parse(&a)),
            None => Ok(()),
        }),
        "direct" => run(body, json, direct),
        "add_member" => run(body, json, |r: AddMemberRequest| {
            add_member(r.role.as_deref())
        }),
        "change_role" => run(body, json, |r: ChangeRoleRequest| {
            invalid(Role::parse(&r.role))
        }),
        "read" => run(body, json, |r: ReadRequest| read(r.seq)),
        "send_message" => run(body, json, |r: SendMessageRequest| {
            send_message(&r.body, r.client_id.as_deref())
        }),
        "edit_message" => run(body, json, |r: EditMessageRequest| {
            invalid(Body::parse(&r.body))
        }),
        "announce" => run(body, json, |r: AnnounceRequest| {
            invalid(Body::parse(&r.body))
        }),
        "join_pool" => run(body, json, join_pool),
        other => unreachable!("no case for {other}"),
    }
}

/// Reads `body` as the route does, then validates it with `validate`; every refusal must be a
/// proper client error.
fn run<T: DeserializeOwned>(body: &[u8], json: bool, validate: impl FnOnce(T) -> Checked) {
    let mut request = Request::builder().method("POST").uri("/");
    if json {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(HttpBody::from(body.to_vec()))
        .unwrap_or_else(|e| panic!("a request to / is well-formed: {e}"));
    match futures::executor::block_on(ApiJson::<T>::from_request(request, &())) {
        Ok(ApiJson(value)) => {
            assert!(json, "a body without a JSON content type was read");
            if let Err(e) = validate(value) {
                check_client_error(e);
            }
        }
        Err(rejection) => {
            let status = rejection.status.as_u16();
            assert!(
                status == 400 || (status == 415 && !json),
                "a body was refused with {status}"
            );
            check_client_error(rejection);
        }
    }
}

/// A domain refusal as the route answers it.
fn invalid<T>(r: Result<T, confab_domain::Invalid>) -> Checked {
    r.map(|_| ()).map_err(|e| ApiError::from(Error::from(e)))
}

fn error(e: Error) -> ApiError {
    ApiError::from(e)
}

/// `Accounts::register` → `new_user`: username, password, email, display name, country, then
/// (on servers that verify emails) the code.
fn register(r: RegisterRequest) -> Checked {
    let reg = r.into_registration();
    invalid(Username::parse(&reg.username))?;
    invalid(Password::parse(&reg.password))?;
    invalid(reg.email.as_deref().map(Email::parse).transpose())?;
    invalid(
        reg.display_name
            .as_deref()
            .map(DisplayName::parse)
            .transpose(),
    )?;
    invalid(reg.country.as_deref().map(Country::parse).transpose())?;
    invalid(reg.otp.as_deref().map(OtpCode::parse).transpose())
}

/// `Accounts::login_with_otp`: the code's shape, then the login is looked up trimmed and a
/// password longer than any stored one is not hashed.
fn login(r: LoginRequest) -> Checked {
    invalid(r.otp.as_deref().map(OtpCode::parse).transpose())?;
    let _key: String = r.login.trim().to_lowercase().chars().take(256).collect();
    let _plausible = r.password.chars().count() <= Password::MAX;
    Ok(())
}

/// Refresh and logout: the token is only ever hashed and looked up.
fn refresh_token(token: &str) -> Checked {
    let hash = crate::jwt::issuer().hash_refresh(token);
    assert_eq!(hash.0.len(), 32);
    Ok(())
}

/// `Accounts::request_otp`: the purpose, then the address (register, email change) or the
/// login (login, password reset), each required for its purposes and refused for the others.
fn otp(r: OtpRequestBody) -> Checked {
    let req = confab_ports::service::OtpRequest::from(r);
    let purpose = OtpPurpose::parse(&req.purpose).map_err(|e| error(e.into()))?;
    let (wanted, unused, field, other) = match purpose {
        OtpPurpose::Register | OtpPurpose::EmailChange => {
            (&req.email, &req.login, "email", "login")
        }
        OtpPurpose::Login | OtpPurpose::PasswordReset => (&req.login, &req.email, "login", "email"),
    };
    if unused.is_some() {
        return Err(error(Error::invalid(other, "is not used for this purpose")));
    }
    let Some(raw) = wanted else {
        return Err(error(Error::invalid(field, "is required for this purpose")));
    };
    if field == "email" {
        invalid(Email::parse(raw))
    } else {
        let login = raw.trim();
        if login.is_empty() || login.chars().count() > 256 {
            return Err(error(Error::invalid(
                "login",
                "must be a username or an email",
            )));
        }
        Ok(())
    }
}

/// `Accounts::reset_password`: the code's shape, then the new password.
fn password_reset(r: PasswordResetRequest) -> Checked {
    let reset = confab_ports::service::PasswordReset::from(r);
    invalid(OtpCode::parse(&reset.otp))?;
    invalid(Password::parse(&reset.password))
}

/// `Accounts::update_me`: each field present with a value is parsed; `null` clears it.
fn patch_me(r: PatchMeRequest) -> Checked {
    let patch = confab_ports::service::ProfilePatch::from(r);
    if let Some(Some(d)) = &patch.display_name {
        invalid(DisplayName::parse(d))?;
    }
    if let Some(Some(c)) = &patch.country {
        invalid(Country::parse(c))?;
    }
    if let Some(Some(e)) = &patch.email {
        invalid(Email::parse(e))?;
        invalid(patch.otp.as_deref().map(OtpCode::parse).transpose())?;
    }
    Ok(())
}

/// `Conversations::create_group`: the name, then at most `MAX_INITIAL_MEMBERS` members.
fn create_group(r: CreateGroupRequest) -> Checked {
    let members = r.member_ids();
    invalid(GroupName::parse(&r.name))?;
    if members.len() > MAX_INITIAL_MEMBERS {
        return Err(error(Error::invalid(
            "member_ids",
            "too many initial members",
        )));
    }
    Ok(())
}

/// `routes::groups::direct` (`DirectWith::try_from`) → `Conversations::open_direct`.
fn direct(r: DirectRequest) -> Checked {
    match DirectWith::try_from(r)? {
        DirectWith::Id(_) => Ok(()),
        DirectWith::Username(raw) => invalid(Username::parse(&raw)),
    }
}

/// `Conversations::add_member`: a role, never `owner`; `member` by default.
pub fn add_member(role: Option<&str>) -> Checked {
    if let Some(raw) = role {
        let role = Role::parse(raw).map_err(|e| error(e.into()))?;
        policy::joining_role(role).map_err(|e| error(e.into()))?;
    }
    Ok(())
}

/// `Conversations::mark_read`: a seq is never negative.
pub fn read(seq: i64) -> Checked {
    u64::try_from(seq)
        .map(|_| ())
        .map_err(|_| error(Error::invalid("seq", "must not be negative")))
}

/// `Conversations::send_message`: the body, then the client id.
pub fn send_message(body: &str, client_id: Option<&str>) -> Checked {
    invalid(Body::parse(body))?;
    invalid(client_id.map(ClientId::parse).transpose())
}

/// `Matchmaking::join`: `same_country` needs a country of one's own (tried both ways).
fn join_pool(r: JoinPoolRequest) -> Checked {
    let same = r.same_country.unwrap_or(false);
    let de = Country::parse("DE").map_err(|e| error(e.into()))?;
    confab_domain::pool::check_join(Some(&de), same).map_err(|e| error(e.into()))?;
    confab_domain::pool::check_join(None, same).map_err(|e| error(e.into()))
}
