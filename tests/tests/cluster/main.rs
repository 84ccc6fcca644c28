//! Several instances behaving as one: three confab instances on one PostgreSQL database and
//! one Redis (each test starts its own `redis-server`), clients spread over them, and the
//! failures that break other servers — Redis killed or paused, an instance SIGKILLed, a
//! rolling restart. Every client must hear every acknowledged message of its groups exactly
//! once, per group in `rev` order, whichever instance took the write.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod balancer;
mod failures;
mod fanout;
mod instances;
mod moderation;
mod presence;
mod shared;
mod team;
