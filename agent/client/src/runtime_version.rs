//! Which runtime the chain runs, and whether this client was built for it.
//!
//! `dt` and the device agent encode calls and decode events with the types of the runtime
//! crate they were built with. That stays right across a runtime upgrade as long as the
//! chain's spec name and transaction version stay those of that crate (a new spec version
//! alone changes no call); anything else is refused here with what to do, instead of
//! transactions the pool refuses as bad proofs and events that fail to decode.

use crate::error::ClientError;
use serde_json::Value;

/// The version fields of the runtime a node runs, as `state_getRuntimeVersion` gives them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRuntime {
	pub spec_name: String,
	pub spec_version: u32,
	pub transaction_version: u32,
}

impl ChainRuntime {
	/// Reads the fields from the node's JSON answer.
	pub fn from_json(version: &Value) -> Result<ChainRuntime, ClientError> {
		let number = |field: &'static str| {
			version[field]
				.as_u64()
				.and_then(|value| u32::try_from(value).ok())
				.ok_or_else(|| ClientError::decode("runtime version", format!("no {field}")))
		};
		Ok(ChainRuntime {
			spec_name: version["specName"]
				.as_str()
				.ok_or_else(|| ClientError::decode("runtime version", "no specName"))?
				.to_owned(),
			spec_version: number("specVersion")?,
			transaction_version: number("transactionVersion")?,
		})
	}

	/// `Ok` if this client's calls and events are the chain's, else what differs and what to do.
	pub fn ensure_supported(&self) -> Result<(), ClientError> {
		let built_for = &dt_runtime::VERSION;
		if self.spec_name == built_for.spec_name
			&& self.transaction_version == built_for.transaction_version
		{
			return Ok(());
		}
		let advice = if self.spec_name != built_for.spec_name {
			"The node is not a node of a dt-ledger chain: check the --node address."
		} else if self.transaction_version > built_for.transaction_version {
			"The consortium upgraded its runtime: install dt and dt-agent of the release that \
			 brought this spec version."
		} else {
			"This client is newer than the chain's runtime: use the release of dt and dt-agent \
			 that matches it, or upgrade the consortium's runtime first."
		};
		Err(ClientError::IncompatibleRuntime {
			spec_name: self.spec_name.clone(),
			spec_version: self.spec_version,
			transaction_version: self.transaction_version,
			built_for_name: built_for.spec_name.to_string(),
			built_for: built_for.transaction_version,
			advice,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	fn chain(spec_name: &str, spec_version: u32, transaction_version: u32) -> ChainRuntime {
		ChainRuntime::from_json(&json!({
			"specName": spec_name,
			"specVersion": spec_version,
			"transactionVersion": transaction_version,
		}))
		.expect("a runtime version")
	}

	#[test]
	fn a_higher_spec_version_with_the_same_calls_is_supported() {
		let built = &dt_runtime::VERSION;
		assert!(chain(&built.spec_name, built.spec_version, built.transaction_version)
			.ensure_supported()
			.is_ok());
		assert!(chain(&built.spec_name, built.spec_version + 7, built.transaction_version)
			.ensure_supported()
			.is_ok());
	}

	#[test]
	fn another_transaction_version_or_chain_is_refused_with_what_to_do() {
		let built = &dt_runtime::VERSION;
		let newer = chain(&built.spec_name, built.spec_version + 1, built.transaction_version + 1)
			.ensure_supported()
			.unwrap_err()
			.to_string();
		assert!(newer.contains(&format!("transaction version {}", built.transaction_version + 1)));
		assert!(newer.contains(&format!(
			"built for dt-ledger transaction version {}",
			built.transaction_version
		)));
		assert!(newer.contains("install dt and dt-agent of the release"), "{newer}");
		let older = chain(&built.spec_name, built.spec_version, built.transaction_version - 1)
			.ensure_supported()
			.unwrap_err()
			.to_string();
		assert!(older.contains("newer than the chain's runtime"), "{older}");
		let other = chain("polkadot", 1_000_000, built.transaction_version)
			.ensure_supported()
			.unwrap_err()
			.to_string();
		assert!(other.contains("not a node of a dt-ledger chain"), "{other}");
	}

	#[test]
	fn an_answer_without_the_fields_is_a_decode_error() {
		assert!(matches!(
			ChainRuntime::from_json(&json!({ "specVersion": 100 })),
			Err(ClientError::Decode { .. })
		));
	}
}
