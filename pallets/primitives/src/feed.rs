//! Sensor feeds as the chain refers to them.
//!
//! The readings themselves live in the off-chain store as a hash-chained, signed log per
//! feed; the chain registers the feed (who owns it, what it measures) and anchors
//! checkpoints of the log, so anyone can later prove that an entry existed at a checkpoint.

/// A feed's id, assigned by the chain when the feed is registered; never reused.
pub type FeedId = u64;
