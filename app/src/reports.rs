//! `confab reports`: the admins' list of reports on the command line, through the same use case
//! as `GET /reports`' store (`Conversations::admin_reports`). Prints one line per report, its
//! fields separated by tabs, each field with control characters escaped: a reason or body can
//! neither split a line nor write terminal escapes. Changes nothing.

use confab_domain::ReportStatus;
use confab_ports::service::{Conversations, ReportLine};

use crate::config::{ReportsArgs, StatusFilter};
use crate::{StartError, admin, one_line};

/// Characters of the reported body a line shows.
const BODY_CHARS: usize = 80;

/// Lists the reports `args` asks for.
pub(crate) async fn run(args: ReportsArgs) -> Result<(), StartError> {
    let status = match args.status {
        StatusFilter::Open => Some(ReportStatus::Open),
        StatusFilter::Resolved => Some(ReportStatus::Resolved),
        StatusFilter::Dismissed => Some(ReportStatus::Dismissed),
        StatusFilter::All => None,
    };
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let lines = Conversations::new(admin::ports(args.store).await?)
        .admin_reports(status, limit)
        .await
        .map_err(|e| StartError(format!("cannot list the reports: {e}")))?;
    if lines.is_empty() {
        // On stderr: stdout stays one line per report, for scripts.
        let which = status.map_or(String::new(), |s| format!("{} ", s.as_str()));
        eprintln!("no {which}reports");
    }
    for line in &lines {
        println!("{}", format_line(line));
    }
    Ok(())
}

/// One report as a line: id, created_at, status, reporter, reported, message id or `-`,
/// reason, body (shortened to [`BODY_CHARS`], `-` for a user report).
fn format_line(line: &ReportLine) -> String {
    let r = &line.report;
    let name = |n: &Option<confab_domain::Username>| {
        n.as_ref().map_or("?".to_owned(), |u| u.as_str().to_owned())
    };
    let body = r.message_body.as_deref().map_or("-".to_owned(), shorten);
    [
        r.id.to_string(),
        confab_http::rfc3339_ms(r.created_at),
        r.status.as_str().to_owned(),
        name(&line.reporter),
        name(&line.reported),
        r.message_id.map_or("-".to_owned(), |m| m.to_string()),
        r.reason.clone(),
        body,
    ]
    .iter()
    .map(|field| one_line(field))
    .collect::<Vec<_>>()
    .join("\t")
}

/// The first [`BODY_CHARS`] characters of `body`, with `…` when there were more.
fn shorten(body: &str) -> String {
    let mut chars = body.chars();
    let head: String = chars.by_ref().take(BODY_CHARS).collect();
    if chars.next().is_some() {
        format!("{head}…")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{MessageId, Report, ReportId, Timestamp, UserId, Username};

    fn line(reason: &str, body: Option<&str>) -> ReportLine {
        ReportLine {
            report: Report {
                id: ReportId::new(),
                reporter_id: UserId::new(),
                message_id: body.map(|_| MessageId::new()),
                user_id: UserId::new(),
                reason: reason.into(),
                status: ReportStatus::Open,
                created_at: Timestamp::from_unix_timestamp(1_800_000_000)
                    .unwrap_or(Timestamp::UNIX_EPOCH),
                message_body: body.map(str::to_owned),
            },
            reporter: Username::parse("ada").ok(),
            reported: None,
        }
    }

    #[test]
    fn a_line_has_eight_tab_separated_fields_with_controls_escaped() {
        let printed = format_line(&line("spam\n\tfake line", Some("buy\u{1b}[31m now")));
        let fields: Vec<&str> = printed.split('\t').collect();
        assert_eq!(fields.len(), 8, "{printed:?}");
        assert_eq!(fields[1], "2027-01-15T08:00:00.000Z");
        assert_eq!(&fields[2..5], ["open", "ada", "?"]);
        assert_eq!(fields[6], "spam\\n\\tfake line");
        assert_eq!(fields[7], "buy\\u{1b}[31m now");
        assert!(!printed.contains('\n'));
    }

    #[test]
    fn a_user_report_shows_dashes_and_a_long_body_is_shortened() {
        let fields: Vec<String> = format_line(&line("rude", None))
            .split('\t')
            .map(str::to_owned)
            .collect();
        assert_eq!((fields[5].as_str(), fields[7].as_str()), ("-", "-"));
        assert_eq!(shorten(&"é".repeat(80)), "é".repeat(80));
        assert_eq!(shorten(&"é".repeat(81)), format!("{}…", "é".repeat(80)));
    }
}
