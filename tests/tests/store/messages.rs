//! `messages`: (being written).
