//! Settings of attachments: the size limit, the per-user quota, and where the bytes live (in
//! the database unless `--attachments-dir` names a directory).

use std::path::PathBuf;

use clap::Args;
use confab_ports::service::UploadSettings;

/// Attachments.
#[derive(Debug, Clone, Args)]
pub struct AttachmentArgs {
    /// Largest file one upload may be, in bytes (suffixes K, M, G = KiB, MiB, GiB: `25M`).
    #[arg(long, env = "CONFAB_ATTACHMENT_MAX_BYTES", default_value = "25M", value_parser = parse_size)]
    pub attachment_max_bytes: u64,
    /// Most bytes one user's attachments may take in all (same suffixes: `1G`).
    #[arg(long, env = "CONFAB_ATTACHMENT_QUOTA", default_value = "1G", value_parser = parse_size)]
    pub attachment_quota: u64,
    /// Keep attachment bytes as files in this directory instead of in the database (created
    /// if missing). Several instances must then share it (a network file system).
    #[arg(long, env = "CONFAB_ATTACHMENTS_DIR")]
    pub attachments_dir: Option<PathBuf>,
}

impl AttachmentArgs {
    /// The limits the upload use case applies.
    pub fn upload_settings(&self) -> UploadSettings {
        UploadSettings {
            max_bytes: self.attachment_max_bytes,
            quota: self.attachment_quota,
        }
    }
}

/// A size in bytes: digits, optionally followed by K, M or G (powers of 1024; `KiB`, `MiB`,
/// `GiB` and `KB`/`MB`/`GB` read the same), at least 1 byte and at most 1 TiB.
pub fn parse_size(raw: &str) -> Result<u64, String> {
    let s = raw.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(digits);
    let bad = || format!("{raw:?} is not a size: use bytes, or a number with K, M or G (25M)");
    let n: u64 = number.parse().map_err(|_| bad())?;
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(bad()),
    };
    let bytes = n.checked_mul(scale).ok_or_else(bad)?;
    if bytes == 0 || bytes > 1 << 40 {
        return Err(format!("{raw:?} must be at least 1 byte and at most 1 TiB"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_read_with_binary_suffixes() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("25M"), Ok(25 << 20));
        assert_eq!(parse_size("25MiB"), Ok(25 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size(" 64 KB "), Ok(64 << 10));
    }

    #[test]
    fn nonsense_zero_and_huge_sizes_are_refused() {
        for bad in [
            "",
            "M",
            "-1",
            "1.5M",
            "1T",
            "0",
            "99999999999999999999",
            "2000G",
            "1 M B",
        ] {
            assert!(parse_size(bad).is_err(), "{bad:?}");
        }
    }
}
