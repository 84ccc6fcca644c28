//! The OpenAPI document's frame; the paths come from the routes themselves (utoipa-axum), so a
//! route cannot be served without being described. The rules on input come from the domain
//! (`wire::rules`), and what every operation can answer whatever its handler does is added here,
//! once, by [`complete`].

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "confab",
        description = "A real-time chat server. Every non-2xx answer has the body `{\"error\": {\"code\", \"message\", \"field\"?}}`. \
Each operation lists every status it can answer. Beyond those, any request may be refused for its head alone: \
414 `uri_too_long` (request target over the limit) and 431 `headers_too_large`; a 500 `internal` is a bug."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "users", description = "People"),
        (name = "groups", description = "Groups, direct chats and members"),
        (name = "messages", description = "Sending, reading, editing and searching messages"),
        (name = "announcements", description = "Server-wide announcements"),
        (name = "reports", description = "Reports of messages and users to the server's admins"),
        (name = "pool", description = "The matching pool: anonymous 1:1 rooms that expire"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
        (name = "realtime", description = "The WebSocket: every event, in order"),
    )
)]
pub struct ApiDoc;

/// The security scheme's name, as operations refer to it.
const BEARER: &str = "bearer";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What an operation is, as far as the answers it shares with others go.
struct Shape {
    bearer: bool,
    json_body: bool,
    query: bool,
    path: bool,
}

impl Shape {
    fn of(op: &Operation) -> Self {
        let params = op.parameters.iter().flatten();
        let has_param = |place: ParameterIn| {
            params
                .clone()
                .any(|p| std::mem::discriminant(&p.parameter_in) == std::mem::discriminant(&place))
        };
        Self {
            bearer: op.security.iter().flatten().any(|requirement| {
                serde_json::to_value(requirement)
                    .ok()
                    .and_then(|v| v.get(BEARER).cloned())
                    .is_some()
            }),
            json_body: op
                .request_body
                .as_ref()
                .is_some_and(|body| body.content.contains_key("application/json")),
            query: has_param(ParameterIn::Query),
            path: has_param(ParameterIn::Path),
        }
    }

    /// The statuses this operation can answer whatever its handler does, each with why. Each
    /// comes from one place in the crate:
    /// - 400, 413, 415: `extract::ApiJson` reading a JSON body (and `reject_oversized`, which
    ///   refuses a declared length over the limit before any handler); 400 also
    ///   `extract::ApiQuery` reading a query string;
    /// - 401: `extract::Caller` on every operation with bearer security;
    /// - 404: `extract::ApiPath`: a path id that is not a UUID names nothing;
    /// - 429: the request budget (`middleware::throttle`), and the connection caps;
    /// - 503: a backend that is down (the limiter of `throttle` included), the request timeout,
    ///   and the connection caps.
    fn common(&self, body_limit: usize) -> Vec<(u16, String)> {
        let mut out = Vec::new();
        let reads = match (self.json_body, self.query) {
            (true, true) => Some(
                "the body is not JSON or not of the documented shape, or the query string cannot be read",
            ),
            (true, false) => Some("the body is not JSON or not of the documented shape"),
            (false, true) => Some(
                "the query string cannot be read (a value of the wrong type, an unknown parameter)",
            ),
            (false, false) => None,
        };
        if let Some(what) = reads {
            out.push((400, format!("`bad_request`: {what}")));
        }
        let mut add = |status: u16, when: bool| {
            if when {
                out.push((status, description(status, body_limit)));
            }
        };
        add(401, self.bearer);
        add(404, self.path);
        add(413, self.json_body);
        add(415, self.json_body);
        add(429, true);
        add(503, true);
        out
    }
}

/// What an error status means in this API, for an answer listed without its own description.
fn description(status: u16, body_limit: usize) -> String {
    let text = match status {
        400 => "`bad_request`: the request is malformed",
        401 => "`unauthorized`: the token is missing, malformed, expired or revoked",
        403 => "`forbidden`: the caller's role does not allow this",
        404 => {
            "`not_found`: nothing with this id (an id that is not a UUID included), or nothing the caller may see"
        }
        409 => "`conflict`: taken, or already done",
        410 => "`gone`: the group is closed or expired",
        413 => return format!("`payload_too_large`: the body is over {body_limit} bytes"),
        415 => {
            "`unsupported_media_type`: the body was sent without `Content-Type: application/json`"
        }
        422 => "`validation_failed`: a field breaks its rule (`field` says which)",
        429 => {
            "`rate_limited`: too many requests (or login attempts, or codes asked for), or too many connections from this address; `Retry-After` says when to come back"
        }
        503 => {
            "`unavailable`: the database or another backend is down, the request took too long, or the server is at its connection limit; retry later"
        }
        _ => "an error",
    };
    text.to_owned()
}

/// The answer for an error status: our error body.
fn error_response(description: String, status: u16) -> Response {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
    if status == 429 {
        add_retry_after(&mut response);
    }
    response
}

fn add_retry_after(response: &mut Response) {
    response
        .headers
        .entry("Retry-After".to_owned())
        .or_insert_with(|| {
            HeaderBuilder::new()
                .schema(
                    ObjectBuilder::new()
                        .schema_type(Type::Integer)
                        .minimum(Some(1))
                        .build(),
                )
                .description(Some("Seconds to wait before trying again"))
                .build()
        });
}

/// Adds to every operation of `doc` the statuses it can answer whatever its handler does (see
/// [`Shape::common`]). An answer the operation already lists keeps its own description, and
/// gets the shared one when it has none.
pub fn complete(mut doc: utoipa::openapi::OpenApi, body_limit: usize) -> utoipa::openapi::OpenApi {
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            for (status, response) in op.responses.responses.iter_mut() {
                if let (Ok(status), RefOr::T(response)) = (status.parse::<u16>(), response)
                    && status >= 400
                    && response.description.is_empty()
                {
                    response.description = description(status, body_limit);
                }
            }
            let shape = Shape::of(op);
            for (status, description) in shape.common(body_limit) {
                let responses = &mut op.responses.responses;
                match responses.get_mut(&status.to_string()) {
                    Some(RefOr::T(listed)) => {
                        if listed.description.is_empty() {
                            listed.description = description;
                        }
                        if status == 429 {
                            add_retry_after(listed);
                        }
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        responses.insert(
                            status.to_string(),
                            RefOr::T(error_response(description, status)),
                        );
                    }
                }
            }
        }
    }
    // axum's catch-all segment `{*name}` is, to OpenAPI, the parameter `{name}`.
    doc.paths.paths = std::mem::take(&mut doc.paths.paths)
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    doc
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use crate::routes::document;

    fn doc() -> Value {
        serde_json::to_value(document(64 * 1024)).expect("the document serializes")
    }

    /// Every operation of the document: (method, path, operation).
    fn operations(doc: &Value) -> Vec<(String, String, Value)> {
        let mut out = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                if op.get("responses").is_some() {
                    out.push((method.clone(), path.clone(), op.clone()));
                }
            }
        }
        out
    }

    fn statuses(op: &Value) -> Vec<u16> {
        op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    fn has_bearer(op: &Value) -> bool {
        op["security"]
            .as_array()
            .is_some_and(|reqs| reqs.iter().any(|r| r.get("bearer").is_some()))
    }

    #[test]
    fn every_operation_lists_what_its_shape_can_answer() {
        let doc = doc();
        for (method, path, op) in operations(&doc) {
            let listed = statuses(&op);
            let name = format!("{method} {path}");
            assert!(listed.contains(&429) && listed.contains(&503), "{name}");
            if has_bearer(&op) {
                assert!(
                    listed.contains(&401),
                    "{name} has bearer security but no 401"
                );
            }
            if op.get("requestBody").is_some() {
                for status in [400, 413, 415] {
                    assert!(
                        listed.contains(&status),
                        "{name} reads JSON but lacks {status}"
                    );
                }
            }
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            if params.iter().any(|p| p["in"] == "path") {
                assert!(listed.contains(&404), "{name} has a path id but no 404");
            }
            if params.iter().any(|p| p["in"] == "query") {
                assert!(listed.contains(&400), "{name} reads a query but no 400");
            }
        }
    }

    #[test]
    fn every_error_answer_has_the_error_body_and_a_description() {
        let doc = doc();
        for (method, path, op) in operations(&doc) {
            for (status, response) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(
                        schema, "#/components/schemas/ErrorBody",
                        "{method} {path} {status}"
                    );
                    assert!(
                        !response["description"]
                            .as_str()
                            .unwrap_or_default()
                            .is_empty(),
                        "{method} {path} {status} has no description"
                    );
                }
            }
            if let Some(rate_limited) = op["responses"].get("429") {
                assert!(
                    rate_limited["headers"].get("Retry-After").is_some(),
                    "{method} {path}"
                );
            }
        }
    }
}
