//! Sensor feeds: append-only, hash-chained logs of entries signed by the feed's device.
//!
//! The chain registers a feed (its id and its owner, the device's sr25519 account) and the
//! owner anchors [`Checkpoint`]s of the log now and then; the readings themselves live here,
//! on every replica, and appending never needs a transaction.
//!
//! Modules, one job each:
//!
//! - [`entry`]: the format: [`Entry`], its BLAKE2-256 hash (the `entry_hash` of the chain's
//!   checkpoints), and the signed units a device sends, [`SignedEntry`] and [`SignedBatch`].
//! - [`writer`]: the device side: numbers and chains the next entries ([`FeedWriter`]).
//! - [`validation`]: the pure rules a replica applies before it stores anything: only the
//!   owner's next entries; first write wins, so forks are refused and identical re-sends
//!   are acknowledged without change.
//! - [`record`]: how one batch is framed on disk (length, checksum) and how a torn tail is
//!   recognised.
//! - [`log`]: [`FeedLog`], one feed's persistent log (segment files plus a small in-memory
//!   index) with its reads and its live subscription.
//! - [`subscription`]: [`Subscription`], the in-order stream of new entries.
//! - [`store`]: [`FeedStore`], the directory holding every feed's log.
//! - [`view`]: [`EntryView`], an entry with its proof as JSON, as nodes serve it.
//!
//! # Sequence numbers, hashes and signatures
//!
//! A feed's first entry has sequence number 0 and `previous` = [`GENESIS_PREVIOUS`] (all
//! zero); entry `n + 1` carries the hash of entry `n`. The hash is BLAKE2-256 of the
//! entry's SCALE encoding (see [`Entry`] for the field order). The owner signs each batch
//! once: `b"dt-ledger/feed-batch/v3" ++ genesis hash ++ the batch's size ++ the root of a
//! hash tree over its entries' hashes` ([`batch_tree`]). So a batch of a thousand samples
//! costs one signature to make and one to check, and yet every entry is verifiable by
//! itself: a replica serves each entry with its [`EntryProof`] (the batch's signature and
//! the entry's path to the root, at most 13 hashes), and a reader checks it with the
//! owner's key from the chain ([`StoredEntry::verify`]), trusting no replica. The hash chain
//! orders the entries and lets one anchored [`Checkpoint`] fix all before it. The chain's
//! genesis hash in the signed bytes makes entries signed for a test network worthless on
//! the production chain; any replica that knows the chain's genesis hash checks them
//! ([`FeedKey`]).
//!
//! # Durability
//!
//! An append is *acknowledged* (returns `Ok`) only once its record has been written and
//! `fdatasync`ed (and, for the feed's first write or a new segment file, the directory
//! entry `fsync`ed). An acknowledged write survives a killed process (`kill -9`) and an
//! operating-system crash or power loss, as far as the disk honours flushes. A crash in the
//! middle of an append leaves at most one torn record at the end of the newest segment;
//! opening the log cuts it off. That record was never acknowledged, so the device re-sends
//! it, and if it did reach the disk the re-send is acknowledged as
//! [`Appended::AlreadyStored`]. Acknowledged means stored on this replica; copying the
//! log to the other partners' replicas is the network layer's job.
//!
//! # Encrypted feeds
//!
//! A feed may encrypt its payloads: [`Entry::epoch`] is then `Some(e)` and the payload is
//! AES-256-GCM output under the feed's key for epoch `e`, which the device makes afresh for
//! each epoch and seals for the epoch's readers like a document key
//! ([`crate::crypto::EpochEncryptor`]). This layer never sees keys: hashes, signatures and
//! validation cover the opaque payload bytes, so every replica checks an encrypted feed
//! without being able to read it.
//!
//! [`Checkpoint`]: dt_primitives::feed::Checkpoint

pub mod batch_tree;
pub mod entry;
pub mod error;
pub mod log;
pub mod record;
pub mod store;
pub mod subscription;
pub mod validation;
pub mod view;
pub mod writer;

pub use batch_tree::{BatchTree, EntryProof, ProofError};
pub use entry::{
	batch_message, signing_message, Entry, FeedKey, SignedBatch, SignedEntry, StoredEntry,
	FIRST_SEQUENCE, GENESIS_PREVIOUS, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES, MAX_PAYLOAD,
	SIGNING_DOMAIN,
};
pub use error::{CorruptReason, StoreError};
pub use log::{Appended, FeedLog, FeedLogConfig, Recovery, MAX_RANGE_BYTES, MAX_RANGE_ENTRIES};
pub use store::FeedStore;
pub use subscription::{Subscription, SubscriptionError};
pub use validation::{validate, verify, FeedError, Verdict, VerifiedBatch};
pub use view::{EntryView, ProofView};
pub use writer::FeedWriter;

pub use dt_primitives::feed::{Checkpoint, EntryHash, FeedId};

#[cfg(test)]
mod tests;
