//! The rules the server enforces on input, as JSON Schema for the OpenAPI document.
//!
//! Nothing here is a second copy of a rule. Every length, bound and count is the domain's or
//! the use case's own constant, and every character class and list of allowed values is
//! computed from the domain's own parser (a character is in a class because the parser accepts
//! it there). So when a rule changes in the domain, the document changes with it.
//!
//! A field gets its rule with `#[schema(schema_with = rules::…)]` (request bodies) or
//! `#[param(schema_with = rules::…)]` (query strings; a required parameter takes its rule as a
//! type, `#[param(inline, value_type = rules::…)]`). Patterns are anchored ECMA-262 regular
//! expressions that Python's `re` reads the same way; non-ASCII characters are written
//! `\uXXXX`.

use std::sync::LazyLock;

use confab_domain::attachment::MAX_ATTACHMENTS_PER_MESSAGE;
use confab_domain::policy::joining_role;
use confab_domain::{
    Alias, BanReason, Body, ClientId, Country, DisplayName, Email, GlobalRole, GroupKind,
    GroupName, InviteCode, OTP_DIGITS, OtpCode, OtpPurpose, Password, ReportDecision, ReportReason,
    ReportStatus, Role, Username,
};
use confab_ports::service::{
    ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX, MAX_INITIAL_MEMBERS, MESSAGES_DEFAULT, MESSAGES_MAX,
    REPORTS_DEFAULT, REPORTS_MAX, USER_SEARCH_DEFAULT, USER_SEARCH_MAX, USER_SEARCH_QUERY_MAX,
    search_terms,
};
use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    Array, ArrayBuilder, KnownFormat, Object, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};

/// The characters a class is computed over: the Basic Multilingual Plane. Every character the
/// rules single out (control, white space, invisible fillers) lies in it; a unit test scans the
/// other planes and checks that they would add nothing.
const SCANNED: u32 = 0xFFFF;

/// The characters from `first` to `last` that `accepts`, as inclusive ranges.
fn ranges(first: u32, last: u32, accepts: impl Fn(char) -> bool) -> Vec<(char, char)> {
    let mut out: Vec<(char, char)> = Vec::new();
    for c in (first..=last).filter_map(char::from_u32) {
        if !accepts(c) {
            continue;
        }
        match out.last_mut() {
            Some((_, end)) if u32::from(*end) + 1 == u32::from(c) => *end = c,
            _ => out.push((c, c)),
        }
    }
    out
}

/// One character inside a bracket expression.
fn escaped(c: char) -> String {
    match c {
        '\\' | ']' | '[' | '^' | '-' => format!("\\{c}"),
        c if c.is_ascii_graphic() => c.to_string(),
        c => format!("\\u{:04X}", u32::from(c)),
    }
}

/// A bracket expression: the characters of `ranges`, or every other one when `negated`.
fn bracket(ranges: &[(char, char)], negated: bool) -> String {
    let mut out = String::from(if negated { "[^" } else { "[" });
    for &(first, last) in ranges {
        out.push_str(&escaped(first));
        if last != first {
            if u32::from(last) > u32::from(first) + 1 {
                out.push('-');
            }
            out.push_str(&escaped(last));
        }
    }
    out.push(']');
    out
}

/// The class of characters up to [`SCANNED`] that `accepts`, written as the shorter of the two
/// ways (the characters themselves, or `[^…]` of the others).
fn class(accepts: impl Fn(char) -> bool) -> String {
    let inside = ranges(0, SCANNED, accepts);
    // The gaps between the accepted ranges (surrogates are no characters, so no gap).
    let mut outside = Vec::new();
    let mut next = 0;
    for &(first, last) in inside.iter().chain([(char::MAX, char::MAX)].iter()) {
        let gap_end = u32::from(first).min(SCANNED + 1);
        let gap: Vec<char> = (next..gap_end).filter_map(char::from_u32).collect();
        if let (Some(&a), Some(&b)) = (gap.first(), gap.last()) {
            outside.push((a, b));
        }
        next = u32::from(last) + 1;
    }
    if outside.len() < inside.len() {
        bracket(&outside, true)
    } else {
        bracket(&inside, false)
    }
}

/// Longest search query tried when looking for the limit: far beyond any request target the
/// server reads.
const MAX_QUERY_PROBED: usize = 1 << 14;

/// The largest `n` up to `cap` for which `accepts(n)` holds, given that it holds for 1 and, once
/// it fails, keeps failing; `None` when it holds all the way to `cap` (no limit to state).
fn longest(cap: usize, accepts: impl Fn(usize) -> bool) -> Option<usize> {
    if accepts(cap) {
        return None;
    }
    let (mut ok, mut bad) = (1, cap);
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if accepts(mid) {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    Some(ok)
}

/// A trimmed piece of text: content characters (`inner`), at least one of which shows
/// (`shows`).
fn trimmed_text(inner: &str, shows: &str) -> String {
    format!("^{inner}*{shows}{inner}*$")
}

/// What the domain's parsers accept, worked out once per process.
struct Computed {
    /// A group name, an alias or a display name (they share the label rule, but each is
    /// computed from its own parser).
    group_name: String,
    alias: String,
    ban_reason: String,
    display_name: String,
    body: String,
    /// A report's reason: the text rule of a body, with its own limit.
    reason: String,
    client_id: String,
    username: String,
    otp: String,
    /// A `login` that is not blank (the use case trims it).
    login: String,
    email: String,
    /// A search query with at least one word.
    search: String,
    /// Longest search query, in characters.
    search_max: Option<usize>,
    countries: Vec<String>,
}

/// One character as a string, with `before` and `after` around it.
fn around(before: &str, c: char, after: &str) -> String {
    format!("{before}{c}{after}")
}

static COMPUTED: LazyLock<Computed> = LazyLock::new(|| {
    let label = |parse: fn(&str) -> bool| {
        // Inside a label any character the parser keeps is fine; a label of one character is
        // accepted only when that character shows (is neither trimmed away nor refused).
        trimmed_text(
            &class(|c| parse(&around("a", c, "a"))),
            &class(|c| parse(&c.to_string())),
        )
    };
    let ascii = |accepts: &dyn Fn(char) -> bool| {
        bracket(
            &ranges(0, 0x7F, |c| c.is_ascii_graphic() && accepts(c)),
            false,
        )
    };
    let email_ok = |s: &str| Email::parse(s).is_ok();
    // An address as its parser reads it: a local part of printable ASCII (so that characters
    // and bytes count alike), `@`, and dot-separated labels that begin and end with a letter or
    // digit and may have hyphens inside.
    let local = ascii(&|c| email_ok(&around("", c, "@example.com")));
    let local_max = longest(Email::MAX, |n| {
        email_ok(&format!("{}@example.com", "a".repeat(n)))
    })
    .unwrap_or(Email::MAX);
    let edge = ascii(&|c| email_ok(&around("a@", c, ".example")));
    // Not the dot that the pattern itself puts between labels.
    let middle = ascii(&|c| c != '.' && email_ok(&around("a@x", c, "x.example")));
    let domain_label = format!("{edge}(?:{middle}*{edge})?");
    let email = format!("^{local}{{1,{local_max}}}@(?:{domain_label}\\.)+{domain_label}$");

    let letters: Vec<char> = (' '..='~').collect();
    let mut countries: Vec<String> = letters
        .iter()
        .flat_map(|&a| letters.iter().map(move |&b| format!("{a}{b}")))
        .filter_map(|code| Country::parse(&code).ok())
        .map(|c| c.as_str().to_owned())
        .collect();
    countries.sort();
    countries.dedup();

    Computed {
        group_name: label(|s| GroupName::parse(s).is_ok()),
        alias: label(|s| Alias::parse(s).is_ok()),
        ban_reason: label(|s| BanReason::parse(s).is_ok()),
        display_name: label(|s| DisplayName::parse(s).is_ok()),
        body: trimmed_text(
            &class(|c| Body::parse(&around("a", c, "a")).is_ok()),
            &class(|c| Body::parse(&c.to_string()).is_ok()),
        ),
        reason: trimmed_text(
            &class(|c| ReportReason::parse(&around("a", c, "a")).is_ok()),
            &class(|c| ReportReason::parse(&c.to_string()).is_ok()),
        ),
        client_id: format!("^{}*$", class(|c| ClientId::parse(&c.to_string()).is_ok())),
        username: format!(
            "^{}*$",
            class(|c| Username::parse(&around("ab", c, "")).is_ok())
        ),
        otp: format!(
            "^{}{{{OTP_DIGITS}}}$",
            ascii(&|c| OtpCode::parse(&c.to_string().repeat(OTP_DIGITS)).is_ok())
        ),
        // The use case trims a login with `str::trim`, which takes off white space.
        login: class(|c| !c.is_whitespace()),
        email,
        search: ascii(&|c| search_terms(&c.to_string()).is_ok()),
        search_max: longest(MAX_QUERY_PROBED, |n| search_terms(&"a".repeat(n)).is_ok()),
        countries,
    }
});

// Every value of the domain's enums. Each list is checked by an exhaustive `match`, so a new
// variant is a compile error here until it is listed.

fn every_role() -> [Role; 3] {
    let all = [Role::Owner, Role::Admin, Role::Member];
    all.map(|r| match r {
        Role::Owner | Role::Admin | Role::Member => r,
    })
}

fn every_kind() -> [GroupKind; 2] {
    let all = [GroupKind::Group, GroupKind::Direct];
    all.map(|k| match k {
        GroupKind::Group | GroupKind::Direct => k,
    })
}

fn every_server_role() -> [GlobalRole; 1] {
    let all = [GlobalRole::Admin];
    all.map(|r| match r {
        GlobalRole::Admin => r,
    })
}

fn every_report_status() -> [ReportStatus; 3] {
    ReportStatus::ALL.map(|s| match s {
        ReportStatus::Open | ReportStatus::Resolved | ReportStatus::Dismissed => s,
    })
}

fn every_purpose() -> [OtpPurpose; 4] {
    let all = [
        OtpPurpose::Register,
        OtpPurpose::Login,
        OtpPurpose::PasswordReset,
        OtpPurpose::EmailChange,
    ];
    all.map(|p| match p {
        OtpPurpose::Register
        | OtpPurpose::Login
        | OtpPurpose::PasswordReset
        | OtpPurpose::EmailChange => p,
    })
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// Also `null` (an optional field of a request body).
fn or_null(mut schema: Object) -> Object {
    schema.schema_type = match schema.schema_type {
        SchemaType::Type(t) => SchemaType::from_iter([t, Type::Null]),
        SchemaType::Array(mut types) => {
            types.push(Type::Null);
            SchemaType::Array(types)
        }
        SchemaType::AnyValue => SchemaType::AnyValue,
    };
    if let Some(values) = schema.enum_values.as_mut() {
        values.push(Value::Null);
    }
    schema
}

/// A string that is one of `values`.
fn one_of<S: Into<String>>(values: impl IntoIterator<Item = S>, description: &str) -> Object {
    let values: Vec<Value> = values
        .into_iter()
        .map(|v| Value::String(v.into()))
        .collect();
    string()
        .enum_values(Some(values))
        .description(Some(description))
        .build()
}

/// Trimmed text of at most `max` characters with at least one that shows.
fn label(pattern: &str, max: usize) -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .description(Some(format!(
            "1–{max} characters after trimming; no control characters"
        )))
        .build()
}

pub fn username() -> Object {
    string()
        .min_length(Some(Username::MIN))
        .max_length(Some(Username::MAX))
        .pattern(Some(&COMPUTED.username))
        .description(Some(format!(
            "{}–{} of `{}`; upper case is folded to lower case; unique regardless of case",
            Username::MIN,
            Username::MAX,
            COMPUTED
                .username
                .trim_start_matches('^')
                .trim_end_matches("*$"),
        )))
        .build()
}

pub fn username_or_null() -> Object {
    or_null(username())
}

pub fn password() -> Object {
    string()
        .min_length(Some(Password::MIN))
        .max_length(Some(Password::MAX))
        .description(Some(format!(
            "{}–{} characters",
            Password::MIN,
            Password::MAX
        )))
        .build()
}

pub fn email() -> Object {
    string()
        .format(Some(SchemaFormat::Custom("email".into())))
        .max_length(Some(Email::MAX))
        .pattern(Some(&COMPUTED.email))
        .description(Some(format!(
            "An email address, at most {} characters; compared in lower case",
            Email::MAX
        )))
        .build()
}

pub fn email_or_null() -> Object {
    or_null(email())
}

pub fn display_name_or_null() -> Object {
    or_null(label(&COMPUTED.display_name, DisplayName::MAX))
}

pub fn country_or_null() -> Object {
    or_null(one_of(
        COMPUTED.countries.iter().cloned(),
        "An assigned ISO 3166-1 alpha-2 code such as `DE` (lower case is accepted and folded)",
    ))
}

pub fn otp() -> Object {
    string()
        .min_length(Some(OTP_DIGITS))
        .max_length(Some(OTP_DIGITS))
        .pattern(Some(&COMPUTED.otp))
        .description(Some(format!(
            "The {OTP_DIGITS} digits of a one-time code sent by email"
        )))
        .build()
}

pub fn otp_or_null() -> Object {
    or_null(otp())
}

pub fn invite() -> Object {
    string()
        .min_length(Some(InviteCode::MIN))
        .max_length(Some(InviteCode::MAX))
        .pattern(Some("^[A-Za-z0-9_-]*$"))
        .description(Some(format!(
            "An invite code an admin made: {}–{} of `A-Z a-z 0-9 - _`",
            InviteCode::MIN,
            InviteCode::MAX
        )))
        .build()
}

pub fn invite_or_null() -> Object {
    or_null(invite())
}

pub fn otp_purpose() -> Object {
    one_of(
        every_purpose().map(OtpPurpose::as_str),
        "`register` and `email_change` take `email`; `login` and `password_reset` take `login`",
    )
}

/// A username or an email, as typed; not blank.
pub fn login() -> Object {
    string()
        .min_length(Some(1))
        .pattern(Some(&COMPUTED.login))
        .description(Some("A username or an email address"))
        .build()
}

pub fn login_or_null() -> Object {
    or_null(login())
}

pub fn group_name() -> Object {
    label(&COMPUTED.group_name, GroupName::MAX)
}

pub fn alias_or_null() -> Object {
    let mut alias = or_null(label(&COMPUTED.alias, Alias::MAX));
    alias.description = Some(format!(
        "The caller's own name for the group, 1–{} characters after trimming; `null` clears it",
        Alias::MAX
    ));
    alias
}

pub fn ban_reason_or_null() -> Object {
    let mut reason = or_null(label(&COMPUTED.ban_reason, BanReason::MAX));
    reason.description = Some(format!(
        "Why, for the admins: 1–{} characters on one line after trimming; `null` or absent: none",
        BanReason::MAX
    ));
    reason
}

pub fn member_ids_or_null() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(uuid())
        .max_items(Some(MAX_INITIAL_MEMBERS))
        .description(Some(format!(
            "Users who join as `member` (the caller's own id and repeats are ignored); at most \
             {MAX_INITIAL_MEMBERS}"
        )))
        .build()
}

fn uuid() -> Object {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
        .build()
}

/// The roles a member can be added with (`owner` only by transfer).
pub fn joining_role_or_null() -> Object {
    or_null(one_of(
        every_role()
            .into_iter()
            .filter(|r| joining_role(*r).is_ok())
            .map(Role::as_str),
        "The new member's role; `member` when absent",
    ))
}

pub fn group_role() -> Object {
    one_of(
        every_role().map(Role::as_str),
        "`owner` transfers ownership (the previous owner becomes an admin)",
    )
}

/// A role held in a group, as answers show it.
pub fn role_in_group() -> Object {
    one_of(
        every_role().map(Role::as_str),
        "The member's role in the group",
    )
}

pub fn group_kind() -> Object {
    one_of(
        every_kind().map(GroupKind::as_str),
        "`group` (named, many members) or `direct` (two members, no name)",
    )
}

pub fn server_role() -> Object {
    one_of(
        every_server_role().map(GlobalRole::as_str),
        "A server role (any other is refused with 422)",
    )
}

pub fn body() -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(Body::MAX))
        .pattern(Some(&COMPUTED.body))
        .description(Some(format!(
            "1–{} characters after trimming, not only white space or invisible characters; line \
             breaks and tabs are kept, other control characters refused",
            Body::MAX
        )))
        .build()
}

pub fn report_reason() -> Object {
    string()
        .min_length(Some(1))
        .max_length(Some(ReportReason::MAX))
        .pattern(Some(&COMPUTED.reason))
        .description(Some(format!(
            "Why: 1–{} characters after trimming, not only white space or invisible characters; \
             line breaks and tabs are kept, other control characters refused",
            ReportReason::MAX
        )))
        .build()
}

/// A report's status, as answers show it and as the list filters by.
pub fn report_status() -> Object {
    one_of(
        every_report_status().map(ReportStatus::as_str),
        "`open` until an admin decides it `resolved` or `dismissed`",
    )
}

/// What an admin may decide: every status a report can be given (never back to `open`).
pub fn report_decision() -> Object {
    one_of(
        every_report_status()
            .into_iter()
            .filter(|s| ReportDecision::parse(s.as_str()).is_ok())
            .map(ReportStatus::as_str),
        "`resolved` or `dismissed`; a decided report may change to the other decision, never \
         back to `open` (422)",
    )
}

/// A sent message's body: as [`body`], or empty when files come with it.
pub fn send_body() -> Object {
    string()
        .min_length(Some(0))
        .max_length(Some(Body::MAX))
        .description(Some(format!(
            "1–{} characters after trimming, not only white space or invisible characters (line \
             breaks and tabs are kept, other control characters refused); empty only when \
             `attachment_ids` names at least one file",
            Body::MAX
        )))
        .build()
}

pub fn attachment_ids() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(uuid())
        .max_items(Some(MAX_ATTACHMENTS_PER_MESSAGE))
        .unique_items(true)
        .description(Some(format!(
            "Ids of the caller's own unused uploads to this group (at most \
             {MAX_ATTACHMENTS_PER_MESSAGE}, none twice), carried in this order"
        )))
        .build()
}

pub fn client_id_or_null() -> Object {
    or_null(
        string()
            .min_length(Some(1))
            .max_length(Some(ClientId::MAX))
            .pattern(Some(&COMPUTED.client_id))
            .description(Some(format!(
                "Idempotency key, 1–{} characters, no control characters: the same key again \
                 answers 200 with the first message",
                ClientId::MAX
            )))
            .build(),
    )
}

/// A message's position in its group: never negative.
fn seq_schema(description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(u64::MIN))
        .maximum(Some(i64::MAX))
        .description(Some(description))
        .build()
}

pub fn read_seq() -> Object {
    seq_schema(
        "The seq read up to; clamped to the last message, and the marker never moves backwards",
    )
}

pub fn before_seq() -> Object {
    seq_schema("Messages with seq below this one, newest first")
}

pub fn after_seq() -> Object {
    seq_schema("Messages with seq above this one, oldest first")
}

fn page_limit(default: u32, max: u32) -> Object {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(max))
        .default(Some(Value::from(default)))
        .description(Some(format!(
            "Page size, 1–{max} (larger values are taken as {max}), default {default}"
        )))
        .build()
}

pub fn messages_limit() -> Object {
    page_limit(MESSAGES_DEFAULT, MESSAGES_MAX)
}

pub fn users_limit() -> Object {
    page_limit(USER_SEARCH_DEFAULT, USER_SEARCH_MAX)
}

pub fn announcements_limit() -> Object {
    page_limit(ANNOUNCEMENTS_DEFAULT, ANNOUNCEMENTS_MAX)
}

pub fn reports_limit() -> Object {
    page_limit(REPORTS_DEFAULT, REPORTS_MAX)
}

pub fn user_prefix() -> Object {
    string()
        .max_length(Some(USER_SEARCH_QUERY_MAX))
        .description(Some(
            "Username or display-name prefix (surrounding spaces are ignored)",
        ))
        .build()
}

pub fn search_query() -> Object {
    let mut q = string()
        .min_length(Some(1))
        .pattern(Some(&COMPUTED.search))
        .description(Some(
            "Words that must all appear (letters and digits; case, accents and punctuation do \
             not matter); at least one",
        ));
    if let Some(max) = COMPUTED.search_max {
        q = q.max_length(Some(max));
    }
    q.build()
}

/// A rule as a type, for a parameter that must stay `required` (utoipa drops `required` from a
/// parameter given by `schema_with`, not from one given by `value_type`).
macro_rules! rule_type {
    ($(#[$doc:meta])* $name:ident = $rule:path) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object($rule()))
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

rule_type!(
    /// The words of a search.
    SearchWords = search_query
);
rule_type!(
    /// A server role in a path.
    ServerRole = server_role
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character class would be the same over all of Unicode as over [`SCANNED`].
    #[test]
    fn no_character_beyond_the_scanned_plane_changes_a_class() {
        let everywhere = |accepts: &dyn Fn(char) -> bool| {
            ranges(SCANNED + 1, u32::from(char::MAX), accepts)
                .into_iter()
                .map(|(first, last)| (u32::from(first), u32::from(last)))
                .collect::<Vec<_>>()
        };
        let beyond = || vec![(SCANNED + 1, u32::from(char::MAX))];
        let checks: [(&str, &dyn Fn(char) -> bool); 8] = [
            ("reason inside", &|c| {
                ReportReason::parse(&around("a", c, "a")).is_ok()
            }),
            ("reason alone", &|c| {
                ReportReason::parse(&c.to_string()).is_ok()
            }),
            ("label inside", &|c| {
                GroupName::parse(&around("a", c, "a")).is_ok()
            }),
            ("label alone", &|c| GroupName::parse(&c.to_string()).is_ok()),
            ("body inside", &|c| {
                Body::parse(&around("a", c, "a")).is_ok()
            }),
            ("body alone", &|c| Body::parse(&c.to_string()).is_ok()),
            ("client id", &|c| ClientId::parse(&c.to_string()).is_ok()),
            ("login", &|c| !c.is_whitespace()),
        ];
        for (what, accepts) in checks {
            assert_eq!(everywhere(accepts), beyond(), "{what}");
        }
        assert_eq!(
            everywhere(&|c| Username::parse(&around("ab", c, "")).is_ok()),
            vec![]
        );
    }

    #[test]
    fn classes_are_written_as_ranges_with_special_characters_escaped() {
        assert_eq!(
            bracket(&[('-', '.'), ('0', '9'), ('_', '_'), ('a', 'b')], false),
            r"[\-.0-9_ab]"
        );
        assert_eq!(
            bracket(&[('\0', '\u{1f}'), ('\u{7f}', '\u{9f}')], true),
            r"[^\u0000-\u001F\u007F-\u009F]"
        );
    }

    #[test]
    fn the_patterns_say_what_the_parsers_accept() {
        let c = &*COMPUTED;
        assert_eq!(c.username, r"^[\-.0-9A-Z_a-z]*$");
        assert_eq!(c.otp, format!("^[0-9]{{{OTP_DIGITS}}}$"));
        assert_eq!(
            c.client_id, r"^[^\u0000-\u001F\u007F-\u009F]*$",
            "control characters are refused"
        );
        assert!(
            c.group_name
                .starts_with(r"^[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u0020")
        );
        assert!(
            c.body
                .starts_with(r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*")
        );
        assert!(
            c.body.contains(r"\u2000-\u200F"),
            "zero-width spaces show nothing"
        );
        assert_eq!(c.reason, c.body, "a reason reads like a body");
        assert_eq!(c.search, "[0-9A-Za-z]");
        assert!(c.countries.contains(&"DE".to_owned()) && !c.countries.contains(&"XX".to_owned()));
        assert!(c.email.contains("{1,64}@"), "{}", c.email);
        assert_eq!(c.search_max, Some(256));
    }

    #[test]
    fn a_class_is_written_the_shorter_way_and_means_the_same() {
        let visible = |c: char| !c.is_control() && !c.is_whitespace();
        let outside = ranges(0, SCANNED, |c| !visible(c));
        assert_eq!(class(visible), bracket(&outside, true));
        let digit = |c: char| c.is_ascii_digit();
        assert_eq!(class(digit), "[0-9]");
    }

    #[test]
    fn longest_finds_the_last_accepted_length() {
        assert_eq!(longest(1000, |n| n <= 64), Some(64));
        assert_eq!(longest(1000, |n| n <= 1), Some(1));
        assert_eq!(longest(1000, |_| true), None);
    }
}
