use confab_domain::Announcement;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{rfc3339_ms, rules};

/// A server-wide announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementBody {
    /// UUID v7: ids sort by creation time.
    pub id: Uuid,
    /// The admin who made it.
    pub sender_id: Uuid,
    pub body: String,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Announcement> for AnnouncementBody {
    fn from(a: &Announcement) -> Self {
        Self {
            id: a.id.as_uuid(),
            sender_id: a.sender_id.as_uuid(),
            body: a.body.clone(),
            created_at: rfc3339_ms(a.created_at),
        }
    }
}

/// `{announcements, has_more}`: a page of announcements, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementPageBody {
    pub announcements: Vec<AnnouncementBody>,
    /// Whether older announcements lie beyond this page.
    pub has_more: bool,
}

/// `POST /announcements`.
#[derive(Debug, Deserialize, ToSchema)]
// Through a JSON object: serde would otherwise take `["text"]` for a one-field struct. Unknown
// fields are refused by `AnnounceFields`; the attribute here says so in the document.
#[serde(
    try_from = "serde_json::Map<String, serde_json::Value>",
    deny_unknown_fields
)]
pub struct AnnounceRequest {
    // The rules of a message body.
    #[schema(schema_with = rules::body)]
    pub body: String,
}

/// The fields of [`AnnounceRequest`], read from an object only.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnnounceFields {
    body: String,
}

impl TryFrom<serde_json::Map<String, serde_json::Value>> for AnnounceRequest {
    type Error = serde_json::Error;

    fn try_from(object: serde_json::Map<String, serde_json::Value>) -> Result<Self, Self::Error> {
        let fields: AnnounceFields = serde_json::from_value(serde_json::Value::Object(object))?;
        Ok(Self { body: fields.body })
    }
}

/// `GET /announcements` query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementsQuery {
    /// Only announcements older than this one (its id), newest first.
    pub before: Option<Uuid>,
    #[param(schema_with = rules::announcements_limit)]
    pub limit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_domain::{AnnouncementId, Timestamp, UserId};

    #[test]
    fn an_announcement_has_exactly_the_api_keys() {
        let a = Announcement {
            id: AnnouncementId::new(),
            sender_id: UserId::new(),
            body: "hello".into(),
            created_at: Timestamp::from_unix_timestamp(1_800_000_000).unwrap(),
        };
        let json = serde_json::to_value(AnnouncementBody::from(&a)).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 4);
        assert_eq!(json["id"], a.id.to_string());
        assert_eq!(json["sender_id"], a.sender_id.to_string());
        assert_eq!(json["body"], "hello");
        assert_eq!(json["created_at"], "2027-01-15T08:00:00.000Z");
    }

    #[test]
    fn announce_refuses_unknown_fields_and_wrong_types() {
        assert!(serde_json::from_str::<AnnounceRequest>(r#"{"body":"x","to":"all"}"#).is_err());
        assert!(serde_json::from_str::<AnnounceRequest>(r#"{"body":1}"#).is_err());
        assert!(serde_json::from_str::<AnnounceRequest>(r#"{}"#).is_err());
        assert!(serde_json::from_str::<AnnounceRequest>(r#"["x"]"#).is_err());
        assert!(serde_json::from_str::<AnnounceRequest>(r#""x""#).is_err());
        let ok: AnnounceRequest = serde_json::from_str(r#"{"body":"x"}"#).unwrap();
        assert_eq!(ok.body, "x");
    }
}
