//! # dt-offchain
//!
//! The embedded off-chain store of dt-ledger. The chain keeps what the parties must agree
//! on (which documents and feeds a twin has, their content ids and checkpoints); this crate
//! keeps the bytes: documents encrypted under a fresh key per version, that key sealed for
//! each authorized reader, everything content-addressed so any copy can be checked against
//! the chain; and sensor feeds as hash-chained logs of entries signed by the feed's device.
//!
//! Modules, one job each:
//!
//! - [`content_id`]: IPFS content ids (CIDv1, SHA-256) of blocks, and their verification.
//! - [`crypto`]: AES-256-GCM encryption of documents in chunks (bounded memory for any
//!   size) and RSA-OAEP (SHA-256) key envelopes for the readers' public keys.
//! - [`block_store`]: the persistent, content-addressed store of encrypted chunks and
//!   manifests on disk.
//! - [`documents`]: a document version end to end: encrypt, chunk and store it with its
//!   manifest and key envelope; fetch, verify and decrypt it as a stream.
//! - [`feed`]: feed entries, their signatures and the validation replicas apply, and the
//!   persistent log per feed.
//! - [`uploads`]: blocks put by members and not yet referenced on chain: each charged to
//!   its organisation's quota, and collected after a grace period.
//! - [`network`]: the store among the partner nodes over libp2p: replication to 2k+1
//!   partners, verified reads from any replica, quorum-changed access lists, live feeds.
//!
//! Every signature this crate makes or checks (a party's signed store request, a device's
//! feed batch) covers the chain's genesis hash, so a signature made for one chain (a test
//! network) is worthless on another (the production chain).

pub mod block_store;
pub mod content_id;
pub mod crypto;
pub mod documents;
pub mod feed;
pub mod network;
pub mod uploads;

/// The hash of a chain's genesis block: which chain a signature is for.
pub type GenesisHash = [u8; 32];
