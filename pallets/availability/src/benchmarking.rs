//! Benchmarks of the availability pallet.
//!
//! Both the call and its authorization are measured at their worst case for `n` items, each
//! a distinct one the chain refers to ([`crate::BenchmarkHelper`]): the call with a partner
//! node recorded to hold none of them yet (every item read and written), the authorization
//! with the node holding all but the last (every item checked and read).

use super::*;
use crate::pallet::{AttestationOf, Holders};
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{Authorize, Get},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_core::{crypto::KeyTypeId, ed25519};
use sp_runtime::traits::Zero;

/// The keystore slot of the benchmarks' node key.
const BENCHMARK_NODE_KEY: KeyTypeId = KeyTypeId(*b"dtav");

/// A partner node with a key in the benchmark's keystore, and its signed attestation of `n`
/// items.
fn signed_attestation<T: Config>(n: u32) -> (AttestationOf<T>, ed25519::Signature) {
	let key = sp_io::crypto::ed25519_generate(BENCHMARK_NODE_KEY, None);
	let peer_id: Vec<u8> = [&[0x00u8, 0x24, 0x08, 0x01, 0x12, 0x20][..], &key.0[..]].concat();
	T::BenchmarkHelper::register_partner_node(peer_id.clone());
	let items: Vec<StoredItem> = (0..n).map(T::BenchmarkHelper::referenced_item).collect();
	let attestation = Attestation {
		node: peer_id.try_into().expect("an ed25519 peer id fits the bound"),
		items: items.try_into().expect("n is at most MaxItemsPerAttestation"),
		at: frame_system::Pallet::<T>::block_number(),
	};
	let genesis: [u8; 32] = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero())
		.as_ref()
		.try_into()
		.expect("the runtime's hash is 32 bytes");
	let signature = sp_io::crypto::ed25519_sign(
		BENCHMARK_NODE_KEY,
		&key,
		&attestation.signing_payload(&genesis),
	)
	.expect("the key was generated in the keystore");
	(attestation, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn attest_availability(n: Linear<1, { T::MaxItemsPerAttestation::get() }>) {
		let (attestation, signature) = signed_attestation::<T>(n);
		let node = attestation.node.clone();
		let items = attestation.items.clone();

		#[extrinsic_call]
		_(RawOrigin::Authorized, attestation, signature);

		for item in &items {
			assert!(Holders::<T>::contains_key(item, &node));
		}
	}

	#[benchmark]
	fn authorize_attest_availability(
		n: Linear<1, { T::MaxItemsPerAttestation::get() }>,
	) -> Result<(), BenchmarkError> {
		let (attestation, signature) = signed_attestation::<T>(n);
		// Every item but the last already held: the check for something new reads them all.
		let now = frame_system::Pallet::<T>::block_number();
		for item in attestation.items.iter().take(n as usize - 1) {
			Holders::<T>::insert(item, &attestation.node, now);
		}
		let call = Call::<T>::attest_availability { attestation, signature };

		#[block]
		{
			call.authorize(TransactionSource::External)
				.ok_or("the call is authorizable")?
				.map_err(|_| "the attestation is valid")?;
		}

		Ok(())
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
