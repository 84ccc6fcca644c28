//! Attachments in the page: an image chosen with the file picker shows as a thumbnail for the
//! sender and for another member (the full image is fetched only when opened), opens full size
//! in a dialog that Escape closes with the focus back on the thumbnail; a text file shows as a
//! download card that saves the very bytes sent; a dropped file joins the next message; a file
//! over the server's limit shows the refusal and can be removed; axe-core finds no serious or
//! critical violation on a conversation with attachments (nor on the image viewer), and the
//! phone width keeps it all on screen.

use std::path::{Path, PathBuf};

use confab_tests::browser::{Browser, BrowserServer, tid};
use confab_tests::{Body, Session};
use reqwest::Method;
use serde_json::{Value, json};

use crate::NODE;
use crate::ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_from_the_picker_shows_for_both_and_opens_full_size() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server.create_group(&alice_api, "Photos", &[&bob_api]).await;
    let group = group["id"].as_str().expect("id").to_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = png(640, 480);
    let photo = write(dir.path(), "sunset.png", &bytes);

    let alice = server.browser("attachments-image-alice").await;
    let bob = server.browser("attachments-image-bob").await;
    ui::login(&alice, "alice", "alice").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&alice, "Photos").await;
    ui::open(&bob, "Photos").await;

    pick(&alice, &[&photo]).await;
    alice.wait_text(&tid("upload"), "sunset.png").await;
    wait_uploaded(&alice, 1).await;
    ui::send(&alice, "the view from here").await;
    alice
        .wait_gone(&format!("{} {}", tid("uploads"), tid("upload")))
        .await;

    // Both see the thumbnail, in a box reserved from the image's size (640 × 480 fits 240 px).
    for (who, page) in [("alice", &alice), ("bob", &bob)] {
        let shown = thumbnail(page, "sunset.png").await;
        assert_eq!(shown["box"], json!(["240", "180"]), "{who}: {shown}");
        assert!(
            shown["natural"][0].as_u64().unwrap_or(0) <= 512,
            "{who} got more than a thumbnail: {shown}"
        );
    }
    // Only thumbnails are fetched until someone opens the image.
    let stored = server.all_messages(&bob_api, &group).await;
    let message = stored.last().expect("a message").clone();
    assert_eq!(message["body"], "the view from here");
    let attachment = &message["attachments"][0];
    assert_eq!(attachment["name"], "sunset.png");
    assert_eq!(attachment["content_type"], "image/png");
    assert_eq!(attachment["size"], json!(bytes.len()));
    assert_eq!(
        (attachment["width"].clone(), attachment["height"].clone()),
        (json!(640), json!(480))
    );
    let id = attachment["id"].as_str().expect("attachment id").to_owned();
    assert_eq!(fetched(&bob, &id).await, json!([true, false]), "bob");

    // Bob opens it: the full image, in a dialog; Escape closes it and the focus comes back.
    bob.click(&format!("{} {}", tid("message"), tid("attachment-image")))
        .await;
    let viewer = format!("dialog{}", tid("image-viewer"));
    bob.wait_for(&viewer).await;
    let full = bob
        .wait_js(
            "the full image to load",
            r#"const i = document.querySelector(arguments[0] + ' [data-testid="full-image"]');
            return i && i.complete && i.naturalWidth ? [i.naturalWidth, i.naturalHeight, i.alt] : null;"#,
            vec![json!(viewer)],
        )
        .await;
    assert_eq!(full, json!([640, 480, "sunset.png"]));
    assert_eq!(fetched(&bob, &id).await, json!([true, true]), "bob");
    ui::escape(&bob).await;
    bob.wait_gone(&viewer).await;
    let focused = bob.focused().await;
    assert_eq!(focused["testid"], "attachment-image", "{focused}");

    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_a_download_card_and_a_dropped_file_is_sent_too() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    server.create_group(&alice_api, "Docs", &[&bob_api]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let list = b"milk\neggs\nflour\n";
    let notes = write(dir.path(), "notes.txt", list);

    let alice = server.browser("attachments-file-alice").await;
    let bob = server.browser("attachments-file-bob").await;
    ui::login(&alice, "alice", "alice").await;
    ui::login(&bob, "bob", "bob").await;
    ui::open(&alice, "Docs").await;
    ui::open(&bob, "Docs").await;

    // A file alone, no text: Send sends it.
    pick(&alice, &[&notes]).await;
    wait_uploaded(&alice, 1).await;
    alice
        .click(&format!("form{} button[type=submit]", tid("composer")))
        .await;
    let card = format!(
        "{}:not([data-pending]) {}",
        tid("message"),
        tid("attachment-file")
    );
    for page in [&alice, &bob] {
        let text = page.wait_text(&card, "notes.txt").await;
        assert!(text.contains("16 B"), "the card shows the size: {text:?}");
    }

    // Dropped on the conversation: the drop target shows while dragging, the file is uploaded.
    let shown = alice
        .js(
            r#"const list = document.querySelector('[data-testid="message-list"]');
            const dt = new DataTransfer();
            dt.items.add(new File([arguments[1]], arguments[0], {type: "text/markdown"}));
            const ev = (type) => new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt});
            list.dispatchEvent(ev("dragenter"));
            list.dispatchEvent(ev("dragover"));
            const during = vis(document.querySelector('[data-testid="drop-target"]'));
            list.dispatchEvent(ev("drop"));
            const after = vis(document.querySelector('[data-testid="drop-target"]'));
            return [during, after];"#,
            vec![json!("plan.md"), json!("# the plan\n")],
        )
        .await;
    assert_eq!(
        shown,
        json!([true, false]),
        "the drop target while dragging, then not"
    );
    alice.wait_text(&tid("upload"), "plan.md").await;
    wait_uploaded(&alice, 1).await;
    ui::send(&alice, "and the plan").await;
    bob.wait_text(&card, "plan.md").await;

    // Bob downloads the list: the same bytes, under its name.
    let downloads = tempfile::tempdir().expect("temp dir");
    bob.allow_downloads(downloads.path()).await;
    bob.wait_for_text(&card, "notes.txt")
        .await
        .click()
        .await
        .expect("card clicked");
    let saved = downloads.path().join("notes.txt");
    ui::eventually(&bob, "notes.txt to be downloaded", async || {
        std::fs::read(&saved).is_ok_and(|b| b == list)
    })
    .await;

    let stored = server
        .all_messages(&bob_api, &server.group_ids(&bob_api).await[0])
        .await;
    let names: Vec<&str> = stored
        .iter()
        .flat_map(|m| m["attachments"].as_array().into_iter().flatten())
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["notes.txt", "plan.md"]);
    assert_eq!(stored[0]["body"], "");
    ui::assert_clean_console(&alice, "alice").await;
    ui::assert_clean_console(&bob, "bob").await;
    alice.close().await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_limit_shows_the_refusal() {
    let server = BrowserServer::start(NODE, &["--attachment-max-bytes", "2048"]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    server.create_group(&alice_api, "Limits", &[&bob_api]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let big = write(dir.path(), "big.bin", &[7u8; 8 * 1024]);
    let small = write(dir.path(), "small.txt", b"fits");

    let alice = server.browser("attachments-limit").await;
    ui::login(&alice, "alice", "alice").await;
    ui::open(&alice, "Limits").await;
    pick(&alice, &[&big, &small]).await;
    let refused = format!("{}[data-state=\"failed\"]", tid("upload"));
    let shown = alice.wait_text(&refused, "big.bin").await;
    assert!(
        shown.contains("Too large"),
        "the chip says why it was refused: {shown:?}"
    );
    alice
        .wait_text(&format!("{refused} {}", tid("upload-error")), "Too large")
        .await;
    wait_uploaded(&alice, 1).await;
    alice.save_screenshot("refused").await;

    // Sending takes the good file and leaves the refused one with its reason, until removed.
    ui::send(&alice, "one of two").await;
    alice
        .wait_text(
            &format!(
                "{}:not([data-pending]) {}",
                tid("message"),
                tid("attachment-name")
            ),
            "small.txt",
        )
        .await;
    alice.wait_text(&refused, "big.bin").await;
    alice
        .click(&format!("{refused} {}", tid("upload-remove")))
        .await;
    alice.wait_gone(&tid("upload")).await;
    let focused = alice.focused().await;
    assert_eq!(
        (focused["form"].clone(), focused["name"].clone()),
        (json!("composer"), json!("body")),
        "the focus goes back to the composer: {focused}"
    );
    alice.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_serious_violation_with_attachments() {
    let server = BrowserServer::start(NODE, &[]).await;
    let alice_api = server.register("alice").await;
    let bob_api = server.register("bob").await;
    let group = server
        .create_group(&alice_api, "Design review", &[&bob_api])
        .await;
    let group = group["id"].as_str().expect("id").to_owned();
    let chart = upload(
        &server,
        &bob_api,
        &group,
        "chart.png",
        "image/png",
        png(300, 200),
    )
    .await;
    let tall = upload(
        &server,
        &bob_api,
        &group,
        "tall.png",
        "image/png",
        png(60, 400),
    )
    .await;
    let doc = upload(
        &server,
        &bob_api,
        &group,
        "a rather long name for the minutes of the meeting.txt",
        "text/plain",
        b"minutes".to_vec(),
    )
    .await;
    server
        .try_send(
            &bob_api,
            &group,
            json!({"body": "The charts and the minutes.", "attachment_ids": [chart, tall, doc]}),
        )
        .await
        .expect(201);

    let page = server.browser("attachments-axe").await;
    ui::login(&page, "alice", "alice").await;
    ui::open(&page, "Design review").await;
    thumbnail(&page, "chart.png").await;
    thumbnail(&page, "tall.png").await;
    // A file on its way in the composer, too.
    let dir = tempfile::tempdir().expect("temp dir");
    let draft = write(dir.path(), "draft.txt", b"draft");
    pick(&page, &[&draft]).await;
    wait_uploaded(&page, 1).await;
    page.assert_accessible("conversation with attachments")
        .await;
    page.screenshots("attachments").await;

    // At phone width nothing is wider than the screen.
    page.set_width(375).await;
    let overflow = page
        .js(
            r#"return q('[data-testid="attachments"] > li, [data-testid="composer"], [data-testid="upload"]')
                .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .map((e) => e.outerHTML.slice(0, 80));"#,
            vec![],
        )
        .await;
    assert_eq!(overflow, json!([]), "wider than 375 px");
    page.assert_accessible("conversation with attachments at 375 px")
        .await;
    page.set_width(1280).await;

    page.click(&format!(
        "{}[data-attachment-id=\"{chart}\"]",
        tid("attachment-image")
    ))
    .await;
    page.wait_for(&format!(
        "dialog{} {}",
        tid("image-viewer"),
        tid("full-image")
    ))
    .await;
    page.assert_accessible("image viewer").await;
    page.save_screenshot("image-viewer").await;
    ui::escape(&page).await;
    page.wait_gone(&tid("image-viewer")).await;
    ui::assert_clean_console(&page, "alice").await;
    page.close().await;
}

// ---------------------------------------------------------------------------------------------

/// Chooses `files` with the composer's file picker.
async fn pick(page: &Browser, files: &[&Path]) {
    page.choose_files(&format!("input{}", tid("attach-input")), files)
        .await;
}

/// Waits until `n` files in the composer are uploaded.
async fn wait_uploaded(page: &Browser, n: usize) {
    page.wait_count(
        &format!("{} {}[data-state=\"done\"]", tid("uploads"), tid("upload")),
        n,
    )
    .await;
}

/// Waits until a sent message shows the thumbnail of `name`, loaded: `{box: [width, height]
/// attributes, natural: [width, height], src}`.
async fn thumbnail(page: &Browser, name: &str) -> Value {
    let shown = page
        .wait_js(
            &format!("the thumbnail of {name} to load"),
            r#"const i = q('[data-testid="message"]:not([data-pending]) [data-testid="attachment-image"] img')
                .find((i) => i.alt === arguments[0]);
            return i && i.complete && i.naturalWidth && vis(i)
                ? {box: [i.getAttribute("width"), i.getAttribute("height")],
                   natural: [i.naturalWidth, i.naturalHeight], src: i.src}
                : null;"#,
            vec![json!(name)],
        )
        .await;
    assert!(
        shown["src"]
            .as_str()
            .is_some_and(|s| s.starts_with("blob:")),
        "{shown}"
    );
    shown
}

/// Whether the page has fetched attachment `id`'s thumbnail, and its full bytes.
async fn fetched(page: &Browser, id: &str) -> Value {
    page.js(
        r#"const urls = performance.getEntriesByType("resource").map((e) => e.name);
        return [urls.some((u) => u.endsWith("/attachments/" + arguments[0] + "/thumbnail")),
                urls.some((u) => u.endsWith("/attachments/" + arguments[0]))];"#,
        vec![json!(id)],
    )
    .await
}

/// Uploads `bytes` as `me` to `group` over HTTP; returns the attachment's id.
async fn upload(
    server: &BrowserServer,
    me: &Session,
    group: &str,
    name: &str,
    content_type: &'static str,
    bytes: Vec<u8>,
) -> String {
    let query: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let r = server
        .call(
            Method::POST,
            &format!("/api/v1/groups/{group}/attachments?name={query}"),
            Some(&me.access),
            Body::Raw {
                content_type: Some(content_type),
                bytes,
            },
        )
        .await;
    r.expect(201);
    r.json["id"].as_str().expect("attachment id").to_owned()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("file written");
    path
}

/// A `width` × `height` RGB PNG (a colour gradient), deflate-stored: no image library needed.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend([(x * 255 / width) as u8, (y * 255 / height) as u8, 160]);
        }
    }
    // zlib: stored blocks of at most 65,535 bytes, then the Adler-32 of the data.
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());

    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, no filter, no interlace
    let mut out = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];
    for (kind, data) in [(b"IHDR", header), (b"IDAT", zlib), (b"IEND", Vec::new())] {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(&data);
        let crc = crc32(&out[start..]);
        out.extend(crc.to_be_bytes());
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
