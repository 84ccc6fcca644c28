//! The attachment bytes' part of a move between stores (`confab port`): every committed blob of
//! the source written to the target through the `Blobs` port, then read back from the target
//! and checked against the SHA-256 of what was read from the source. Never writes to the
//! source.

use sha2::{Digest, Sha256};

use crate::blobs::{Blobs, Chunks};
use crate::service::transfer::{Side, TransferError};
use crate::{Error, Result};

/// Blob ids read from the source at a time.
const PAGE: u32 = 200;

/// Copies every committed blob of `from` into `to` and verifies each on the target; answers
/// how many it copied. `now` stamps the target's writes.
pub async fn copy_blobs(
    from: &dyn Blobs,
    to: &dyn Blobs,
    now: confab_domain::Timestamp,
) -> Result<u64, TransferError> {
    let fail = |side, doing, source| TransferError::Store {
        side,
        doing,
        table: "attachment bytes",
        source,
        written: true,
    };
    let mut after = None;
    let mut copied = 0;
    loop {
        let page = from
            .list(after, PAGE)
            .await
            .map_err(|e| fail(Side::Source, "listing", e))?;
        let Some(last) = page.last().copied() else {
            return Ok(copied);
        };
        for id in page {
            let mut source = from
                .open(id, 0, u64::MAX)
                .await
                .map_err(|e| fail(Side::Source, "reading", e))?;
            let mut writer = to
                .create(id, now)
                .await
                .map_err(|e| fail(Side::Target, "writing", e))?;
            let mut hasher = Sha256::new();
            while let Some(chunk) = source
                .next_chunk()
                .await
                .map_err(|e| fail(Side::Source, "reading", e))?
            {
                hasher.update(&chunk);
                writer
                    .write(chunk)
                    .await
                    .map_err(|e| fail(Side::Target, "writing", e))?;
            }
            writer
                .commit()
                .await
                .map_err(|e| fail(Side::Target, "writing", e))?;
            let mut back = to
                .open(id, 0, u64::MAX)
                .await
                .map_err(|e| fail(Side::Target, "verifying", e))?;
            let read_back = hash(back.as_mut())
                .await
                .map_err(|e| fail(Side::Target, "verifying", e))?;
            if read_back[..] != hasher.finalize()[..] {
                return Err(fail(
                    Side::Target,
                    "verifying",
                    Error::Internal(format!(
                        "the bytes of attachment {id} differ after the copy"
                    )),
                ));
            }
            copied += 1;
        }
        after = Some(last);
    }
}

async fn hash(chunks: &mut dyn Chunks) -> Result<Vec<u8>> {
    let mut hasher = Sha256::new();
    while let Some(chunk) = chunks.next_chunk().await? {
        hasher.update(&chunk);
    }
    Ok(hasher.finalize().to_vec())
}
