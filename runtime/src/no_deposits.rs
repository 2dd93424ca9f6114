//! A currency with no balances, for the pallets that expect one.
//!
//! The chain has no tokens: what bounds an account's use of the chain is its membership of
//! the consortium, not a deposit. `pallet-session` still asks for a currency to hold a
//! deposit for session keys; with [`NoDeposits`] and a zero deposit it never holds anything.

use crate::{AccountId, RuntimeHoldReason};
use frame_support::traits::tokens::{
	fungible::{self, hold},
	DepositConsequence, Fortitude, Preservation, Provenance, WithdrawConsequence,
};
use sp_runtime::{DispatchError, DispatchResult};

/// The balance type of a chain without tokens.
pub type Balance = u128;

/// A currency in which every account always has nothing, and nothing can be held.
pub struct NoDeposits;

const NO_BALANCES: DispatchError = DispatchError::Other("dt-ledger has no balances");

impl fungible::Inspect<AccountId> for NoDeposits {
	type Balance = Balance;

	fn total_issuance() -> Balance {
		0
	}
	fn minimum_balance() -> Balance {
		0
	}
	fn total_balance(_: &AccountId) -> Balance {
		0
	}
	fn balance(_: &AccountId) -> Balance {
		0
	}
	fn reducible_balance(_: &AccountId, _: Preservation, _: Fortitude) -> Balance {
		0
	}
	fn can_deposit(_: &AccountId, _: Balance, _: Provenance) -> DepositConsequence {
		DepositConsequence::UnknownAsset
	}
	fn can_withdraw(_: &AccountId, amount: Balance) -> WithdrawConsequence<Balance> {
		if amount == 0 {
			WithdrawConsequence::Success
		} else {
			WithdrawConsequence::BalanceLow
		}
	}
}

impl fungible::Unbalanced<AccountId> for NoDeposits {
	fn handle_dust(_: fungible::Dust<AccountId, Self>) {}
	fn write_balance(_: &AccountId, amount: Balance) -> Result<Option<Balance>, DispatchError> {
		if amount == 0 {
			Ok(None)
		} else {
			Err(NO_BALANCES)
		}
	}
	fn set_total_issuance(_: Balance) {}
}

impl fungible::Mutate<AccountId> for NoDeposits {}

impl hold::Inspect<AccountId> for NoDeposits {
	type Reason = RuntimeHoldReason;

	fn total_balance_on_hold(_: &AccountId) -> Balance {
		0
	}
	fn balance_on_hold(_: &Self::Reason, _: &AccountId) -> Balance {
		0
	}
}

impl hold::Unbalanced<AccountId> for NoDeposits {
	fn set_balance_on_hold(_: &Self::Reason, _: &AccountId, amount: Balance) -> DispatchResult {
		if amount == 0 {
			Ok(())
		} else {
			Err(NO_BALANCES)
		}
	}
}

impl hold::Mutate<AccountId> for NoDeposits {}
