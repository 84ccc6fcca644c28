//! `otp`: (being written).
