//! The built-in chain specifications: `dev` and `local`.

use dt_runtime::WASM_BINARY;
use sc_service::ChainType;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};

/// The chain specification type of dt-ledger chains.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The runtime's wasm blob, built with the node.
pub fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is missing: build without SKIP_WASM_BUILD".to_string()
	})
}

/// Chain properties that Polkadot.js-style clients read to present the chain.
pub fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("ss58Format".into(), 42.into());
	properties.insert("tokenSymbol".into(), "NONE".into());
	properties.insert("tokenDecimals".into(), 0.into());
	properties
}

/// One partner (Alice) that produces and finalises blocks alone; sudo for experiments.
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("dt-ledger development")
		.with_id("dt_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// The four partners of the bottling-plant scenario (Manufacturer/Alice, Owner/Bob,
/// Maintainer/Charlie, Auditor/Dave), each with a validator and a partner node.
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("dt-ledger local consortium")
		.with_id("dt_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
