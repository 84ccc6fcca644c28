//! The `user` subcommands: account chores for operators, through the same use cases as the API.

use std::sync::Arc;

use confab_ports::Ports;
use confab_ports::clock::SystemClock;
use confab_ports::service::{Accounts, Registration};

use crate::config::{StoreArgs, UserCommand};
use crate::password_prompt::new_password;
use crate::{StartError, wiring};

/// Runs one `user …` subcommand and prints what it did.
pub(crate) async fn run(cmd: UserCommand) -> Result<(), StartError> {
    match cmd {
        UserCommand::List(args) => crate::user_ops::list(args).await?,
        UserCommand::Delete(args) => crate::user_ops::delete(args).await?,
        UserCommand::Disable2fa(args) => crate::user_ops::disable_two_factor(args).await?,
        UserCommand::Create {
            store,
            username,
            email,
            display_name,
            country,
            admin,
            password,
        } => {
            let accounts = accounts(store).await?;
            let password = new_password(password)?;
            let reg = Registration {
                username,
                password,
                email,
                display_name,
                country,
                otp: None,
                invite: None,
            };
            let user = accounts.admin_create_user(reg, admin).await.map_err(fail)?;
            let role = if admin { " (admin)" } else { "" };
            println!("created user {} {}{role}", user.username, user.id);
        }
        UserCommand::GrantAdmin { store, username } => {
            let user = accounts(store)
                .await?
                .admin_set_admin(&username, true)
                .await
                .map_err(fail_for(&username))?;
            println!("{} is now an admin", user.username);
        }
        UserCommand::RevokeAdmin { store, username } => {
            let user = accounts(store)
                .await?
                .admin_set_admin(&username, false)
                .await
                .map_err(fail_for(&username))?;
            println!("{} is no longer an admin", user.username);
        }
        UserCommand::Ban {
            store,
            username,
            reason,
        } => {
            let ports = ports(store).await?;
            let bus = Arc::clone(&ports.bus);
            let user = Accounts::new(ports)
                .admin_ban(&username, reason.as_deref())
                .await
                .map_err(fail_for(&username))?;
            // With Redis configured, the ban goes out on the bus before the process exits, so
            // running servers close the sockets at once rather than at their next ban watch.
            bus.close().await;
            println!(
                "banned {}: every login of theirs ended, and their sockets close within seconds",
                user.username
            );
        }
        UserCommand::Unban { store, username } => {
            let user = accounts(store)
                .await?
                .admin_unban(&username)
                .await
                .map_err(fail_for(&username))?;
            println!("{} is no longer banned and may log in again", user.username);
        }
        UserCommand::ResetPassword {
            store,
            username,
            password,
        } => {
            let accounts = accounts(store).await?;
            let password = new_password(password)?;
            let user = accounts
                .admin_reset_password(&username, &password)
                .await
                .map_err(fail_for(&username))?;
            println!(
                "reset the password of {}; every login of theirs was ended",
                user.username
            );
        }
    }
    Ok(())
}

pub(crate) fn fail(e: confab_ports::Error) -> StartError {
    StartError(e.to_string())
}

/// Like [`fail`], naming the user an operator asked for when there is none.
pub(crate) fn fail_for(username: &str) -> impl Fn(confab_ports::Error) -> StartError + '_ {
    move |e| match e {
        confab_ports::Error::NotFound(_) => StartError(format!("user {username:?} not found")),
        other => fail(other),
    }
}

pub(crate) async fn accounts(store: StoreArgs) -> Result<Accounts, StartError> {
    Ok(Accounts::new(ports(store).await?))
}

/// Every port over the store `store` names, with the other settings from the environment and
/// the defaults: what an operator's subcommand runs its use cases on.
pub(crate) async fn ports(store: StoreArgs) -> Result<Ports, StartError> {
    let args = crate::config_file::serve_args(store)?;
    wiring::ports(&args, Arc::new(SystemClock)).await
}
