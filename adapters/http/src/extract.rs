//! Extractors that answer bad input with our error body instead of axum's plain text.

use std::net::SocketAddr;

use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use confab_ports::store::Principal;
use confab_ports::tokens::AccessClaims;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::ApiError;

/// A JSON body. Missing content type → 415, too large → 413, not JSON or wrong shape → 400.
/// Every request body is a JSON object: serde would otherwise also read a struct from an array
/// of its fields (`["hi"]`), a shape nobody documented.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rejection) => return Err(json_rejection(rejection)),
        };
        if !value.is_object() {
            return Err(ApiError::bad_request(
                "the body has the wrong shape: it must be a JSON object",
            ));
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|e| ApiError::bad_request(format!("the body has the wrong shape: {e}")))
    }
}

/// A JSON body whose every field is optional (`{reason?}`, `{same_country?}`): a request that
/// sends no body at all is `T::default()`, as a client reading API.md expects; a body that is
/// there follows [`ApiJson`]'s rules (content type, object, shape).
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::body::HttpBody;
        // Exact only when the length is known: `Content-Length: 0`, or no body framing at all.
        if req.body().size_hint().exact() == Some(0) {
            return Ok(Self(T::default()));
        }
        let ApiJson(value) = ApiJson::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::for_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        }
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::bad_request(format!("the body is not valid JSON: {}", e.body_text()))
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::bad_request(format!("the body has the wrong shape: {}", e.body_text()))
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE)
        }
        other => {
            ApiError::bad_request(format!("the body could not be read: {}", other.body_text()))
        }
    }
}

/// A path parameter. A value that cannot be an id names nothing that exists: 404.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_| ApiError::not_found("not found (malformed id)"))
    }
}

/// A query string. Unparseable values → 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e| ApiError::bad_request(format!("bad query string: {}", e.body_text())))
    }
}

/// The `Bearer` token of a request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The authenticated caller; 401 without a valid, live access token.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
        Ok(Self(authenticate(parts, state, token).await?))
    }
}

/// An access token's claims, verified by the throttle on the way in: the request's handler
/// needs them again, and verifying a signature twice per request is measurable at load.
#[derive(Debug, Clone, Copy)]
pub struct Verified(pub AccessClaims);

/// The caller behind the request's `token`: its claims as the throttle verified them when it
/// did, else verified here; the login behind them must still be live.
pub async fn authenticate(
    parts: &Parts,
    state: &AppState,
    token: &str,
) -> Result<Principal, ApiError> {
    let claims = match parts.extensions.get::<Verified>() {
        Some(Verified(claims)) => *claims,
        None => state.accounts.verify_access(token)?,
    };
    Ok(state.accounts.principal_for(&claims).await?)
}

/// The client's address: the peer, or the last `X-Forwarded-For` hop when configured to trust
/// the load balancer in front.
pub fn client_ip(parts: &Parts, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for {
        let mut hops = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(ip) = hops.next_back() {
            return ip.to_owned();
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The client's address as an extractor.
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(parts, state.config.trust_forwarded_for)))
    }
}
