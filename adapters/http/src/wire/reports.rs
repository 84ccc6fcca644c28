use confab_domain::Report;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{rfc3339_ms, rules};

/// A report of a message or a user, as admins see it (and as its reporter gets it back).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportBody {
    /// UUID v7: ids sort by creation time.
    pub id: Uuid,
    pub reporter_id: Uuid,
    /// The reported message; `null` for a user report, and once the message's group is
    /// deleted (`message_body` keeps its text).
    #[schema(required = true)]
    pub message_id: Option<Uuid>,
    /// The reported user: for a message report, the message's sender.
    pub user_id: Uuid,
    pub reason: String,
    #[schema(schema_with = rules::report_status)]
    pub status: String,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The reported message's body when it was reported, whatever became of the message
    /// since; `null` for a user report.
    #[schema(required = true)]
    pub message_body: Option<String>,
}

impl From<&Report> for ReportBody {
    fn from(r: &Report) -> Self {
        Self {
            id: r.id.as_uuid(),
            reporter_id: r.reporter_id.as_uuid(),
            message_id: r.message_id.map(|m| m.as_uuid()),
            user_id: r.user_id.as_uuid(),
            reason: r.reason.clone(),
            status: r.status.as_str().to_owned(),
            created_at: rfc3339_ms(r.created_at),
            message_body: r.message_body.clone(),
        }
    }
}

/// `{reports, has_more}`: a page of reports, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportPageBody {
    pub reports: Vec<ReportBody>,
    /// Whether older reports (of the status asked for) lie beyond this page.
    pub has_more: bool,
}

/// `POST /reports`: exactly one of `message_id` and `user_id` (both, or neither, is 422 with
/// `field: "message_id"`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    /// A message of one of the caller's groups (not their own, not deleted).
    #[serde(default)]
    pub message_id: Option<Uuid>,
    /// Another user.
    #[serde(default)]
    pub user_id: Option<Uuid>,
    #[schema(schema_with = rules::report_reason)]
    pub reason: String,
}

/// `PATCH /reports/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideReportRequest {
    #[schema(schema_with = rules::report_decision)]
    pub status: String,
}

/// `GET /reports` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    /// Only reports of this status (all when absent).
    #[param(schema_with = rules::report_status)]
    pub status: Option<String>,
    /// Only reports older than this one (its id), newest first.
    pub before: Option<Uuid>,
    #[param(schema_with = rules::reports_limit)]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{MessageId, ReportId, ReportStatus, Timestamp, UserId};

    fn report(message: Option<MessageId>) -> Report {
        Report {
            id: ReportId::new(),
            reporter_id: UserId::new(),
            message_id: message,
            user_id: UserId::new(),
            reason: "spam".into(),
            status: ReportStatus::Dismissed,
            created_at: Timestamp::from_unix_timestamp(1_800_000_000).unwrap(),
            message_body: message.map(|_| "buy now".into()),
        }
    }

    #[test]
    fn a_report_has_exactly_the_api_keys_with_null_when_unset() {
        let r = report(Some(MessageId::new()));
        let json = serde_json::to_value(ReportBody::from(&r)).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 8);
        assert_eq!(json["id"], r.id.to_string());
        assert_eq!(json["reporter_id"], r.reporter_id.to_string());
        assert_eq!(json["message_id"], r.message_id.unwrap().to_string());
        assert_eq!(json["user_id"], r.user_id.to_string());
        assert_eq!(
            (&json["reason"], &json["status"]),
            (&"spam".into(), &"dismissed".into())
        );
        assert_eq!(json["created_at"], "2027-01-15T08:00:00.000Z");
        assert_eq!(json["message_body"], "buy now");
        let json = serde_json::to_value(ReportBody::from(&report(None))).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 8);
        assert!(json["message_id"].is_null() && json["message_body"].is_null());
    }

    #[test]
    fn requests_refuse_unknown_fields_and_wrong_types() {
        for bad in [
            r#"{"reason":"x","note":1}"#,
            r#"{"reason":1}"#,
            r#"{"message_id":"not-a-uuid","reason":"x"}"#,
            r#"{"user_id":42,"reason":"x"}"#,
            r#"{}"#,
        ] {
            assert!(serde_json::from_str::<ReportRequest>(bad).is_err(), "{bad}");
        }
        let ok: ReportRequest =
            serde_json::from_str(r#"{"message_id":null,"reason":"x"}"#).unwrap();
        assert!(ok.message_id.is_none() && ok.user_id.is_none());
        assert!(serde_json::from_str::<DecideReportRequest>(r#"{"status":1}"#).is_err());
        assert!(serde_json::from_str::<DecideReportRequest>(r#"{"status":"open","x":1}"#).is_err());
    }
}
