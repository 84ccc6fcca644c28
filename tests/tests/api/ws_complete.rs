//! Events are complete — the check Zulip runs on every event type: a client that took a
//! snapshot (`GET /groups`, members, messages) and then applied every event its socket got
//! holds exactly what a fresh snapshot returns, after any seeded random sequence of actions
//! (send, edit, delete, rename, add/remove member, role change, read, create/delete group,
//! react and unreact, pin and unpin, reply with a mention) by several users over HTTP.
//!
//! What events cannot carry, the client reads as a real one would: the members and history of
//! a group it has just been added to (`group.created`, API.md: "its history is read over
//! HTTP"), and its own read marker, which it moves itself (its own sockets are not told). What
//! it derives, it derives as docs/api.md tells a client to: counts from the messages it holds,
//! and the excerpt a held reply shows of a message that changed.

use std::collections::BTreeMap;

use confab_tests::chat::{id, num, text};
use confab_tests::rng::Lcg;
use confab_tests::ws::kind;
use confab_tests::{Session, Store, TestServer, Ws};
use serde_json::{Value, json};

const SEEDS: [u64; 3] = [11, 22, 33];
const ACTIONS: usize = 150;
const COMPARE_EVERY: usize = 10;

/// What the client holds of one group.
#[derive(Debug, Clone)]
struct Held {
    body: Value,
    members: BTreeMap<String, String>,
    messages: BTreeMap<u64, Value>,
    last_read: u64,
}

/// A group's members and messages as HTTP shows them to `me` (`None`: not visible).
async fn read_group(
    s: &TestServer,
    me: &Session,
    g: &str,
) -> Option<(BTreeMap<String, String>, BTreeMap<u64, Value>)> {
    let r = s
        .get(&format!("/groups/{g}/members"), Some(&me.access))
        .await;
    if r.status == 404 {
        return None;
    }
    r.expect(200);
    let members = r.json["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| (text(&m["user"], "id"), text(m, "role")))
        .collect();
    let messages = s
        .all_messages(me, g)
        .await
        .into_iter()
        .map(|m| (num(&m, "seq"), m))
        .collect();
    Some((members, messages))
}

/// A fresh snapshot, in the form [`Client::view`] gives.
async fn snapshot(s: &TestServer, me: &Session) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    for body in s.groups(me).await {
        let g = id(&body);
        let (members, messages) = read_group(s, me, &g).await.expect("my group");
        let messages: Vec<&Value> = messages.values().collect();
        all.insert(
            g,
            json!({"group": body, "members": members, "messages": messages}),
        );
    }
    all
}

impl Held {
    /// Sets the excerpt every held reply to `original` shows.
    fn quote(&mut self, original: &str, excerpt: &str) {
        for m in self.messages.values_mut() {
            if m["reply_to"]["id"] == original {
                m["reply_to"]["excerpt"] = json!(excerpt);
            }
        }
    }
}

struct Client<'a> {
    s: &'a TestServer,
    me: &'a Session,
    groups: BTreeMap<String, Held>,
}

impl Client<'_> {
    async fn start<'a>(s: &'a TestServer, me: &'a Session) -> Client<'a> {
        let mut groups = BTreeMap::new();
        for body in s.groups(me).await {
            groups.insert(id(&body), Client::held(s, me, body).await);
        }
        Client { s, me, groups }
    }

    async fn held(s: &TestServer, me: &Session, body: Value) -> Held {
        let (members, messages) = read_group(s, me, &id(&body)).await.unwrap_or_default();
        let last_read = num(&body["my"], "last_read_seq");
        Held {
            body,
            members,
            messages,
            last_read,
        }
    }

    /// The client's state with every derived field computed from what it holds.
    fn view(&self) -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        for (g, h) in &self.groups {
            let mut body = h.body.clone();
            body["member_count"] = json!(h.members.len());
            body["last_seq"] = json!(h.messages.keys().max().copied().unwrap_or(0));
            let last_rev = h.messages.values().map(|m| num(m, "rev")).max();
            body["last_rev"] = json!(last_rev.unwrap_or(0));
            body["my"]["role"] = json!(h.members.get(&self.me.user_id));
            body["my"]["last_read_seq"] = json!(h.last_read);
            let unread = h
                .messages
                .values()
                .filter(|m| m["sender_id"] != self.me.user_id.as_str())
                .filter(|m| num(m, "seq") > h.last_read && m["deleted"] == false)
                .count();
            body["my"]["unread_count"] = json!(unread);
            let mentioned = h
                .messages
                .values()
                .filter(|m| m["sender_id"] != self.me.user_id.as_str())
                .filter(|m| num(m, "seq") > h.last_read && m["deleted"] == false)
                .filter(|m| {
                    m["mentions"]
                        .as_array()
                        .expect("mentions")
                        .contains(&json!(self.me.user_id))
                })
                .count();
            body["my"]["mention_count"] = json!(mentioned);
            let messages: Vec<&Value> = h.messages.values().collect();
            all.insert(
                g.clone(),
                json!({"group": body, "members": h.members, "messages": messages}),
            );
        }
        all
    }

    fn known(&mut self, f: &Value, g: &str) -> &mut Held {
        self.groups
            .get_mut(g)
            .unwrap_or_else(|| panic!("an event of a group the client does not hold: {f}"))
    }

    async fn apply(&mut self, f: &Value) {
        let mine = self.me.user_id.clone();
        match kind(f) {
            "ack" | "pong" | "typing" => {}
            "message.created" | "message.updated" => {
                let m = &f["message"];
                let h = self.known(f, &text(m, "group_id"));
                let held = h.messages.get(&num(m, "seq")).map(|m| num(m, "rev"));
                if held.is_none_or(|r| r <= num(m, "rev")) {
                    h.messages.insert(num(m, "seq"), m.clone());
                    let excerpt: String = text(m, "body").chars().take(100).collect();
                    h.quote(&id(m), &excerpt);
                }
            }
            "message.deleted" => {
                let h = self.known(f, &text(f, "group_id"));
                let m = h
                    .messages
                    .get_mut(&num(f, "seq"))
                    .unwrap_or_else(|| panic!("a delete of a message never held: {f}"));
                assert_eq!(m["id"], f["id"], "{f}");
                if num(m, "rev") < num(f, "rev") {
                    m["deleted"] = json!(true);
                    m["body"] = json!("");
                    m["edited_at"] = json!(null);
                    m["rev"] = f["rev"].clone();
                    for list in ["attachments", "reactions", "mentions"] {
                        m[list] = json!([]);
                    }
                    m["pinned"] = json!(false);
                    h.quote(&text(f, "id"), "");
                }
            }
            "group.created" => {
                let g = id(&f["group"]);
                assert!(
                    !self.groups.contains_key(&g),
                    "group.created of a held group: {f}"
                );
                let held = Client::held(self.s, self.me, f["group"].clone()).await;
                self.groups.insert(g, held);
            }
            "group.updated" => {
                let h = self.known(f, &id(&f["group"]));
                h.body = f["group"].clone();
            }
            "group.deleted" => {
                self.groups.remove(&text(f, "group_id"));
            }
            "member.joined" | "member.role_changed" => {
                let h = self.known(f, &text(f, "group_id"));
                let user = text(f, "user_id");
                if kind(f) == "member.role_changed" {
                    assert!(
                        h.members.contains_key(&user),
                        "a role change of a non-member: {f}"
                    );
                }
                h.members.insert(user, text(f, "role"));
            }
            "member.left" => {
                let g = text(f, "group_id");
                let h = self.known(f, &g);
                let user = text(f, "user_id");
                h.members.remove(&user);
                if user == mine {
                    self.groups.remove(&g);
                }
            }
            "read" => {
                self.known(f, &text(f, "group_id"));
                assert_ne!(f["user_id"], mine.as_str(), "told of its own read: {f}");
            }
            _ => panic!("unexpected frame: {f}"),
        }
    }

    /// Posts a marker message into `fence` and applies everything the socket got up to and
    /// including the marker: by then every event of the actions before has arrived.
    async fn catch_up(&mut self, ws: &mut Ws, fence: &str) {
        let marker = id(&self.s.send(self.me, fence, "fence").await);
        loop {
            let f = ws.next().await;
            self.apply(&f).await;
            if kind(&f) == "message.created" && f["message"]["id"] == marker.as_str() {
                return;
            }
        }
    }
}

/// One random action by a random user; returns what it did, for the failure log.
async fn act(
    s: &TestServer,
    rng: &mut Lcg,
    people: &[Session],
    fence: &str,
    obs: &mut Ws,
    client: &mut Client<'_>,
) -> String {
    let k = rng.below(people.len());
    let who = &people[k];
    let groups: Vec<Value> = s
        .groups(who)
        .await
        .into_iter()
        .filter(|g| id(g) != fence)
        .collect();
    let other = &people[rng.below(people.len())].user_id;
    let Some(group) = (!groups.is_empty()).then(|| rng.pick(&groups).clone()) else {
        let r = s
            .post(
                "/groups",
                Some(&who.access),
                json!({"name": "new", "member_ids": [other]}),
            )
            .await;
        return format!(
            "{} creates a group with {other}: {}",
            who.username, r.status
        );
    };
    let g = id(&group);
    let roll = rng.below(120);
    let (what, status) = match roll {
        0..=34 => {
            let r = s
                .try_send(
                    who,
                    &g,
                    json!({"body": format!("{} says {roll}", who.username)}),
                )
                .await;
            ("send", r.status)
        }
        35..=59 => {
            let (page, _) = s.history(who, &g, "limit=20").await;
            if page.is_empty() {
                return format!("{} finds nothing to change in {g}", who.username);
            }
            // Mostly one's own messages (others' edits are refused; some tries are fine).
            let own: Vec<&Value> = page
                .iter()
                .filter(|m| m["sender_id"] == who.user_id.as_str())
                .collect();
            let m = match own.is_empty() || rng.below(4) == 0 {
                true => id(rng.pick(&page)),
                false => id(rng.pick::<&Value>(&own)),
            };
            let r = if roll < 50 {
                s.try_edit(who, &m, &format!("edited {roll}")).await
            } else {
                s.delete_message(who, &m).await
            };
            (if roll < 50 { "edit" } else { "delete" }, r.status)
        }
        60..=64 => {
            let r = s
                .patch(
                    &format!("/groups/{g}"),
                    Some(&who.access),
                    json!({"name": format!("name {roll}")}),
                )
                .await;
            ("rename", r.status)
        }
        65..=85 => {
            // Aim membership changes at someone they can apply to: an outsider to add, a
            // member to remove or to give a role.
            let members: Vec<String> = s
                .members(who, &g)
                .await
                .iter()
                .map(|m| text(&m["user"], "id"))
                .collect();
            let (inside, outside): (Vec<&Session>, Vec<&Session>) =
                people.iter().partition(|p| members.contains(&p.user_id));
            let pool = if roll < 75 { &outside } else { &inside };
            let target = match pool.is_empty() {
                true => other.clone(),
                false => rng.pick(pool).user_id.clone(),
            };
            let status = match roll {
                65..=74 => {
                    let role = *rng.pick(&["member", "admin"]);
                    s.try_add_member(who, &g, &target, Some(role)).await.status
                }
                75..=81 => s.remove_member(who, &g, &target).await.status,
                _ => {
                    let role = *rng.pick(&["member", "admin", "owner"]);
                    s.set_role(who, &g, &target, role).await.status
                }
            };
            let what = ["add", "remove", "role"][usize::from(roll >= 75) + usize::from(roll >= 82)];
            return format!("{} {what} {target} in {g}: {status}", who.username);
        }
        86..=96 => {
            let last = num(&group, "last_seq");
            let seq = rng.below(last as usize + 2) as u64;
            if k == 0 {
                // The observer reads over its socket and moves its own marker.
                obs.send(json!({"type": "read", "group_id": g, "seq": seq}))
                    .await;
                obs.ping().await;
                let h = client
                    .groups
                    .get_mut(&g)
                    .expect("a group the observer is in");
                h.last_read = h.last_read.max(seq.min(last));
                ("read (socket)", 0)
            } else {
                let r = s
                    .post(
                        &format!("/groups/{g}/read"),
                        Some(&who.access),
                        json!({"seq": seq}),
                    )
                    .await;
                ("read", r.status)
            }
        }
        100..=119 => return social(s, rng, who, &g, people, roll).await,
        97 => (
            "delete group",
            s.delete(&format!("/groups/{g}"), Some(&who.access))
                .await
                .status,
        ),
        _ => {
            let r = s
                .post(
                    "/groups",
                    Some(&who.access),
                    json!({"name": "another", "member_ids": [other]}),
                )
                .await;
            ("create", r.status)
        }
    };
    format!("{} {what} in {g} (other: {other}): {status}", who.username)
}

/// A reaction or its removal, a pin or unpin, or a reply mentioning someone, by `who` in `g`
/// (aimed at one of its 20 newest messages); returns what it did.
async fn social(
    s: &TestServer,
    rng: &mut Lcg,
    who: &Session,
    g: &str,
    people: &[Session],
    roll: usize,
) -> String {
    let (page, _) = s.history(who, g, "limit=20").await;
    if page.is_empty() {
        return format!("{} finds nothing to answer in {g}", who.username);
    }
    let m = id(rng.pick(&page));
    let (what, status) = match roll {
        100..=107 => {
            let emoji = *rng.pick(&["👍", "🎉", "❤️"]);
            let on = rng.below(3) > 0;
            let status = s.react(who, &m, emoji, on).await;
            (format!("react {emoji} ({on}) to {m}"), status)
        }
        108..=112 => {
            let on = rng.below(3) > 0;
            (
                format!("pin ({on}) {m}"),
                s.pin(who, g, &m, on).await.status,
            )
        }
        _ => {
            let named = &rng.pick(people).username;
            let body = json!({"body": format!("@{named} re {roll}"), "reply_to": m});
            let status = s.try_send(who, g, body).await.status;
            (format!("reply to {m} mentioning {named}"), status)
        }
    };
    format!("{} {what} in {g}: {status}", who.username)
}

async fn a_client_applying_every_event_holds_what_a_fresh_snapshot_returns(store: Store) {
    for seed in SEEDS {
        let s = TestServer::start_with(
            store,
            &[
                "--request-burst",
                "100000",
                "--requests-per-second",
                "100000",
            ],
        )
        .await;
        let mut people = Vec::new();
        for name in ["observer", "ann", "ben", "cat"] {
            people.push(s.register(name).await);
        }
        let (obs, ann, ben, cat) = (&people[0], &people[1], &people[2], &people[3]);
        let fence = id(&s.create_group(obs, "fence", &[]).await);
        s.create_group(obs, "observer's", &[ann, ben]).await;
        s.create_group(ann, "ann's", &[obs, cat]).await;
        s.create_group(ben, "ben's", &[ann, cat]).await;
        let mut ws = s.ws(obs).await;
        let mut client = Client::start(&s, obs).await;
        let mut rng = Lcg(seed);
        let mut log = Vec::new();
        for n in 1..=ACTIONS {
            log.push(act(&s, &mut rng, &people, &fence, &mut ws, &mut client).await);
            client.catch_up(&mut ws, &fence).await;
            if n % COMPARE_EVERY == 0 || n == ACTIONS {
                let fresh = snapshot(&s, obs).await;
                let held = client.view();
                if held != fresh {
                    for g in fresh.keys().chain(held.keys()) {
                        if held.get(g) != fresh.get(g) {
                            eprintln!(
                                "group {g}\n held: {:#}\nfresh: {:#}",
                                json!(held.get(g)),
                                json!(fresh.get(g))
                            );
                        }
                    }
                    panic!(
                        "seed {seed}, after action {n}: the client's state differs; actions since the last check:\n{}",
                        log[log.len().saturating_sub(COMPARE_EVERY)..].join("\n")
                    );
                }
            }
        }
        // The sequence did reach what this test is for: changes that land.
        for (what, landed) in [
            ("react", ": 204"),
            ("pin (true)", ": 204"),
            ("reply to", ": 201"),
            (" edit ", ": 200"),
            (" delete ", ": 204"),
        ] {
            let n = log
                .iter()
                .filter(|l| l.contains(what) && l.ends_with(landed))
                .count();
            assert!(
                n >= 2,
                "seed {seed}: only {n} of {what:?} landed:\n{}",
                log.join("\n")
            );
        }
    }
}

confab_tests::store_tests!(; own_server: a_client_applying_every_event_holds_what_a_fresh_snapshot_returns);
