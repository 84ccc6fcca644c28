//! Conversation helpers: one call per step of a chat, each asserting the success status, so a
//! test reads as the story it tells. For the error cases use the raw `get`/`post`/… calls.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{Body, Resp, Session, TestServer};

/// The string at `v[key]`, owned (panics with the JSON when it is not a string).
#[track_caller]
pub fn text(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
        .to_owned()
}

/// The number at `v[key]` (panics with the JSON when it is not an unsigned integer).
#[track_caller]
pub fn num(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

/// The `id` of an object.
#[track_caller]
pub fn id(v: &Value) -> String {
    text(v, "id")
}

/// Milliseconds since the epoch of an RFC 3339 time in an answer.
#[track_caller]
pub fn millis(rfc3339: &Value) -> i128 {
    let t = rfc3339
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    let t = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not RFC 3339: {t}: {e}"));
    t.unix_timestamp_nanos() / 1_000_000
}

/// Whether `s` is RFC 3339 UTC with exactly three fractional digits: `2026-11-24T09:18:07.123Z`.
pub fn is_rfc3339_ms_utc(s: &str) -> bool {
    s.len() == 24
        && s.as_bytes()[10] == b'T'
        && s.ends_with('Z')
        && s.as_bytes()[19] == b'.'
        && time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).is_ok()
}

/// Returns once the wall clock (which the server shares, being in this process) has passed the
/// millisecond of `after`, so that whatever happens next gets a strictly later time. A
/// millisecond at most; no sleep.
pub async fn past(after: &Value) {
    let after = millis(after);
    loop {
        let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        if now > after {
            return;
        }
        tokio::task::yield_now().await;
    }
}

/// The sorted keys of a JSON object.
#[track_caller]
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<_> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

impl TestServer {
    /// `PUT /api/v1{path}` with a JSON body.
    pub async fn put_json(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(
            Method::PUT,
            &format!("/api/v1{path}"),
            token,
            Body::Json(body),
        )
        .await
    }

    /// `POST /groups` by `owner` with `members`; asserts 201 and returns the group.
    pub async fn create_group(&self, owner: &Session, name: &str, members: &[&Session]) -> Value {
        let ids: Vec<&str> = members.iter().map(|m| m.user_id.as_str()).collect();
        let r = self
            .post(
                "/groups",
                Some(&owner.access),
                json!({"name": name, "member_ids": ids}),
            )
            .await;
        r.expect(201);
        r.json.clone()
    }

    /// `POST /direct {user_id}`; returns the answer (201 new, 200 existing).
    pub async fn direct(&self, me: &Session, other: &Session) -> Resp {
        self.post(
            "/direct",
            Some(&me.access),
            json!({"user_id": other.user_id}),
        )
        .await
    }

    /// `GET /groups/{id}` as `me`; asserts 200 and returns the group.
    pub async fn group(&self, me: &Session, group: &str) -> Value {
        let r = self
            .get(&format!("/groups/{group}"), Some(&me.access))
            .await;
        r.expect(200);
        r.json.clone()
    }

    /// `GET /groups` as `me`; asserts 200 and returns the list.
    pub async fn groups(&self, me: &Session) -> Vec<Value> {
        let r = self.get("/groups", Some(&me.access)).await;
        r.expect(200);
        r.json["groups"]
            .as_array()
            .unwrap_or_else(|| panic!("no groups list: {}", r.text))
            .clone()
    }

    /// The ids of `GET /groups` as `me`, in order.
    pub async fn group_ids(&self, me: &Session) -> Vec<String> {
        self.groups(me).await.iter().map(id).collect()
    }

    /// `GET /groups/{id}/members` as `me`; asserts 200 and returns the members.
    pub async fn members(&self, me: &Session, group: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/groups/{group}/members"), Some(&me.access))
            .await;
        r.expect(200);
        r.json["members"]
            .as_array()
            .unwrap_or_else(|| panic!("no members list: {}", r.text))
            .clone()
    }

    /// The role of `user` in `group` as `me` sees the member list (`None`: not a member).
    pub async fn role_of(&self, me: &Session, group: &str, user: &Session) -> Option<String> {
        self.members(me, group)
            .await
            .iter()
            .find(|m| m["user"]["id"] == user.user_id.as_str())
            .map(|m| text(m, "role"))
    }

    /// `POST /groups/{id}/members` with an optional role; returns the answer.
    pub async fn try_add_member(
        &self,
        actor: &Session,
        group: &str,
        user_id: &str,
        role: Option<&str>,
    ) -> Resp {
        let body = match role {
            Some(role) => json!({"user_id": user_id, "role": role}),
            None => json!({"user_id": user_id}),
        };
        self.post(
            &format!("/groups/{group}/members"),
            Some(&actor.access),
            body,
        )
        .await
    }

    /// Adds `user` to `group` (asserts 201) and returns the member object.
    pub async fn add_member(
        &self,
        actor: &Session,
        group: &str,
        user: &Session,
        role: Option<&str>,
    ) -> Value {
        let r = self.try_add_member(actor, group, &user.user_id, role).await;
        r.expect(201);
        r.json.clone()
    }

    /// `PATCH /groups/{id}/members/{user_id} {role}`; returns the answer.
    pub async fn set_role(&self, actor: &Session, group: &str, user_id: &str, role: &str) -> Resp {
        self.patch(
            &format!("/groups/{group}/members/{user_id}"),
            Some(&actor.access),
            json!({"role": role}),
        )
        .await
    }

    /// `DELETE /groups/{id}/members/{user_id}`; returns the answer.
    pub async fn remove_member(&self, actor: &Session, group: &str, user_id: &str) -> Resp {
        self.delete(
            &format!("/groups/{group}/members/{user_id}"),
            Some(&actor.access),
        )
        .await
    }

    /// `POST /groups/{id}/messages` with any JSON body; returns the answer.
    pub async fn try_send(&self, me: &Session, group: &str, body: Value) -> Resp {
        self.post(&format!("/groups/{group}/messages"), Some(&me.access), body)
            .await
    }

    /// Sends `text` to `group` (asserts 201) and returns the message.
    pub async fn send(&self, me: &Session, group: &str, text: &str) -> Value {
        let r = self.try_send(me, group, json!({"body": text})).await;
        r.expect(201);
        r.json.clone()
    }

    /// `PATCH /messages/{id} {body}`; returns the answer.
    pub async fn try_edit(&self, me: &Session, message: &str, text: &str) -> Resp {
        self.patch(
            &format!("/messages/{message}"),
            Some(&me.access),
            json!({"body": text}),
        )
        .await
    }

    /// Edits a message (asserts 200) and returns it.
    pub async fn edit(&self, me: &Session, message: &str, text: &str) -> Value {
        let r = self.try_edit(me, message, text).await;
        r.expect(200);
        r.json.clone()
    }

    /// `DELETE /messages/{id}`; returns the answer.
    pub async fn delete_message(&self, me: &Session, message: &str) -> Resp {
        self.delete(&format!("/messages/{message}"), Some(&me.access))
            .await
    }

    /// `PUT` (`on`) or `DELETE /messages/{id}/reactions/{emoji}`, the emoji percent-encoded;
    /// returns the status.
    pub async fn react(&self, who: &Session, message: &str, emoji: &str, on: bool) -> u16 {
        let method = if on { Method::PUT } else { Method::DELETE };
        let path = format!(
            "/api/v1/messages/{message}/reactions/{}",
            crate::files::query_escape(emoji)
        );
        self.call(method, &path, Some(&who.access), Body::None)
            .await
            .status
    }

    /// `PUT` (`on`) or `DELETE /groups/{id}/pins/{message_id}`; returns the answer.
    pub async fn pin(&self, who: &Session, group: &str, message: &str, on: bool) -> Resp {
        let method = if on { Method::PUT } else { Method::DELETE };
        let path = format!("/api/v1/groups/{group}/pins/{message}");
        self.call(method, &path, Some(&who.access), Body::None)
            .await
    }

    /// `GET /groups/{id}/messages?{query}` (asserts 200) → `(messages, has_more)`.
    pub async fn history(&self, me: &Session, group: &str, query: &str) -> (Vec<Value>, bool) {
        let r = self
            .get(
                &format!("/groups/{group}/messages?{query}"),
                Some(&me.access),
            )
            .await;
        r.expect(200);
        let messages = r.json["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("no messages list: {}", r.text))
            .clone();
        let has_more = r.json["has_more"]
            .as_bool()
            .unwrap_or_else(|| panic!("no has_more: {}", r.text));
        (messages, has_more)
    }

    /// Every message of `group`, oldest first, walking `after` pages of 100.
    pub async fn all_messages(&self, me: &Session, group: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (page, has_more) = self
                .history(me, group, &format!("after={after}&limit=100"))
                .await;
            if let Some(last) = page.last() {
                after = num(last, "seq");
            }
            all.extend(page);
            if !has_more {
                return all;
            }
        }
    }

    /// `POST /groups/{id}/read {seq}`; asserts 204.
    pub async fn read(&self, me: &Session, group: &str, seq: u64) {
        self.post(
            &format!("/groups/{group}/read"),
            Some(&me.access),
            json!({"seq": seq}),
        )
        .await
        .expect(204);
    }

    /// `my` of `group` as `me` sees it.
    pub async fn my(&self, me: &Session, group: &str) -> Value {
        self.group(me, group).await["my"].clone()
    }

    /// `GET /search/messages?{query}` (asserts 200) → the messages.
    pub async fn search(&self, me: &Session, query: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/search/messages?{query}"), Some(&me.access))
            .await;
        r.expect(200);
        r.json["messages"]
            .as_array()
            .unwrap_or_else(|| panic!("no messages list: {}", r.text))
            .clone()
    }

    /// The bodies of a search, best match first.
    pub async fn search_bodies(&self, me: &Session, query: &str) -> Vec<String> {
        self.search(me, query)
            .await
            .iter()
            .map(|m| text(m, "body"))
            .collect()
    }
}
