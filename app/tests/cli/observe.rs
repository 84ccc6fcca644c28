//! What an operator watches, through the binary's text log: the failed-login line and the
//! fail2ban pattern docs/operations.md gives for it, the log-mailer warning, and
//! `--metrics-listen`'s start-up refusals.

use crate::h::{
    ANY, Server, assert_one_error_line, dir, migrated_dir, post_json, run, run_env, text,
};

/// The `failregex` of the fail2ban filter in docs/operations.md, as fail2ban applies it: after
/// cutting the date the `datepattern` finds, with `<HOST>` standing for an address.
fn documented_failregex() -> regex::Regex {
    let docs = include_str!("../../../docs/operations.md");
    let filter = docs
        .split("# /etc/fail2ban/filter.d/confab.conf")
        .nth(1)
        .expect("docs/operations.md has the fail2ban filter");
    let failregex = filter
        .lines()
        .find_map(|l| l.strip_prefix("failregex = "))
        .expect("the filter has a failregex");
    assert!(failregex.contains("<HOST>"), "{failregex}");
    let pattern = failregex.replace("<HOST>", r"(?P<host>[0-9A-Fa-f:.]+)");
    regex::Regex::new(&pattern).expect("the documented failregex compiles")
}

/// The date at the start of a text log line, which fail2ban's `datepattern` cuts off first.
fn without_date(line: &str) -> &str {
    let date = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z").expect("date pattern");
    match date.find(line) {
        Some(m) => &line[m.end()..],
        None => line,
    }
}

/// The addresses fail2ban would count in `log`.
fn banned_hosts(log: &str) -> Vec<String> {
    let failregex = documented_failregex();
    log.lines()
        .filter_map(|line| failregex.captures(without_date(line)))
        .map(|c| c["host"].to_owned())
        .collect()
}

#[test]
fn a_failed_login_is_logged_in_the_form_the_fail2ban_filter_matches() {
    let d = dir();
    let server = Server::start(d.path(), &[]);
    let bad = post_json(
        server.port,
        "/api/v1/auth/login",
        r#"{"login":"mallory","password":"not the password"}"#,
    );
    assert_eq!(bad.status, 401, "{bad:?}");
    // A login made to look like another address, a line break, and far too long.
    let forged = format!(
        r#"{{"login":"x login failed client=6.6.6.6 login=\"\n  WARN confab_http::routes::auth: login failed client=6.6.6.6 login=\"{}","password":"secret-password-9"}}"#,
        "a".repeat(10_000)
    );
    let forged = post_json(server.port, "/api/v1/auth/login", &forged);
    assert_eq!(forged.status, 401, "{forged:?}");
    let log = server.stop();

    assert_eq!(banned_hosts(&log), ["127.0.0.1", "127.0.0.1"], "{log}");
    let failed: Vec<&str> = log.lines().filter(|l| l.contains("login failed")).collect();
    assert_eq!(failed.len(), 2, "{log}");
    assert!(failed[0].contains(r#"login="mallory""#), "{}", failed[0]);
    assert!(failed[0].contains("invalid_credentials"), "{}", failed[0]);
    // The crafted login stays inside its quotes, cut short; no password is ever logged.
    assert!(failed[1].len() < 400, "not cut: {}", failed[1]);
    assert!(!log.contains("not the password") && !log.contains("secret-password-9"));
}

#[test]
fn the_failregex_matches_only_the_failed_login_line() {
    let lines = "\
2026-12-03T14:19:09.447863Z  WARN confab_http::routes::auth: login failed client=203.0.113.7 login=\"alice\" reason=\"invalid_credentials\"
2026-12-03T14:19:09.447863Z  WARN confab_http::routes::auth: login failed client=2001:db8::1 login=\"bob\" reason=\"rate_limited\"
2026-12-03T14:19:09.448331Z  INFO confab::access: request method=POST route=\"/api/v1/auth/login\" status=401 duration_ms=39.701 request_id=\"x\"
2026-12-03T14:19:09.447863Z  INFO other: note text=\"WARN confab_http::routes::auth: login failed client=6.6.6.6 login=\"
";
    assert_eq!(banned_hosts(lines), ["203.0.113.7", "2001:db8::1"]);
}

#[test]
fn the_server_warns_at_start_when_codes_go_to_the_log() {
    let d = dir();
    let log = Server::start(d.path(), &[]).stop();
    let warning: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("no --smtp-host"))
        .collect();
    assert_eq!(warning.len(), 1, "{log}");
    assert!(warning[0].contains("WARN"), "{}", warning[0]);
    assert!(warning[0].contains("one-time codes"), "{}", warning[0]);

    // With a relay, no such warning (nothing is sent at start).
    let d = dir();
    let log = Server::start(d.path(), &["--smtp-host", "127.0.0.1"]).stop();
    assert!(!log.contains("no --smtp-host"), "{log}");
}

#[test]
fn admin_commands_do_not_warn_about_the_log_mailer() {
    let d = migrated_dir();
    let out = run_env(
        d.path(),
        ["user", "create", "erin", "--password", "correct horse"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(!crate::h::stderr(&out).contains("smtp"), "{}", text(&out));
}

#[test]
fn a_bad_metrics_listen_address_stops_the_start_with_one_line() {
    for bad in [
        "nonsense",
        "127.0.0.1:99999",
        "",
        "127.0.0.1:80\n\u{1b}[31m",
    ] {
        let d = migrated_dir();
        let out = run(d.path(), ["--listen", ANY, "--metrics-listen", bad]);
        assert_one_error_line(&out, &["--metrics-listen"]);
    }
}

#[test]
fn a_taken_metrics_listen_address_stops_the_start_with_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let d = migrated_dir();
    let out = run(d.path(), ["--listen", ANY, "--metrics-listen", &addr]);
    let line = assert_one_error_line(&out, &["--metrics-listen", &addr]);
    assert!(line.to_lowercase().contains("in use"), "{line}");
}
