//! Benchmarks of the programs pallet.
//!
//! Every call is measured at its worst case: programs whose parameters are the most
//! expensive to check and store (text with the longest names, the most allowed values of the
//! longest length, the value given being the last allowed one, arguments given in reverse
//! order), calls with the most arguments, and twins whose queue is full but for the call
//! measured. [`Pallet::call_program`] is also measured by how many expired calls it takes out
//! of the twin's queue first, up to a queue full of them.

use super::*;
use crate::pallet::{CallQueues, Calls, NextCallId};
use crate::BenchmarkHelper;
use alloc::{vec, vec::Vec};
use dt_primitives::program::{
	Argument, ParameterDeclaration, ParameterName, ParameterText, ParameterType, ParameterValue,
	ProgramArguments, MAX_ALLOWED_VALUES, MAX_PARAMETERS, MAX_PARAMETER_NAME_LEN, MAX_VALUE_LEN,
};
use frame_benchmarking::v2::*;
use frame_support::{traits::Get, BoundedVec};
use frame_system::RawOrigin;

/// The longest parameter name, ending in a byte that tells parameter `index` apart.
fn parameter_name(index: u32) -> ParameterName {
	let mut name = vec![b'p'; MAX_PARAMETER_NAME_LEN as usize];
	name[0] = b'a' + index as u8;
	ParameterName::try_from(name).expect("fits its bound")
}

/// The longest allowed value, telling value `index` apart.
fn allowed_value(index: u32) -> ParameterText {
	let mut value = vec![b'v'; MAX_VALUE_LEN as usize];
	value[0] = b'a' + index as u8;
	ParameterText::try_from(value).expect("fits its bound")
}

/// `count` text parameters, each with the most allowed values.
fn parameters(count: u32) -> ProgramParameters {
	let allowed: Vec<_> = (0..MAX_ALLOWED_VALUES).map(allowed_value).collect();
	let declarations: Vec<_> = (0..count)
		.map(|index| ParameterDeclaration {
			name: parameter_name(index),
			kind: ParameterType::Text,
			min: None,
			max: None,
			allowed: allowed.clone().try_into().expect("fits its bound"),
			unit: Default::default(),
		})
		.collect();
	declarations.try_into().expect("at most MAX_PARAMETERS")
}

/// An argument for each of `count` parameters from [`parameters`], in reverse order, each
/// the last allowed value.
fn arguments(count: u32) -> ProgramArguments {
	let given: Vec<_> = (0..count)
		.rev()
		.map(|index| Argument {
			name: parameter_name(index),
			value: ParameterValue::Text(allowed_value(MAX_ALLOWED_VALUES - 1)),
		})
		.collect();
	given.try_into().expect("at most MAX_PARAMETERS")
}

/// What a benchmark works on: a twin whose program takes `parameters` arguments, its owner
/// and its device.
struct Setup<T: Config> {
	owner: T::AccountId,
	device: T::AccountId,
	twin: TwinId,
	element: ElementId,
	program: ProgramName,
	parameters: u32,
}

fn setup<T: Config>(parameters: u32) -> Setup<T> {
	frame_system::Pallet::<T>::set_block_number(1u32.into());
	let owner: T::AccountId = account("owner", 0, 0);
	T::BenchmarkHelper::make_member(&owner);
	let device: T::AccountId = account("device", 0, 0);
	T::BenchmarkHelper::make_member(&device);
	let (twin, element, program) =
		T::BenchmarkHelper::create_twin_with_program(&owner, self::parameters(parameters));
	T::BenchmarkHelper::make_device(&owner, twin, &device);
	Setup { owner, device, twin, element, program, parameters }
}

impl<T: Config> Setup<T> {
	/// Queues `count` calls with all arguments.
	fn queue(&self, count: u32) -> Vec<CallId> {
		(0..count)
			.map(|_| {
				let call = NextCallId::<T>::get();
				Pallet::<T>::call_program(
					RawOrigin::Signed(self.owner.clone()).into(),
					self.twin,
					self.element.clone(),
					self.program.clone(),
					arguments(self.parameters),
				)
				.expect("the owner calls");
				call
			})
			.collect()
	}

	/// Claims `calls` as the device.
	fn claim(&self, calls: &[CallId]) {
		for call in calls {
			Pallet::<T>::claim_call(RawOrigin::Signed(self.device.clone()).into(), *call)
				.expect("the device claims in order");
		}
	}
}

fn is_claimed<T: Config>(call: CallId) -> bool {
	Calls::<T>::get(call).is_some_and(|info| matches!(info.status, CallStatus::Claimed { .. }))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// A call with `p` arguments, queued behind as many live calls as leave room for it,
	/// after `e` expired calls leave the queue (`e` = `MaxPendingCallsPerTwin`: a queue full
	/// of expired calls).
	#[benchmark]
	fn call_program(
		p: Linear<0, MAX_PARAMETERS>,
		e: Linear<0, { T::MaxPendingCallsPerTwin::get() }>,
	) {
		let setup = setup::<T>(p);
		let expired = setup.queue(e);
		let queued_at = frame_system::Pallet::<T>::block_number();
		frame_system::Pallet::<T>::set_block_number(queued_at + T::CallTimeToLive::get());
		let live = (T::MaxPendingCallsPerTwin::get() - 1).saturating_sub(e);
		setup.queue(live);
		let call = NextCallId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(setup.owner.clone()),
			setup.twin,
			setup.element.clone(),
			setup.program.clone(),
			arguments(p),
		);

		assert!(Calls::<T>::contains_key(call));
		assert_eq!(CallQueues::<T>::decode_len(setup.twin), Some(live as usize + 1));
		for call in expired {
			assert!(Calls::<T>::get(call)
				.is_some_and(|info| matches!(info.status, CallStatus::Expired { .. })));
		}
	}

	#[benchmark]
	fn claim_call() {
		let setup = setup::<T>(MAX_PARAMETERS);
		let mut calls = setup.queue(T::MaxPendingCallsPerTwin::get());
		let last = calls.pop().expect("the queue allows one call");
		setup.claim(&calls);

		#[extrinsic_call]
		_(RawOrigin::Signed(setup.device.clone()), last);

		assert!(is_claimed::<T>(last));
	}

	#[benchmark]
	fn report_outcome() {
		let setup = setup::<T>(MAX_PARAMETERS);
		let calls = setup.queue(T::MaxPendingCallsPerTwin::get());
		setup.claim(&calls);
		let last = *calls.last().expect("the queue allows one call");
		let result: BoundedVec<u8, T::MaxResultLength> =
			vec![b'r'; T::MaxResultLength::get() as usize]
				.try_into()
				.expect("fits its bound");

		#[extrinsic_call]
		_(RawOrigin::Signed(setup.device.clone()), last, Outcome::Completed, result);

		assert!(Calls::<T>::get(last)
			.is_some_and(|info| matches!(info.status, CallStatus::Completed { .. })));
	}

	#[benchmark]
	fn cancel_call() {
		let setup = setup::<T>(MAX_PARAMETERS);
		let calls = setup.queue(T::MaxPendingCallsPerTwin::get());
		let last = *calls.last().expect("the queue allows one call");

		#[extrinsic_call]
		_(RawOrigin::Signed(setup.owner.clone()), last);

		assert!(Calls::<T>::get(last)
			.is_some_and(|info| matches!(info.status, CallStatus::Cancelled { .. })));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
