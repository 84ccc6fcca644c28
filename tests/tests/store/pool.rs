//! `pool`: (being written).
