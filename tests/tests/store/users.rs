//! `Users`: accounts, their uniqueness, lookups, search, profile changes, role and password.

use confab_domain::{Country, DisplayName, UserId, Username};
use confab_ports::Error;
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{ProfileChange, Rotation};

use crate::fixtures::{Fresh, T0, at, email, new_user, user};
use crate::sessions::{is_live, login, new_session, rotate};

crate::store_cases!(
    a_created_account_is_returned_as_stored,
    a_first_login_is_recorded_live_with_its_account,
    a_taken_username_is_a_conflict_whatever_its_case,
    a_taken_email_is_a_conflict_whatever_its_case,
    when_both_are_taken_the_username_is_named,
    a_failed_creation_writes_neither_the_account_nor_its_login,
    racing_creations_of_one_username_let_exactly_one_win,
    racing_creations_of_one_email_let_exactly_one_win,
    an_account_is_found_by_its_id_and_an_unknown_id_is_none,
    an_account_logs_in_by_username_or_email_whatever_the_case,
    an_unknown_or_impossible_login_is_none_not_an_error,
    an_account_is_found_by_its_username_and_an_unknown_one_is_none,
    an_account_is_found_by_its_email_and_an_unknown_one_is_none,
    a_search_matches_a_prefix_of_the_username_or_display_name_never_the_middle,
    a_search_ignores_ascii_case,
    a_display_name_is_found_by_its_exact_prefix_whatever_its_letters,
    a_search_takes_wildcards_literally,
    search_results_are_ordered_by_username_and_limited,
    a_search_for_any_prefix_answers,
    a_profile_change_keeps_clears_and_sets_fields,
    changing_an_unknown_account_is_not_found,
    taking_someone_elses_email_is_a_conflict_whatever_its_case,
    setting_ones_own_email_again_is_not_a_conflict,
    two_factor_without_an_email_is_invalid_and_changes_nothing,
    racing_email_clear_and_two_factor_cannot_both_succeed,
    racing_accounts_for_one_email_let_exactly_one_win,
    a_set_role_shows_at_once_and_setting_it_twice_succeeds,
    setting_the_role_of_an_unknown_account_is_not_found,
    a_replaced_password_is_the_one_logins_check,
    replacing_a_password_ends_every_login_of_the_account_and_no_other,
    replacing_the_password_of_an_unknown_account_is_not_found,
);

/// Creates `username` with an optional display name and email; returns its id.
async fn person(s: &Fresh, username: &str, display: Option<&str>, mail: Option<&str>) -> UserId {
    let mut new = new_user(username);
    new.display_name = display.map(|d| DisplayName::parse(d).unwrap());
    new.email = mail.map(email);
    let id = new.id;
    s.users.create_user(new, None).await.unwrap();
    id
}

/// The usernames a search finds, in order.
async fn search(s: &Fresh, prefix: &str, limit: u32) -> Vec<String> {
    s.users
        .search_users(prefix, limit)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username.as_str().to_owned())
        .collect()
}

/// `email` as a profile change setting it.
fn set_email(addr: &str) -> ProfileChange {
    ProfileChange {
        email: Some(Some(email(addr))),
        ..ProfileChange::default()
    }
}

/// MUST return the account as stored: the given fields, with two-factor login off.
async fn a_created_account_is_returned_as_stored(s: &Fresh) {
    let mut new = new_user("ada");
    new.display_name = Some(DisplayName::parse("Ada Lovelace").unwrap());
    new.email = Some(email("ada@example.com"));
    new.country = Some(Country::parse("GB").unwrap());
    new.is_admin = true;
    new.created_at = at(1);
    let created = s.users.create_user(new.clone(), None).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.username, new.username);
    assert_eq!(created.display_name, new.display_name);
    assert_eq!(created.email, new.email);
    assert_eq!(created.country, new.country);
    assert!(created.is_admin);
    assert!(!created.two_factor);
    assert_eq!(created.created_at, at(1));
    assert_eq!(s.users.user_by_id(new.id).await.unwrap(), Some(created));
}

/// MUST record `first_login` as a live login of the account (as `Sessions::start_session`).
async fn a_first_login_is_recorded_live_with_its_account(s: &Fresh) {
    let new = new_user("ada");
    let id = new.id;
    let session = new_session(id, 1, at(3600));
    let session_id = session.id;
    s.users.create_user(new, Some(session)).await.unwrap();
    assert!(is_live(s, session_id, id).await);
    assert!(matches!(
        rotate(s, 1, 2, at(1)).await,
        Rotation::Rotated { session_id: sid, user } if sid == session_id && user.id == id
    ));
}

/// MUST return `Error::Conflict { field: "username" }` if the username is taken
/// (case-insensitively).
async fn a_taken_username_is_a_conflict_whatever_its_case(s: &Fresh) {
    user(s, "ada").await;
    for taken in ["ada", "ADA", "aDa"] {
        let again = s.users.create_user(new_user(taken), None).await;
        assert!(
            matches!(again, Err(Error::Conflict { field: "username" })),
            "{taken}: {again:?}"
        );
    }
}

/// MUST return `Error::Conflict { field: "email" }` if the email is taken (case-insensitively).
async fn a_taken_email_is_a_conflict_whatever_its_case(s: &Fresh) {
    person(s, "ada", None, Some("Ada@Example.com")).await;
    for (name, taken) in [("bob", "ada@example.com"), ("cy", "ADA@EXAMPLE.COM")] {
        let mut new = new_user(&format!("{name}_x"));
        new.email = Some(email(taken));
        let again = s.users.create_user(new, None).await;
        assert!(
            matches!(again, Err(Error::Conflict { field: "email" })),
            "{taken}: {again:?}"
        );
    }
    assert!(
        s.users
            .user_by_username(&Username::parse("bob_x").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

/// MUST name `"username"` when both the username and the email are taken.
async fn when_both_are_taken_the_username_is_named(s: &Fresh) {
    person(s, "ada", None, Some("ada@example.com")).await;
    let mut new = new_user("ada");
    new.email = Some(email("ada@example.com"));
    assert!(matches!(
        s.users.create_user(new, None).await,
        Err(Error::Conflict { field: "username" })
    ));
}

/// MUST write nothing when it fails: neither the account nor its first login.
async fn a_failed_creation_writes_neither_the_account_nor_its_login(s: &Fresh) {
    let ada = user(s, "ada").await;
    login(s, ada, 1).await;

    // Refused at the account: its login is not recorded either.
    let again = new_user("ada");
    let session = new_session(again.id, 2, at(3600));
    let session_id = session.id;
    assert!(
        s.users
            .create_user(again.clone(), Some(session))
            .await
            .is_err()
    );
    assert!(!is_live(s, session_id, again.id).await);
    assert!(matches!(rotate(s, 2, 3, at(1)).await, Rotation::Rejected));

    // Refused at the login (its token is already stored): the account is not created either.
    let bob = new_user("bob");
    let session = new_session(bob.id, 1, at(3600));
    let session_id = session.id;
    assert!(
        s.users
            .create_user(bob.clone(), Some(session))
            .await
            .is_err()
    );
    assert_eq!(s.users.user_by_id(bob.id).await.unwrap(), None);
    assert!(s.users.credentials_by_login("bob").await.unwrap().is_none());
    assert!(!is_live(s, session_id, bob.id).await);
    // And the login that holds the token is untouched.
    assert!(matches!(
        rotate(s, 1, 4, at(1)).await,
        Rotation::Rotated { user, .. } if user.id == ada
    ));
}

/// MUST be atomic: of concurrent creations with one username, exactly one succeeds and every
/// other returns the `Conflict` above, never another error.
async fn racing_creations_of_one_username_let_exactly_one_win(s: &Fresh) {
    let answers = futures::future::join_all((0..8).map(|i| {
        let mut new = new_user("ada");
        new.email = Some(email(&format!("ada{i}@example.com")));
        s.users.create_user(new, None)
    }))
    .await;
    let won = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, 1, "{answers:?}");
    for answer in &answers {
        assert!(
            matches!(answer, Ok(_) | Err(Error::Conflict { field: "username" })),
            "{answer:?}"
        );
    }
}

/// MUST be atomic: of concurrent creations with one email, exactly one succeeds and every other
/// returns the `Conflict` above, never another error.
async fn racing_creations_of_one_email_let_exactly_one_win(s: &Fresh) {
    let answers = futures::future::join_all((0..8).map(|i| {
        let mut new = new_user(&format!("ada{i}"));
        new.email = Some(email("ada@example.com"));
        s.users.create_user(new, None)
    }))
    .await;
    let won = answers.iter().filter(|a| a.is_ok()).count();
    assert_eq!(won, 1, "{answers:?}");
    for answer in &answers {
        assert!(
            matches!(answer, Ok(_) | Err(Error::Conflict { field: "email" })),
            "{answer:?}"
        );
    }
}

/// MUST return the account as stored, and `None` if there is no such account.
async fn an_account_is_found_by_its_id_and_an_unknown_id_is_none(s: &Fresh) {
    let ada = person(s, "ada", Some("Ada"), Some("ada@example.com")).await;
    let found = s.users.user_by_id(ada).await.unwrap().unwrap();
    assert_eq!(found.id, ada);
    assert_eq!(found.username.as_str(), "ada");
    assert_eq!(found.display_name.unwrap().as_str(), "Ada");
    assert_eq!(found.email, Some(email("ada@example.com")));
    assert_eq!(found.created_at, T0);
    assert_eq!(s.users.user_by_id(UserId::new()).await.unwrap(), None);
}

/// MUST find the account by its username or by its email whatever the case of `login`, with its
/// current password hash.
async fn an_account_logs_in_by_username_or_email_whatever_the_case(s: &Fresh) {
    let ada = person(s, "ada", None, Some("ada@example.com")).await;
    person(s, "bob", None, Some("bob@example.com")).await;
    for login in ["ada", "ADA", "ada@example.com", "Ada@Example.COM"] {
        let found = s.users.credentials_by_login(login).await.unwrap();
        let found = found.unwrap_or_else(|| panic!("{login} finds ada"));
        assert_eq!(found.user.id, ada, "{login}");
        assert_eq!(found.password_hash.0, "hash", "{login}");
    }
}

/// MUST return `None`, not an error, when no account matches, also for a login no account can
/// have (one holding a NUL character, say).
async fn an_unknown_or_impossible_login_is_none_not_an_error(s: &Fresh) {
    person(s, "ada", None, Some("ada@example.com")).await;
    for login in [
        "nobody",
        "ad",
        "ada@example.org",
        "ada\0",
        "\0",
        "ada%",
        "a_a",
        "",
    ] {
        let found = s.users.credentials_by_login(login).await;
        assert!(matches!(found, Ok(None)), "{login:?}: {found:?}");
    }
}

/// MUST return the account, and `None` if no account has this username.
async fn an_account_is_found_by_its_username_and_an_unknown_one_is_none(s: &Fresh) {
    let ada = user(s, "ada").await;
    user(s, "adam").await;
    let name = Username::parse("ADA").unwrap();
    assert_eq!(
        s.users.user_by_username(&name).await.unwrap().unwrap().id,
        ada
    );
    let unknown = Username::parse("bob").unwrap();
    assert_eq!(s.users.user_by_username(&unknown).await.unwrap(), None);
}

/// MUST return the account, and `None` if no account has this email.
async fn an_account_is_found_by_its_email_and_an_unknown_one_is_none(s: &Fresh) {
    let ada = person(s, "ada", None, Some("ada@example.com")).await;
    user(s, "bob").await;
    let found = s
        .users
        .user_by_email(&email("ADA@example.com"))
        .await
        .unwrap();
    assert_eq!(found.unwrap().id, ada);
    let unknown = email("ada@example.org");
    assert_eq!(s.users.user_by_email(&unknown).await.unwrap(), None);
}

/// MUST match a prefix of the username or of the display name, never the middle of either.
async fn a_search_matches_a_prefix_of_the_username_or_display_name_never_the_middle(s: &Fresh) {
    person(s, "ada", None, None).await;
    person(s, "lovelace", Some("Countess"), None).await;
    person(s, "countess", None, None).await;
    person(s, "zed", Some("Adalbert"), None).await;
    person(s, "mada", Some("Lada"), None).await;
    assert_eq!(search(s, "ada", 10).await, ["ada", "zed"]);
    assert_eq!(search(s, "count", 10).await, ["countess", "lovelace"]);
    assert_eq!(search(s, "ess", 10).await, Vec::<String>::new());
}

/// MUST ignore ASCII case on both sides (`ADA` finds `ada` and `Ada Lovelace`).
async fn a_search_ignores_ascii_case(s: &Fresh) {
    person(s, "ada", None, None).await;
    person(s, "lovelace", Some("Ada Lovelace"), None).await;
    person(s, "bob", Some("bob"), None).await;
    assert_eq!(search(s, "ADA", 10).await, ["ada", "lovelace"]);
    assert_eq!(search(s, "aDa l", 10).await, ["lovelace"]);
    assert_eq!(search(s, "BOB", 10).await, ["bob"]);
}

/// MUST find a display name by its exact prefix, whatever its letters (`Élo` finds `Élodie`).
async fn a_display_name_is_found_by_its_exact_prefix_whatever_its_letters(s: &Fresh) {
    person(s, "elodie", Some("Élodie"), None).await;
    person(s, "zoe", Some("ZOË"), None).await;
    person(s, "yamada", Some("山田 太郎"), None).await;
    assert_eq!(search(s, "Élo", 10).await, ["elodie"]);
    assert_eq!(search(s, "ÉLO", 10).await, ["elodie"]);
    assert_eq!(search(s, "ZOË", 10).await, ["zoe"]);
    assert_eq!(search(s, "zoË", 10).await, ["zoe"]);
    assert_eq!(search(s, "山田", 10).await, ["yamada"]);
}

/// MUST take `%`, `_` and `\` literally, not as wildcards.
async fn a_search_takes_wildcards_literally(s: &Fresh) {
    person(s, "a_b", None, None).await;
    person(s, "axb", Some("50% off"), None).await;
    person(s, "back", Some("back\\slash"), None).await;
    person(s, "bxck", Some("500 off"), None).await;
    assert_eq!(search(s, "a_", 10).await, ["a_b"]);
    assert_eq!(search(s, "%", 10).await, Vec::<String>::new());
    assert_eq!(search(s, "50%", 10).await, ["axb"]);
    assert_eq!(search(s, "_", 10).await, Vec::<String>::new());
    assert_eq!(search(s, "back\\", 10).await, ["back"]);
    assert_eq!(search(s, "b\\", 10).await, Vec::<String>::new());
}

/// MUST order the matches by username (byte order) and return at most `limit` of them.
async fn search_results_are_ordered_by_username_and_limited(s: &Fresh) {
    for name in ["ann", "ada.b", "ada", "ada-c", "ada_d", "ada9", "adb"] {
        person(s, name, None, None).await;
    }
    person(s, "zzz", Some("Adalbert"), None).await;
    person(s, "bob", Some("Bob"), None).await;
    let all = ["ada", "ada-c", "ada.b", "ada9", "ada_d", "zzz"];
    assert_eq!(search(s, "ada", 50).await, all);
    assert_eq!(search(s, "ada", 3).await, all[..3]);
    assert_eq!(search(s, "ada", 1).await, all[..1]);
}

/// MUST answer, not fail, for any prefix (a NUL character included).
async fn a_search_for_any_prefix_answers(s: &Fresh) {
    person(s, "ada", Some("Ada"), None).await;
    for prefix in ["", " ", "ada\0", "\0", "'; --", "\u{1F680}", "ada\0x"] {
        let found = s.users.search_users(prefix, 10).await;
        assert!(found.is_ok(), "{prefix:?}: {found:?}");
    }
    assert_eq!(search(s, "\0", 10).await, Vec::<String>::new());
    assert_eq!(search(s, "zz\0", 10).await, Vec::<String>::new());
}

/// MUST keep a field whose change is `None`, clear it on `Some(None)`, set it on
/// `Some(Some(_))`, and store exactly the account it returns.
async fn a_profile_change_keeps_clears_and_sets_fields(s: &Fresh) {
    let mut new = new_user("ada");
    new.display_name = Some(DisplayName::parse("Ada").unwrap());
    new.country = Some(Country::parse("GB").unwrap());
    new.email = Some(email("ada@example.com"));
    let ada = new.id;
    s.users.create_user(new, None).await.unwrap();

    let change = ProfileChange {
        display_name: Some(Some(DisplayName::parse("Countess").unwrap())),
        country: Some(None),
        email: None,
        two_factor: Some(true),
    };
    let changed = s.users.update_profile(ada, change).await.unwrap();
    assert_eq!(changed.display_name.as_ref().unwrap().as_str(), "Countess");
    assert_eq!(changed.country, None);
    assert_eq!(changed.email, Some(email("ada@example.com")));
    assert!(changed.two_factor);
    assert_eq!(changed.username.as_str(), "ada");
    assert_eq!(
        s.users.user_by_id(ada).await.unwrap().as_ref(),
        Some(&changed)
    );

    let nothing = s
        .users
        .update_profile(ada, ProfileChange::default())
        .await
        .unwrap();
    assert_eq!(nothing, changed, "an empty change keeps everything");

    let change = ProfileChange {
        display_name: Some(None),
        country: Some(Some(Country::parse("FR").unwrap())),
        email: Some(Some(email("Countess@Example.com"))),
        two_factor: Some(false),
    };
    let changed = s.users.update_profile(ada, change).await.unwrap();
    assert_eq!(changed.display_name, None);
    assert_eq!(changed.country.as_ref().unwrap().as_str(), "FR");
    assert_eq!(changed.email, Some(email("countess@example.com")));
    assert!(!changed.two_factor);
    assert_eq!(
        s.users.user_by_id(ada).await.unwrap().as_ref(),
        Some(&changed)
    );
    let login = s.users.credentials_by_login("countess@example.com").await;
    assert_eq!(
        login.unwrap().unwrap().user.id,
        ada,
        "the new email logs in"
    );
    assert!(
        s.users
            .credentials_by_login("ada@example.com")
            .await
            .unwrap()
            .is_none()
    );
}

/// MUST return `Error::NotFound("user")` if there is no such account.
async fn changing_an_unknown_account_is_not_found(s: &Fresh) {
    user(s, "ada").await;
    let change = ProfileChange {
        display_name: Some(None),
        ..ProfileChange::default()
    };
    assert!(matches!(
        s.users.update_profile(UserId::new(), change).await,
        Err(Error::NotFound("user"))
    ));
    assert!(matches!(
        s.users
            .update_profile(UserId::new(), set_email("x@example.com"))
            .await,
        Err(Error::NotFound("user"))
    ));
}

/// MUST return `Error::Conflict { field: "email" }` if the new email belongs to someone else
/// (case-insensitively).
async fn taking_someone_elses_email_is_a_conflict_whatever_its_case(s: &Fresh) {
    person(s, "ada", None, Some("ada@example.com")).await;
    let bob = person(s, "bob", None, Some("bob@example.com")).await;
    for taken in ["ada@example.com", "ADA@Example.com"] {
        let answer = s.users.update_profile(bob, set_email(taken)).await;
        assert!(
            matches!(answer, Err(Error::Conflict { field: "email" })),
            "{taken}: {answer:?}"
        );
    }
    let stored = s.users.user_by_id(bob).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("bob@example.com")));
}

/// … and MUST NOT when it is the account's own email.
async fn setting_ones_own_email_again_is_not_a_conflict(s: &Fresh) {
    let ada = person(s, "ada", None, Some("ada@example.com")).await;
    let changed = s
        .users
        .update_profile(ada, set_email("ADA@example.com"))
        .await
        .unwrap();
    assert_eq!(changed.email, Some(email("ada@example.com")));
}

/// MUST return `Error::Invalid` on field `two_factor`, changing nothing, if the account as stored
/// would end with two-factor login and no email.
async fn two_factor_without_an_email_is_invalid_and_changes_nothing(s: &Fresh) {
    let bob = person(s, "bob", Some("Bob"), None).await;
    let change = ProfileChange {
        display_name: Some(None),
        two_factor: Some(true),
        ..ProfileChange::default()
    };
    let answer = s.users.update_profile(bob, change).await;
    assert!(
        matches!(&answer, Err(Error::Invalid(i)) if i.field == "two_factor"),
        "{answer:?}"
    );
    let stored = s.users.user_by_id(bob).await.unwrap().unwrap();
    assert!(!stored.two_factor);
    assert_eq!(
        stored.display_name.unwrap().as_str(),
        "Bob",
        "nothing changed"
    );

    let ada = person(s, "ada", None, Some("ada@example.com")).await;
    let on = ProfileChange {
        two_factor: Some(true),
        ..ProfileChange::default()
    };
    s.users.update_profile(ada, on).await.unwrap();
    let clear = ProfileChange {
        email: Some(None),
        ..ProfileChange::default()
    };
    let answer = s.users.update_profile(ada, clear).await;
    assert!(
        matches!(&answer, Err(Error::Invalid(i)) if i.field == "two_factor"),
        "the stored two-factor needs the email: {answer:?}"
    );
    let stored = s.users.user_by_id(ada).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("ada@example.com")));
    assert!(stored.two_factor);
}

/// MUST be atomic: concurrent changes of one account are judged one after the other against
/// what the previous left (clearing the email and turning two-factor on at once cannot both
/// succeed).
async fn racing_email_clear_and_two_factor_cannot_both_succeed(s: &Fresh) {
    for round in 0..8 {
        let ada = person(
            s,
            &format!("ada{round}"),
            None,
            Some(&format!("a{round}@example.com")),
        )
        .await;
        let clear = ProfileChange {
            email: Some(None),
            ..ProfileChange::default()
        };
        let on = ProfileChange {
            two_factor: Some(true),
            ..ProfileChange::default()
        };
        let (cleared, turned_on) = futures::future::join(
            s.users.update_profile(ada, clear),
            s.users.update_profile(ada, on),
        )
        .await;
        let refused = [&cleared, &turned_on]
            .into_iter()
            .filter(|a| matches!(a, Err(Error::Invalid(i)) if i.field == "two_factor"))
            .count();
        assert_eq!(refused, 1, "{cleared:?} {turned_on:?}");
        assert!(cleared.is_ok() || turned_on.is_ok());
        let stored = s.users.user_by_id(ada).await.unwrap().unwrap();
        assert!(stored.email.is_some() || !stored.two_factor, "{stored:?}");
    }
}

/// MUST be atomic: … of two accounts taking one email at once, exactly one succeeds and the
/// other returns the `Conflict` above.
async fn racing_accounts_for_one_email_let_exactly_one_win(s: &Fresh) {
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(person(s, &format!("ada{i}"), None, None).await);
    }
    let answers = futures::future::join_all(
        ids.iter()
            .map(|&id| s.users.update_profile(id, set_email("shared@example.com"))),
    )
    .await;
    assert_eq!(
        answers.iter().filter(|a| a.is_ok()).count(),
        1,
        "{answers:?}"
    );
    for answer in &answers {
        assert!(
            matches!(answer, Ok(_) | Err(Error::Conflict { field: "email" })),
            "{answer:?}"
        );
    }
}

/// MUST store the role so that `user_by_id` and `Sessions::principal` show it at once, and MUST
/// succeed when the account already has it (or, revoking, already lacks it).
async fn a_set_role_shows_at_once_and_setting_it_twice_succeeds(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let session = login(s, ada, 1).await;
    for admin in [true, true, false, false] {
        s.users.set_admin(ada, admin).await.unwrap();
        assert_eq!(
            s.users.user_by_id(ada).await.unwrap().unwrap().is_admin,
            admin
        );
        let principal = s.sessions.principal(session, ada).await.unwrap().unwrap();
        assert_eq!(principal.is_admin, admin);
    }
    s.users.set_admin(ada, true).await.unwrap();
    assert!(
        !s.users.user_by_id(bob).await.unwrap().unwrap().is_admin,
        "only ada"
    );
}

/// MUST return `Error::NotFound("user")` if there is no such account.
async fn setting_the_role_of_an_unknown_account_is_not_found(s: &Fresh) {
    user(s, "ada").await;
    for admin in [true, false] {
        assert!(matches!(
            s.users.set_admin(UserId::new(), admin).await,
            Err(Error::NotFound("user"))
        ));
    }
}

/// MUST make `credentials_by_login` answer the new hash.
async fn a_replaced_password_is_the_one_logins_check(s: &Fresh) {
    let ada = person(s, "ada", None, Some("ada@example.com")).await;
    let bob = user(s, "bob").await;
    let new = PasswordHash("new-hash".into());
    s.users.replace_password(ada, new, at(1)).await.unwrap();
    for login in ["ada", "ada@example.com"] {
        let found = s.users.credentials_by_login(login).await.unwrap().unwrap();
        assert_eq!(found.password_hash.0, "new-hash");
    }
    let others = s.users.credentials_by_login("bob").await.unwrap().unwrap();
    assert_eq!(
        (others.user.id, others.password_hash.0.as_str()),
        (bob, "hash")
    );
}

/// MUST end every login of the account (`Sessions::principal` answers `None`, their refresh
/// tokens are `Rejected`), and no login of another account.
async fn replacing_a_password_ends_every_login_of_the_account_and_no_other(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let phone = login(s, ada, 1).await;
    let laptop = login(s, ada, 2).await;
    assert!(matches!(
        rotate(s, 2, 3, at(1)).await,
        Rotation::Rotated { .. }
    ));
    let bobs = login(s, bob, 4).await;
    s.users
        .replace_password(ada, PasswordHash("new-hash".into()), at(2))
        .await
        .unwrap();
    assert!(!is_live(s, phone, ada).await);
    assert!(!is_live(s, laptop, ada).await);
    assert!(matches!(rotate(s, 1, 10, at(3)).await, Rotation::Rejected));
    assert!(matches!(rotate(s, 3, 11, at(3)).await, Rotation::Rejected));
    assert!(
        is_live(s, bobs, bob).await,
        "another account's login lives on"
    );
    assert!(matches!(
        rotate(s, 4, 12, at(3)).await,
        Rotation::Rotated { .. }
    ));
    let after = login(s, ada, 5).await;
    assert!(
        is_live(s, after, ada).await,
        "a login after the reset is live"
    );
}

/// MUST return `Error::NotFound("user")` if there is no such account.
async fn replacing_the_password_of_an_unknown_account_is_not_found(s: &Fresh) {
    let ada = user(s, "ada").await;
    let session = login(s, ada, 1).await;
    assert!(matches!(
        s.users
            .replace_password(UserId::new(), PasswordHash("x".into()), at(1))
            .await,
        Err(Error::NotFound("user"))
    ));
    assert!(is_live(s, session, ada).await);
}
