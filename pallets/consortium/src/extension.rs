//! The transaction extension that keeps everyone but the consortium's members out of the
//! transaction pool and out of blocks.

use crate::{Config, Members, LOG_TARGET};
use codec::{Decode, DecodeWithMemTracking, Encode};
use core::marker::PhantomData;
use frame_support::{
	pallet_prelude::TransactionSource,
	traits::{Get, OriginTrait},
	weights::Weight,
	DefaultNoBound,
};
use scale_info::TypeInfo;
use sp_runtime::{
	impl_tx_ext_default,
	traits::{AsTransactionAuthorizedOrigin, DispatchInfoOf, TransactionExtension, ValidateResult},
	transaction_validity::InvalidTransaction,
};

/// Refuses every signed transaction whose signer is not a member of a registered
/// organisation.
///
/// It runs when the pool validates a transaction (so outsiders cannot even fill the pool)
/// and again when a block executes it (so a member removed in the meantime is refused).
/// The refusal is [`InvalidTransaction::BadSigner`], which RPC clients see as
/// `1010: Invalid Transaction: Invalid signing address`. A general transaction (no signer)
/// passes only if its call authorized it (`#[pallet::authorize]`, checked by
/// `frame_system::AuthorizeCall` before this extension); otherwise it is refused with
/// [`InvalidTransaction::UnknownOrigin`]. Bare extrinsics (inherents, unsigned transactions)
/// do not go through this check: each pallet that accepts them validates them itself.
#[derive(Encode, Decode, DecodeWithMemTracking, DefaultNoBound, Clone, Eq, PartialEq, TypeInfo)]
#[scale_info(skip_type_params(T))]
pub struct CheckMembership<T>(PhantomData<T>);

impl<T> CheckMembership<T> {
	/// The extension, for building transactions.
	pub fn new() -> Self {
		Self(PhantomData)
	}
}

impl<T> core::fmt::Debug for CheckMembership<T> {
	fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
		write!(f, "CheckMembership")
	}
}

impl<T: Config + Send + Sync> TransactionExtension<T::RuntimeCall> for CheckMembership<T> {
	const IDENTIFIER: &'static str = "CheckMembership";
	type Implicit = ();
	type Val = ();
	type Pre = ();

	fn weight(&self, _call: &T::RuntimeCall) -> Weight {
		// One read of `Members`.
		T::DbWeight::get().reads(1)
	}

	fn validate(
		&self,
		origin: T::RuntimeOrigin,
		_call: &T::RuntimeCall,
		_info: &DispatchInfoOf<T::RuntimeCall>,
		_len: usize,
		_self_implicit: Self::Implicit,
		_inherited_implication: &impl Encode,
		_source: TransactionSource,
	) -> ValidateResult<Self::Val, T::RuntimeCall> {
		match origin.as_signer() {
			Some(who) if !Members::<T>::contains_key(who) => {
				log::debug!(target: LOG_TARGET, "refused transaction of non-member {who:?}");
				return Err(InvalidTransaction::BadSigner.into());
			},
			Some(_) => {},
			// A general transaction that no call authorized (`AuthorizeCall` runs before):
			// nobody would answer for it.
			None if !origin.is_transaction_authorized() => {
				return Err(InvalidTransaction::UnknownOrigin.into())
			},
			None => {},
		}
		Ok((Default::default(), (), origin))
	}

	impl_tx_ext_default!(T::RuntimeCall; prepare);
}
