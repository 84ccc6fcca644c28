//! `confab invite create|list|revoke`: invite codes for `--registration invite`, made by an
//! operator through the same use cases as `/invites` (`Accounts::admin_create_invite`, …).
//! A listing is one line per invite, tab-separated, for scripts; it never prints anything but
//! invites.

use std::time::Duration;

use clap::Subcommand;
use confab_domain::Invite;
use confab_ports::service::{Accounts, InviteDraft};

use crate::config::{StoreArgs, parse_duration};
use crate::{StartError, admin};

/// Invite codes.
#[derive(Debug, Subcommand)]
pub enum InviteCommand {
    /// Make an invite code and print it (single-use, for 7 days, unless --uses / --expires say
    /// otherwise). It admits registrations on a server run with --registration invite.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// Registrations the code admits.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        uses: u32,
        /// How long the code lives (e.g. 12h, 7d; at most 365d).
        #[arg(long, default_value = "7d", value_parser = parse_duration)]
        expires: Duration,
    },
    /// List every invite, newest first, one line each: code, uses/max, expires at, state
    /// (live, expired or used-up), maker (user id, or - for the command line).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an invite code: it admits nobody from then on.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        code: String,
    },
}

impl InviteCommand {
    /// The store settings of whichever subcommand this is.
    pub(crate) fn store(&self) -> &StoreArgs {
        match self {
            Self::Create { store, .. } | Self::List { store } | Self::Revoke { store, .. } => store,
        }
    }
}

/// Runs one `invite …` subcommand and prints what it did.
pub(crate) async fn run(cmd: InviteCommand) -> Result<(), StartError> {
    match cmd {
        InviteCommand::Create {
            store,
            uses,
            expires,
        } => {
            let expires_in = time::Duration::try_from(expires)
                .map_err(|_| StartError("--expires must be at most 365d".into()))?;
            let draft = InviteDraft {
                max_uses: Some(i64::from(uses)),
                expires_in: Some(expires_in),
            };
            let invite = accounts(store)
                .await?
                .admin_create_invite(draft)
                .await
                .map_err(|e| match e {
                    confab_ports::Error::Invalid(i) if i.field == "expires_in" => {
                        StartError("--expires must be between 1s and 365d".into())
                    }
                    other => StartError(format!("cannot make the invite: {other}")),
                })?;
            println!("{}", invite.code.as_str());
            eprintln!(
                "admits {} registration(s) until {}",
                invite.max_uses,
                confab_http::rfc3339_ms(invite.expires_at)
            );
        }
        InviteCommand::List { store } => {
            let invites = accounts(store)
                .await?
                .admin_invites()
                .await
                .map_err(|e| StartError(format!("cannot list the invites: {e}")))?;
            if invites.is_empty() {
                // On stderr: stdout stays one line per invite, for scripts.
                eprintln!("no invites");
            }
            let now = time::OffsetDateTime::now_utc();
            for invite in &invites {
                println!("{}", format_line(invite, now));
            }
        }
        InviteCommand::Revoke { store, code } => {
            accounts(store)
                .await?
                .admin_revoke_invite(&code)
                .await
                .map_err(|e| match e {
                    confab_ports::Error::NotFound(_) => StartError("no such invite code".into()),
                    other => StartError(format!("cannot revoke the invite: {other}")),
                })?;
            println!("revoked the invite code; it admits nobody from now on");
        }
    }
    Ok(())
}

async fn accounts(store: StoreArgs) -> Result<Accounts, StartError> {
    Ok(Accounts::new(admin::ports(store).await?))
}

/// code, uses/max, expires_at, state, maker.
fn format_line(i: &Invite, now: time::OffsetDateTime) -> String {
    let state = if i.admits(now).is_ok() {
        "live"
    } else if i.uses >= i.max_uses {
        "used-up"
    } else {
        "expired"
    };
    [
        i.code.as_str().to_owned(),
        format!("{}/{}", i.uses, i.max_uses),
        confab_http::rfc3339_ms(i.expires_at),
        state.to_owned(),
        i.created_by.map_or("-".to_owned(), |u| u.to_string()),
    ]
    .join("\t")
}
