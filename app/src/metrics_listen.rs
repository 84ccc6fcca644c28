//! `--metrics-listen ADDR`: `/metrics` on an address of its own (a private interface, say),
//! while the public port answers 404 there. Bound at start, next to `--listen`, so a bad or
//! taken address stops the start with one clear line; the bound address is logged (`metrics
//! are served`, field `addr`), which is how a run on port 0 learns it.
//!
//! It must never serve anything but `/metrics`, and never outlive the server.

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::StartError;

/// Binds `--metrics-listen` when it is set.
pub(crate) async fn bind(addr: Option<&str>) -> Result<Option<TcpListener>, StartError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    TcpListener::bind(addr)
        .await
        .map(Some)
        .map_err(|e| StartError(format!("cannot listen on --metrics-listen {addr}: {e}")))
}

/// Serves `/metrics` on `listener` until the handle is aborted.
pub(crate) fn spawn(listener: TcpListener) -> Result<JoinHandle<()>, StartError> {
    let addr = listener
        .local_addr()
        .map_err(|e| StartError(format!("cannot listen on --metrics-listen: {e}")))?;
    tracing::info!(%addr, "metrics are served");
    Ok(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, confab_http::metrics_router()).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    }))
}
