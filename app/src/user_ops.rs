//! `confab user list`, `user delete` and `user disable-2fa`: through the same account use cases
//! as the rest (`Accounts::admin_*`). `list` prints one tab-separated line per account and
//! nothing else on stdout, for scripts; `delete` never runs without a yes (`--yes`, or an
//! answer typed on a terminal).

use confab_domain::User;

use crate::admin::{accounts, fail, fail_for};
use crate::ops_config::{UserDeleteArgs, UserListArgs, UserNameArgs};
use crate::password_prompt::confirm;
use crate::{StartError, one_line};

/// `confab user list`: id, username, admin, banned, 2fa, created — by username.
pub(crate) async fn list(args: UserListArgs) -> Result<(), StartError> {
    let users = accounts(args.store)
        .await?
        .admin_list_users(args.limit, args.admins)
        .await
        .map_err(fail)?;
    if users.is_empty() {
        // On stderr: stdout stays one line per user.
        eprintln!("no users");
    }
    for user in &users {
        println!("{}", format_line(user));
    }
    Ok(())
}

fn format_line(user: &User) -> String {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    [
        user.id.to_string(),
        user.username.as_str().to_owned(),
        yes_no(user.is_admin),
        yes_no(user.banned),
        yes_no(user.two_factor),
        confab_http::rfc3339_ms(user.created_at),
    ]
    .iter()
    .map(|field| one_line(field))
    .collect::<Vec<_>>()
    .join("\t")
}

/// `confab user delete NAME [--yes]`.
pub(crate) async fn delete(args: UserDeleteArgs) -> Result<(), StartError> {
    let name = args.username;
    let ports = crate::admin::ports(args.store).await?;
    let bus = std::sync::Arc::clone(&ports.bus);
    let accounts = confab_ports::service::Accounts::new(ports);
    // Looked up first, so that the question is only asked about an account that exists.
    let user = accounts
        .admin_find_user(&name)
        .await
        .map_err(fail)?
        .ok_or_else(|| StartError(format!("user {name:?} not found")))?;
    if !args.yes {
        let question = format!(
            "Delete {} for good? They leave every conversation and lose their name; their messages stay, from a deleted user.",
            user.username
        );
        match confirm(&question)? {
            Some(true) => {}
            Some(false) => return Err(StartError("not deleted".into())),
            None => {
                return Err(StartError(format!(
                    "refusing to delete {} without --yes (stdin is not a terminal to ask on)",
                    user.username
                )));
            }
        }
    }
    let deleted = accounts
        .admin_delete_user(&name)
        .await
        .map_err(fail_for(&name));
    // With Redis configured, the queued events (member.left, group.closed, the ban) go out
    // before the process exits.
    bus.close().await;
    let deleted = deleted?;
    println!(
        "deleted {}: logged out, left {} conversation(s); their messages now show as {}",
        deleted.former_username, deleted.conversations, deleted.username
    );
    Ok(())
}

/// `confab user disable-2fa NAME`.
pub(crate) async fn disable_two_factor(args: UserNameArgs) -> Result<(), StartError> {
    let name = args.username;
    let (user, was_on) = accounts(args.store)
        .await?
        .admin_disable_two_factor(&name)
        .await
        .map_err(fail_for(&name))?;
    if was_on {
        println!("two-factor login is off for {}", user.username);
    } else {
        println!(
            "two-factor login was already off for {}; nothing changed",
            user.username
        );
    }
    Ok(())
}
