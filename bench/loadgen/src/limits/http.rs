//! The HTTP side of `limits`: a bare axum server on 127.0.0.1 answering `POST /echo` (a small
//! JSON body, parsed) with a small JSON body, and closed-loop reqwest clients each posting
//! ~150 bytes of JSON and waiting for the answer: the loopback requests per second this
//! machine allows over the same HTTP stack as confab, with no application in the way.
//!
//! It must never send a request anywhere but the server it started itself, nor leave that
//! server running once measured.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use axum::routing::post;
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures::future::try_join_all;
use reqwest::header::CONTENT_TYPE;
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Bytes;

use super::{RoundTrips, closed_loop, json_of_len};

/// The size of each request body.
const PAYLOAD_BYTES: usize = 150;
/// How long the server may take to close its connections once told to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A client: the shared connection pool, where to post, and what.
#[derive(Clone)]
struct Poster {
    http: reqwest::Client,
    url: Url,
    body: Bytes,
}

#[derive(Deserialize)]
struct Probe {
    body: String,
}

#[derive(Serialize)]
struct Answer {
    ok: bool,
    len: usize,
}

/// Request round trips of `clients` closed-loop clients over `window`.
pub(super) async fn measure(window: Duration, clients: usize) -> Result<RoundTrips> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .context("binding the HTTP server")?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let app = Router::new().route("/echo", post(answer));
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let measured = run_clients(window, clients, format!("http://{addr}/echo")).await;
    let _ = stop.send(());
    match tokio::time::timeout(SHUTDOWN_GRACE, server).await {
        Ok(Ok(Ok(()))) => {}
        Ok(Ok(Err(e))) => eprintln!("limits: the HTTP server failed: {e}"),
        Ok(Err(e)) => eprintln!("limits: the HTTP server panicked: {e}"),
        Err(_) => eprintln!("limits: the HTTP server took over {SHUTDOWN_GRACE:?} to stop"),
    }
    measured
}

/// The clients, over one keep-alive pool: a first request each, all at once, to open their
/// connections (not measured), then the closed loops. The pool is gone when this returns.
async fn run_clients(window: Duration, clients: usize, url: String) -> Result<RoundTrips> {
    let poster = Poster {
        http: reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(clients)
            .build()
            .context("building the HTTP client")?,
        url: Url::parse(&url).with_context(|| format!("parsing {url}"))?,
        body: Bytes::from(json_of_len(PAYLOAD_BYTES)),
    };
    let posters = vec![poster; clients];
    let posters = try_join_all(posters.into_iter().map(post_once))
        .await
        .context("the first requests failed")?;
    Ok(closed_loop(window, posters, PAYLOAD_BYTES, post_once).await)
}

/// The server's handler: parses the body, answers with its length.
async fn answer(Json(probe): Json<Probe>) -> Json<Answer> {
    Json(Answer {
        ok: true,
        len: probe.body.len(),
    })
}

/// Posts the client's body and reads the whole answer.
async fn post_once(poster: Poster) -> Result<Poster> {
    let response = poster
        .http
        .post(poster.url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(poster.body.clone())
        .send()
        .await
        .context("posting")?;
    let status = response.status();
    let answer = response.bytes().await.context("reading the answer")?;
    ensure!(
        status == StatusCode::OK && !answer.is_empty(),
        "the server answered {status} with {} bytes",
        answer.len()
    );
    Ok(poster)
}
