//! The evaluations: what the signals catch under the edits adversaries
//! make, and what they wrongly match among benign media.

mod chart;
mod corpus;
pub(crate) mod images;
mod report;
mod transforms;
pub(crate) mod videos;
