//! Attachments over real HTTP, on both stores and both blob stores (`db`: the bytes in the
//! database; `dir`: in `--attachments-dir`): round trips, ranges and revalidation, images and
//! thumbnails, use in messages (HTTP and socket), who sees what, removal with the message and
//! by the 24-hour sweep, and hostile uploads.

use std::time::Duration;

use confab_tests::chat::{id, num, text};
use confab_tests::files::{png, png_header_claiming, sha256_hex, tiny_png};
use confab_tests::{Body, Store, TestServer};
use reqwest::Method;
use serde_json::json;
use tempfile::TempDir;

/// A server whose blobs live in the database or in a directory of their own.
struct Files {
    server: TestServer,
    dir: Option<TempDir>,
}

async fn start(store: Store, in_dir: bool, extra: &[&str]) -> Files {
    let dir = in_dir.then(|| tempfile::tempdir().unwrap());
    // The sweep of unused uploads runs at this interval.
    let mut flags: Vec<String> = ["--expiry-sweep-interval", "200ms"]
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect();
    if let Some(d) = &dir {
        flags.push("--attachments-dir".into());
        flags.push(d.path().display().to_string());
    }
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Files {
        server: TestServer::start_with(store, &flags).await,
        dir,
    }
}

impl Files {
    /// Whether the bytes of attachment `id` are still stored.
    async fn bytes_stored(&self, id: &str) -> bool {
        match &self.dir {
            Some(d) => files_under(d.path()).iter().any(|f| f.ends_with(id)),
            None => self.server.count_rows("blobs", "id", id).await > 0,
        }
    }
}

/// Every file under `dir`, as paths.
fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    out
}

/// Instantiates each case on {sqlite, postgres} × {db, dir}.
macro_rules! attachment_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite_db { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::start(confab_tests::Store::Sqlite, false, &[]).await).await; } )* }
        mod sqlite_dir { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::start(confab_tests::Store::Sqlite, true, &[]).await).await; } )* }
        mod postgres_db { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::start(confab_tests::Store::Postgres, false, &[]).await).await; } )* }
        mod postgres_dir { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(super::start(confab_tests::Store::Postgres, true, &[]).await).await; } )* }
    };
}

attachment_tests!(
    a_ten_mib_file_round_trips_with_ranges_and_revalidation,
    an_image_is_measured_and_thumbnailed_and_shown_inline,
    a_message_carries_uploads_over_http_and_the_socket,
    an_upload_is_seen_by_its_uploader_alone_until_a_message_carries_it,
    deleting_the_message_removes_the_bytes,
    unused_uploads_are_swept_after_a_day,
    uploads_a_message_may_not_carry_are_refused,
    file_names_are_cleaned_and_sent_safely,
    bytes_that_are_not_their_declared_type_are_refused,
    a_decompression_bomb_is_refused_without_decoding,
    an_svg_with_script_is_stored_but_never_run,
    an_upload_without_or_with_a_bad_content_type_is_refused,
);

confab_tests::store_tests!(
    ; own_server: the_size_limit_is_enforced_declared_or_not,
    the_quota_counts_every_upload_of_the_user,
    an_upload_cut_off_midway_stores_nothing,
);

/// A group of alice and bob; returns (alice, bob, group id).
async fn pair(s: &TestServer) -> (confab_tests::Session, confab_tests::Session, String) {
    let alice = s.register("alice").await;
    let bob = s.register("bob").await;
    let g = id(&s.create_group(&alice, "Files", &[&bob]).await);
    (alice, bob, g)
}

/// Uploads and sends `ids` in one message from `who`; returns the message.
async fn carry(
    s: &TestServer,
    who: &confab_tests::Session,
    g: &str,
    ids: &[&str],
) -> serde_json::Value {
    let r = s
        .try_send(who, g, json!({"body": "", "attachment_ids": ids}))
        .await;
    r.expect(201);
    r.json.clone()
}

async fn a_ten_mib_file_round_trips_with_ranges_and_revalidation(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let bytes: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let up = s
        .upload(
            &alice,
            &g,
            "data.bin",
            "application/octet-stream",
            bytes.clone(),
        )
        .await;
    up.expect(201);
    let a = up.json.clone();
    assert_eq!(num(&a, "size"), bytes.len() as u64);
    assert_eq!(text(&a, "sha256"), sha256_hex(&bytes));
    assert_eq!(text(&a, "content_type"), "application/octet-stream");
    assert_eq!(
        (a["width"].clone(), a["height"].clone()),
        (json!(null), json!(null))
    );
    let aid = id(&a);
    carry(s, &alice, &g, &[&aid]).await;

    let path = format!("/attachments/{aid}");
    let whole = s.download(Some(&bob.access), &path, &[]).await;
    assert_eq!(whole.status, 200);
    assert_eq!(sha256_hex(&whole.bytes), sha256_hex(&bytes));
    assert_eq!(whole.header("content-length"), bytes.len().to_string());
    assert_eq!(whole.header("content-type"), "application/octet-stream");
    assert_eq!(whole.header("x-content-type-options"), "nosniff");
    assert_eq!(whole.header("content-security-policy"), "sandbox");
    assert_eq!(whole.header("accept-ranges"), "bytes");
    assert!(
        whole
            .header("content-disposition")
            .starts_with("attachment;")
    );
    let etag = whole.header("etag").to_owned();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));

    let part = s
        .download(Some(&bob.access), &path, &[("range", "bytes=1000-1999")])
        .await;
    assert_eq!(part.status, 206);
    assert_eq!(part.bytes, bytes[1000..2000]);
    assert_eq!(
        part.header("content-range"),
        format!("bytes 1000-1999/{}", bytes.len())
    );
    let tail = s
        .download(Some(&bob.access), &path, &[("range", "bytes=-10")])
        .await;
    assert_eq!(
        (tail.status, &tail.bytes[..]),
        (206, &bytes[bytes.len() - 10..])
    );
    let past = s
        .download(Some(&bob.access), &path, &[("range", "bytes=99999999-")])
        .await;
    assert_eq!(past.status, 416);
    assert_eq!(past.json()["error"]["code"], "range_not_satisfiable");
    assert_eq!(
        past.header("content-range"),
        format!("bytes */{}", bytes.len())
    );
    // A range against another version is answered with the whole file.
    let stale = s
        .download(
            Some(&bob.access),
            &path,
            &[("range", "bytes=0-9"), ("if-range", "\"other\"")],
        )
        .await;
    assert_eq!((stale.status, stale.bytes.len()), (200, bytes.len()));

    let cached = s
        .download(Some(&bob.access), &path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(cached.status, 304);
    assert!(cached.bytes.is_empty());
    assert_eq!(cached.header("etag"), etag);
    let changed = s
        .download(
            Some(&bob.access),
            &path,
            &[("if-none-match", "\"something else\"")],
        )
        .await;
    assert_eq!(changed.status, 200);
}

async fn an_image_is_measured_and_thumbnailed_and_shown_inline(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let image = png(1200, 600);
    let up = s
        .upload(&alice, &g, "wide.png", "image/png", image.clone())
        .await;
    up.expect(201);
    assert_eq!(
        (num(&up.json, "width"), num(&up.json, "height")),
        (1200, 600)
    );
    let aid = id(&up.json);
    carry(s, &alice, &g, &[&aid]).await;
    let full = s
        .download(Some(&bob.access), &format!("/attachments/{aid}"), &[])
        .await;
    assert_eq!(full.status, 200);
    assert_eq!(full.bytes, image);
    assert!(
        full.header("content-disposition").starts_with("inline;"),
        "{}",
        full.header("content-disposition")
    );
    let thumb = s
        .download(
            Some(&bob.access),
            &format!("/attachments/{aid}/thumbnail"),
            &[],
        )
        .await;
    assert_eq!(thumb.status, 200);
    assert!(["image/png", "image/webp"].contains(&thumb.header("content-type")));
    assert_eq!(thumb.header("x-content-type-options"), "nosniff");
    let decoded = image::load_from_memory(&thumb.bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (512, 256));

    // A file that is not a raster image has no thumbnail.
    let txt = s
        .upload(&alice, &g, "a.txt", "text/plain", b"words".to_vec())
        .await;
    let tid = id(&txt.json);
    carry(s, &alice, &g, &[&tid]).await;
    let none = s
        .download(
            Some(&bob.access),
            &format!("/attachments/{tid}/thumbnail"),
            &[],
        )
        .await;
    assert_eq!(none.status, 404);
    assert_eq!(none.json()["error"]["code"], "not_found");
}

async fn a_message_carries_uploads_over_http_and_the_socket(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let mut bob_ws = s.ws(&bob).await;
    let a = id(&s
        .upload(&alice, &g, "one.txt", "text/plain", b"1".to_vec())
        .await
        .json);
    let b = id(&s
        .upload(&alice, &g, "two.png", "image/png", tiny_png())
        .await
        .json);
    let sent = carry(s, &alice, &g, &[&b, &a]).await;
    assert_eq!(sent["body"], "");
    let names: Vec<_> = sent["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("two.png"), json!("one.txt")],
        "the order sent is kept"
    );
    let keys = confab_tests::chat::keys(&sent["attachments"][0]);
    assert_eq!(
        keys,
        [
            "content_type",
            "height",
            "id",
            "name",
            "sha256",
            "size",
            "width"
        ]
    );
    // Live, and in history, the same.
    let live = bob_ws.next_of("message.created").await;
    assert_eq!(live["message"]["attachments"], sent["attachments"]);
    let page = s
        .get(&format!("/groups/{g}/messages"), Some(&bob.access))
        .await;
    assert_eq!(page.json["messages"][0]["attachments"], sent["attachments"]);
    // A text message has none.
    let plain = s.send(&alice, &g, "hello").await;
    assert_eq!(plain["attachments"], json!([]));

    // Over the socket, with a caption.
    let mut alice_ws = s.ws(&alice).await;
    let c = id(&s
        .upload(&alice, &g, "three.txt", "text/plain", b"3".to_vec())
        .await
        .json);
    let ack = alice_ws
        .ok(json!({"type": "message.send", "ref": 1, "group_id": g, "body": "see this", "attachment_ids": [c]}))
        .await;
    assert_eq!(ack["message"]["attachments"][0]["id"], c);
    // The same upload cannot go in a second message; a body alone may not be empty.
    alice_ws
        .fails(json!({"type": "message.send", "ref": 2, "group_id": g, "body": "again", "attachment_ids": [c]}), "validation_failed")
        .await;
    alice_ws
        .fails(
            json!({"type": "message.send", "ref": 3, "group_id": g, "body": ""}),
            "validation_failed",
        )
        .await;
}

async fn an_upload_is_seen_by_its_uploader_alone_until_a_message_carries_it(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let carol = s.register("carol").await;
    let aid = id(&s
        .upload(&alice, &g, "a.txt", "text/plain", b"secret".to_vec())
        .await
        .json);
    let path = format!("/attachments/{aid}");
    assert_eq!(
        s.download(Some(&alice.access), &path, &[]).await.status,
        200
    );
    let hidden = s.download(Some(&bob.access), &path, &[]).await;
    let ghost = s
        .download(
            Some(&bob.access),
            &format!("/attachments/{}", uuid::Uuid::now_v7()),
            &[],
        )
        .await;
    assert_eq!((hidden.status, hidden.json()), (ghost.status, ghost.json()));
    assert_eq!(hidden.status, 404);
    carry(s, &alice, &g, &[&aid]).await;
    assert_eq!(s.download(Some(&bob.access), &path, &[]).await.status, 200);
    // Never to a non-member, and the same 404 as for an id that does not exist.
    let outsider = s.download(Some(&carol.access), &path, &[]).await;
    assert_eq!(
        (outsider.status, outsider.json()),
        (ghost.status, ghost.json())
    );
    assert_eq!(s.download(None, &path, &[]).await.status, 401);
    // A member who leaves loses access.
    s.delete(
        &format!("/groups/{g}/members/{}", bob.user_id),
        Some(&bob.access),
    )
    .await
    .expect(204);
    assert_eq!(s.download(Some(&bob.access), &path, &[]).await.status, 404);
}

async fn deleting_the_message_removes_the_bytes(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let aid = id(&s
        .upload(&alice, &g, "a.txt", "text/plain", b"bye".to_vec())
        .await
        .json);
    let message = carry(s, &alice, &g, &[&aid]).await;
    assert!(f.bytes_stored(&aid).await);
    let mut bob_ws = s.ws(&bob).await;
    s.delete(&format!("/messages/{}", id(&message)), Some(&alice.access))
        .await
        .expect(204);
    assert!(
        !f.bytes_stored(&aid).await,
        "the bytes outlived their message"
    );
    assert_eq!(
        s.download(Some(&alice.access), &format!("/attachments/{aid}"), &[])
            .await
            .status,
        404
    );
    let deleted = bob_ws.next_of("message.deleted").await;
    assert_eq!(deleted["id"], id(&message));
    let page = s
        .get(&format!("/groups/{g}/messages"), Some(&bob.access))
        .await;
    assert_eq!(page.json["messages"][0]["attachments"], json!([]));
}

async fn unused_uploads_are_swept_after_a_day(f: Files) {
    let s = &f.server;
    let (alice, _bob, g) = pair(s).await;
    let unused = id(&s
        .upload(&alice, &g, "a.txt", "text/plain", b"x".to_vec())
        .await
        .json);
    let used = id(&s
        .upload(&alice, &g, "b.txt", "text/plain", b"y".to_vec())
        .await
        .json);
    carry(s, &alice, &g, &[&used]).await;
    s.advance(Duration::from_secs(23 * 3600));
    // The sweep runs every --expiry-sweep-interval (200 ms here); give it a few.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(f.bytes_stored(&unused).await, "swept before its day was up");
    s.advance(Duration::from_secs(2 * 3600));
    // A day later the access token has long expired.
    let alice = s.login("alice", "correct horse battery").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while f.bytes_stored(&unused).await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the unused upload was not swept"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        s.download(Some(&alice.access), &format!("/attachments/{unused}"), &[])
            .await
            .status,
        404
    );
    assert!(
        f.bytes_stored(&used).await,
        "an upload in a message was swept"
    );
    // A swept upload cannot be sent any more.
    s.try_send(&alice, &g, json!({"body": "", "attachment_ids": [unused]}))
        .await
        .expect_error(422, "validation_failed");
}

async fn uploads_a_message_may_not_carry_are_refused(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let other = id(&s.create_group(&alice, "Other", &[&bob]).await);
    let elsewhere = id(&s
        .upload(&alice, &other, "a.txt", "text/plain", b"a".to_vec())
        .await
        .json);
    let bobs = id(&s
        .upload(&bob, &g, "b.txt", "text/plain", b"b".to_vec())
        .await
        .json);
    let mut eleven = Vec::new();
    for i in 0..11 {
        eleven.push(id(&s
            .upload(&alice, &g, &format!("{i}.txt"), "text/plain", vec![b'x'])
            .await
            .json));
    }
    for (ids, why) in [
        (vec![elsewhere.clone()], "an upload to another group"),
        (vec![bobs.clone()], "another user's upload"),
        (
            vec![uuid::Uuid::now_v7().to_string()],
            "an id that names nothing",
        ),
        (eleven.clone(), "eleven uploads"),
        (
            vec![eleven[0].clone(), eleven[0].clone()],
            "one upload twice",
        ),
    ] {
        let r = s
            .try_send(&alice, &g, json!({"body": "x", "attachment_ids": ids}))
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("attachment_ids"), "{why}: {}", r.text);
    }
    // Nothing was written: ten of them still go in one message.
    let ten: Vec<&str> = eleven[..10].iter().map(String::as_str).collect();
    let sent = carry(s, &alice, &g, &ten).await;
    assert_eq!(sent["attachments"].as_array().unwrap().len(), 10);
    assert_eq!(num(&sent, "seq"), 1, "a refused send took a seq");
    // Not an array of ids: a bad request.
    s.try_send(&alice, &g, json!({"body": "x", "attachment_ids": "nope"}))
        .await
        .expect_error(400, "bad_request");
    // An upload to a group the caller is not in.
    let carol = s.register("carol").await;
    let r = s
        .upload(&carol, &g, "c.txt", "text/plain", b"c".to_vec())
        .await;
    let ghost = s
        .upload(
            &carol,
            &uuid::Uuid::now_v7().to_string(),
            "c.txt",
            "text/plain",
            b"c".to_vec(),
        )
        .await;
    r.expect_error(404, "not_found");
    assert_eq!(r.json, ghost.json);
}

async fn file_names_are_cleaned_and_sent_safely(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let long = format!("{}.txt", "n".repeat(2_000));
    for (raw, expect) in [
        ("../../etc/passwd", "passwd".to_owned()),
        ("a\u{0}b.txt", "ab.txt".to_owned()),
        ("evil\u{202E}gpj.exe", "evilgpj.exe".to_owned()),
        ("résumé \"final\".txt", "résumé \"final\".txt".to_owned()),
        (long.as_str(), format!("{}.txt", "n".repeat(251))),
        ("", "file".to_owned()),
    ] {
        let up = s.upload(&alice, &g, raw, "text/plain", b"x".to_vec()).await;
        up.expect(201);
        assert_eq!(up.json["name"], expect, "{raw:?}");
        let aid = id(&up.json);
        carry(s, &alice, &g, &[&aid]).await;
        let d = s
            .download(Some(&bob.access), &format!("/attachments/{aid}"), &[])
            .await;
        let disposition = d.header("content-disposition");
        assert!(
            disposition.is_ascii() && disposition.starts_with("attachment; filename=\""),
            "{disposition}"
        );
        assert!(
            !disposition.contains('/') && !disposition.contains('\\'),
            "{disposition}"
        );
    }
    // A name of 10,000 characters does not fit in the request target (8 KiB): a clear 414.
    let huge = s
        .upload(&alice, &g, &"n".repeat(10_000), "text/plain", b"x".to_vec())
        .await;
    huge.expect_error(414, "uri_too_long");
    let up = s
        .upload(&alice, &g, "résumé.txt", "text/plain", b"x".to_vec())
        .await;
    let aid = id(&up.json);
    carry(s, &alice, &g, &[&aid]).await;
    let d = s
        .download(Some(&bob.access), &format!("/attachments/{aid}"), &[])
        .await;
    assert_eq!(
        d.header("content-disposition"),
        "attachment; filename=\"r_sum_.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"
    );
}

async fn bytes_that_are_not_their_declared_type_are_refused(f: Files) {
    let s = &f.server;
    let (alice, _bob, g) = pair(s).await;
    // A zip file.
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00 rest of a zip".to_vec();
    let r = s
        .upload(&alice, &g, "cat.png", "image/png", zip.clone())
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("content_type"));
    s.upload(&alice, &g, "a.zip", "application/zip", zip)
        .await
        .expect(201);
    // A PNG signature on a zip: declared a zip, it is refused; declared a PNG, it is no image.
    let mut png_on_zip = tiny_png()[..16].to_vec();
    png_on_zip.extend(b"PK\x03\x04\x14\x00\x00\x00\x08\x00 rest of a zip");
    let r = s
        .upload(&alice, &g, "a.zip", "application/zip", png_on_zip.clone())
        .await;
    r.expect_error(422, "validation_failed");
    let r = s.upload(&alice, &g, "a.png", "image/png", png_on_zip).await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("content_type"));
    // Text declared as a JPEG.
    s.upload(&alice, &g, "a.jpg", "image/jpeg", b"not a jpeg".to_vec())
        .await
        .expect_error(422, "validation_failed");
    // Nothing of the refused uploads counts against the quota or stays behind.
    let ok = s
        .upload(&alice, &g, "b.txt", "text/plain", b"fine".to_vec())
        .await;
    ok.expect(201);
}

async fn a_decompression_bomb_is_refused_without_decoding(f: Files) {
    let s = &f.server;
    let (alice, _bob, g) = pair(s).await;
    let r = s
        .upload(
            &alice,
            &g,
            "bomb.png",
            "image/png",
            png_header_claiming(50_000, 50_000),
        )
        .await;
    r.expect_error(422, "validation_failed");
    assert_eq!(r.field(), Some("content_type"));
    // Refused by the header's numbers alone: 50,000² pixels would be 10 GB decoded (the
    // use-case tests hold that no decode is even tried).
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("50000"),
        "{}",
        r.text
    );
}

async fn an_svg_with_script_is_stored_but_never_run(f: Files) {
    let s = &f.server;
    let (alice, bob, g) = pair(s).await;
    let svg =
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>"#;
    let up = s
        .upload(&alice, &g, "x.svg", "image/svg+xml", svg.to_vec())
        .await;
    up.expect(201);
    assert_eq!(up.json["width"], json!(null));
    let aid = id(&up.json);
    carry(s, &alice, &g, &[&aid]).await;
    let d = s
        .download(Some(&bob.access), &format!("/attachments/{aid}"), &[])
        .await;
    assert_eq!(d.status, 200);
    assert_eq!(d.header("content-type"), "image/svg+xml");
    assert!(d.header("content-disposition").starts_with("attachment;"));
    assert_eq!(d.header("content-security-policy"), "sandbox");
    assert_eq!(d.header("x-content-type-options"), "nosniff");
    let thumb = s
        .download(
            Some(&bob.access),
            &format!("/attachments/{aid}/thumbnail"),
            &[],
        )
        .await;
    assert_eq!(thumb.status, 404);
    // HTML likewise.
    let html = s
        .upload(
            &alice,
            &g,
            "x.html",
            "text/html",
            b"<script>1</script>".to_vec(),
        )
        .await;
    html.expect(201);
}

async fn an_upload_without_or_with_a_bad_content_type_is_refused(f: Files) {
    let s = &f.server;
    let (alice, _bob, g) = pair(s).await;
    let path = format!("/api/v1/groups/{g}/attachments?name=a.txt");
    let none = s
        .call(
            Method::POST,
            &path,
            Some(&alice.access),
            Body::Raw {
                content_type: None,
                bytes: b"x".to_vec(),
            },
        )
        .await;
    none.expect_error(415, "unsupported_media_type");
    for bad in ["text", "a b/c", "/", "image/png/x"] {
        let r = s
            .call(
                Method::POST,
                &path,
                Some(&alice.access),
                Body::Raw {
                    content_type: Some(bad),
                    bytes: b"x".to_vec(),
                },
            )
            .await;
        r.expect_error(422, "validation_failed");
        assert_eq!(r.field(), Some("content_type"), "{bad}");
    }
    // A name that is not valid in a query string is a bad request, not a crash.
    let r = s
        .call(
            Method::POST,
            &format!("/api/v1/groups/{g}/attachments?name=%FF"),
            Some(&alice.access),
            Body::Raw {
                content_type: Some("text/plain"),
                bytes: b"x".to_vec(),
            },
        )
        .await;
    assert!(r.status == 400 || r.status == 201, "{}", r.text);
    // A parameter the route does not know (a client's `filename=` would be dropped silently
    // otherwise), or `name` twice, is a bad request: nothing is stored under a guessed name.
    for query in [
        "name=a.txt&filename=b.png",
        "filename=b.png",
        "name=a.txt&name=b.txt",
    ] {
        let r = s
            .call(
                Method::POST,
                &format!("/api/v1/groups/{g}/attachments?{query}"),
                Some(&alice.access),
                Body::Raw {
                    content_type: Some("text/plain"),
                    bytes: b"x".to_vec(),
                },
            )
            .await;
        r.expect_error(400, "bad_request");
    }
}

async fn the_size_limit_is_enforced_declared_or_not(store: Store) {
    let s = TestServer::start_with(store, &["--attachment-max-bytes", "1M"]).await;
    let (alice, _bob, g) = pair(&s).await;
    s.upload(
        &alice,
        &g,
        "ok.bin",
        "application/octet-stream",
        vec![7; 1 << 20],
    )
    .await
    .expect(201);
    // Declared too large: refused before the body is read — a client that sends only the head
    // gets its answer.
    let head = format!(
        "POST /api/v1/groups/{g}/attachments?name=big.bin HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 1073741824\r\n\r\n",
        alice.access
    );
    let answer = raw_exchange(&s, head.as_bytes(), Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // Not declared (chunked): refused once the bytes pass the limit.
    let body = reqwest::Body::wrap_stream(futures::stream::iter(
        (0..40).map(|_| Ok::<_, std::io::Error>(vec![1u8; 64 * 1024])),
    ));
    let res = s
        .http
        .post(s.url(&format!("/api/v1/groups/{g}/attachments?name=big.bin")))
        .bearer_auth(&alice.access)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await;
    if let Ok(res) = res {
        assert_eq!(res.status().as_u16(), 413);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["error"]["code"], "payload_too_large");
    }
    // Either way nothing of it was kept.
    let page = s
        .upload(&alice, &g, "after.txt", "text/plain", b"x".to_vec())
        .await;
    page.expect(201);
    assert_eq!(s.count_rows("attachments", "name", "big.bin").await, 0);
}

/// Writes `request` on a fresh connection and reads what comes back within `wait`.
async fn raw_exchange(s: &TestServer, request: &[u8], wait: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(wait, conn.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn the_quota_counts_every_upload_of_the_user(store: Store) {
    let s = TestServer::start_with(store, &["--attachment-quota", "3K"]).await;
    let (alice, bob, g) = pair(&s).await;
    let a = s
        .upload(&alice, &g, "a", "application/octet-stream", vec![0; 2048])
        .await;
    a.expect(201);
    let over = s
        .upload(&alice, &g, "b", "application/octet-stream", vec![0; 1025])
        .await;
    over.expect_error(422, "quota_exceeded");
    // Declared too large for the quota: refused before the body is read.
    let head = format!(
        "POST /api/v1/groups/{g}/attachments?name=q HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 2000\r\n\r\n",
        alice.access
    );
    let answer = raw_exchange(&s, head.as_bytes(), Duration::from_secs(10)).await;
    assert!(
        answer.starts_with("HTTP/1.1 422") && answer.contains("quota_exceeded"),
        "{answer}"
    );
    s.upload(&alice, &g, "c", "application/octet-stream", vec![0; 1024])
        .await
        .expect(201);
    // Unused uploads count too; the quota is per user.
    let full = s
        .upload(&alice, &g, "e", "application/octet-stream", vec![0; 1])
        .await;
    full.expect_error(422, "quota_exceeded");
    s.upload(&bob, &g, "d", "application/octet-stream", vec![0; 3072])
        .await
        .expect(201);
    // A deleted message gives its bytes back.
    let message = carry(&s, &alice, &g, &[&id(&a.json)]).await;
    s.delete(&format!("/messages/{}", id(&message)), Some(&alice.access))
        .await
        .expect(204);
    s.upload(&alice, &g, "f", "application/octet-stream", vec![0; 2048])
        .await
        .expect(201);
}

async fn an_upload_cut_off_midway_stores_nothing(store: Store) {
    let s = TestServer::start(store).await;
    let (alice, _bob, g) = pair(&s).await;
    let head = format!(
        "POST /api/v1/groups/{g}/attachments?name=half.bin HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: 1048576\r\n\r\n",
        alice.access
    );
    let mut request = head.into_bytes();
    request.extend(vec![5u8; 300 * 1024]);
    // Write half the body, then hang up.
    let answer = raw_exchange(&s, &request, Duration::from_millis(500)).await;
    assert!(
        answer.is_empty(),
        "answered before the body was complete: {answer}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(s.count_rows("attachments", "name", "half.bin").await, 0);
    // The server is fine and the user's quota untouched.
    s.upload(
        &alice,
        &g,
        "whole.bin",
        "application/octet-stream",
        vec![1; 1024],
    )
    .await
    .expect(201);
}
