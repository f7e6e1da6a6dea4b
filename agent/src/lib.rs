//! The `vigild` agent library: the socket server, capture of hook events into a journal and a
//! SQLite store, scoring, learning, and
//! the person-facing views (import, review, stats).

pub mod action;
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
pub mod models;
pub mod review;
pub mod score;
pub mod search;
pub mod server;
pub mod state;
pub mod stats;
pub mod status;
pub mod store;
pub mod training;
pub mod writer;

/// The parser and the hard rules live in `vigil-rules` (so that the hook client can link them);
/// these paths are kept for the agent's modules.
pub use vigil_rules::{parse, rules};

/// Version of the agent, reported to clients.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
