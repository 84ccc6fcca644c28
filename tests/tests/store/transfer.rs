//! `transfer`: (being written).
