//! What the programs pallet stores and what its reads return.

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use dt_primitives::{
	access::{ElementId, ProgramName, TwinId},
	program::{ArgumentError, ParameterDeclaration, ProgramArguments},
};
use scale_info::TypeInfo;
use sp_runtime::traits::{BlakeTwo256, Hash};

/// Identifies a program call, across all twins. Ids are never reused.
pub type CallId = u64;

/// The BLAKE2-256 hash of a program's declared parameters (SCALE-encoded), recorded with each
/// call: the device agent judges a call by the declaration it was checked against when it
/// was queued, and finds that declaration by this hash.
pub type DeclarationHash = [u8; 32];

/// The hash of a program's declared `parameters`, as [`ProgramCall::declaration_hash`]
/// records it.
pub fn declaration_hash(parameters: &[ParameterDeclaration]) -> DeclarationHash {
	BlakeTwo256::hash_of(&parameters).0
}

/// Most calls one page of [`crate::Pallet::calls_of_twin`] returns.
pub const MAX_CALLS_PER_PAGE: u32 = 100;

/// Where a program call stands. `Output` is the type of the device's result bytes.
///
/// A call starts `Pending`; the device claims it (`Claimed`) and reports `Completed` or
/// `Failed`; its caller may cancel it while it is `Pending`; a call not finished by the start
/// of its `expires_at` block is `Expired`. The last four are final.
///
/// Expiry needs no transaction: from its `expires_at` block on, an unfinished call is
/// expired for every check and read. Its stored status follows when its twin's next call is
/// queued (which takes it out of the queue, with its `ProgramCallExpired` event).
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum CallStatus<AccountId, BlockNumber, Output> {
	/// Queued, waiting for the device.
	Pending,
	/// The device account `by` took it in block `at` and is running it.
	Claimed { by: AccountId, at: BlockNumber },
	/// The device ran it successfully; `result` is what it reported.
	Completed { at: BlockNumber, result: Output },
	/// The device could not run it, or the program failed; `result` says why.
	Failed { at: BlockNumber, result: Output },
	/// Its caller withdrew it before the device claimed it.
	Cancelled { at: BlockNumber },
	/// It was not finished in time.
	Expired { at: BlockNumber },
}

impl<AccountId, BlockNumber, Output> CallStatus<AccountId, BlockNumber, Output> {
	/// Whether the call is still in its twin's queue: pending or claimed.
	pub fn is_unfinished(&self) -> bool {
		matches!(self, CallStatus::Pending | CallStatus::Claimed { .. })
	}
}

/// A call of a program of a twin's device.
#[derive(
	Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct ProgramCall<AccountId, BlockNumber, Output> {
	/// The twin whose device runs the program.
	pub twin: TwinId,
	/// The element of the twin's specification that offers the program.
	pub element: ElementId,
	/// The program's name.
	pub program: ProgramName,
	/// The arguments, checked against the program's declared parameters when queued.
	pub arguments: ProgramArguments,
	/// The hash of the declared parameters they were checked against ([`declaration_hash`]).
	pub declaration_hash: DeclarationHash,
	/// Who called it.
	pub caller: AccountId,
	/// The block in which it was queued.
	pub queued_at: BlockNumber,
	/// The block at whose start it expires unless finished before.
	pub expires_at: BlockNumber,
	/// Where it stands.
	pub status: CallStatus<AccountId, BlockNumber, Output>,
}

/// An unfinished call in its twin's queue, with the block at whose start it expires (so the
/// queue tells which of its calls expired without reading them).
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
pub struct QueuedCall<BlockNumber> {
	/// The call.
	pub call: CallId,
	/// Its [`ProgramCall::expires_at`].
	pub expires_at: BlockNumber,
}

/// A program call as the reads return it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct CallRecord<AccountId, BlockNumber> {
	/// Its id.
	pub id: CallId,
	/// The call, with the device's result as plain bytes.
	pub call: ProgramCall<AccountId, BlockNumber, Vec<u8>>,
}

/// What the device reports about a call it claimed.
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
pub enum Outcome {
	/// The program ran successfully.
	Completed,
	/// The program could not be run or failed.
	Failed,
}

/// Why the runtime rejected a call's arguments (wraps the reason for the error type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ArgumentRejection(pub ArgumentError);

impl frame_support::traits::PalletError for ArgumentRejection {
	// The check, and the index of the offending argument.
	const MAX_ENCODED_SIZE: usize = 2;
}
