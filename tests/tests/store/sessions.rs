//! `sessions`: (being written).
