//! Replies, threads, reactions, mentions and pins in the web client (issue 17), with two users
//! in their own browsers where one acts and the other must see it live:
//!
//! - a reply: "Replying to" in the composer (Escape cancels it), the quote above the reply on
//!   both sides, the quote jumping to the original, following its edit, and saying "deleted
//!   message" once it is deleted;
//! - a thread: "N replies" opens the root and its replies in order, a reply from the other
//!   user's thread composer appears live, Escape closes it and gives the focus back;
//! - reactions: from the picker to a chip marked as mine, seen live by the other user, toggled
//!   by clicking the chip until it disappears; a 21st different emoji refused politely;
//! - mentions: `@` completion, the mention highlighted for the one named, the sidebar's "@N"
//!   (less one when a mentioning message is deleted) until the group is read;
//! - pins: the owner pins (📌 on both sides), a plain member has no pin button, the pins panel
//!   follows live, jumps to a message and unpins;
//! - axe-core on the decorated conversation, the emoji picker, the thread and the pins dialogs.
//!
//! Each step is checked on the page and, where it matters, against what the server stores.

use confab_tests::Session;
use confab_tests::browser::{Browser, BrowserServer, tid};
use serde_json::{Value, json};

use crate::NODE;
use crate::ui;

/// The selector of the message with `data-id` `id`.
fn message(id: &str) -> String {
    format!("{}[data-id=\"{id}\"]", tid("message"))
}

/// `testid` inside the message with `data-id` `id`.
fn in_message(id: &str, testid: &str) -> String {
    format!("{} {}", message(id), tid(testid))
}

/// The reaction chip of `emoji` under the message `id`.
fn chip(id: &str, emoji: &str) -> String {
    format!("{}[data-emoji=\"{emoji}\"]", in_message(id, "reaction"))
}

/// A named group "Team" made over HTTP: alice owns it, bob is a plain member.
async fn team(server: &BrowserServer) -> (Session, Session, String) {
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let group = server.create_group(&alice, "Team", &[&bob]).await;
    let id = group["id"].as_str().expect("the group's id").to_owned();
    (alice, bob, id)
}

/// `who` sends `text` over HTTP as a reply to the message `to`; returns the message.
async fn reply_over_http(
    server: &BrowserServer,
    who: &Session,
    group: &str,
    to: &str,
    text: &str,
) -> Value {
    let r = server
        .try_send(who, group, json!({"body": text, "reply_to": to}))
        .await;
    r.expect(201);
    r.json.clone()
}

/// The `id` of a message answer.
fn id_of(m: &Value) -> String {
    m["id"].as_str().expect("a message id").to_owned()
}

/// A fresh page for `username`, logged in, connected, with "Team" open.
async fn page_in_team(server: &BrowserServer, test: &str, username: &str) -> Browser {
    let page = server.browser(&format!("{test}-{username}")).await;
    ui::login(&page, username, username).await;
    ui::connected(&page).await;
    ui::open(&page, "Team").await;
    page
}

/// alice's and bob's pages, both in "Team".
async fn both_in_team(server: &BrowserServer, test: &str) -> (Browser, Browser) {
    let alice = page_in_team(server, test, "alice").await;
    let bob = page_in_team(server, test, "bob").await;
    (alice, bob)
}

/// What the chip of `emoji` under message `id` shows: `{count, pressed, title}`, or `null`
/// when there is no such chip.
async fn chip_state(page: &Browser, id: &str, emoji: &str) -> Value {
    page.js(
        r#"const c = document.querySelector(arguments[0]);
        if (!c) return null;
        const n = c.querySelector('[data-testid="reaction-count"]');
        return {count: n ? txt(n) : null, pressed: c.getAttribute("aria-pressed"),
                title: c.getAttribute("title") || ""};"#,
        vec![json!(chip(id, emoji))],
    )
    .await
}

/// Waits until the chip of `emoji` under message `id` shows `count`, pressed or not (`count`
/// 0: until there is no chip at all).
async fn wait_chip(page: &Browser, id: &str, emoji: &str, count: u32, pressed: bool) {
    page.wait_js(
        &format!("the {emoji} chip to show {count} (pressed: {pressed})"),
        r#"const c = document.querySelector(arguments[0]);
        if (arguments[1] === 0) return !c;
        const n = c && c.querySelector('[data-testid="reaction-count"]');
        return !!n && txt(n) === String(arguments[1]) &&
            c.getAttribute("aria-pressed") === String(arguments[2]);"#,
        vec![json!(chip(id, emoji)), json!(count), json!(pressed)],
    )
    .await;
}

/// The `data-seq`s of the replies in the open thread dialog, in document order.
async fn thread_seqs(page: &Browser) -> Vec<u64> {
    let css = format!("{} {}", tid("thread"), tid("thread-reply"));
    page.attrs(&css, "data-seq")
        .await
        .iter()
        .map(|s| s.parse().expect("a reply's data-seq is a number"))
        .collect()
}

/// Waits until the open thread shows exactly `bodies`, none pending.
async fn wait_thread(page: &Browser, bodies: &[&str]) {
    page.wait_js(
        &format!("the thread to show {bodies:?}"),
        r#"const rs = q('[data-testid="thread"] [data-testid="thread-reply"]');
        const got = rs.map((r) => { const b = r.querySelector('[data-testid="message-body"]');
                                    return b ? txt(b) : null; });
        return rs.every((r) => r.getAttribute("data-pending") !== "true") &&
            JSON.stringify(got) === JSON.stringify(arguments[0]);"#,
        vec![json!(bodies)],
    )
    .await;
}

/// Asserts that the focus is on an element of `testid`.
async fn assert_focus_on(page: &Browser, who: &str, testid: &str) {
    let focused = page.focused().await;
    assert_eq!(
        focused["testid"], testid,
        "{who}'s focus should be back on {testid}, it is on {focused}"
    );
}

/// The message `id` as the server now has it (by `all_messages` of `group`).
async fn stored(server: &BrowserServer, who: &Session, group: &str, id: &str) -> Value {
    server
        .all_messages(who, group)
        .await
        .into_iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("message {id} is not stored"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_quotes_its_original_on_both_sides() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice_api, bob_api, group) = team(&server).await;
    let original = id_of(&server.send(&alice_api, &group, "lunch at noon?").await);
    server.send(&alice_api, &group, "or later").await;
    let (alice, bob) = both_in_team(&server, "reply").await;
    ui::wait_message(&bob, "or later").await;

    // Reply shows the preview; Escape in the composer cancels it.
    ui::message_action(&bob, &original, "reply-message").await;
    let preview = bob.wait_text(&tid("reply-preview"), "Replying to").await;
    assert!(
        preview.contains("alice") && preview.contains("lunch at noon?"),
        "the preview names the original: {preview:?}"
    );
    let focused = bob.focused().await;
    assert!(
        focused["form"] == "composer" && focused["name"] == "body",
        "choosing Reply puts the focus in the composer, not on {focused}"
    );
    ui::escape(&bob).await;
    bob.wait_gone(&tid("reply-preview")).await;

    // Again, and send: the preview goes, the reply quotes the original on both sides.
    ui::message_action(&bob, &original, "reply-message").await;
    bob.wait_text(&tid("reply-preview"), "lunch at noon?").await;
    let reply = ui::send(&bob, "yes, noon works").await;
    bob.wait_gone(&tid("reply-preview")).await;
    let quote = in_message(&reply, "reply-quote");
    for (who, page) in [("alice", &alice), ("bob", &bob)] {
        ui::wait_message(page, "yes, noon works").await;
        let text = page.wait_text(&quote, "lunch at noon?").await;
        assert!(
            text.contains("alice"),
            "{who}'s quote names alice: {text:?}"
        );
        assert_eq!(
            page.attrs(&quote, "data-reply-id").await,
            [original.as_str()],
            "{who}'s quote points at the original"
        );
    }
    let stored_reply = stored(&server, &bob_api, &group, &reply).await;
    assert_eq!(stored_reply["reply_to"]["id"], original.as_str());

    // The quote jumps to the original and highlights it.
    alice.click(&quote).await;
    alice
        .wait_attr(&message(&original), "data-highlighted", "true")
        .await;

    // The original is edited: both quotes follow (the server sends the replies no event).
    ui::message_action(&alice, &original, "edit-message").await;
    alice
        .fill_and_submit("edit-form", &[("body", "lunch at one?")])
        .await;
    for page in [&alice, &bob] {
        page.wait_text(&quote, "lunch at one?").await;
    }

    // The original is deleted: both quotes say so, and keep pointing at it.
    ui::message_action(&alice, &original, "delete-message").await;
    for page in [&alice, &bob] {
        page.wait_attr(&message(&original), "data-deleted", "true")
            .await;
        page.wait_text(&quote, "deleted message").await;
        let text = page.texts(&quote).await.join(" ");
        assert!(!text.contains("lunch"), "the old excerpt stays: {text:?}");
    }
    let stored_reply = stored(&server, &bob_api, &group, &reply).await;
    assert_eq!(stored_reply["reply_to"]["excerpt"], "");
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_opens_from_its_reply_count_and_follows_live() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice_api, bob_api, group) = team(&server).await;
    let root = id_of(&server.send(&alice_api, &group, "plan for friday?").await);
    reply_over_http(&server, &bob_api, &group, &root, "pizza").await;
    server.send(&bob_api, &group, "unrelated aside").await;
    reply_over_http(&server, &alice_api, &group, &root, "and a film").await;
    let (alice, bob) = both_in_team(&server, "thread").await;

    // "2 replies" under the root opens the thread: the root, then its replies in order.
    let count = in_message(&root, "view-thread");
    alice.wait_text(&count, "2 replies").await;
    alice.click(&count).await;
    alice.wait_for(&tid("thread")).await;
    alice.wait_attr(&tid("thread-root"), "data-id", &root).await;
    alice
        .wait_text(&tid("thread-root"), "plan for friday?")
        .await;
    wait_thread(&alice, &["pizza", "and a film"]).await;
    let seqs = thread_seqs(&alice).await;
    assert!(seqs[0] < seqs[1], "replies out of order: {seqs:?}");

    // Bob answers from his own thread dialog: it shows in alice's, live, in order.
    bob.wait_text(&count, "2 replies").await;
    bob.click(&count).await;
    wait_thread(&bob, &["pizza", "and a film"]).await;
    let composer = bob
        .wait_for(&format!(
            "form{} textarea[name=body]",
            tid("thread-composer")
        ))
        .await;
    composer.send_keys("count me in").await.expect("typed");
    composer.send_keys("\u{e007}").await.expect("Enter pressed");
    wait_thread(&bob, &["pizza", "and a film", "count me in"]).await;
    wait_thread(&alice, &["pizza", "and a film", "count me in"]).await;
    // Under the dialog, the conversation counts it too.
    alice.wait_text(&count, "3 replies").await;

    // Escape closes the thread, and the focus goes back to what opened it.
    ui::escape(&alice).await;
    alice.wait_gone(&tid("thread")).await;
    assert_focus_on(&alice, "alice", "view-thread").await;

    // The server agrees: three replies to the root, bob's last.
    let r = server
        .get(
            &format!("/messages/{root}/replies"),
            Some(&alice_api.access),
        )
        .await;
    r.expect(200);
    let bodies: Vec<&str> = r.json["messages"]
        .as_array()
        .expect("replies")
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(bodies, ["pizza", "and a film", "count me in"]);
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

/// Twenty of the picker's emoji (not 🚀).
const FULL: [&str; 20] = [
    "👍", "👎", "😂", "😮", "😢", "😡", "🎉", "🙏", "👏", "🔥", "💯", "✅", "❌", "👀", "🤔", "😊",
    "😍", "🥳", "😅", "🙌",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reaction_from_the_picker_is_seen_live_and_toggles() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (_alice_api, bob_api, group) = team(&server).await;
    let id = id_of(&server.send(&bob_api, &group, "ship it").await);
    // A message with as many different reactions as the server allows (20).
    let full = id_of(&server.send(&bob_api, &group, "react to me").await);
    for emoji in FULL {
        assert_eq!(
            server.react(&bob_api, &full, emoji, true).await,
            204,
            "{emoji}"
        );
    }
    let (alice, bob) = both_in_team(&server, "reactions").await;
    ui::wait_message(&bob, "ship it").await;

    // Alice picks 🎉: one chip, pressed for her, not for bob, who sees it live.
    ui::message_action(&alice, &id, "add-reaction").await;
    alice.wait_for(&tid("reaction-picker")).await;
    assert_eq!(
        alice.count(&tid("pick-reaction")).await,
        24,
        "the picker's emoji"
    );
    alice
        .click(&format!("{}[data-emoji=\"🎉\"]", tid("pick-reaction")))
        .await;
    alice.wait_gone(&tid("reaction-picker")).await;
    wait_chip(&alice, &id, "🎉", 1, true).await;
    wait_chip(&bob, &id, "🎉", 1, false).await;
    let title = chip_state(&bob, &id, "🎉").await["title"].clone();
    assert_eq!(title, "alice reacted with 🎉", "the chip says who reacted");

    // Bob clicks the chip: two, pressed for both; his focus stays on the redrawn chip.
    bob.click(&chip(&id, "🎉")).await;
    wait_chip(&bob, &id, "🎉", 2, true).await;
    wait_chip(&alice, &id, "🎉", 2, true).await;
    let focused = bob.focused().await;
    assert_eq!(
        focused["testid"], "reaction",
        "bob's focus after the redraw: {focused}"
    );

    // Alice clicks hers off: one left, bob's.
    alice.click(&chip(&id, "🎉")).await;
    wait_chip(&alice, &id, "🎉", 1, false).await;
    wait_chip(&bob, &id, "🎉", 1, true).await;
    let reactions = stored(&server, &bob_api, &group, &id).await["reactions"].clone();
    assert_eq!(
        reactions,
        json!([{"emoji": "🎉", "count": 1, "user_ids": [bob_api.user_id]}])
    );

    // Bob's too: the chip is gone on both sides.
    bob.click(&chip(&id, "🎉")).await;
    wait_chip(&bob, &id, "🎉", 0, false).await;
    wait_chip(&alice, &id, "🎉", 0, false).await;
    assert_eq!(alice.count(&in_message(&id, "reactions")).await, 0);
    let reactions = stored(&server, &bob_api, &group, &id).await["reactions"].clone();
    assert_eq!(reactions, json!([]));

    // A 21st different emoji is refused: said under the messages, nothing changes.
    alice.wait_count(&in_message(&full, "reaction"), 20).await;
    ui::message_action(&alice, &full, "add-reaction").await;
    alice
        .click(&format!("{}[data-emoji=\"🚀\"]", tid("pick-reaction")))
        .await;
    alice
        .wait_text(&tid("action-status"), "Could not react")
        .await;
    assert_eq!(alice.count(&in_message(&full, "reaction")).await, 20);
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

/// The sidebar's mention badge of the conversation named `name`: `(text, the "@" drawn
/// before it)`, or `None` when it shows none.
async fn mention_badge(page: &Browser, name: &str) -> Option<(String, String)> {
    let v = page
        .js(
            r#"const c = q('[data-testid="conversation"]').find((c) => {
                const n = c.querySelector('[data-testid="conversation-name"]');
                return n && txt(n).includes(arguments[0]);
            });
            const b = c && c.querySelector('[data-testid="mention-count"]');
            return b && vis(b) ? [txt(b), getComputedStyle(b, "::before").content] : null;"#,
            vec![json!(name)],
        )
        .await;
    let pair = v.as_array()?;
    let part = |i: usize| pair[i].as_str().unwrap_or_default().to_owned();
    Some((part(0), part(1)))
}

/// Waits until the sidebar's mention badge of `name` shows `count` (`None`: no badge).
async fn wait_mention_badge(page: &Browser, name: &str, count: Option<&str>) {
    ui::eventually(
        page,
        &format!("the mention badge of {name:?} to be {count:?}"),
        async || mention_badge(page, name).await.map(|(n, _)| n).as_deref() == count,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_highlighted_and_counted_until_read() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (_alice_api, bob_api, group) = team(&server).await;
    // Bob looks at another conversation meanwhile, so Team's messages stay unread.
    server.create_group(&bob_api, "Elsewhere", &[]).await;
    let alice = page_in_team(&server, "mentions", "alice").await;
    let bob = server.browser("mentions-bob").await;
    ui::login(&bob, "bob", "bob").await;
    ui::connected(&bob).await;
    ui::open(&bob, "Elsewhere").await;

    // Alice completes "@bo" with Tab and sends; then another mention, and a message without.
    let composer = alice
        .wait_for(&format!("form{} textarea[name=body]", tid("composer")))
        .await;
    composer.send_keys("@bo").await.expect("typed");
    alice
        .wait_attr(&tid("mention-suggestion"), "data-username", "bob")
        .await;
    alice.tab().await;
    alice.wait_gone(&tid("mention-suggestions")).await;
    let value = alice
        .js(
            "return document.querySelector('form[data-testid=composer] textarea').value;",
            vec![],
        )
        .await;
    assert_eq!(value, "@bob ", "Tab takes the suggestion");
    alice.type_keys("can you review?\n").await;
    let mention = ui::wait_acked(&alice, "@bob can you review?").await;
    let slip = ui::send(&alice, "@bob wrong thread, sorry").await;
    ui::send(&alice, "no rush").await;

    // Alice sees the mention marked, not as hers.
    let span = in_message(&mention, "mention");
    alice.wait_text(&span, "@bob").await;
    let classes = alice
        .js(
            "return [document.querySelector(arguments[0]).className, \
                     document.querySelector(arguments[1]).className];",
            vec![json!(span), json!(message(&mention))],
        )
        .await;
    assert_eq!(classes[0], "at", "on alice's page the mention is not hers");
    assert!(
        !classes[1].as_str().unwrap_or_default().contains("mention"),
        "alice's own message does not mention her: {classes}"
    );

    // Bob's sidebar: three unread, two mentions, drawn as "@2".
    ui::wait_unread(&bob, "Team", Some(3)).await;
    wait_mention_badge(&bob, "Team", Some("2")).await;
    let badge = mention_badge(&bob, "Team").await;
    assert_eq!(badge, Some(("2".into(), "\"@\"".into())));

    // Alice deletes one mention before bob reads it: it counts no more, as on the server.
    ui::message_action(&alice, &slip, "delete-message").await;
    ui::wait_unread(&bob, "Team", Some(2)).await;
    wait_mention_badge(&bob, "Team", Some("1")).await;
    assert_eq!(server.my(&bob_api, &group).await["mention_count"], 1);

    // Bob opens Team: the message is marked as mentioning him, his name stronger; the badge goes.
    ui::open(&bob, "Team").await;
    bob.wait_text(&span, "@bob").await;
    bob.wait_attr(&span, "class", "at me").await;
    bob.wait_js(
        "the message to be marked as mentioning bob",
        "return document.querySelector(arguments[0]).classList.contains('mention');",
        vec![json!(message(&mention))],
    )
    .await;
    ui::wait_unread(&bob, "Team", None).await;
    wait_mention_badge(&bob, "Team", None).await;
    ui::eventually(&bob, "the server to count no mention for bob", async || {
        server.my(&bob_api, &group).await["mention_count"] == 0
    })
    .await;
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

/// Waits until the open pins dialog lists exactly `ids`, in this order.
async fn wait_pinned(page: &Browser, ids: &[&str]) {
    page.wait_js(
        &format!("the pins dialog to list {ids:?}"),
        r#"const got = q('[data-testid="pins"] [data-testid="pinned-message"]')
            .map((b) => b.getAttribute("data-id"));
        return JSON.stringify(got) === JSON.stringify(arguments[0]);"#,
        vec![json!(ids)],
    )
    .await;
}

/// The `data-id`s of the pinned messages the server lists for `group`.
async fn stored_pins(server: &BrowserServer, who: &Session, group: &str) -> Vec<String> {
    let r = server
        .get(&format!("/groups/{group}/pins"), Some(&who.access))
        .await;
    r.expect(200);
    r.json["messages"]
        .as_array()
        .expect("pins")
        .iter()
        .map(id_of)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_pins_and_unpins_and_the_panel_follows() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice_api, bob_api, group) = team(&server).await;
    let wifi = id_of(&server.send(&bob_api, &group, "the wifi is down").await);
    let guest = id_of(
        &server
            .send(&alice_api, &group, "use the guest network")
            .await,
    );
    let (alice, bob) = both_in_team(&server, "pins").await;

    // Bob, a plain member, has Reply but no Pin, on his message or hers.
    for id in [&wifi, &guest] {
        let element = bob.wait_for(&message(id)).await;
        bob.hover(&element).await;
        bob.wait_for(&in_message(id, "reply-message")).await;
    }
    let pin_buttons = format!("{}, {}", tid("pin-message"), tid("unpin-message"));
    assert_eq!(
        bob.count(&pin_buttons).await,
        0,
        "a plain member is offered Pin"
    );

    // Alice pins bob's message: the mark shows on both sides, her button turns to Unpin.
    ui::message_action(&alice, &wifi, "pin-message").await;
    for page in [&alice, &bob] {
        page.wait_for(&in_message(&wifi, "pinned-mark")).await;
    }
    alice
        .wait_present(&in_message(&wifi, "unpin-message"))
        .await;
    assert_eq!(
        bob.count(&tid("pinned-mark")).await,
        1,
        "only one message is pinned"
    );

    // Bob's pins panel lists it, without Unpin; it follows alice's next pin live, newest first.
    bob.click_tid("pins-button").await;
    wait_pinned(&bob, &[&wifi]).await;
    assert_eq!(
        bob.count(&tid("unpin-pinned")).await,
        0,
        "a plain member is offered Unpin"
    );
    ui::message_action(&alice, &guest, "pin-message").await;
    wait_pinned(&bob, &[&guest, &wifi]).await;

    // Choosing one closes the panel and highlights the message.
    bob.click(&format!("{}[data-id=\"{wifi}\"]", tid("pinned-message")))
        .await;
    bob.wait_gone(&tid("pins")).await;
    bob.wait_attr(&message(&wifi), "data-highlighted", "true")
        .await;

    // Alice unpins from her panel: gone from the list and from both pages.
    alice.click_tid("pins-button").await;
    wait_pinned(&alice, &[&guest, &wifi]).await;
    let unpin = format!(
        "{} li:has({}[data-id=\"{wifi}\"]) {}",
        tid("pins"),
        tid("pinned-message"),
        tid("unpin-pinned")
    );
    alice.click(&unpin).await;
    wait_pinned(&alice, &[&guest]).await;
    for page in [&alice, &bob] {
        page.wait_gone(&in_message(&wifi, "pinned-mark")).await;
        page.wait_for(&in_message(&guest, "pinned-mark")).await;
    }
    ui::escape(&alice).await;
    alice.wait_gone(&tid("pins")).await;
    assert_focus_on(&alice, "alice", "pins-button").await;
    assert_eq!(stored_pins(&server, &bob_api, &group).await, [guest]);
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_violation_in_the_social_dialogs() {
    let server = BrowserServer::start(NODE, &[]).await;
    let (alice_api, bob_api, group) = team(&server).await;
    // Every decoration at once: a quote, chips (one of them alice's), a mention, a pin.
    let root = id_of(
        &server
            .send(&alice_api, &group, "who brings the cake?")
            .await,
    );
    let reply = id_of(&reply_over_http(&server, &bob_api, &group, &root, "@alice I will").await);
    assert_eq!(server.react(&bob_api, &root, "👍", true).await, 204);
    assert_eq!(server.react(&alice_api, &reply, "🎉", true).await, 204);
    server
        .pin(&alice_api, &group, &root, true)
        .await
        .expect(204);
    let page = page_in_team(&server, "social-axe", "alice").await;
    page.wait_for(&in_message(&reply, "reply-quote")).await;
    page.wait_for(&in_message(&reply, "mention")).await;
    page.wait_for(&in_message(&root, "pinned-mark")).await;
    wait_chip(&page, &reply, "🎉", 1, true).await;
    page.assert_accessible("conversation-social").await;

    ui::message_action(&page, &root, "add-reaction").await;
    page.wait_for(&tid("reaction-picker")).await;
    page.wait_attr(
        &format!("{}[data-emoji=\"👍\"]", tid("pick-reaction")),
        "aria-pressed",
        "false",
    )
    .await;
    page.assert_accessible("emoji-picker").await;
    ui::escape(&page).await;
    page.wait_gone(&tid("reaction-picker")).await;

    page.click(&in_message(&root, "view-thread")).await;
    wait_thread(&page, &["@alice I will"]).await;
    page.assert_accessible("thread").await;
    ui::escape(&page).await;
    page.wait_gone(&tid("thread")).await;

    page.click_tid("pins-button").await;
    wait_pinned(&page, &[&root]).await;
    page.assert_accessible("pins").await;
    ui::escape(&page).await;
    page.wait_gone(&tid("pins")).await;
    page.close().await;
}
