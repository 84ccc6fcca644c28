use super::*;

fn ct(s: &str) -> ContentType {
    ContentType::parse(s).unwrap()
}

#[test]
fn a_name_keeps_only_its_last_path_component() {
    assert_eq!(FileName::clean("../../etc/passwd").as_str(), "passwd");
    assert_eq!(
        FileName::clean("C:\\Users\\me\\cat.png").as_str(),
        "cat.png"
    );
    assert_eq!(FileName::clean("..").as_str(), FileName::FALLBACK);
    assert_eq!(FileName::clean("a/..").as_str(), FileName::FALLBACK);
    assert_eq!(FileName::clean("").as_str(), FileName::FALLBACK);
    assert_eq!(FileName::clean("  report.pdf  ").as_str(), "report.pdf");
    assert_eq!(FileName::clean(".bashrc").as_str(), ".bashrc");
}

#[test]
fn control_and_direction_characters_are_dropped() {
    assert_eq!(FileName::clean("a\0b\nc.txt").as_str(), "abc.txt");
    assert_eq!(
        FileName::clean("evil\u{202E}gpj.exe").as_str(),
        "evilgpj.exe"
    );
    assert_eq!(FileName::clean("\u{2066}x\u{2069}.png").as_str(), "x.png");
    assert_eq!(
        FileName::clean("\u{0}\u{202E}").as_str(),
        FileName::FALLBACK
    );
}

#[test]
fn a_long_name_is_cut_on_a_character_boundary_and_keeps_its_extension() {
    let long = format!("{}.jpeg", "é".repeat(10_000));
    let name = FileName::clean(&long);
    assert!(name.as_str().len() <= FileName::MAX_BYTES);
    assert!(name.as_str().ends_with("é.jpeg"), "{}", name.as_str());
    let no_ext = FileName::clean(&"x".repeat(10_000));
    assert_eq!(no_ext.as_str().len(), FileName::MAX_BYTES);
}

#[test]
fn media_types_are_lower_cased_without_parameters() {
    assert_eq!(ct("Image/PNG").as_str(), "image/png");
    assert_eq!(ct("text/plain; charset=utf-8").as_str(), "text/plain");
    for bad in [
        "",
        "image",
        "/png",
        "image/",
        "im age/png",
        "a/b/c",
        "x/\u{e9}",
    ] {
        assert!(ContentType::parse(bad).is_err(), "{bad:?}");
    }
    assert!(ContentType::parse(&format!("a/{}", "b".repeat(200))).is_err());
}

#[test]
fn only_the_four_raster_types_are_images() {
    for raster in ["image/png", "image/jpeg", "image/gif", "image/webp"] {
        assert!(ct(raster).is_raster_image());
    }
    for other in [
        "image/svg+xml",
        "text/html",
        "application/pdf",
        "image/tiff",
    ] {
        assert!(!ct(other).is_raster_image(), "{other}");
    }
}

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04\x14\0\0\0\x08\0";

#[test]
fn bytes_must_be_what_they_are_declared_as() {
    let png = sniff(PNG_MAGIC);
    assert_eq!(png, Some("image/png"));
    assert!(check_content(&ct("image/png"), png).is_ok());
    assert!(check_content(&ct("application/octet-stream"), png).is_ok());
    assert!(check_content(&ct("application/octet-stream"), sniff(b"\x05\x05")).is_ok());
    assert!(check_content(&ct("application/zip"), png).is_err());
    // A PNG declared, and zip bytes (or text) sent.
    assert!(check_content(&ct("image/png"), sniff(ZIP_MAGIC)).is_err());
    assert!(check_content(&ct("image/png"), sniff(b"just some text")).is_err());
    // Types without magic numbers are taken as declared.
    assert!(check_content(&ct("text/plain"), sniff(b"hello")).is_ok());
    assert!(check_content(&ct("image/svg+xml"), sniff(b"<svg><script/></svg>")).is_ok());
    // Aliases and zip-based containers.
    assert!(check_content(&ct("image/jpg"), Some("image/jpeg")).is_ok());
    assert!(check_content(&ct("application/epub+zip"), Some("application/zip")).is_ok());
}

#[test]
fn images_past_the_decode_limits_are_refused() {
    assert!(check_image_size(8000, 6000).is_ok());
    assert!(check_image_size(50_000, 50_000).is_err());
    assert!(check_image_size(16_384, 16_384).is_err());
    assert!(check_image_size(1, 20_000).is_err());
    assert!(check_image_size(0, 10).is_err());
}

#[test]
fn thumbnails_keep_the_aspect_and_never_grow() {
    assert_eq!(thumbnail_size(100, 50), (100, 50));
    assert_eq!(thumbnail_size(2048, 1024), (512, 256));
    assert_eq!(thumbnail_size(1000, 4000), (128, 512));
    assert_eq!(thumbnail_size(10_000, 1), (512, 1));
}

#[test]
fn the_quota_counts_what_is_already_used() {
    assert!(check_quota(0, 100, 100).is_ok());
    assert_eq!(check_quota(1, 100, 100), Err(QuotaExceeded { quota: 100 }));
    assert!(check_quota(u64::MAX, 1, 100).is_err());
}

fn upload(uploader: UserId, group: GroupId, used: bool) -> Attachment {
    Attachment {
        id: AttachmentId::new(),
        group_id: group,
        uploader_id: uploader,
        message_id: used.then(MessageId::new),
        name: FileName::clean("a.txt"),
        content_type: ct("text/plain"),
        size: 1,
        sha256: String::new(),
        width: None,
        height: None,
        created_at: time::OffsetDateTime::UNIX_EPOCH,
    }
}

#[test]
fn a_message_carries_only_its_senders_unused_uploads_to_its_group() {
    let (me, other) = (UserId::new(), UserId::new());
    let (g, elsewhere) = (GroupId::new(), GroupId::new());
    let mine = upload(me, g, false);
    assert!(check_attachable(&[mine.id], std::slice::from_ref(&mine), me, g).is_ok());
    for bad in [
        upload(other, g, false),
        upload(me, elsewhere, false),
        upload(me, g, true),
    ] {
        assert!(check_attachable(&[bad.id], std::slice::from_ref(&bad), me, g).is_err());
    }
    assert!(check_attachable(&[AttachmentId::new()], &[], me, g).is_err());
    assert!(check_attachable(&[mine.id, mine.id], std::slice::from_ref(&mine), me, g).is_err());
    let eleven: Vec<_> = (0..11).map(|_| upload(me, g, false)).collect();
    let ids: Vec<_> = eleven.iter().map(|a| a.id).collect();
    assert!(check_attachable(&ids, &eleven, me, g).is_err());
    assert!(check_attachable(&ids[..10], &eleven, me, g).is_ok());
}
