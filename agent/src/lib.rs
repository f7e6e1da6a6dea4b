//! The `vigild` agent library: the socket server, capture of hook events into a journal and a
//! SQLite store, scoring, learning, and
//! the person-facing views (import, review, stats).

pub mod capture;
pub mod config;
pub mod daemon;
pub mod dataset;
pub mod features;
pub mod forest;
pub mod import;
pub mod journal;
pub mod labels;
pub mod learn;
pub mod lock;
pub mod model;
pub mod parse;
pub mod review;
pub mod rules;
pub mod score;
pub mod server;
pub mod stats;
pub mod store;
pub mod writer;

/// Version of the agent, reported to clients.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
