//! The user flows the browser tests share, written against the client's test hooks only:
//! register and log in, open a conversation by its name in the sidebar, send with the composer,
//! read the messages, the unread counts and the connection state.

use confab_tests::browser::{Browser, tid};
use serde_json::{Value, json};

/// Every user's password (the same as `TestServer::register`'s, so users made over HTTP can log
/// in from the page).
pub const PASSWORD: &str = "correct horse battery";

/// Registers `username` from the login page and waits until the page shows it signed in.
pub async fn register(page: &Browser, username: &str) {
    page.click_tid("show-register").await;
    page.fill_and_submit(
        "register-form",
        &[("username", username), ("password", PASSWORD)],
    )
    .await;
    signed_in_as(page, username).await;
}

/// Logs in as `login` (with [`PASSWORD`]) and waits until the page shows `username` signed in.
pub async fn login(page: &Browser, login: &str, username: &str) {
    page.fill_and_submit("login-form", &[("login", login), ("password", PASSWORD)])
        .await;
    signed_in_as(page, username).await;
}

/// Waits until the page shows `username` signed in.
pub async fn signed_in_as(page: &Browser, username: &str) {
    page.wait_text(&tid("me"), username).await;
}

/// Waits until the socket is up (`connection-status` says `connected`).
pub async fn connected(page: &Browser) {
    page.wait_attr(&tid("connection-status"), "data-state", "connected")
        .await;
}

/// Opens the conversation whose sidebar name contains `name`, and waits for its title.
pub async fn open(page: &Browser, name: &str) {
    let item = page
        .wait_for_text(
            &format!("{} {}", tid("conversations"), tid("conversation")),
            name,
        )
        .await;
    item.click().await.expect("conversation clicked");
    page.wait_text(&tid("conversation-title"), name).await;
}

/// Starts (or opens) the direct chat with `username` from the sidebar.
pub async fn start_direct(page: &Browser, username: &str) {
    page.click_tid("new-direct").await;
    page.fill_and_submit("new-direct-form", &[("username", username)])
        .await;
    page.wait_text(&tid("conversation-title"), username).await;
}

/// Creates a group from the sidebar; it opens.
pub async fn create_group(page: &Browser, name: &str) {
    page.click_tid("new-group").await;
    page.fill_and_submit("new-group-form", &[("name", name)])
        .await;
    page.wait_text(&tid("conversation-title"), name).await;
}

/// Types `text` into the composer and presses Enter; waits until the message is shown and
/// acknowledged (no longer pending). Returns its `data-id`.
pub async fn send(page: &Browser, text: &str) -> String {
    let composer = page
        .wait_for(&format!("form{} textarea[name=body]", tid("composer")))
        .await;
    composer.send_keys(text).await.expect("typed");
    composer.send_keys("\u{e007}").await.expect("Enter pressed");
    wait_acked(page, text).await
}

/// Waits until a message whose body is `text` is shown and acknowledged; returns its `data-id`.
pub async fn wait_acked(page: &Browser, text: &str) -> String {
    let id = page
        .wait_js(
            &format!("the message {text:?} to be shown and acknowledged"),
            r#"const m = q('[data-testid="message"]').find((m) => {
                const b = m.querySelector('[data-testid="message-body"]');
                return b && txt(b) === arguments[0] && m.getAttribute("data-pending") !== "true";
            });
            return m ? (m.getAttribute("data-id") || "?") : null;"#,
            vec![json!(text)],
        )
        .await;
    id.as_str().unwrap_or_default().to_owned()
}

/// Waits until a message whose body is `text` is shown.
pub async fn wait_message(page: &Browser, text: &str) {
    page.wait_text(&format!("{} {}", tid("message"), tid("message-body")), text)
        .await;
}

/// The shown messages, in document order: `{id, seq, body, sender, pending, deleted,
/// highlighted}` each.
pub async fn messages(page: &Browser) -> Vec<Value> {
    let v = page
        .js(
            r#"return q('[data-testid="message"]').map((m) => {
                const part = (t) => { const e = m.querySelector('[data-testid="' + t + '"]');
                                      return e ? txt(e) : null; };
                return {id: m.getAttribute("data-id"), seq: m.getAttribute("data-seq"),
                        body: part("message-body"), sender: part("message-sender"),
                        pending: m.getAttribute("data-pending") === "true",
                        deleted: m.getAttribute("data-deleted") === "true",
                        highlighted: m.getAttribute("data-highlighted") === "true"};
            });"#,
            vec![],
        )
        .await;
    v.as_array().cloned().unwrap_or_default()
}

/// The bodies of the shown messages, in document order.
pub async fn bodies(page: &Browser) -> Vec<String> {
    messages(page)
        .await
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts that each of `texts` is shown exactly once, in this order among the messages.
pub async fn assert_each_once_in_order(page: &Browser, who: &str, texts: &[&str]) {
    let shown = bodies(page).await;
    let mut positions = Vec::new();
    for text in texts {
        let at: Vec<usize> = shown
            .iter()
            .enumerate()
            .filter(|(_, b)| b == text)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "{who} shows {text:?} {} times; the messages: {shown:?}",
            at.len()
        );
        positions.push(at[0]);
    }
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "{who} shows {texts:?} out of order: {shown:?}"
    );
}

/// The unread count the sidebar shows for the conversation named `name`: `None` when it
/// shows none (the hook exists only when the count is above zero).
pub async fn unread(page: &Browser, name: &str) -> Option<String> {
    let v = page
        .js(
            r#"const c = q('[data-testid="conversation"]').find((c) => {
                const n = c.querySelector('[data-testid="conversation-name"]');
                return n && txt(n).includes(arguments[0]);
            });
            if (!c) return "no conversation";
            const u = c.querySelector('[data-testid="unread-count"]');
            return u && vis(u) ? txt(u) : null;"#,
            vec![json!(name)],
        )
        .await;
    assert_ne!(
        v,
        json!("no conversation"),
        "no conversation named {name:?} in the sidebar"
    );
    v.as_str().map(str::to_owned)
}

/// Waits until the sidebar shows `count` unread for `name` (`None`: no count shown).
pub async fn wait_unread(page: &Browser, name: &str, count: Option<u32>) {
    page.wait_js(
        &format!("the unread count of {name:?} to be {count:?}"),
        r#"const c = q('[data-testid="conversation"]').find((c) => {
            const n = c.querySelector('[data-testid="conversation-name"]');
            return n && txt(n).includes(arguments[0]);
        });
        if (!c) return false;
        const u = c.querySelector('[data-testid="unread-count"]');
        const shown = u && vis(u) ? txt(u) : null;
        return arguments[1] === null ? shown === null : shown === String(arguments[1]);"#,
        vec![json!(name), json!(count)],
    )
    .await;
}

/// Scrolls the message list (or whichever ancestor of it scrolls) to its top.
pub async fn scroll_messages_to_top(page: &Browser) {
    page.js(
        r#"let e = document.querySelector('[data-testid="message-list"]');
        while (e && e !== document.body && !(e.scrollHeight > e.clientHeight &&
               /(auto|scroll)/.test(getComputedStyle(e).overflowY))) e = e.parentElement;
        if (e && e !== document.body) { e.scrollTop = 0; e.dispatchEvent(new Event("scroll")); }
        else window.scrollTo(0, 0);"#,
        vec![],
    )
    .await;
}

/// Clicks a control of the message with `id` (`edit-message`, `delete-message`), hovering it
/// first for controls shown on hover.
pub async fn message_action(page: &Browser, id: &str, action: &str) {
    let message = format!("{}[data-id=\"{id}\"]", tid("message"));
    let element = page.wait_for(&message).await;
    page.hover(&element).await;
    page.click(&format!("{message} {}", tid(action))).await;
}

/// The main views, in the order [`walk_views`] shows them.
pub const VIEWS: &[&str] = &[
    "login",
    "register",
    "conversations",
    "conversation",
    "members",
    "profile",
    "pool",
    "pool-waiting",
];

/// Sets up a server with alice, bob, a group of ten with a few messages and a direct chat, then
/// walks one page through the main views; `at` runs at each (see [`VIEWS`]) with its name.
pub async fn walk_views(
    server: &confab_tests::browser::BrowserServer,
    page: &Browser,
    mut at: impl AsyncFnMut(&Browser, &str),
) {
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    // More members, so more avatar colours (they follow the random user ids) are on the page.
    let mut others = Vec::new();
    for name in [
        "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    ] {
        others.push(server.register(name).await);
    }
    let mut members = vec![&bob];
    members.extend(others.iter());
    let group = server.create_group(&alice, "Design review", &members).await;
    let group = group["id"].as_str().expect("id").to_owned();
    for (who, text) in [
        (&bob, "The new colours are in the doc."),
        (&alice, "Thanks! I'll look after lunch."),
        (&bob, "Ping me with questions."),
    ] {
        server.send(who, &group, text).await;
    }
    server.direct(&bob, &alice).await.expect(201);

    page.wait_for(&format!("form{}", tid("login-form"))).await;
    at(page, "login").await;
    page.click_tid("show-register").await;
    page.wait_for(&format!("form{}", tid("register-form")))
        .await;
    at(page, "register").await;
    page.click_tid("show-login").await;
    login(page, "alice", "alice").await;
    page.wait_for_text(&tid("conversation-name"), "Design review")
        .await;
    page.wait_for_text(&tid("conversation-name"), "bob").await;
    at(page, "conversations").await;
    open(page, "Design review").await;
    wait_message(page, "Ping me with questions.").await;
    at(page, "conversation").await;
    page.click_tid("members-button").await;
    page.wait_count(&tid("member"), 10).await;
    page.wait_for(&tid("member")).await;
    at(page, "members").await;
    escape(page).await;
    page.click_tid("profile-button").await;
    page.wait_for(&format!("form{}", tid("profile-form"))).await;
    at(page, "profile").await;
    escape(page).await;
    page.click_tid("pool-button").await;
    page.wait_for(&format!("form{}", tid("pool-form"))).await;
    at(page, "pool").await;
    page.submit("pool-form").await;
    page.wait_for(&tid("pool-waiting")).await;
    at(page, "pool-waiting").await;
    page.click_tid("pool-leave").await;
    page.wait_gone(&tid("pool-waiting")).await;
}

/// Presses Escape (closes a dialog or panel, if one is open).
pub async fn escape(page: &Browser) {
    page.type_keys("\u{e00c}").await;
}

/// Polls `check` (every 100 ms, up to 10 s) until it holds; otherwise fails `page` with
/// `what` (for what only the server can tell, such as a stored role).
pub async fn eventually(page: &Browser, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + confab_tests::browser::WAIT;
    while !check().await {
        if tokio::time::Instant::now() >= deadline {
            page.fail(&format!("timed out waiting for {what}")).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Asserts that the page's console has had no error since the last look (no uncaught
/// exception, no failed request, no CSP report): for flows where nothing should fail.
pub async fn assert_clean_console(page: &Browser, who: &str) {
    let errors = page.console_errors().await;
    assert!(
        errors.is_empty(),
        "{who}'s console has errors:\n{}",
        errors.join("\n")
    );
}
