//! `announcements`: (being written).
