//! The confab binary as a library: configuration, wiring of adapters to ports, and the server's
//! run loop. `main.rs` only parses the command line and reports errors; tests start the very
//! same server through [`build`] and [`serve`] on `127.0.0.1:0`.
#![forbid(unsafe_code)]

mod admin;
mod attachments_config;
mod backup;
mod ban_watch;
pub mod config;
mod config_file;
mod connections_config;
mod demo;
mod invites;
mod logging;
mod mail_config;
mod manual;
mod metrics_listen;
mod open_files;
pub mod ops_config;
mod password_prompt;
mod port;
mod presence_config;
mod redact;
mod reports;
mod server;
mod store;
mod sweeper;
mod user_ops;
mod wiring;

use std::future::Future;
use std::process::ExitCode;

use axum::Router;
use tokio::net::TcpListener;

pub use config::{Cli, Command, ServeArgs};
pub use demo::{DEMO_PASSWORD, demo};
pub use logging::init_logging;
pub use port::port;

/// The commit this binary was built from: `CONFAB_COMMIT` at build time (set by the build, or
/// by whoever builds), else `unknown`.
const BUILD_COMMIT: &str = match option_env!("CONFAB_COMMIT") {
    Some(commit) => commit,
    None => "unknown",
};

/// Start-up failed; the text is one line for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

/// A server ready to accept connections.
pub struct App {
    router: Router,
    hub: std::sync::Arc<confab_http::ws::hub::Hub>,
    shutdown_grace: std::time::Duration,
    accounts: confab_ports::service::Accounts,
    /// The pool's use cases, for the expiry sweep.
    pool: confab_ports::service::Matchmaking,
    /// The attachment use cases, for the sweep of unused uploads and leftover bytes.
    files: confab_ports::service::Files,
    sweep_interval: std::time::Duration,
    /// Connection caps (fitted to the open-files limit) and the idle timeout.
    connection_limits: server::ConnectionLimits,
    /// Closed after the last request: what was published reaches the other instances.
    bus: std::sync::Arc<dyn confab_ports::bus::EventBus>,
    /// Started with the server, closed after its last socket (before the bus).
    presence: confab_ports::service::Presence,
}

impl App {
    /// The account use cases, for operator tasks beside the API (the CLI's, and tests').
    pub fn accounts(&self) -> &confab_ports::service::Accounts {
        &self.accounts
    }
}

/// Opens the database (running migrations), settles the signing secret and builds the router.
pub async fn build(args: &ServeArgs) -> Result<App, StartError> {
    build_with_clock(args, std::sync::Arc::new(confab_ports::clock::SystemClock)).await
}

/// [`build`] with another clock: tests move time forward instead of sleeping.
pub async fn build_with_clock(
    args: &ServeArgs,
    clock: std::sync::Arc<dyn confab_ports::clock::Clock>,
) -> Result<App, StartError> {
    // Before any adapter counts anything (the Redis bus starts counting at once).
    confab_http::install_recorder();
    confab_http::record_build_info(env!("CARGO_PKG_VERSION"), BUILD_COMMIT);
    let ports = wiring::ports(args, clock).await?;
    let accounts = confab_ports::service::Accounts::new(ports.clone());
    let bus = std::sync::Arc::clone(&ports.bus);
    let pool = wiring::matchmaking(ports.clone(), args);
    let files = confab_ports::service::Files::new(ports.clone());
    let presence = confab_ports::service::Presence::new(ports.clone(), args.presence.settings());
    let (router, hub) = wiring::router(ports, files.clone(), presence.clone(), args);
    Ok(App {
        connection_limits: connection_limits(args),
        shutdown_grace: args.shutdown_grace,
        pool,
        files,
        sweep_interval: args.expiry_sweep_interval,
        accounts,
        router,
        hub,
        bus,
        presence,
    })
}

/// The connection settings, with the cap fitted to the open-files limit (raised first).
fn connection_limits(args: &ServeArgs) -> server::ConnectionLimits {
    let c = &args.connections;
    let per_address = (c.max_connections_per_address > 0 && !args.trust_forwarded_for)
        .then_some(c.max_connections_per_address);
    server::ConnectionLimits {
        caps: server::Caps {
            total: open_files::fit_connections(c.max_connections, open_files::raise()),
            per_address,
        },
        idle_timeout: c.idle_timeout,
    }
}

/// Serves until `shutdown` completes, then lets in-flight requests finish (for at most
/// `--shutdown-grace`) and returns.
pub async fn serve(
    app: App,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = app.hub;
    let grace = app.shutdown_grace;
    let (stop_sweep, sweep_stopped) = tokio::sync::watch::channel(false);
    let ban_watch = ban_watch::spawn(app.accounts.clone(), sweep_stopped.clone());
    let presence = app.presence.start();
    let sweep = sweeper::spawn(app.pool, app.files, app.sweep_interval, sweep_stopped);
    // Sockets are upgraded connections the HTTP shutdown does not wait for: close them (1001,
    // after the answers they owe) once the signal comes, within the same grace.
    let shutdown = async move {
        shutdown.await;
        let _ = stop_sweep.send(true);
        hub.close_all(grace).await;
    };
    let served = server::serve(app.router, listener, shutdown, grace, app.connection_limits).await;
    // Also when serving failed before any signal: no sweep outlives its server.
    sweep.abort();
    ban_watch.abort();
    let _ = sweep.await;
    let _ = ban_watch.await;
    // Every socket has ended: presence hands its users over (or writes their last_seen_at),
    // and what it announced goes out with the bus's last events.
    presence.close().await;
    // Every request is answered: hand the last events to the other instances.
    app.bus.close().await;
    served
}

/// Binds the configured address; a clear error when it is taken or invalid.
pub async fn bind(listen: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(listen)
        .await
        .map_err(|e| StartError(format!("cannot listen on {listen}: {e}")))
}

/// A future that completes on SIGINT or SIGTERM. The handlers are registered now, when this
/// is called, not when the future is first polled: a signal that arrives while the server is
/// busy starting must still mean "shut down gracefully", never the default "die at once".
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let term = async {
                match terminate.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let int = async {
                match interrupt.as_mut() {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = term => {},
                () = int => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutting down");
    }
}

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> Result<(), StartError> {
    match cli.command {
        None => run_server(cli.serve).await,
        Some(Command::Serve(args)) => run_server(*args).await,
        Some(Command::User(cmd)) => admin::run(cmd).await,
        Some(Command::Invite(cmd)) => invites::run(cmd).await,
        Some(Command::Migrate(store)) => {
            store::open_store(&store).await?;
            println!("migrations are up to date");
            Ok(())
        }
        Some(Command::Port(args)) => port::run(args).await,
        Some(Command::Reports(args)) => reports::run(args).await,
        Some(Command::Demo(store)) => demo::run(store).await,
        Some(Command::Backup(args)) => backup::run(args).await,
        Some(Command::Completions(args)) => manual::completions(args.shell),
        Some(Command::Man) => manual::man(),
    }
}

async fn run_server(args: ServeArgs) -> Result<(), StartError> {
    let stop = shutdown_signal();
    // Bind first: a taken port should be reported before the database is created or migrated.
    let listener = bind(&args.listen).await?;
    let metrics_listener = metrics_listen::bind(args.metrics_listen.as_deref()).await?;
    let app = build(&args).await?;
    let addr = listener
        .local_addr()
        .map_err(|e| StartError(format!("cannot listen on {}: {e}", args.listen)))?;
    let database = config::DatabaseUrl::parse(&args.store.database_url)
        .map(|url| url.to_string())
        .unwrap_or_default();
    args.mail.warn_if_logged();
    let metrics = metrics_listener.map(metrics_listen::spawn).transpose()?;
    let redis = args
        .redis_url
        .as_deref()
        .map_or_else(|| "none".to_owned(), redact::url);
    let registration = args.registration.as_str();
    tracing::info!(%addr, %database, %redis, registration, "confab is listening");
    let served = serve(app, listener, stop)
        .await
        .map_err(|e| StartError(format!("server failed: {e}")));
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    served
}

/// The program: parses the command line, runs, and turns any start-up failure into one clear
/// line on stderr.
pub fn main() -> ExitCode {
    let cli = match config_file::parse_cli(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("confab: {}", one_line(&e.to_string()));
            return ExitCode::FAILURE;
        }
    };
    init_logging(cli.log_format());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!(
                "confab: cannot start the async runtime: {}",
                one_line(&e.to_string())
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab: {}", one_line(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

/// The error as one line: a value from the command line may hold line breaks or terminal
/// escapes, which must neither split the line nor forge another one.
pub(crate) fn one_line(message: &str) -> String {
    message
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}
