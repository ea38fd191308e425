//! The monitor end to end, as an operator runs it: the `vigil` binary
//! against simulated sites on loopback (`vigil-sim`). [`ecosystem`] is the
//! whole life of a few sightings, from a beacon's post to the takedown
//! report; [`hostile`] is the monitor under sites that try to wedge it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // Test failures should panic.

#[path = "../common/mod.rs"]
mod common;
mod ecosystem;
mod hostile;
mod support;
