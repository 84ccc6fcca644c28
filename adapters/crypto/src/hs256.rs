//! The only cryptography `jsonwebtoken` gets from us: HMAC-SHA-256 (HS256), from the `hmac`
//! and `sha2` crates. The crate's own providers (`rust_crypto`, `aws_lc_rs`) bring RSA, ECDSA
//! and EdDSA with them (and `rsa` carries RUSTSEC-2023-0071); a server that signs its own
//! tokens with one shared secret needs none of them, so none is compiled in. This provider
//! must never accept another algorithm: anything but HS256 is refused before a key is read.

use hmac::{Hmac, Mac};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer, Verifier};
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// HS256 and nothing else; JWK helpers are left unimplemented (confab reads no JWKs).
static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils::new_unimplemented(),
};

/// Makes [`PROVIDER`] the process's provider. Idempotent: a second call (another issuer,
/// another test) finds it installed and changes nothing.
pub fn install() {
    // An Err only says a provider is installed already, and no other can be compiled in.
    let _ = PROVIDER.install_default();
}

struct Hs256(HmacSha256);

impl Hs256 {
    fn new(algorithm: &Algorithm, secret: &[u8]) -> Result<Self> {
        if *algorithm != Algorithm::HS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        HmacSha256::new_from_slice(secret)
            .map(Self)
            .map_err(|_| ErrorKind::InvalidKeyFormat.into())
    }
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    Ok(Box::new(Hs256::new(algorithm, key.as_bytes())?))
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    match key.kind() {
        DecodingKeyKind::SecretOrDer(secret) => Ok(Box::new(Hs256::new(algorithm, secret)?)),
        _ => Err(ErrorKind::InvalidKeyFormat.into()),
    }
}

impl Signer<Vec<u8>> for Hs256 {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

impl Verifier<Vec<u8>> for Hs256 {
    fn verify(&self, msg: &[u8], tag: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let mut mac = self.0.clone();
        mac.update(msg);
        // Constant-time comparison, from `hmac`.
        mac.verify_slice(tag).map_err(signature::Error::from_source)
    }
}

impl JwtSigner for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}

impl JwtVerifier for Hs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }
}
