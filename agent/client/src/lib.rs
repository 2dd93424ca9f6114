//! # dt-client
//!
//! Talks to a dt-node over WebSocket JSON-RPC with the runtime's own types, so what a
//! party or the device agent sends is exactly what the runtime decodes:
//!
//! - [`Client::submit`] signs a call with an sr25519 key, submits it and waits until its
//!   block is finalized, returning the block's events and the call's dispatch error, if any;
//!   [`Client::submit_signed`] does the same for a transaction signed in advance, and sends
//!   it again while the node's pool lets it go without its being invalid;
//! - [`Client::signing_context`] and [`SigningContext::sign`] sign many transactions with
//!   their nonces in advance, [`Client::submit_only`] hands one to the pool without waiting;
//! - [`Client::finalized_events`] follows finalized blocks, every one of them in order,
//!   with their events (what the agent and `dt watch` subscribe to);
//! - [`Client::runtime_api`] reads through a runtime API at a block;
//! - [`Client::connect`] and every signature check that the chain runs a runtime this client
//!   was built for ([`ChainRuntime`]); [`RuntimeCode`] reads a runtime's code for an upgrade;
//! - [`dispatch_error_name`] names a refusal as `pallet.Error`;
//! - [`hex_string`] and [`from_hex`] are bytes as the node's RPC methods take and give them;
//! - [`ledger`] tells the events of a twin in words ([`ledger::Update`]), as `dt watch`,
//!   `dt audit` and the node's twin index show them;
//! - [`reading`] is the payload of a sensor reading in a feed entry;
//! - [`readers`] tells who the chain clears to read a twin's data of a level, with their
//!   registered encryption keys (what document and feed epoch keys are sealed for);
//! - [`twin_import`] turns an AML document into the calls that create a twin from it.

mod client;
mod dispatch_error;
mod error;
mod events;
pub mod ledger;
pub mod readers;
pub mod reading;
mod runtime_code;
mod runtime_version;
mod submission;
mod twin_import;
mod twin_insert;

pub use client::{from_hex, hex_string, Client, Finalized, SigningContext};
pub use dispatch_error::dispatch_error_name;
pub use error::ClientError;
pub use events::{FinalizedBlock, FinalizedEvents};
pub use runtime_code::{RuntimeCode, RuntimeCodeError};
pub use runtime_version::ChainRuntime;
pub use twin_import::{twin_import, ELEMENTS_PER_CALL};
pub use twin_insert::{insertion_calls, Insertion};
