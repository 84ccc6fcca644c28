//! Adapters that work on files: attachment bytes kept in a directory ([`DirBlobs`]) and raster
//! images measured and thumbnailed ([`RasterImages`]). Nothing here knows who may read a file
//! or what an attachment is; those are the stores' and the domain's.
#![forbid(unsafe_code)]

mod dir;
mod images;

pub use dir::DirBlobs;
pub use images::{DECODE_BUDGET, RasterImages};
