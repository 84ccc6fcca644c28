//! Random secrets and tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The shortest signing secret accepted: HS256 is only as strong as a 256-bit key.
pub const MIN_SECRET_LEN: usize = 32;

/// A new random signing secret (64 bytes).
pub fn generate_secret() -> Vec<u8> {
    random_bytes::<64>().to_vec()
}

/// Cryptographically secure random bytes (ChaCha reseeded from the OS).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    rand::random::<[u8; N]>()
}

/// Random bytes as URL-safe text.
pub(crate) fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}
