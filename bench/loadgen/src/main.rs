//! `confab-bench`: the command line of the load generator, one subcommand per scenario. Each
//! prints a one-line summary and writes the whole result as JSON (`--json`, by default
//! `bench-<scenario>.json` in the current directory).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use confab_bench::{
    FanoutConfig, IdleConfig, LimitsConfig, Over, PresenceConfig, SendsConfig, StormConfig,
    Summary, fanout, idle, limits, presence, sends, stats::open_file_warning, storm,
};

/// Load generator for confab. Start the server with throttling out of the way:
/// `--request-burst 100000 --requests-per-second 100000`.
#[derive(Parser)]
#[command(name = "confab-bench", version)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand)]
enum Scenario {
    /// N closed-loop senders into M groups: acked/s, ack latency, errors, commits.
    Sends {
        /// The server's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 64)]
        senders: usize,
        #[arg(long, default_value_t = 1)]
        groups: usize,
        /// Length of the measured window.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Sending before the measured window starts.
        #[arg(long, default_value_t = 2.0)]
        warmup: f64,
        #[arg(long, value_enum, default_value_t = Over::Http)]
        over: Over,
        /// Sends per second, all senders together, each sender on a schedule (latency counts
        /// from the schedule); without it, each sender sends again as soon as it is answered.
        #[arg(long)]
        rate: Option<f64>,
        #[command(flatten)]
        out: Out,
    },
    /// R sockets, S senders at a fixed total rate: delivery latency, delivered ratio, duplicates.
    Fanout {
        /// Base URL(s), comma-separated; sockets and senders go round robin over them.
        #[arg(long, value_delimiter = ',', required = true)]
        url: Vec<String>,
        #[arg(long, default_value_t = 200)]
        sockets: usize,
        #[arg(long, default_value_t = 4)]
        senders: usize,
        /// Messages per second, all senders together.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Groups the sockets and senders are spread over.
        #[arg(long, default_value_t = 1)]
        groups: usize,
        #[arg(long, value_enum, default_value_t = Over::Http)]
        over: Over,
        /// Seconds to wait after the last send for deliveries still under way.
        #[arg(long, default_value_t = 5.0)]
        drain: f64,
        #[command(flatten)]
        out: Out,
    },
    /// N idle sockets: the server's RSS per socket (raise `ulimit -n` first).
    Idle {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 10_000)]
        sockets: usize,
        /// The server's process id, to read its RSS from /proc/<pid>/status.
        #[arg(long)]
        pid: Option<u32>,
        /// Users the sockets belong to, round robin (default: one per socket; each costs an
        /// Argon2 registration).
        #[arg(long)]
        users: Option<usize>,
        /// Seconds to wait after the last `ready` before reading the RSS.
        #[arg(long, default_value_t = 2.0)]
        settle: f64,
        /// Sockets being opened at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[command(flatten)]
        out: Out,
    },
    /// N clients drop, miss K messages, reconnect at once and `sync`: time until all caught up.
    Storm {
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 5_000)]
        clients: usize,
        /// Users the clients belong to, round robin (default: one per client; each costs an
        /// Argon2 registration).
        #[arg(long)]
        users: Option<usize>,
        #[arg(long, default_value_t = 1)]
        groups: usize,
        /// Messages sent to each group while its clients are away.
        #[arg(long, default_value_t = 20)]
        messages: usize,
        /// Seconds a client may take to reconnect and catch up.
        #[arg(long, default_value_t = 60.0)]
        timeout: f64,
        #[command(flatten)]
        out: Out,
    },
    /// N users connect, reload and disconnect, in groups with an observer each: what presence
    /// costs the server (CPU, Redis commands) per change, and how soon the observers hear it.
    Presence {
        #[arg(long)]
        url: String,
        /// Churning users, one socket each.
        #[arg(long, default_value_t = 1_000)]
        sockets: usize,
        /// Churners per group (each group also has one observer).
        #[arg(long, default_value_t = 10)]
        group_size: usize,
        #[arg(long, default_value_t = 2)]
        rounds: usize,
        /// Seconds each phase is held after its changes: more than the grace plus the gap.
        #[arg(long, default_value_t = 12.0)]
        hold: f64,
        /// The server's process id, to read its CPU time from /proc/<pid>/stat.
        #[arg(long)]
        pid: Option<u32>,
        /// Redis host:port, to count its commands (INFO commandstats).
        #[arg(long)]
        redis: Option<String>,
        /// Sockets opened, reloaded or closed at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        #[command(flatten)]
        out: Out,
    },
    /// What this machine allows, no server needed: synced 4 KiB writes on --dir's disk, and
    /// closed-loop WebSocket echoes and HTTP requests over loopback to bare in-process servers.
    Limits {
        /// The directory whose disk is measured (a temporary file is written there, then
        /// removed).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Length of each of the four measurements.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Closed-loop clients of the WebSocket and HTTP measurements.
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[command(flatten)]
        out: Out,
    },
}

#[derive(Args)]
struct Out {
    /// Where to write the JSON result (default: bench-<scenario>.json).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.scenario {
        Scenario::Sends {
            url,
            senders,
            groups,
            seconds,
            warmup,
            over,
            rate,
            out,
        } => {
            let cfg = SendsConfig {
                url,
                senders,
                groups,
                seconds,
                warmup,
                over,
                rate,
            };
            warn_files(senders);
            report("sends", &sends(&cfg).await?, out)
        }
        Scenario::Fanout {
            url,
            sockets,
            senders,
            rate,
            seconds,
            groups,
            over,
            drain,
            out,
        } => {
            let cfg = FanoutConfig {
                urls: url,
                sockets,
                senders,
                rate,
                seconds,
                groups,
                over,
                drain,
            };
            warn_files(sockets + senders);
            report("fanout", &fanout(&cfg).await?, out)
        }
        Scenario::Idle {
            url,
            sockets,
            pid,
            users,
            settle,
            concurrency,
            out,
        } => {
            let cfg = IdleConfig {
                url,
                sockets,
                users,
                pid,
                settle,
                concurrency,
            };
            warn_files(sockets);
            report("idle", &idle(&cfg).await?, out)
        }
        Scenario::Storm {
            url,
            clients,
            users,
            groups,
            messages,
            timeout,
            out,
        } => {
            let cfg = StormConfig {
                url,
                clients,
                users,
                groups,
                messages,
                timeout,
            };
            warn_files(clients);
            report("storm", &storm(&cfg).await?, out)
        }
        Scenario::Presence {
            url,
            sockets,
            group_size,
            rounds,
            hold,
            pid,
            redis,
            concurrency,
            out,
        } => {
            let cfg = PresenceConfig {
                url,
                sockets,
                group_size,
                rounds,
                hold,
                pid,
                redis,
                concurrency,
            };
            warn_files(sockets + sockets.div_ceil(group_size.max(1)));
            report("presence", &presence(&cfg).await?, out)
        }
        Scenario::Limits {
            dir,
            seconds,
            clients,
            out,
        } => {
            let cfg = LimitsConfig {
                dir,
                seconds,
                clients,
            };
            // Both ends of every loopback connection are in this process.
            warn_files(2 * clients);
            report("limits", &limits(&cfg).await?, out)
        }
    }
}

/// Says so up front when the sockets will not fit the open-file limit.
fn warn_files(sockets: usize) {
    if let Some(warning) = open_file_warning(sockets) {
        eprintln!("{warning}");
    }
}

/// Prints the one-line summary and writes the JSON result.
fn report(scenario: &str, summary: &impl Summary, out: Out) -> Result<()> {
    println!("{}", summary.line());
    let path = out
        .json
        .unwrap_or_else(|| PathBuf::from(format!("bench-{scenario}.json")));
    let json = serde_json::to_string_pretty(summary)?;
    std::fs::write(&path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
