//! The OpenAPI document's frame; the paths come from the routes themselves (utoipa-axum), so a
//! route cannot be served without being described.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "confab",
        description = "A real-time chat server. Every non-2xx answer has the body `{\"error\": {\"code\", \"message\", \"field\"?}}`."
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Accounts and tokens"),
        (name = "users", description = "People"),
        (name = "groups", description = "Groups, direct chats and members"),
        (name = "messages", description = "Sending, reading, editing and searching messages"),
        (name = "announcements", description = "Server-wide announcements"),
        (name = "pool", description = "The matching pool: anonymous 1:1 rooms that expire"),
        (name = "operations", description = "Health, readiness, metrics, this document"),
        (name = "realtime", description = "The WebSocket: every event, in order"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
