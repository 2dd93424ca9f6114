//! # Programs pallet
//!
//! The queues of program calls of Digital Twins' devices. A twin's specification declares,
//! on the element that offers it, each program the device can run on request (clean the
//! filler, recalibrate a sensor, change a set point) with its parameters and their safety
//! bounds. A party calls such a program with arguments; the call is checked and queued with
//! an id; the twin's device agent claims the calls in order, runs them on the device and
//! reports the outcome. Every transition is an event, so the agent and the clients follow
//! the queue by subscribing to events; finished calls stay readable.
//!
//! ## Calls
//!
//! - [`Pallet::call_program`]: queues a call of a program declared in the twin's
//!   specification ([`Config::Programs`]). Needs the twin's `CallPrograms` permission for that
//!   program; the arguments must give every declared parameter exactly once, with a value of
//!   its type, within its bounds and among its allowed values
//!   ([`dt_primitives::program::check_arguments`]). Each twin queues at most
//!   [`Config::MaxPendingCallsPerTwin`] unfinished calls. The call records the hash of the
//!   declaration it was checked against ([`declaration_hash`]), so the device agent judges
//!   it by that declaration even if the program is declared anew before it runs.
//! - [`Pallet::claim_call`]: the device takes the oldest pending call of its twin's queue.
//!   Needs `RunPrograms` (the Device role has it).
//! - [`Pallet::report_outcome`]: the account that claimed a call reports it completed or
//!   failed, with a result; the call leaves the queue. Needs `RunPrograms`.
//! - [`Pallet::cancel_call`]: the caller withdraws a call the device has not claimed yet.
//!
//! A call not finished [`Config::CallTimeToLive`] blocks after it was queued expires at the
//! start of that block, pending or claimed: from then on it can be neither claimed, reported
//! nor cancelled, and the reads show it `Expired`. Expiry is per twin and needs no block
//! hook: the twin's next [`Pallet::call_program`] takes its expired calls out of its queue
//! (deposits `ProgramCallExpired` for each, naming the block it expired at) before it checks
//! for room. So no limit is shared between twins: one twin's traffic never delays or
//! refuses another twin's calls (a stop command included).
//!
//! Authorization comes from the twin's access control ([`Config::Authorize`]). Each
//! transition is an event naming the twin and the call: `ProgramCallQueued`,
//! `ProgramCallClaimed`, `ProgramCallCompleted`, `ProgramCallFailed`, `ProgramCallCancelled`,
//! `ProgramCallExpired`.
//!
//! ## Reads
//!
//! [`Pallet::pending_calls`] (a twin's queue, in order), [`Pallet::calls_of_twin`] (all of a
//! twin's calls, past ones included, by id, a page at a time) and [`Pallet::call`], also
//! offered to nodes and clients as the [`runtime_api::ProgramsApi`].

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

pub mod runtime_api;
mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

use dt_primitives::{
	access::{ElementId, ProgramName, TwinElements, TwinId},
	program::ProgramParameters,
};

/// What the pallet needs from the twins' specifications (the twin-spec pallet).
pub trait DeclaredPrograms: TwinElements {
	/// The parameters `twin`'s specification declares for the program `name` offered by `element`; `None` if the element declares no such program.
	fn program_parameters(
		twin: TwinId,
		element: &ElementId,
		name: &ProgramName,
	) -> Option<ProgramParameters>;
}

/// What the benchmarks need from the runtime.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AccountId> {
	/// Makes `who` a member of the consortium, so the twins' access control recognises it.
	fn make_member(who: &AccountId);

	/// Creates a twin owned by `owner` (a member), with its access control, and declares on
	/// one of its elements a program with these `parameters` (consistent, as
	/// [`dt_primitives::program::check_parameters`] checks). Returns the twin, the element and
	/// the program's name. Each call creates a new twin.
	fn create_twin_with_program(
		owner: &AccountId,
		parameters: ProgramParameters,
	) -> (TwinId, ElementId, ProgramName);

	/// Makes `device` (a member) the device of `twin`: grants it the Device role, as `owner`
	/// (the twin's owner) would.
	fn make_device(owner: &AccountId, twin: TwinId, device: &AccountId);
}

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::{collections::BTreeSet, vec::Vec};
	use dt_primitives::{
		access::{AccessDenied, Action, Authorize},
		program::{check_arguments, ProgramArguments},
	};
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::Saturating;

	/// The device's result, as stored.
	pub type ResultOf<T> = BoundedVec<u8, <T as Config>::MaxResultLength>;

	/// A program call as stored.
	pub type ProgramCallOf<T> =
		ProgramCall<<T as frame_system::Config>::AccountId, BlockNumberFor<T>, ResultOf<T>>;

	/// A program call as the reads return it.
	pub type CallRecordOf<T> =
		CallRecord<<T as frame_system::Config>::AccountId, BlockNumberFor<T>>;

	/// A twin's queue as stored.
	pub type CallQueueOf<T> =
		BoundedVec<QueuedCall<BlockNumberFor<T>>, <T as Config>::MaxPendingCallsPerTwin>;

	/// The storage layout this code reads and writes. A change to it comes with a migration
	/// (`VersionedMigration`) from the previous version, listed in the runtime.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	#[pallet::config]
	pub trait Config: frame_system::Config<RuntimeEvent: From<Event<Self>>> {
		/// The twins' access control.
		type Authorize: Authorize<Self::AccountId>;

		/// The twins, their elements and the programs their specifications declare.
		type Programs: DeclaredPrograms;

		/// Most unfinished (pending or claimed) calls in one twin's queue.
		#[pallet::constant]
		type MaxPendingCallsPerTwin: Get<u32>;

		/// How many blocks after it was queued an unfinished call expires (at least 1).
		#[pallet::constant]
		type CallTimeToLive: Get<BlockNumberFor<Self>>;

		/// Longest result a device reports, in bytes.
		#[pallet::constant]
		type MaxResultLength: Get<u32>;

		/// Weights of this pallet's calls and of the expiry of calls.
		type WeightInfo: WeightInfo;

		/// Prepares accounts, twins and programs for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: crate::BenchmarkHelper<Self::AccountId>;
	}

	/// The id the next call will get. Ids are never reused.
	#[pallet::storage]
	pub type NextCallId<T: Config> = StorageValue<_, CallId, ValueQuery>;

	/// Every program call, finished ones included.
	#[pallet::storage]
	pub type Calls<T: Config> = StorageMap<_, Twox64Concat, CallId, ProgramCallOf<T>>;

	/// Each twin's unfinished calls with their expiry block, in the order they were queued:
	/// the claimed ones first, then the pending ones. Calls that expired stay until the
	/// twin's next call is queued.
	#[pallet::storage]
	pub type CallQueues<T: Config> =
		StorageMap<_, Twox64Concat, TwinId, CallQueueOf<T>, ValueQuery>;

	/// Which calls each twin has had, finished ones included.
	#[pallet::storage]
	pub type TwinCalls<T: Config> =
		StorageDoubleMap<_, Twox64Concat, TwinId, Twox64Concat, CallId, ()>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A program call was checked and queued for the twin's device.
		ProgramCallQueued {
			twin: TwinId,
			call: CallId,
			element: ElementId,
			program: ProgramName,
			caller: T::AccountId,
		},
		/// The twin's device took a call and is running it.
		ProgramCallClaimed { twin: TwinId, call: CallId, device: T::AccountId },
		/// The device ran a call successfully.
		ProgramCallCompleted {
			twin: TwinId,
			call: CallId,
			device: T::AccountId,
			result: ResultOf<T>,
		},
		/// The device could not run a call, or the program failed.
		ProgramCallFailed { twin: TwinId, call: CallId, device: T::AccountId, result: ResultOf<T> },
		/// The caller withdrew a call before the device claimed it.
		ProgramCallCancelled { twin: TwinId, call: CallId, caller: T::AccountId },
		/// A call was not finished before block `at` began and left the queue (deposited when
		/// the twin's next call was queued, possibly some blocks after `at`).
		ProgramCallExpired { twin: TwinId, call: CallId, at: BlockNumberFor<T> },
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No twin has this id.
		UnknownTwin,
		/// The twin's specification has no element with this id.
		UnknownElement,
		/// The element declares no program of this name.
		UnknownProgram,
		/// No call has this id.
		UnknownCall,
		/// The twin's access control does not allow the caller this action.
		NotAuthorized,
		/// The arguments do not fit the program's declared parameters; the inner value says
		/// which check failed for which argument.
		InvalidArguments(ArgumentRejection),
		/// The twin's queue holds `MaxPendingCallsPerTwin` unfinished calls already.
		QueueFull,
		/// The call is not pending: it was claimed, or it is finished.
		CallNotPending,
		/// The call expired: it was not finished `CallTimeToLive` blocks after it was queued.
		CallExpired,
		/// An older call of the twin is still pending: calls are run in the order queued.
		NotNextInQueue,
		/// The call is not claimed: it is still pending, or it is finished.
		CallNotClaimed,
		/// Another account claimed the call; only that account reports its outcome.
		NotClaimant,
		/// Only the account that called the program may cancel the call.
		NotCaller,
		/// Call ids are exhausted.
		CallIdsExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxPendingCallsPerTwin::get() > 0, "MaxPendingCallsPerTwin must allow one");
			assert!(
				T::CallTimeToLive::get() > BlockNumberFor::<T>::from(0u32),
				"CallTimeToLive must be at least one block"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Calls `program`, offered by `element` of `twin`'s specification, with `arguments`:
		/// one per declared parameter, in any order. Needs `CallPrograms` for the program on the
		/// twin. The twin's expired calls leave its queue first; the call is then queued for
		/// the twin's device with the next id, and expires `CallTimeToLive` blocks later unless
		/// finished before. Weighed for a queue full of expired calls; the rest is refunded.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::call_program(
			arguments.len() as u32,
			T::MaxPendingCallsPerTwin::get(),
		))]
		pub fn call_program(
			origin: OriginFor<T>,
			twin: TwinId,
			element: ElementId,
			program: ProgramName,
			arguments: ProgramArguments,
		) -> DispatchResultWithPostInfo {
			let who = ensure_signed(origin)?;
			ensure!(T::Programs::twin_exists(twin), Error::<T>::UnknownTwin);
			Self::authorize(twin, &who, Action::CallProgram(&program))?;
			ensure!(T::Programs::element_exists(twin, &element), Error::<T>::UnknownElement);
			let parameters = T::Programs::program_parameters(twin, &element, &program)
				.ok_or(Error::<T>::UnknownProgram)?;
			check_arguments(&parameters, &arguments)
				.map_err(|reason| Error::<T>::InvalidArguments(ArgumentRejection(reason)))?;
			let given = arguments.len() as u32;
			let now = frame_system::Pallet::<T>::block_number();
			let mut queue = CallQueues::<T>::get(twin);
			let expired = Self::expire_due(twin, &mut queue, now);
			let expires_at = now.saturating_add(T::CallTimeToLive::get());
			let call = NextCallId::<T>::get();
			let next = call.checked_add(1).ok_or(Error::<T>::CallIdsExhausted)?;
			queue
				.try_push(QueuedCall { call, expires_at })
				.map_err(|_| Error::<T>::QueueFull)?;
			CallQueues::<T>::insert(twin, queue);
			NextCallId::<T>::put(next);
			TwinCalls::<T>::insert(twin, call, ());
			Calls::<T>::insert(
				call,
				ProgramCall {
					twin,
					element: element.clone(),
					program: program.clone(),
					arguments,
					declaration_hash: declaration_hash(&parameters),
					caller: who.clone(),
					queued_at: now,
					expires_at,
					status: CallStatus::Pending,
				},
			);
			Self::deposit_event(Event::ProgramCallQueued {
				twin,
				call,
				element,
				program,
				caller: who,
			});
			Ok(Some(T::WeightInfo::call_program(given, expired)).into())
		}

		/// Takes a pending call to run it: the oldest pending call of its twin's queue that has
		/// not expired, since the device runs calls in the order they were queued. Needs
		/// `RunPrograms` on the call's twin. Only the claiming account can report the call's
		/// outcome.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::claim_call())]
		pub fn claim_call(origin: OriginFor<T>, call: CallId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Calls::<T>::get(call).ok_or(Error::<T>::UnknownCall)?;
			Self::authorize(info.twin, &who, Action::RunProgram)?;
			ensure!(info.status == CallStatus::Pending, Error::<T>::CallNotPending);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(now < info.expires_at, Error::<T>::CallExpired);
			// The queue holds the claimed calls first, then the pending ones (expired ones
			// aside): the call is the oldest pending one if nothing or a claimed call comes
			// before it among those not expired.
			let queue = CallQueues::<T>::get(info.twin);
			let position = queue
				.iter()
				.position(|queued| queued.call == call)
				.ok_or(Error::<T>::CallNotPending)?;
			if let Some(previous) = queue[..position].iter().rev().find(|q| now < q.expires_at) {
				let previous_claimed = Calls::<T>::get(previous.call)
					.is_some_and(|earlier| matches!(earlier.status, CallStatus::Claimed { .. }));
				ensure!(previous_claimed, Error::<T>::NotNextInQueue);
			}
			info.status = CallStatus::Claimed { by: who.clone(), at: now };
			let twin = info.twin;
			Calls::<T>::insert(call, info);
			Self::deposit_event(Event::ProgramCallClaimed { twin, call, device: who });
			Ok(())
		}

		/// Reports the outcome of a call the caller claimed, with the device's `result` (for
		/// example a measurement, or why the program failed). Needs `RunPrograms` on the call's
		/// twin. The call leaves the queue; it stays readable.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::report_outcome())]
		pub fn report_outcome(
			origin: OriginFor<T>,
			call: CallId,
			outcome: Outcome,
			result: ResultOf<T>,
		) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Calls::<T>::get(call).ok_or(Error::<T>::UnknownCall)?;
			Self::authorize(info.twin, &who, Action::RunProgram)?;
			match &info.status {
				CallStatus::Claimed { by, .. } => ensure!(*by == who, Error::<T>::NotClaimant),
				_ => return Err(Error::<T>::CallNotClaimed.into()),
			}
			let at = frame_system::Pallet::<T>::block_number();
			ensure!(at < info.expires_at, Error::<T>::CallExpired);
			let twin = info.twin;
			info.status = match outcome {
				Outcome::Completed => CallStatus::Completed { at, result: result.clone() },
				Outcome::Failed => CallStatus::Failed { at, result: result.clone() },
			};
			Self::finish(call, info);
			Self::deposit_event(match outcome {
				Outcome::Completed => {
					Event::ProgramCallCompleted { twin, call, device: who, result }
				},
				Outcome::Failed => Event::ProgramCallFailed { twin, call, device: who, result },
			});
			Ok(())
		}

		/// Withdraws a call the device has not claimed yet. Only its caller may, whatever its
		/// permissions now: withdrawing a request never needs more than making it.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::cancel_call())]
		pub fn cancel_call(origin: OriginFor<T>, call: CallId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let mut info = Calls::<T>::get(call).ok_or(Error::<T>::UnknownCall)?;
			ensure!(info.caller == who, Error::<T>::NotCaller);
			ensure!(info.status == CallStatus::Pending, Error::<T>::CallNotPending);
			let at = frame_system::Pallet::<T>::block_number();
			ensure!(at < info.expires_at, Error::<T>::CallExpired);
			info.status = CallStatus::Cancelled { at };
			let twin = info.twin;
			Self::finish(call, info);
			Self::deposit_event(Event::ProgramCallCancelled { twin, call, caller: who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Checks that `who` may do `action` on `twin`.
		fn authorize(twin: TwinId, who: &T::AccountId, action: Action<'_>) -> DispatchResult {
			T::Authorize::authorize(twin, who, action).map_err(|reason| {
				match reason {
					AccessDenied::UnknownTwin => Error::<T>::UnknownTwin,
					AccessDenied::NotPermitted => Error::<T>::NotAuthorized,
				}
				.into()
			})
		}

		/// Stores a call that just finished (completed, failed or cancelled) and takes it out
		/// of its twin's queue.
		fn finish(call: CallId, info: ProgramCallOf<T>) {
			CallQueues::<T>::mutate_exists(info.twin, |queue| {
				if let Some(calls) = queue {
					calls.retain(|queued| queued.call != call);
					if calls.is_empty() {
						*queue = None;
					}
				}
			});
			Calls::<T>::insert(call, info);
		}

		/// Takes the calls of `twin`'s `queue` that expired before block `now` out of it and
		/// stores them as expired. Returns how many there were.
		fn expire_due(twin: TwinId, queue: &mut CallQueueOf<T>, now: BlockNumberFor<T>) -> u32 {
			let mut expired = 0;
			queue.retain(|queued| {
				if now < queued.expires_at {
					return true;
				}
				Self::expire(twin, queued.call, queued.expires_at);
				expired += 1;
				false
			});
			expired
		}

		/// Stores a queued call as expired at the start of block `at`.
		fn expire(twin: TwinId, call: CallId, at: BlockNumberFor<T>) {
			Calls::<T>::mutate_extant(call, |info| info.status = CallStatus::Expired { at });
			Self::deposit_event(Event::ProgramCallExpired { twin, call, at });
		}

		/// A twin's unfinished calls that have not expired, in the order they were queued: the
		/// claimed ones, then the pending ones, the next the device will claim first.
		pub fn pending_calls(twin: TwinId) -> Vec<CallRecordOf<T>> {
			let now = frame_system::Pallet::<T>::block_number();
			CallQueues::<T>::get(twin)
				.into_iter()
				.filter(|queued| now < queued.expires_at)
				.filter_map(|queued| Self::call(queued.call))
				.collect()
		}

		/// A twin's calls, finished ones included, by id: at most `limit` (and at most
		/// [`MAX_CALLS_PER_PAGE`]) of those with an id above `after`. Pass the last id of a page
		/// as `after` to read the next.
		pub fn calls_of_twin(
			twin: TwinId,
			after: Option<CallId>,
			limit: u32,
		) -> Vec<CallRecordOf<T>> {
			let limit = limit.min(MAX_CALLS_PER_PAGE) as usize;
			// The `limit` smallest ids above `after`, without collecting them all.
			let mut page = BTreeSet::new();
			if limit > 0 {
				for call in TwinCalls::<T>::iter_key_prefix(twin) {
					if after.is_some_and(|after| call <= after) {
						continue;
					}
					page.insert(call);
					if page.len() > limit {
						page.pop_last();
					}
				}
			}
			page.into_iter().filter_map(|call| Self::call(call)).collect()
		}

		/// A call with its status, finished or not: an unfinished call whose expiry block has
		/// begun is `Expired`, whether or not its twin's queue let go of it yet.
		pub fn call(call: CallId) -> Option<CallRecordOf<T>> {
			let info = Calls::<T>::get(call)?;
			let now = frame_system::Pallet::<T>::block_number();
			let status = match info.status {
				CallStatus::Pending | CallStatus::Claimed { .. } if now >= info.expires_at => {
					CallStatus::Expired { at: info.expires_at }
				},
				CallStatus::Pending => CallStatus::Pending,
				CallStatus::Claimed { by, at } => CallStatus::Claimed { by, at },
				CallStatus::Completed { at, result } => {
					CallStatus::Completed { at, result: result.into_inner() }
				},
				CallStatus::Failed { at, result } => {
					CallStatus::Failed { at, result: result.into_inner() }
				},
				CallStatus::Cancelled { at } => CallStatus::Cancelled { at },
				CallStatus::Expired { at } => CallStatus::Expired { at },
			};
			Some(CallRecord {
				id: call,
				call: ProgramCall {
					twin: info.twin,
					element: info.element,
					program: info.program,
					arguments: info.arguments,
					declaration_hash: info.declaration_hash,
					caller: info.caller,
					queued_at: info.queued_at,
					expires_at: info.expires_at,
					status,
				},
			})
		}

		/// Checks that the queues and the calls agree.
		#[cfg(any(feature = "try-runtime", test))]
		pub(crate) fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let now = frame_system::Pallet::<T>::block_number();
			let mut queued = 0usize;
			for (twin, queue) in CallQueues::<T>::iter() {
				ensure!(!queue.is_empty(), "an empty queue is stored");
				let mut pending_seen = false;
				for (index, entry) in queue.iter().enumerate() {
					let call = entry.call;
					ensure!(
						!queue[..index].iter().any(|earlier| earlier.call == call),
						"a call is queued twice"
					);
					let info = Calls::<T>::get(call).ok_or("a queued call does not exist")?;
					ensure!(info.twin == twin, "a call is queued on another twin");
					ensure!(
						info.expires_at == entry.expires_at,
						"a queue entry disagrees with its call on the expiry"
					);
					let expired = now >= info.expires_at;
					match info.status {
						CallStatus::Pending if !expired => pending_seen = true,
						CallStatus::Claimed { .. } if !expired => {
							ensure!(!pending_seen, "a claimed call is queued behind a pending one")
						},
						CallStatus::Pending | CallStatus::Claimed { .. } => {},
						_ => return Err("a finished call is queued".into()),
					}
					queued += 1;
				}
			}
			let next = NextCallId::<T>::get();
			let mut unfinished = 0usize;
			for (call, info) in Calls::<T>::iter() {
				ensure!(call < next, "a call has an id not given yet");
				ensure!(TwinCalls::<T>::contains_key(info.twin, call), "a call is not listed");
				if info.status.is_unfinished() {
					unfinished += 1;
				}
			}
			ensure!(queued == unfinished, "an unfinished call is not queued");
			for (_, call, ()) in TwinCalls::<T>::iter() {
				ensure!(Calls::<T>::contains_key(call), "a listed call does not exist");
			}
			Ok(())
		}
	}
}
