//! Chain refusals by name, as the docs write them (`access.NotAccessManager`).

use codec::Decode;
use dt_runtime::Runtime;
use frame_support::traits::PalletInfoAccess;
use sp_runtime::DispatchError;

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
					Ok(error) => format!("{}.{:?}", lower_camel_case(pallet), error),
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

/// `TwinSpec` -> `twinSpec`: the pallet's name as the RPC docs and polkadot.js spell it.
fn lower_camel_case(name: &str) -> String {
	let mut chars = name.chars();
	chars
		.next()
		.map(|first| first.to_ascii_lowercase().to_string() + chars.as_str())
		.unwrap_or_default()
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
		let encoded = pallet_dt_twin_spec::Error::<Runtime>::NotAuthorized.encode();
		let mut error = [0u8; 4];
		error[..encoded.len()].copy_from_slice(&encoded);
		let index = <dt_runtime::TwinSpec as PalletInfoAccess>::index() as u8;
		let name = dispatch_error_name(&DispatchError::Module(ModuleError {
			index,
			error,
			message: None,
		}));
		assert_eq!(name, "twinSpec.NotAuthorized");
		assert_eq!(dispatch_error_name(&DispatchError::BadOrigin), "BadOrigin");
		let unknown = DispatchError::Module(ModuleError { index: 200, error, message: None });
		assert!(dispatch_error_name(&unknown).contains("pallet 200"));
	}
}
