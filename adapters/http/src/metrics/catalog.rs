//! Every metric the server exports, named once here with its HELP text: the adapters count under
//! these names (they cannot depend on this crate, so they spell them out), and this list is
//! what gives each one its `# HELP` line. A metric counted anywhere but missing here would be
//! exported without help; the test suite checks every `# TYPE` has its `# HELP`.
//!
//! It must never record a value other than the zeros that make unlabelled series visible.

/// Counters with no labels: shown (at zero) from the start so dashboards and alerts can rely
/// on them.
const COUNTERS: &[(&str, &str)] = &[
    (
        "confab_bus_events_published_total",
        "Events this instance published.",
    ),
    (
        "confab_bus_events_received_total",
        "Events this instance's hub received (from other instances, over Redis).",
    ),
    (
        "confab_bus_events_dropped_total",
        "Events dropped: a full subscriber queue, or a failed or full publish to Redis.",
    ),
    (
        "confab_bus_undecodable_total",
        "Messages on the Redis channel this instance could not decode (skipped).",
    ),
    (
        "confab_store_commits_total",
        "Transactions the store committed for writes (SQLite: one per group commit, however many writes it holds).",
    ),
    (
        "confab_http_connections_refused_total",
        "Connections refused over a cap (reason: address = --max-connections-per-address, full = --max-connections).",
    ),
    (
        "confab_http_connections_idle_closed_total",
        "HTTP connections closed after --idle-timeout with no request in flight.",
    ),
    (
        "confab_attachment_bytes_stored_total",
        "Bytes of attachments this instance accepted and stored (uploads answered 201).",
    ),
    (
        "confab_attachment_bytes_served_total",
        "Bytes of attachments this instance sent in downloads (ranges counted as sent).",
    ),
    (
        "confab_bus_rechecks_total",
        "Times every socket re-checked its groups against the database after a possible loss on the bus.",
    ),
    (
        "confab_ws_events_fanned_out_total",
        "Events handed to local WebSockets (one per recipient socket).",
    ),
    (
        "confab_ws_outbox_closes_total",
        "WebSockets closed (1013) because their client read too slowly and the outbox filled.",
    ),
    (
        "confab_ws_gap_fills_total",
        "Times a WebSocket filled a gap in its events from the database.",
    ),
];

/// Counters with labels: described only (a series appears with its first count).
const LABELLED_COUNTERS: &[(&str, &str)] = &[
    (
        "confab_http_requests_total",
        "HTTP requests answered, by method, route template and status.",
    ),
    (
        "confab_ws_frames_in_total",
        "WebSocket frames received, by type (invalid: not a frame the protocol knows).",
    ),
    (
        "confab_ws_frames_out_total",
        "WebSocket frames sent, by type.",
    ),
    (
        "confab_presence_board_calls_total",
        "Calls presence made to its board (Redis or in-process), by call.",
    ),
];

/// Gauges: shown (at zero) from the start.
const GAUGES: &[(&str, &str)] = &[
    (
        "confab_bus_heartbeat_age_seconds",
        "Seconds since this instance last heard its own heartbeat over Redis (0 without Redis).",
    ),
    (
        "confab_bus_peers_heard",
        "Other instances whose heartbeat this one hears over Redis (0 without Redis).",
    ),
    (
        "confab_http_connections_open",
        "Client connections open now, WebSockets included (refused ones not counted).",
    ),
    (
        "confab_ws_sockets_connected",
        "WebSockets connected to this instance now.",
    ),
];

/// The build's identity, as a gauge that is always 1.
pub const BUILD_INFO: &str = "confab_build_info";

/// Gives every metric its HELP line, and the unlabelled ones their zero.
pub fn describe() {
    for &(name, help) in COUNTERS {
        metrics::describe_counter!(name, help);
        metrics::counter!(name).increment(0);
    }
    for &(name, help) in LABELLED_COUNTERS {
        metrics::describe_counter!(name, help);
    }
    for &(name, help) in GAUGES {
        metrics::describe_gauge!(name, help);
        metrics::gauge!(name).set(0.0);
    }
    metrics::describe_histogram!(
        "confab_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer HTTP requests, by method and route template."
    );
    metrics::describe_gauge!(
        BUILD_INFO,
        "Always 1: the labels say which version, built from which commit, is running."
    );
}
