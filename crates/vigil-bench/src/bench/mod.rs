//! The benchmarks: how fast each part of the pipeline runs.

pub(crate) mod hash;
pub(crate) mod images;
pub(crate) mod import;
pub(crate) mod index;
pub(crate) mod monitor;
pub(crate) mod text;
mod text_corpus;
pub(crate) mod video;
