//! The accept loop: hyper with a header-read timeout (a client that never finishes its request
//! head cannot hold a connection, or shutdown, forever), an idle timeout (nor can one that sends
//! nothing, or keeps a connection open between requests), caps on open connections in total and
//! per client address, upgrades (for the WebSocket), the client's address on every request, and
//! a graceful shutdown with a deadline. It must never stop accepting because of what one client
//! does: over a cap, a connection is refused, not left waiting.

mod admission;
mod idle;
mod stream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use confab_http::ConnectionRefusal;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use tower::util::BoxCloneService;

pub use admission::Caps;
use admission::{Admission, Admit, Slot};
use idle::Activity;
use stream::ConnStream;

/// Longest a client may take to send a request head.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a refused connection may take to send the request it is refused (and how long it
/// may then stay quiet): short, it holds one of few places.
const REFUSING_TIMEOUT: Duration = Duration::from_secs(2);
/// The largest request head the parser reads; over it the parser itself answers 431 (with no
/// body). The API's own limits (see `confab_http`) are lower, so they answer first, in JSON.
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Headers the parser accepts, above the API's own limit so that the API answers with JSON.
const MAX_HEADERS: usize = 256;

/// What serves one connection's requests.
type ConnService =
    BoxCloneService<hyper::Request<Incoming>, axum::response::Response, std::convert::Infallible>;

/// How many connections the server holds and for how long a quiet one stays.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub caps: Caps,
    /// A connection with no request in flight is closed after this long without traffic.
    pub idle_timeout: Duration,
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets
/// in-flight requests finish for up to `grace`, and returns.
pub async fn serve(
    router: Router,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    let serving = builder(HEADER_READ_TIMEOUT, true);
    let refusing = builder(REFUSING_TIMEOUT, false);
    let admission = Admission::new(limits.caps);
    let graceful = GracefulShutdown::new();
    // Polled in its own task from the start, whatever the accept loop is doing.
    let (stop_tx, mut stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(());
    });
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        match admission.admit(addr.ip()) {
            Admit::Serve(slot) => {
                let service = app_service(router.clone(), addr, None);
                spawn_connection(
                    &serving,
                    &graceful,
                    stream,
                    addr,
                    slot,
                    service,
                    limits.idle_timeout,
                );
            }
            Admit::Refuse(why, slot) => {
                tracing::debug!(%addr, ?why, "connection over a cap: refusing");
                let service = app_service(router.clone(), addr, Some(why));
                spawn_connection(
                    &refusing,
                    &graceful,
                    stream,
                    addr,
                    slot,
                    service,
                    REFUSING_TIMEOUT,
                );
            }
            Admit::Shed(why) => {
                tracing::debug!(%addr, ?why, "connection over a cap: shed");
                shed(stream, why);
            }
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(grace) => {
            tracing::warn!(?grace, "connections still open after the shutdown grace period; closing them");
        }
    }
    Ok(())
}

fn builder(header_read_timeout: Duration, keep_alive: bool) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout)
        .keep_alive(keep_alive)
        .max_buf_size(MAX_HEAD_BYTES)
        .max_headers(MAX_HEADERS);
    builder
}

/// The router for one connection, knowing the client's address; on a refused connection only
/// the health checks reach it and everything else gets the refusal.
fn app_service(
    router: Router,
    addr: SocketAddr,
    refused: Option<ConnectionRefusal>,
) -> ConnService {
    BoxCloneService::new(tower::service_fn(
        move |mut req: hyper::Request<Incoming>| {
            let router = router.clone();
            async move {
                req.extensions_mut().insert(ConnectInfo(addr));
                match refused {
                    Some(why) if !is_health_check(req.uri().path()) => Ok(why.response()),
                    _ => router.oneshot(req.map(axum::body::Body::new)).await,
                }
            }
        },
    ))
}

fn is_health_check(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// Serves one connection until it ends, goes idle, or the server shuts down.
fn spawn_connection(
    builder: &Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    addr: SocketAddr,
    slot: Slot,
    service: ConnService,
    idle_timeout: Duration,
) {
    // Small frames (acks, events) go out at once: with Nagle's algorithm a frame written
    // right after another waits for the client's delayed ACK, ~40 ms.
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, %addr, "TCP_NODELAY could not be set");
    }
    let activity = Arc::new(Activity::default());
    let counting = Arc::clone(&activity);
    let service = tower::service_fn(move |req: hyper::Request<Incoming>| {
        let request = counting.begin();
        let call = service.clone().oneshot(req);
        async move {
            let res = call.await;
            drop(request);
            res
        }
    });
    // The slot rides in the stream: an upgraded WebSocket keeps its place until it closes.
    let io = TokioIo::new(ConnStream::new(stream, Arc::clone(&activity), slot));
    let conn = builder
        .serve_connection_with_upgrades(io, TowerToHyperService::new(service))
        .into_owned();
    let conn = graceful.watch(conn);
    tokio::spawn(async move {
        tokio::select! {
            ended = conn => if let Err(e) = ended {
                tracing::debug!(error = %e, %addr, "connection ended with an error");
            },
            () = activity.idle_for(idle_timeout) => {
                tracing::debug!(%addr, "idle connection closed");
                metrics::counter!("confab_http_connections_idle_closed_total").increment(1);
            }
        }
    });
}

/// Answers a connection over every cap at once and closes it, holding nothing: what the client
/// already sent is read off first, so that closing does not reset the answer away.
fn shed(stream: TcpStream, why: ConnectionRefusal) {
    let mut sink = [0u8; 4096];
    for _ in 0..4 {
        match stream.try_read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = stream.try_write(&why.raw_response());
    if let Ok(std) = stream.into_std() {
        let _ = std.shutdown(std::net::Shutdown::Write);
    }
}
