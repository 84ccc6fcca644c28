//! Cryptography behind the ports: Argon2id password hashing, HS256 access tokens, random refresh
//! tokens and secrets. This crate never decides policy (who may log in); it only does the math.
#![forbid(unsafe_code)]

mod codes;
mod hs256;
mod jwt;
mod passwords;
mod random;

pub use codes::HmacCodeMaker;
pub use jwt::JwtIssuer;
pub use passwords::Argon2Hasher;
pub use random::{MIN_SECRET_LEN, generate_secret};
