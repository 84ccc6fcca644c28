//! The rules of reports: the reason reads like a message body, statuses and decisions parse
//! by name (a decision never reopens), a report names exactly one target, admins moderate.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

#[test]
fn a_reason_is_trimmed_and_keeps_inner_line_breaks() {
    let r = ReportReason::parse("  spam\n\tagain \n").unwrap();
    assert_eq!(r.as_str(), "spam\n\tagain");
}

#[test]
fn empty_invisible_long_and_control_reasons_are_refused_naming_the_reason() {
    for bad in [
        String::new(),
        "   ".into(),
        "\n\t".into(),
        "\u{200B}\u{3164}".into(),
        "a\0b".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[31m".into(),
        "x".repeat(ReportReason::MAX + 1),
        "é".repeat(ReportReason::MAX + 1),
    ] {
        assert_eq!(
            ReportReason::parse(&bad).unwrap_err().field,
            "reason",
            "{bad:?}"
        );
    }
    assert!(ReportReason::parse(&"x".repeat(ReportReason::MAX)).is_ok());
    // Characters, not bytes: 1000 two-byte characters are fine.
    assert!(ReportReason::parse(&"é".repeat(ReportReason::MAX)).is_ok());
    assert!(ReportReason::parse(&format!("  {}  ", "x".repeat(ReportReason::MAX))).is_ok());
}

#[test]
fn statuses_round_trip_by_name_and_unknown_ones_name_the_status() {
    for s in ReportStatus::ALL {
        assert_eq!(ReportStatus::parse(s.as_str()), Ok(s));
    }
    for bad in ["", "Open", "closed", " open", "all"] {
        assert_eq!(
            ReportStatus::parse(bad).unwrap_err().field,
            "status",
            "{bad:?}"
        );
    }
}

#[test]
fn a_decision_is_resolved_or_dismissed_and_never_open() {
    assert_eq!(
        ReportDecision::parse("resolved").unwrap().status(),
        ReportStatus::Resolved
    );
    assert_eq!(
        ReportDecision::parse("dismissed").unwrap().status(),
        ReportStatus::Dismissed
    );
    for bad in ["open", "", "Resolved", "closed"] {
        assert_eq!(
            ReportDecision::parse(bad).unwrap_err().field,
            "status",
            "{bad:?}"
        );
    }
}

#[test]
fn a_report_names_exactly_one_target() {
    let (m, u) = (MessageId::new(), UserId::new());
    assert_eq!(
        ReportTarget::of(Some(m), None),
        Ok(ReportTarget::Message(m))
    );
    assert_eq!(ReportTarget::of(None, Some(u)), Ok(ReportTarget::User(u)));
    assert_eq!(
        ReportTarget::of(Some(m), Some(u)).unwrap_err().field,
        "message_id"
    );
    assert_eq!(
        ReportTarget::of(None, None).unwrap_err().field,
        "message_id"
    );
}

#[test]
fn only_admins_moderate() {
    assert_eq!(may_moderate(true), Ok(()));
    assert!(matches!(may_moderate(false), Err(Refusal::Forbidden(_))));
}

proptest! {
    /// A reason that parses is the trimmed input, within the limit, free of refused controls.
    #[test]
    fn a_parsed_reason_is_trimmed_bounded_and_clean(raw in "\\PC{0,1100}|[\\t\\n a-z\\u{0}-\\u{1f}]{0,40}") {
        if let Ok(r) = ReportReason::parse(&raw) {
            prop_assert_eq!(r.as_str(), raw.trim());
            prop_assert!(r.as_str().chars().count() <= ReportReason::MAX);
            prop_assert!(!r.as_str().chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')));
        }
    }
}
