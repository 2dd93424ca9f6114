//! Sensor feeds as the chain refers to them.
//!
//! The readings themselves live in the off-chain store as a hash-chained, signed log per
//! feed; the chain registers the feed (who owns it, what it measures) and anchors
//! checkpoints of the log, so anyone can later prove that an entry existed at a checkpoint.
//!
//! The chain and the off-chain code share these types: the device agent builds a
//! [`Checkpoint`] from its log and anchors it, an auditor compares the log it fetched with
//! the anchored checkpoints, and clients compare readings with a feed's [`ValueRange`].

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::program::MAX_DECIMALS;

/// A feed's id, assigned by the chain when the feed is registered; never reused.
pub type FeedId = u64;

/// The hash of one entry of a feed's log: the digest by which the log chains its entries.
pub type EntryHash = [u8; 32];

/// A point of a feed's log, anchored on the chain by the feed's owner: the entry with this
/// sequence number had this hash. Since the log is hash-chained, the checkpoint fixes every
/// entry up to it.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct Checkpoint {
	/// The entry's sequence number in the log.
	pub sequence: u64,
	/// The entry's hash.
	pub entry_hash: EntryHash,
	/// The entry's timestamp, in milliseconds since the Unix epoch.
	pub timestamp: u64,
}

impl Checkpoint {
	/// Whether this checkpoint may follow `previous`: a later entry (greater sequence
	/// number), not timestamped before it.
	pub fn follows(&self, previous: &Checkpoint) -> bool {
		self.sequence > previous.sequence && self.timestamp >= previous.timestamp
	}
}

/// The range a feed's readings are expected to stay in, for clients that detect anomalies.
///
/// Numbers are fixed-point, as in [`crate::program`]: a reading `v` with `decimals = d`
/// stands for `v / 10^d`, so bounds compare exactly.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct ValueRange {
	/// The smallest expected reading, in units of 10^-decimals.
	pub min: i128,
	/// The largest expected reading, in units of 10^-decimals.
	pub max: i128,
	/// Decimal places of the readings, at most [`MAX_DECIMALS`].
	pub decimals: u8,
}

/// Why a [`ValueRange`] is inconsistent.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ValueRangeError {
	/// The minimum is greater than the maximum.
	MinAboveMax,
	/// More than [`MAX_DECIMALS`] decimal places.
	TooManyDecimals,
}

impl ValueRange {
	/// Checks that the range is consistent.
	pub fn check(&self) -> Result<(), ValueRangeError> {
		if self.min > self.max {
			return Err(ValueRangeError::MinAboveMax);
		}
		if self.decimals > MAX_DECIMALS {
			return Err(ValueRangeError::TooManyDecimals);
		}
		Ok(())
	}

	/// Whether a reading (in units of 10^-decimals) lies in the range, bounds included.
	pub fn contains(&self, reading: i128) -> bool {
		(self.min..=self.max).contains(&reading)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn checkpoint(sequence: u64, timestamp: u64) -> Checkpoint {
		Checkpoint { sequence, entry_hash: [sequence as u8; 32], timestamp }
	}

	#[test]
	fn checkpoints_move_forward() {
		let previous = checkpoint(10, 1_000);
		assert!(checkpoint(11, 1_000).follows(&previous));
		assert!(checkpoint(50, 9_000).follows(&previous));
		assert!(!checkpoint(10, 2_000).follows(&previous));
		assert!(!checkpoint(9, 2_000).follows(&previous));
		assert!(!checkpoint(11, 999).follows(&previous));
	}

	#[test]
	fn value_ranges_are_checked() {
		let range = ValueRange { min: -50, max: 1_250, decimals: 1 };
		assert_eq!(range.check(), Ok(()));
		assert!(range.contains(-50) && range.contains(1_250) && range.contains(0));
		assert!(!range.contains(-51) && !range.contains(1_251));
		assert_eq!(ValueRange { min: 5, max: 5, decimals: 0 }.check(), Ok(()));
		assert_eq!(
			ValueRange { min: 6, max: 5, decimals: 0 }.check(),
			Err(ValueRangeError::MinAboveMax)
		);
		assert_eq!(
			ValueRange { min: 0, max: 5, decimals: MAX_DECIMALS + 1 }.check(),
			Err(ValueRangeError::TooManyDecimals)
		);
	}

	#[test]
	fn checkpoints_and_ranges_round_trip() {
		let anchored = checkpoint(7, 1_700_000_000_000);
		assert_eq!(anchored.encode().len(), Checkpoint::max_encoded_len());
		assert_eq!(Checkpoint::decode(&mut &anchored.encode()[..]).unwrap(), anchored);
		let range = ValueRange { min: i128::MIN, max: i128::MAX, decimals: MAX_DECIMALS };
		assert_eq!(ValueRange::decode(&mut &range.encode()[..]).unwrap(), range);
	}
}
