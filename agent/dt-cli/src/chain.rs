//! Reading the chain and explaining its refusals.

use anyhow::{anyhow, bail, Result};
use codec::Decode;
use dt_client::{Client, ClientError, Finalized};
use dt_primitives::access::TwinId;
use dt_runtime::{AccountId, Runtime, RuntimeCall};
use frame_support::traits::PalletInfoAccess;
use pallet_dt_twin_spec::TwinInfo;
use sp_core::sr25519;
use sp_runtime::DispatchError;

pub type Twins = Vec<(TwinId, TwinInfo<AccountId, u32>)>;

/// Connects, saying what to do if that fails.
pub async fn connect(url: &str) -> Result<Client> {
	Client::connect(url).await.map_err(|e| {
		anyhow!("{e}\nstart a node (e.g. `dt-node --dev`) or pass its address with --node ws://HOST:PORT")
	})
}

/// The chain's twins.
pub async fn twins(client: &Client) -> Result<Twins> {
	Ok(client.runtime_api("TwinSpecApi_twins", (), None).await?)
}

/// The twin `twin`, or the error every command gives for an unknown twin.
pub async fn twin(client: &Client, twin: TwinId) -> Result<TwinInfo<AccountId, u32>> {
	twins(client)
		.await?
		.into_iter()
		.find_map(|(id, info)| (id == twin).then_some(info))
		.ok_or_else(|| anyhow!("twin {twin} does not exist (`dt twin list` shows the twins)"))
}

/// Submits `call` and waits for finality; a refusal by the node or the runtime becomes an
/// error naming the reason.
pub async fn submit(
	client: &Client,
	signer: &sr25519::Pair,
	call: RuntimeCall,
	what: &str,
) -> Result<Finalized> {
	let finalized = client.submit(signer, call).await.map_err(|e| match e {
		ClientError::Refused(reason) => anyhow!(
			"the node refused to {what}: {reason}\n(an account that is not a member of the \
			 consortium cannot send transactions: ask the consortium to add it)"
		),
		other => anyhow!("cannot {what}: {other}"),
	})?;
	if let Some(error) = finalized.dispatch_error {
		bail!("refused by the chain: {} (while trying to {what})", dispatch_error_name(&error));
	}
	Ok(finalized)
}

/// `Pallet.Error` for a module error, else the runtime's description.
pub fn dispatch_error_name(error: &DispatchError) -> String {
	let DispatchError::Module(module) = error else {
		return format!("{error:?}");
	};
	let bytes = &module.error[..];
	macro_rules! try_pallet {
		($alias:ty, $error:ty) => {
			if module.index as usize == <$alias as PalletInfoAccess>::index() {
				let pallet = <$alias as PalletInfoAccess>::name();
				return match <$error>::decode(&mut &bytes[..]) {
					Ok(error) => format!("{}.{:?}", pallet.to_lowercase(), error),
					Err(_) => format!("{pallet} error {}", bytes[0]),
				};
			}
		};
	}
	try_pallet!(dt_runtime::System, frame_system::Error<Runtime>);
	try_pallet!(dt_runtime::Consortium, pallet_dt_consortium::Error<Runtime>);
	try_pallet!(dt_runtime::Access, pallet_dt_access::Error<Runtime>);
	try_pallet!(dt_runtime::TwinSpec, pallet_dt_twin_spec::Error<Runtime>);
	try_pallet!(dt_runtime::Documents, pallet_dt_documents::Error<Runtime>);
	try_pallet!(dt_runtime::Feeds, pallet_dt_feeds::Error<Runtime>);
	try_pallet!(dt_runtime::Programs, pallet_dt_programs::Error<Runtime>);
	format!("module error: pallet {} error {}", module.index, bytes[0])
}

#[cfg(test)]
mod tests {
	use super::*;
	use codec::Encode;
	use sp_runtime::ModuleError;

	#[test]
	fn module_errors_are_named_after_their_pallet_and_variant() {
		let encoded = pallet_dt_access::Error::<Runtime>::NotAccessManager.encode();
		let mut error = [0u8; 4];
		error[..encoded.len()].copy_from_slice(&encoded);
		let index = <dt_runtime::Access as PalletInfoAccess>::index() as u8;
		let name = dispatch_error_name(&DispatchError::Module(ModuleError {
			index,
			error,
			message: None,
		}));
		assert_eq!(name, "access.NotAccessManager");
		assert_eq!(dispatch_error_name(&DispatchError::BadOrigin), "BadOrigin");
		let unknown = DispatchError::Module(ModuleError { index: 200, error, message: None });
		assert!(dispatch_error_name(&unknown).contains("pallet 200"));
	}
}
