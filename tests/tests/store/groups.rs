//! `groups`: (being written).
