//! What the feeds pallet stores and what its reads return.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dt_primitives::{
	access::{Confidentiality, ElementId, TwinId},
	feed::{Checkpoint, FeedId, ValueRange},
};
use frame_support::{
	traits::Get, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use scale_info::TypeInfo;

/// The position of a checkpoint in a feed's history, from 0 (the first anchored).
pub type CheckpointIndex = u32;

/// What registering a feed says about it: who writes it and what it measures.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxSchema, MaxUnit))]
#[codec(mel_bound(AccountId: MaxEncodedLen))]
pub struct FeedRegistration<AccountId, MaxSchema, MaxUnit>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxSchema: Get<u32>,
	MaxUnit: Get<u32>,
{
	/// The device account that owns the feed: the only one that appends to its log in the
	/// off-chain store and anchors its checkpoints.
	pub owner: AccountId,
	/// What an entry holds: a media type or schema name (e.g.
	/// `application/vnd.dt.fill-level+json`), non-empty UTF-8 without control characters.
	pub schema: BoundedVec<u8, MaxSchema>,
	/// The unit of the readings (e.g. `mm`, `°C`), UTF-8 without control characters; empty
	/// for dimensionless readings.
	pub unit: BoundedVec<u8, MaxUnit>,
	/// How often the sensor is expected to report, in milliseconds; not zero.
	pub nominal_interval_ms: u32,
	/// The range readings are expected to stay in, if the specification gives one.
	pub expected_range: Option<ValueRange>,
	/// Who may read the feed: readers need clearance for this level.
	pub confidentiality: Confidentiality,
}

/// Whether a feed still takes checkpoints.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum FeedStatus<AccountId, BlockNumber> {
	/// The sensor reports into the feed; its owner anchors checkpoints.
	Active,
	/// The feed ended (its sensor was replaced or removed); its checkpoints stay.
	Closed {
		/// The block in which it was closed.
		at: BlockNumber,
		/// Who closed it.
		by: AccountId,
		/// The feed that took over, when the sensor was replaced.
		replaced_by: Option<FeedId>,
	},
}

/// A checkpoint with the block in which it was anchored.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct AnchoredCheckpoint<BlockNumber> {
	/// The checkpoint.
	pub checkpoint: Checkpoint,
	/// The block in which it was anchored.
	pub anchored_at: BlockNumber,
}

/// A registered feed: the stream of one sensor, attached to the sensor's element.
#[derive(
	CloneNoBound,
	DebugNoBound,
	PartialEqNoBound,
	EqNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(MaxSchema, MaxUnit))]
#[codec(mel_bound(AccountId: MaxEncodedLen, BlockNumber: MaxEncodedLen))]
pub struct Feed<AccountId, BlockNumber, MaxSchema, MaxUnit>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxSchema: Get<u32>,
	MaxUnit: Get<u32>,
{
	/// The twin the feed belongs to.
	pub twin: TwinId,
	/// The element of the twin's specification that describes the sensor.
	pub element: ElementId,
	/// The device account that writes the feed and anchors its checkpoints.
	pub owner: AccountId,
	/// What an entry holds (a media type or schema name).
	pub schema: BoundedVec<u8, MaxSchema>,
	/// The unit of the readings.
	pub unit: BoundedVec<u8, MaxUnit>,
	/// How often the sensor is expected to report, in milliseconds.
	pub nominal_interval_ms: u32,
	/// The range readings are expected to stay in, if known.
	pub expected_range: Option<ValueRange>,
	/// Who may read it: readers need clearance for this level.
	pub confidentiality: Confidentiality,
	/// Who registered it.
	pub registered_by: AccountId,
	/// The block in which it was registered.
	pub registered_at: BlockNumber,
	/// Whether it is active or closed.
	pub status: FeedStatus<AccountId, BlockNumber>,
	/// The last checkpoint anchored, if any (also the last of its history).
	pub latest_checkpoint: Option<AnchoredCheckpoint<BlockNumber>>,
	/// How many checkpoints were anchored.
	pub checkpoint_count: CheckpointIndex,
}

impl<AccountId, BlockNumber, MaxSchema, MaxUnit> Feed<AccountId, BlockNumber, MaxSchema, MaxUnit>
where
	AccountId: Clone + PartialEq + Eq + core::fmt::Debug,
	BlockNumber: Clone + PartialEq + Eq + core::fmt::Debug,
	MaxSchema: Get<u32>,
	MaxUnit: Get<u32>,
{
	/// Whether the feed still takes checkpoints.
	pub fn is_active(&self) -> bool {
		matches!(self.status, FeedStatus::Active)
	}
}

/// A feed as the reads return it, with its latest checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct FeedRecord<AccountId, BlockNumber> {
	/// Its id.
	pub id: FeedId,
	/// The twin it belongs to.
	pub twin: TwinId,
	/// The element it is attached to.
	pub element: ElementId,
	/// The device account that writes it.
	pub owner: AccountId,
	/// What an entry holds.
	pub schema: Vec<u8>,
	/// The unit of the readings.
	pub unit: Vec<u8>,
	/// How often the sensor is expected to report, in milliseconds.
	pub nominal_interval_ms: u32,
	/// The range readings are expected to stay in, if known.
	pub expected_range: Option<ValueRange>,
	/// Its confidentiality level.
	pub confidentiality: Confidentiality,
	/// Who registered it.
	pub registered_by: AccountId,
	/// When.
	pub registered_at: BlockNumber,
	/// Whether it is active or closed.
	pub status: FeedStatus<AccountId, BlockNumber>,
	/// The last checkpoint anchored, if any.
	pub latest_checkpoint: Option<AnchoredCheckpoint<BlockNumber>>,
	/// How many checkpoints were anchored.
	pub checkpoint_count: CheckpointIndex,
}

/// A checkpoint of a feed's history, as [`crate::Pallet::checkpoints`] returns it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct CheckpointRecord<BlockNumber> {
	/// Its position in the feed's history.
	pub index: CheckpointIndex,
	/// The checkpoint.
	pub checkpoint: Checkpoint,
	/// The block in which it was anchored.
	pub anchored_at: BlockNumber,
}
