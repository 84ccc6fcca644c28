//! The directory walk's rules on names; the behaviour of the whole adapter is the shared blob
//! suite's (`tests/tests/blobs`).

use super::*;

#[test]
fn prefixes_are_six_lower_case_hex_digits() {
    assert!(is_prefix("0190ab"));
    assert!(!is_prefix("0190AB"));
    assert!(!is_prefix("tmp"));
    assert!(!is_prefix("0190abc"));
    assert!(!is_prefix("0190ag"));
}

#[test]
fn only_the_canonical_name_under_its_own_prefix_is_a_blob() {
    let id = Uuid::now_v7();
    let name = id.hyphenated().to_string();
    let prefix = &name[..PREFIX_LEN];
    assert_eq!(blob_id(&name, prefix), Some(id));
    assert_eq!(blob_id(&name.to_uppercase(), prefix), None);
    assert_eq!(blob_id(&id.simple().to_string(), prefix), None);
    assert_eq!(blob_id(&name, "ffffff"), None);
    assert_eq!(blob_id(&format!("{name}.part"), prefix), None);
}

#[test]
fn a_page_stops_at_the_directory_that_fills_it() {
    let root = tempfile::tempdir().unwrap();
    let ids: Vec<Uuid> = (1..=4u128).map(|n| Uuid::from_u128(n << 100)).collect();
    for id in &ids {
        let name = id.hyphenated().to_string();
        let dir = root.path().join(&name[..PREFIX_LEN]);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(&name), b"").unwrap();
    }
    assert_eq!(list_after(root.path(), None, 2).unwrap(), ids[..2]);
    assert_eq!(list_after(root.path(), Some(ids[1]), 10).unwrap(), ids[2..]);
    assert_eq!(
        list_after(root.path(), Some(ids[3]), 10).unwrap(),
        Vec::<Uuid>::new()
    );
    // A directory not there (yet) holds no blobs.
    std::fs::remove_dir_all(root.path()).unwrap();
    assert_eq!(
        list_after(root.path(), None, 10).unwrap(),
        Vec::<Uuid>::new()
    );
}

#[test]
fn errors_say_what_and_where() {
    let e: Error = DirError::io("rename", Path::new("/x/tmp/a.part"))(io::Error::from(
        io::ErrorKind::PermissionDenied,
    ))
    .into();
    let Error::Unavailable(why) = e else {
        panic!("expected Unavailable, got {e:?}");
    };
    assert!(
        why.contains("rename") && why.contains("/x/tmp/a.part"),
        "{why}"
    );
    let taken: Error = DirError::Taken(PathBuf::from("/x/a")).into();
    assert!(matches!(taken, Error::Conflict { field: "id" }));
}
