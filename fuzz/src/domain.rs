//! `domain_input`: the domain's parsers of user input — usernames, emails, passwords, display
//! names, countries, message bodies, client ids, group names, aliases, one-time codes, purposes,
//! roles, search words and search queries, page limits. The first byte picks the parser, the
//! rest is the raw input (UTF-8, as every one of them is only ever given text).
//!
//! Besides "never panics": what a parser accepts is its canonical form, which it accepts again
//! unchanged (a value read back from storage is the value that was stored), and it keeps the
//! rule its doc states (lengths, characters); what it refuses maps to a 422 with its field.
//!
//! Mention and emoji parsing do not exist yet (issue 17 adds them, with their own cases here).

use std::fmt::Debug;

use confab_domain::{
    Alias, Body, ClientId, Country, DisplayName, Email, GlobalRole, GroupName, Invalid,
    MAX_WORD_BYTES, OtpCode, OtpPurpose, Password, Role, Username, search_words,
};

use crate::check_invalid;

/// The parsers, in the order of the selector byte (`byte % PARSERS.len()`).
pub const PARSERS: [&str; 15] = [
    "username",
    "email",
    "password",
    "display_name",
    "country",
    "body",
    "client_id",
    "group_name",
    "alias",
    "otp_code",
    "otp_purpose",
    "role",
    "search_words",
    "search_terms",
    "page_limit",
];

pub fn domain_input(data: &[u8]) {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let which = PARSERS[usize::from(selector) % PARSERS.len()];
    if which == "page_limit" {
        return page_limit(input);
    }
    let Ok(raw) = std::str::from_utf8(input) else {
        return;
    };
    match which {
        "username" => {
            if let Some(u) = canonical(raw, Username::parse, Username::as_str) {
                let n = u.as_str().chars().count();
                assert!((Username::MIN..=Username::MAX).contains(&n), "{u:?}");
                assert!(
                    u.as_str().bytes().all(|b| b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'_' | b'.' | b'-')),
                    "{u:?}"
                );
            }
        }
        "email" => {
            if let Some(e) = canonical(raw, Email::parse, Email::as_str) {
                let s = e.as_str();
                assert!(s.chars().count() <= Email::MAX, "{s:?} is too long");
                assert!(!s.chars().any(char::is_whitespace), "{s:?}");
                assert!(s.contains('@'), "{s:?}");
            }
        }
        "password" => {
            if let Some(p) = canonical(raw, Password::parse, Password::expose) {
                let n = p.expose().chars().count();
                assert!((Password::MIN..=Password::MAX).contains(&n));
                assert_eq!(p.expose(), raw, "a password is never changed");
            }
        }
        "display_name" => {
            if let Some(d) = canonical(raw, DisplayName::parse, DisplayName::as_str) {
                label(d.as_str(), DisplayName::MAX);
            }
        }
        "country" => {
            if let Some(c) = canonical(raw, Country::parse, Country::as_str) {
                let s = c.as_str();
                assert!(
                    s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()),
                    "{s:?}"
                );
            }
        }
        "body" => {
            if let Some(b) = canonical(raw, Body::parse, Body::as_str) {
                let s = b.as_str();
                assert_eq!(s, s.trim(), "a body is trimmed");
                assert!((1..=Body::MAX).contains(&s.chars().count()), "{s:?}");
                assert!(
                    !s.chars()
                        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')),
                    "{s:?}"
                );
            }
        }
        "client_id" => {
            if let Some(c) = canonical(raw, ClientId::parse, ClientId::as_str) {
                assert_eq!(c.as_str(), raw, "a client id is opaque");
                assert!((1..=ClientId::MAX).contains(&raw.chars().count()));
            }
        }
        "group_name" => {
            if let Some(n) = canonical(raw, GroupName::parse, GroupName::as_str) {
                label(n.as_str(), GroupName::MAX);
            }
        }
        "alias" => {
            if let Some(a) = canonical(raw, Alias::parse, Alias::as_str) {
                label(a.as_str(), Alias::MAX);
            }
        }
        "otp_code" => {
            if let Some(c) = canonical(raw, OtpCode::parse, OtpCode::as_str) {
                let s = c.as_str();
                assert!(
                    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()),
                    "{s:?}"
                );
            }
        }
        "otp_purpose" => match OtpPurpose::parse(raw) {
            Ok(p) => assert_eq!(p.as_str(), raw),
            Err(e) => check_invalid(e),
        },
        "role" => {
            match Role::parse(raw) {
                Ok(r) => assert_eq!(r.as_str(), raw),
                Err(e) => check_invalid(e),
            }
            match GlobalRole::parse(raw) {
                Ok(r) => assert_eq!(r.as_str(), raw),
                Err(e) => check_invalid(e),
            }
        }
        "search_words" => words(raw),
        "search_terms" => search_terms(raw),
        _ => unreachable!("every parser has a case"),
    }
}

/// Parses `raw`; an accepted value must be accepted again, unchanged, from its own text (the
/// text a store keeps and hands back); a refusal must be a proper 422.
fn canonical<T: PartialEq + Debug>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, Invalid>,
    text: impl Fn(&T) -> &str,
) -> Option<T> {
    match parse(raw) {
        Ok(value) => {
            let stored = text(&value);
            match parse(stored) {
                Ok(again) => assert_eq!(again, value, "{raw:?} is not stable through {stored:?}"),
                Err(e) => panic!("{raw:?} was accepted as {stored:?}, which is refused: {e}"),
            }
            Some(value)
        }
        Err(e) => {
            check_invalid(e);
            None
        }
    }
}

/// A trimmed label (names, aliases): 1–`max` characters, no control characters.
fn label(s: &str, max: usize) {
    assert_eq!(s, s.trim(), "{s:?} is not trimmed");
    assert!((1..=max).contains(&s.chars().count()), "{s:?}");
    assert!(!s.chars().any(char::is_control), "{s:?}");
}

/// Search words: non-empty runs of letters and digits, at most `MAX_WORD_BYTES`, each its own
/// only word (folding a folded word changes nothing — both stores rely on it).
fn words(raw: &str) {
    for w in search_words(raw) {
        assert!(!w.is_empty());
        assert!(w.len() <= MAX_WORD_BYTES, "a word of {} bytes", w.len());
        assert!(w.chars().all(char::is_alphanumeric), "{w:?} from {raw:?}");
        assert_eq!(
            search_words(&w),
            std::slice::from_ref(&w),
            "{w:?} from {raw:?} folds again"
        );
    }
}

/// A search query (`GET /search/messages?q=`): at most 16 words, or a 422 on `q`.
fn search_terms(raw: &str) {
    match confab_ports::service::search_terms(raw) {
        Ok(terms) => {
            assert!((1..=16).contains(&terms.len()), "{terms:?}");
            let all = search_words(raw);
            assert_eq!(terms[..], all[..terms.len()], "terms are the first words");
        }
        Err(e) => {
            let api = confab_http::fuzzing::ApiError::from(e);
            assert_eq!(api.status.as_u16(), 422, "{api:?}");
            assert_eq!(api.field, Some("q"));
            crate::check_client_error(api);
        }
    }
}

/// `limit` of every paged route: below 1 is a 422, above the maximum is the maximum.
fn page_limit(input: &[u8]) {
    let mut bytes = [0u8; 8];
    let n = input.len().min(8);
    bytes[..n].copy_from_slice(&input[..n]);
    let raw = i64::from_le_bytes(bytes);
    let (default, max) = (50, 100);
    for limit in [None, Some(raw)] {
        match confab_ports::service::page_limit(limit, default, max) {
            Ok(got) => {
                assert!((1..=max).contains(&got), "{limit:?} gave {got}");
                if limit.is_none() {
                    assert_eq!(got, default);
                }
            }
            Err(e) => {
                assert!(raw < 1, "{raw} was refused");
                crate::check_client_error(confab_http::fuzzing::ApiError::from(e));
            }
        }
    }
}
