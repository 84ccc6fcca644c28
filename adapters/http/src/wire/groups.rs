use confab_domain::UserId;
use confab_domain::presence::Seen;
use confab_ports::service::DirectWith;
use confab_ports::store::{GroupView, Member};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{UserBody, rfc3339_ms, rules};
use crate::error::ApiError;

/// A group as the caller sees it. Every key is always present; unset values are `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupBody {
    pub id: Uuid,
    #[schema(schema_with = rules::group_kind)]
    pub kind: &'static str,
    /// `null` for direct chats.
    #[schema(required = true)]
    pub name: Option<String>,
    pub created_by: Uuid,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When a room made by matching expires.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
    /// When a direct chat was closed (it stays readable; writes get 410).
    #[schema(required = true, format = DateTime)]
    pub closed_at: Option<String>,
    pub member_count: u64,
    /// Seq of the newest message (0 when none).
    pub last_seq: u64,
    /// The group's latest change to its messages (0 when none).
    pub last_rev: u64,
    /// The caller's own standing in the group.
    pub my: MyBody,
}

/// The caller's own standing in a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyBody {
    #[schema(schema_with = rules::role_in_group)]
    pub role: &'static str,
    /// The caller's own name for the group.
    #[schema(required = true)]
    pub alias: Option<String>,
    pub last_read_seq: u64,
    /// Messages of others with seq > `last_read_seq` that are not deleted.
    pub unread_count: u64,
    /// Of those, the ones that mention the caller (`@username`).
    pub mention_count: u64,
}

impl From<&GroupView> for GroupBody {
    fn from(v: &GroupView) -> Self {
        let g = &v.group;
        Self {
            id: g.id.as_uuid(),
            kind: g.kind.as_str(),
            name: g.name.as_ref().map(|n| n.as_str().to_owned()),
            created_by: g.created_by.as_uuid(),
            created_at: rfc3339_ms(g.created_at),
            expires_at: g.expires_at.map(rfc3339_ms),
            closed_at: g.closed_at.map(rfc3339_ms),
            member_count: v.member_count,
            last_seq: g.last_seq,
            last_rev: g.last_rev,
            my: MyBody {
                role: v.my.role.as_str(),
                alias: v.my.alias.as_ref().map(|a| a.as_str().to_owned()),
                last_read_seq: v.my.last_read_seq,
                unread_count: v.my.unread_count,
                mention_count: v.my.mention_count,
            },
        }
    }
}

/// `{groups: [...]}`, most recent activity first.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupsBody {
    pub groups: Vec<GroupBody>,
}

/// A member of a group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberBody {
    /// The public user (no email).
    pub user: UserBody,
    #[schema(schema_with = rules::role_in_group)]
    pub role: &'static str,
    /// RFC 3339, UTC, milliseconds.
    #[schema(format = DateTime)]
    pub joined_at: String,
    /// The highest seq this member has read (0 when none): what "seen by" shows on opening.
    #[schema(minimum = 0)]
    pub last_read_seq: u64,
}

impl MemberBody {
    /// A member, with their presence (members see each other's).
    pub fn new(m: &Member, seen: Seen) -> Self {
        Self {
            user: UserBody::new(&m.user, seen),
            role: m.role.as_str(),
            joined_at: rfc3339_ms(m.joined_at),
            last_read_seq: m.last_read_seq,
        }
    }
}

/// `{members: [...]}`, longest-standing first.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembersBody {
    pub members: Vec<MemberBody>,
}

/// `POST /groups`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    #[schema(schema_with = rules::group_name)]
    pub name: String,
    #[schema(schema_with = rules::member_ids_or_null)]
    pub member_ids: Option<Vec<Uuid>>,
}

impl CreateGroupRequest {
    /// The initial members as user ids.
    pub fn member_ids(&self) -> Vec<UserId> {
        self.member_ids
            .iter()
            .flatten()
            .copied()
            .map(UserId::from_uuid)
            .collect()
    }
}

/// `PATCH /groups/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameGroupRequest {
    #[schema(schema_with = rules::group_name)]
    pub name: String,
}

/// `PUT /groups/{id}/alias`: the key is required; `null` clears the alias.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasRequest {
    #[serde(deserialize_with = "required_nullable")]
    #[schema(required = true, schema_with = rules::alias_or_null)]
    pub alias: Option<String>,
}

/// A field that must be present but may be `null`. With `deserialize_with` and no
/// `#[serde(default)]`, serde reports a missing key as an error instead of reading `None`.
fn required_nullable<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d)
}

/// `POST /direct`: exactly one of `user_id` or `username` (a `null` counts as absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectRequest {
    pub user_id: Option<Uuid>,
    #[schema(schema_with = rules::username_or_null)]
    pub username: Option<String>,
}

impl TryFrom<DirectRequest> for DirectWith {
    type Error = ApiError;

    fn try_from(req: DirectRequest) -> Result<Self, ApiError> {
        match (req.user_id, req.username) {
            (Some(id), None) => Ok(DirectWith::Id(UserId::from_uuid(id))),
            (None, Some(username)) => Ok(DirectWith::Username(username)),
            (Some(_), Some(_)) => Err(ApiError::bad_request(
                "give either user_id or username, not both",
            )),
            (None, None) => Err(ApiError::bad_request("give user_id or username")),
        }
    }
}

/// `POST /groups/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    pub user_id: Uuid,
    #[schema(schema_with = rules::joining_role_or_null)]
    pub role: Option<String>,
}

/// `PATCH /groups/{id}/members/{user_id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    #[schema(schema_with = rules::group_role)]
    pub role: String,
}

/// `POST /groups/{id}/read`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    #[schema(schema_with = rules::read_seq)]
    pub seq: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use confab_domain::{
        Alias, Group, GroupId, GroupKind, GroupName, Role, Timestamp, User, Username,
    };
    use confab_ports::store::MyMembership;

    fn direct(json: &str) -> Result<DirectWith, ApiError> {
        serde_json::from_str::<DirectRequest>(json)
            .expect("well-formed")
            .try_into()
    }

    #[test]
    fn direct_takes_exactly_one_of_user_id_or_username() {
        let id = Uuid::now_v7();
        assert!(matches!(
            direct(&format!(r#"{{"user_id":"{id}"}}"#)),
            Ok(DirectWith::Id(got)) if got.as_uuid() == id
        ));
        assert!(matches!(
            direct(r#"{"username":"bob"}"#),
            Ok(DirectWith::Username(u)) if u == "bob"
        ));
        assert!(matches!(
            direct(r#"{"user_id":null,"username":"bob"}"#),
            Ok(DirectWith::Username(_))
        ));
        for both_or_neither in [
            format!(r#"{{"user_id":"{id}","username":"bob"}}"#),
            "{}".to_owned(),
            r#"{"user_id":null}"#.to_owned(),
        ] {
            let err = direct(&both_or_neither).expect_err(&both_or_neither);
            assert_eq!(err.status, StatusCode::BAD_REQUEST);
            assert_eq!(err.code, "bad_request");
        }
    }

    #[test]
    fn direct_refuses_unknown_fields_and_non_uuid_ids() {
        assert!(serde_json::from_str::<DirectRequest>(r#"{"user":"bob"}"#).is_err());
        assert!(serde_json::from_str::<DirectRequest>(r#"{"user_id":"bob"}"#).is_err());
    }

    #[test]
    fn alias_key_is_required_and_null_clears() {
        let set: AliasRequest = serde_json::from_str(r#"{"alias":"work"}"#).unwrap();
        assert_eq!(set.alias.as_deref(), Some("work"));
        let clear: AliasRequest = serde_json::from_str(r#"{"alias":null}"#).unwrap();
        assert_eq!(clear.alias, None);
        let missing = serde_json::from_str::<AliasRequest>("{}").unwrap_err();
        assert!(
            missing.to_string().contains("missing field `alias`"),
            "{missing}"
        );
        assert!(serde_json::from_str::<AliasRequest>(r#"{"alias":1}"#).is_err());
        assert!(serde_json::from_str::<AliasRequest>(r#"{"alias":null,"x":1}"#).is_err());
    }

    #[test]
    fn create_group_member_ids_are_optional_uuids() {
        let req: CreateGroupRequest = serde_json::from_str(r#"{"name":"team"}"#).unwrap();
        assert!(req.member_ids().is_empty());
        let id = Uuid::now_v7();
        let req: CreateGroupRequest =
            serde_json::from_str(&format!(r#"{{"name":"team","member_ids":["{id}"]}}"#)).unwrap();
        assert_eq!(req.member_ids(), vec![UserId::from_uuid(id)]);
        assert!(
            serde_json::from_str::<CreateGroupRequest>(r#"{"name":"t","member_ids":["nope"]}"#)
                .is_err()
        );
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_timestamp(secs).unwrap()
    }

    #[test]
    fn a_group_has_every_key_with_null_when_unset() {
        let view = GroupView {
            group: Group {
                id: GroupId::new(),
                kind: GroupKind::Direct,
                name: None,
                created_by: UserId::new(),
                created_at: at(1_800_000_000),
                expires_at: None,
                closed_at: None,
                last_seq: 0,
                last_rev: 0,
            },
            member_count: 2,
            my: MyMembership {
                role: Role::Member,
                alias: None,
                last_read_seq: 0,
                unread_count: 0,
                mention_count: 0,
            },
        };
        let json = serde_json::to_value(GroupBody::from(&view)).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "closed_at",
                "created_at",
                "created_by",
                "expires_at",
                "id",
                "kind",
                "last_rev",
                "last_seq",
                "member_count",
                "my",
                "name"
            ]
        );
        assert_eq!(json["kind"], "direct");
        assert!(json["name"].is_null() && json["expires_at"].is_null());
        assert!(json["closed_at"].is_null() && json["my"]["alias"].is_null());
        assert_eq!(json["created_at"], "2027-01-15T08:00:00.000Z");
        assert_eq!(
            json["my"],
            serde_json::json!({"role": "member", "alias": null, "last_read_seq": 0, "unread_count": 0, "mention_count": 0})
        );

        let named = GroupView {
            group: Group {
                kind: GroupKind::Group,
                name: Some(GroupName::from_trusted("team".into())),
                closed_at: Some(at(1_800_000_001)),
                ..view.group.clone()
            },
            my: MyMembership {
                role: Role::Owner,
                alias: Some(Alias::from_trusted("mine".into())),
                ..view.my.clone()
            },
            ..view
        };
        let json = serde_json::to_value(GroupBody::from(&named)).unwrap();
        assert_eq!(json["name"], "team");
        assert_eq!(json["closed_at"], "2027-01-15T08:00:01.000Z");
        assert_eq!(json["my"]["role"], "owner");
        assert_eq!(json["my"]["alias"], "mine");
    }

    #[test]
    fn a_member_carries_the_public_user_without_email() {
        let user = User {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            display_name: None,
            email: Some(confab_domain::Email::parse("a@example.com").unwrap()),
            country: None,
            is_admin: false,
            two_factor: false,
            created_at: at(1_800_000_000),
            banned: false,
            last_seen_at: None,
        };
        let member = Member {
            user,
            role: Role::Admin,
            joined_at: at(1_800_000_000),
            last_read_seq: 7,
        };
        let seen = Seen {
            online: false,
            last_seen_at: Some(at(1_800_000_002)),
        };
        let json = serde_json::to_value(MemberBody::new(&member, seen)).unwrap();
        assert_eq!(json["role"], "admin");
        assert_eq!(json["user"]["username"], "alice");
        assert!(json["user"].get("email").is_none());
        assert_eq!(json["joined_at"], "2027-01-15T08:00:00.000Z");
        assert_eq!(json["last_read_seq"], 7);
        assert_eq!(json["user"]["online"], false);
        assert_eq!(json["user"]["last_seen_at"], "2027-01-15T08:00:02.000Z");
    }
}
