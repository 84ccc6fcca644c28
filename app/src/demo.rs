//! `confab demo`: a few users with known passwords, a group and a direct chat with some
//! messages, made through the same use cases as the API, to try a fresh server with. Never run
//! implicitly: only this subcommand creates them.

use std::sync::Arc;

use confab_ports::clock::SystemClock;
use confab_ports::service::{Accounts, Conversations, DirectWith, Registration};
use confab_ports::store::Principal;

use crate::config::{ServeArgs, StoreArgs};
use crate::{StartError, wiring};

/// The demo users' password: known, printed, and only for trying the server out.
pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo users: username, display name, country. The first is made a server admin.
const USERS: [(&str, &str, &str); 3] = [
    ("alice", "Alice (demo)", "DE"),
    ("bob", "Bob (demo)", "FR"),
    ("carol", "Carol (demo)", "DE"),
];

/// What the demo group and chat start with.
const GROUP_MESSAGES: [(usize, &str); 3] = [
    (0, "Welcome to confab! This is a demo group."),
    (1, "Hi all, bob here."),
    (2, "Try sending a message from the web client at /."),
];

fn fail(what: &str) -> impl Fn(confab_ports::Error) -> StartError + '_ {
    move |e| StartError(format!("demo: {what}: {e}"))
}

/// `confab demo --database-url URL`, for tests and tools that hold a URL.
pub async fn demo(database_url: &str) -> Result<(), StartError> {
    let args = ServeArgs::try_from_flags(["--database-url", database_url])
        .map_err(|e| StartError(format!("bad settings: {e}")))?;
    create(args).await
}

/// Creates the demo data and prints how to log in; refuses (changing nothing) when a demo user
/// already exists.
pub(crate) async fn run(store: StoreArgs) -> Result<(), StartError> {
    let args = crate::config_file::serve_args(store)?;
    create(args).await
}

async fn create(args: ServeArgs) -> Result<(), StartError> {
    let ports = wiring::ports(&args, Arc::new(SystemClock)).await?;
    let accounts = Accounts::new(ports.clone());
    let conversations = Conversations::new(ports);

    for (username, _, _) in USERS {
        if accounts
            .admin_find_user(username)
            .await
            .map_err(fail("looking for the demo users"))?
            .is_some()
        {
            return Err(StartError(format!(
                "demo: a user named {username} already exists; the demo data is only made on a database without its users"
            )));
        }
    }

    let mut people: Vec<Principal> = Vec::new();
    for (i, (username, display_name, country)) in USERS.into_iter().enumerate() {
        // Created as an operator does (no emailed code even when the server verifies emails),
        // then logged in like any client.
        accounts
            .admin_create_user(
                Registration {
                    username: username.into(),
                    password: DEMO_PASSWORD.into(),
                    email: None,
                    display_name: Some(display_name.into()),
                    country: Some(country.into()),
                    otp: None,
                    invite: None,
                },
                i == 0,
            )
            .await
            .map_err(fail("creating the demo users"))?;
        let made = accounts
            .login(username, DEMO_PASSWORD, "127.0.0.1")
            .await
            .map_err(fail("logging in the demo users"))?;
        let principal = accounts
            .authenticate(&made.tokens.access_token)
            .await
            .map_err(fail("logging in the demo users"))?;
        people.push(principal);
    }

    let others = people.iter().skip(1).map(|p| p.user_id).collect();
    let group = conversations
        .create_group(&people[0], "Demo group", others)
        .await
        .map_err(fail("creating the demo group"))?;
    for (who, text) in GROUP_MESSAGES {
        conversations
            .send_message(&people[who], group.group.id, text, None)
            .await
            .map_err(fail("sending the demo messages"))?;
    }
    let (direct, _) = conversations
        .open_direct(&people[0], DirectWith::Id(people[1].user_id))
        .await
        .map_err(fail("opening the demo direct chat"))?;
    conversations
        .send_message(
            &people[0],
            direct.group.id,
            "Hi Bob, this one is just us.",
            None,
        )
        .await
        .map_err(fail("sending the demo messages"))?;

    println!("created the demo data:");
    println!("  users alice (server admin), bob and carol, each with the password {DEMO_PASSWORD}");
    println!("  the group \"Demo group\" with all three, and a direct chat of alice and bob");
    println!(
        "log in at http://{}/ (the built-in web client), or:",
        args.listen
    );
    println!(
        "  curl -s -X POST http://{}/api/v1/auth/login -H 'Content-Type: application/json' -d '{{\"login\":\"alice\",\"password\":\"{DEMO_PASSWORD}\"}}'",
        args.listen
    );
    Ok(())
}
