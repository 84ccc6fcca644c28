//! `jwt`: the access-token verifier (`confab_crypto::JwtIssuer::verify_access`) with a fixed
//! secret and a fixed "now". The first byte picks how the rest becomes a token:
//!
//! - 0: the rest is the token string, as a client sends it (`Authorization: Bearer`, `?token=`,
//!   a WebSocket `auth`);
//! - 1: the rest is a claims payload, signed with the secret under the usual HS256 header — a
//!   fuzzer cannot forge a signature, so this reaches what is checked after it;
//! - 2: the rest is a header and a payload (split at the first NUL byte), both signed.
//!
//! Whatever the token, verifying it must not panic; a refusal is a 401; an accepted token
//! expires after "now" and carries a signature that is the secret's own over its first two
//! parts (no `alg` trick, no second encoding of the signature gets past it).

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use confab_crypto::JwtIssuer;
use confab_domain::Timestamp;
use confab_ports::AuthFailure;
use confab_ports::tokens::TokenIssuer;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The fuzzers' signing secret (32 bytes or more, as the server requires).
pub const SECRET: &[u8] = b"confab-fuzz-secret-0123456789-abcdefghij";
/// "Now" for every verification: 2027-01-15T08:00:00Z, the tests' favourite instant.
pub const NOW: i64 = 1_800_000_000;
/// The header `jsonwebtoken` writes for HS256.
pub const HEADER: &[u8] = br#"{"typ":"JWT","alg":"HS256"}"#;

pub fn now() -> Timestamp {
    Timestamp::from_unix_timestamp(NOW).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The issuer every target verifies with (15-minute access tokens, as by default).
pub fn issuer() -> &'static JwtIssuer {
    static ISSUER: OnceLock<JwtIssuer> = OnceLock::new();
    ISSUER.get_or_init(|| {
        JwtIssuer::new(
            SECRET,
            time::Duration::minutes(15),
            time::Duration::days(30),
        )
    })
}

/// `base64url(header).base64url(payload).base64url(HMAC-SHA256(secret, first two parts))`.
pub fn sign(header: &[u8], payload: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = URL_SAFE_NO_PAD.encode(mac(input.as_bytes()));
    format!("{input}.{signature}")
}

fn mac(input: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(SECRET)
        .unwrap_or_else(|e| panic!("HMAC takes any key: {e}"));
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

pub fn jwt(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            if let Ok(token) = std::str::from_utf8(rest) {
                verify(token);
            }
        }
        1 => {
            verify(&sign(HEADER, rest));
        }
        _ => {
            let (header, payload) = match rest.iter().position(|&b| b == 0) {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &[][..]),
            };
            verify(&sign(header, payload));
        }
    }
}

/// Verifies `token` as every authenticated route and the WebSocket do.
pub fn verify(token: &str) -> Option<confab_ports::tokens::AccessClaims> {
    match issuer().verify_access(token, now()) {
        Ok(claims) => {
            assert!(claims.expires_at > now(), "an expired token was accepted");
            assert!(
                signed_by_us(token),
                "{token:?} was accepted without our signature"
            );
            Some(claims)
        }
        Err(failure) => {
            assert_eq!(failure, AuthFailure::InvalidToken);
            let api =
                confab_http::fuzzing::ApiError::from(confab_ports::Error::Unauthorized(failure));
            assert_eq!(api.status.as_u16(), 401);
            crate::check_client_error(api);
            None
        }
    }
}

/// Whether the token's third part is our HMAC over its first two (decoded leniently: padding
/// or trailing bits must not make a difference that matters).
fn signed_by_us(token: &str) -> bool {
    let lenient = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let Some((input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    input.matches('.').count() == 1
        && lenient
            .decode(signature)
            .is_ok_and(|sig| sig == mac(input.as_bytes()))
}
