//! `Users::erase_user` (`confab user delete`): what a deleted account keeps (its row and id,
//! for what points at it) and what it loses (name, email, profile, role, two-factor login,
//! password, logins, the blocks it made).

use confab_domain::{Country, DisplayName, Username};
use confab_ports::Error;
use confab_ports::hasher::PasswordHash;
use confab_ports::store::{Erasure, ProfileChange};

use crate::fixtures::{Fresh, at, email, new_user, user};
use crate::sessions::{is_live, login};

crate::store_cases!(
    erasing_renames_clears_everything_personal_and_ends_every_login,
    erasing_drops_the_blocks_it_made_and_keeps_those_of_others,
    erasing_an_unknown_user_is_not_found,
    erasing_into_a_taken_name_is_a_conflict_and_changes_nothing,
);

fn erasure(name: &str) -> Erasure {
    Erasure {
        username: Username::parse(name).unwrap(),
        password_hash: PasswordHash("erased".into()),
    }
}

/// MUST set the username and hash, clear display name, email, country, admin and two-factor,
/// and revoke every login of the account (and no other's); the old name and email are free.
async fn erasing_renames_clears_everything_personal_and_ends_every_login(s: &Fresh) {
    let mut new = new_user("ada");
    new.email = Some(email("ada@example.com"));
    new.display_name = Some(DisplayName::parse("Ada L.").unwrap());
    new.country = Some(Country::parse("GB").unwrap());
    new.is_admin = true;
    let ada = new.id;
    s.users.create_user(new, None).await.unwrap();
    let on = ProfileChange {
        two_factor: Some(true),
        ..ProfileChange::default()
    };
    assert!(s.users.update_profile(ada, on).await.unwrap().two_factor);
    let bob = user(s, "bob").await;
    let (one, two, bobs) = (
        login(s, ada, 1).await,
        login(s, ada, 2).await,
        login(s, bob, 3).await,
    );

    s.users
        .erase_user(ada, erasure("deleted-x1"), at(10))
        .await
        .unwrap();

    let after = s.users.user_by_id(ada).await.unwrap().unwrap();
    assert_eq!(after.username.as_str(), "deleted-x1");
    assert_eq!(
        (&after.email, &after.display_name, &after.country),
        (&None, &None, &None)
    );
    assert!(!after.is_admin && !after.two_factor, "{after:?}");
    assert!(!is_live(s, one, ada).await && !is_live(s, two, ada).await);
    assert!(is_live(s, bobs, bob).await, "another account's login stays");
    assert!(s.users.credentials_by_login("ada").await.unwrap().is_none());
    let creds = s.users.credentials_by_login("deleted-x1").await.unwrap();
    assert_eq!(creds.unwrap().password_hash.0, "erased");
    let mut again = new_user("ada");
    again.email = Some(email("ada@example.com"));
    let reborn = s.users.create_user(again, None).await.unwrap();
    assert_ne!(
        reborn.id, ada,
        "the name and email are free for a new account"
    );
}

/// MUST delete the blocks the account made; blocks of it by others stay.
async fn erasing_drops_the_blocks_it_made_and_keeps_those_of_others(s: &Fresh) {
    let ada = user(s, "ada").await;
    let bob = user(s, "bob").await;
    let cy = user(s, "cyd").await;
    s.blocks.block(ada, bob, at(1)).await.unwrap();
    s.blocks.block(cy, ada, at(2)).await.unwrap();
    s.users
        .erase_user(ada, erasure("deleted-x2"), at(3))
        .await
        .unwrap();
    assert!(s.blocks.blocked_by(ada).await.unwrap().is_empty());
    let cys: Vec<_> = s
        .blocks
        .blocked_by(cy)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(cys, vec![ada]);
}

/// MUST return `Error::NotFound("user")` if there is no such account.
async fn erasing_an_unknown_user_is_not_found(s: &Fresh) {
    let ghost = new_user("ghost").id;
    let err = s
        .users
        .erase_user(ghost, erasure("deleted-x3"), at(1))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("user")), "{err:?}");
}

/// MUST return `Error::Conflict { field: "username" }`, changing nothing, if the name is taken.
async fn erasing_into_a_taken_name_is_a_conflict_and_changes_nothing(s: &Fresh) {
    let ada = user(s, "ada").await;
    user(s, "deleted-x4").await;
    let session = login(s, ada, 1).await;
    let err = s
        .users
        .erase_user(ada, erasure("deleted-x4"), at(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conflict { field: "username" }),
        "{err:?}"
    );
    let still = s.users.user_by_id(ada).await.unwrap().unwrap();
    assert_eq!(still.username.as_str(), "ada");
    assert!(is_live(s, session, ada).await, "nothing changed");
}
