//! `users`: (being written).
