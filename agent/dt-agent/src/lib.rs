//! # dt-agent
//!
//! The device agent: the bridge at the owner's site between the chain and the physical
//! device. This crate holds:
//!
//! - [`device`]: what the agent needs from a device ([`device::Device`]), and
//!   [`simulator`], a bottling plant (filling stations with fill-level sensors, a conveyor,
//!   valves) that implements it for tests and demos;
//! - [`programs`]: the program-call loop: it follows the chain's finalized blocks, claims
//!   the twin's pending calls in order, runs each on the device and reports `Completed` or
//!   `Failed` with the device's answer; it runs only calls inside the declaration they were
//!   checked against when queued ([`declarations`]) and inside the device's own safety
//!   envelope ([`envelope`], a file on the device's side; the simulator ships one);
//! - [`feeds`]: the device's sensor readings as signed, hash-chained feed entries in the
//!   node's off-chain store, through [`buffer`], a persistent local buffer that keeps every
//!   reading until the node acknowledged it; feed heads anchored on chain as checkpoints;
//!   an exchanged sensor replaced on chain in one transaction; feeds above Public encrypted
//!   under key epochs sealed for the readers the chain clears ([`epochs`]);
//! - [`chain`]: the node's feed methods and chain reads the agent uses, and [`chain::Submitter`],
//!   which sends the device account's transactions one at a time.
//!
//! Calls whose arguments break the bounds the specification declares never get here: the
//! runtime refuses them before they are queued. The agent checks them again all the same, and
//! against the envelope, which holds even against whoever may declare programs on chain.

pub mod buffer;
pub mod chain;
pub mod config;
pub mod connectors;
pub mod declarations;
pub mod device;
pub mod envelope;
pub mod epochs;
pub mod feeds;
pub mod programs;
pub mod reconnect;
pub mod simulator;
pub mod status;
