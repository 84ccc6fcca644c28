//! The operator's subcommands' arguments beside serving: `backup`, `completions`, `man`, and
//! `user list` / `delete` / `disable-2fa`. Parsing only: what they do is in `backup`,
//! `manual` and `admin`.

use std::path::PathBuf;

use clap::Args;

use crate::config::StoreArgs;

/// `confab backup PATH`.
#[derive(Debug, Clone, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The directory of attachment bytes to copy too (as the server's --attachments-dir);
    /// without it, attachments are in the database and the database copy holds them.
    #[arg(long, env = "CONFAB_ATTACHMENTS_DIR")]
    pub attachments_dir: Option<PathBuf>,
    /// A new directory to write the copy into (refused if anything is there already): it gets
    /// `confab.db` and, with --attachments-dir, `attachments/`.
    pub path: PathBuf,
}

/// `confab completions SHELL`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `confab user list`.
#[derive(Debug, Clone, Args)]
pub struct UserListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Most users to list (ordered by username).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub limit: u32,
    /// Only server admins.
    #[arg(long)]
    pub admins: bool,
}

/// `confab user delete NAME`.
#[derive(Debug, Clone, Args)]
pub struct UserDeleteArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    pub username: String,
    /// Delete without asking. Needed unless stdin is a terminal where you can answer the
    /// question; a script must pass it.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// `confab user disable-2fa NAME`.
#[derive(Debug, Clone, Args)]
pub struct UserNameArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    pub username: String,
}
