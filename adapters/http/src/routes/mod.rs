//! The router: every route, its layers, and the OpenAPI document built from the same list.

mod announcements;
mod api_docs;
mod attachments;
mod auth;
mod groups;
mod invites;
mod members;
mod messages;
mod moderation;
mod ops;
mod otp;
mod pool;
mod reactions;
mod reports;
mod users;
mod web;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::{Extension, Router, middleware as mw};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::openapi::ApiDoc;
use crate::{AppState, access_log, metrics, middleware};

/// Every route, each described in the OpenAPI document as it is added.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::<AppState>::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::register))
        .routes(routes!(auth::login))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(otp::request_otp))
        .routes(routes!(otp::password_reset))
        .routes(routes!(users::me, users::update_me))
        .routes(routes!(moderation::blocks))
        .routes(routes!(moderation::block, moderation::unblock))
        .routes(routes!(moderation::ban, moderation::unban))
        .routes(routes!(users::user))
        .routes(routes!(users::find_users))
        .routes(routes!(users::grant_role, users::revoke_role))
        .routes(routes!(groups::create_group, groups::list_groups))
        .routes(routes!(
            groups::group,
            groups::rename_group,
            groups::delete_group
        ))
        .routes(routes!(groups::set_alias))
        .routes(routes!(groups::open_direct))
        .routes(routes!(members::members, members::add_member))
        .routes(routes!(members::change_role, members::remove_member))
        .routes(routes!(messages::send_message, messages::history))
        .routes(routes!(messages::edit_message, messages::delete_message))
        .routes(routes!(attachments::upload))
        .routes(routes!(attachments::download))
        .routes(routes!(attachments::thumbnail))
        .routes(routes!(reactions::add_reaction, reactions::remove_reaction))
        .routes(routes!(reactions::pin, reactions::unpin))
        .routes(routes!(reactions::pins))
        .routes(routes!(reactions::replies))
        .routes(routes!(groups::mark_read))
        .routes(routes!(messages::search))
        .routes(routes!(
            announcements::announce,
            announcements::announcements
        ))
        .routes(routes!(reports::report, reports::reports))
        .routes(routes!(reports::decide_report))
        .routes(routes!(invites::create_invite, invites::invites))
        .routes(routes!(invites::revoke_invite))
        .routes(routes!(pool::join_pool, pool::leave_pool))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(ops::openapi))
        .routes(routes!(api_docs::page))
        .routes(routes!(api_docs::file))
        .routes(routes!(crate::ws::connect))
        .routes(routes!(web::index))
        .routes(routes!(web::asset))
}

/// The OpenAPI document of [`api`], with what every operation can answer added.
#[cfg(test)]
pub(crate) fn document(body_limit: usize) -> utoipa::openapi::OpenApi {
    crate::openapi::complete(api().split_for_parts().1, body_limit)
}

/// Builds the whole HTTP application.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let (routes, doc) = api().split_for_parts();
    let doc = crate::openapi::complete(doc, config.body_limit);

    // The fallback goes first: `layer` only wraps what the router already has, and unknown
    // routes must be throttled and counted like the rest.
    routes
        .fallback(|| async { ApiError::for_status(StatusCode::NOT_FOUND) })
        .layer(mw::from_fn_with_state(state.clone(), middleware::throttle))
        .layer(mw::from_fn_with_state(
            state.clone(),
            middleware::reject_oversized,
        ))
        .layer(mw::from_fn(metrics::track))
        .layer(Extension(Arc::new(doc)))
        .layer(Extension(metrics::install_recorder()))
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(mw::from_fn(middleware::json_errors))
                .layer(mw::from_fn(middleware::limit_request_head))
                .layer(mw::from_fn(access_log::log))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http())
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(mw::from_fn_with_state(
                    state.clone(),
                    middleware::time_limit,
                )),
        )
        .layer(DefaultBodyLimit::max(config.body_limit))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    /// Routes are registered only through `OpenApiRouter::routes(routes!(…))`, which puts each
    /// one in the OpenAPI document as it adds it to the router. A plain `.route(` here would
    /// add a route the document does not know.
    #[test]
    fn every_route_is_registered_through_the_openapi_router() {
        let source = include_str!("mod.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        assert!(
            !code.contains(".route("),
            "use .routes(routes!(handler)) instead"
        );
        assert!(
            !code.contains(".nest("),
            "nested routers bypass the document"
        );
    }
}
