//! A runtime's Wasm code as the consortium votes on it: its hash and the version it declares.

use sp_core::H256;
use sp_version::RuntimeVersion;

/// A runtime's code read from a file, checked to be a runtime.
#[derive(Debug)]
pub struct RuntimeCode {
	/// The code exactly as it is submitted (zstd-compressed as the build writes it, or not).
	pub code: Vec<u8>,
	/// blake2-256 of [`RuntimeCode::code`], what governance authorizes.
	pub hash: H256,
	/// The version the runtime declares in its `runtime_version` section.
	pub version: RuntimeVersion,
}

/// Why bytes are not a runtime's code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuntimeCodeError {
	/// Compressed, but not decompressible within the node's limit.
	#[error("the code does not decompress: {0}")]
	Decompress(String),
	/// Not a WebAssembly module.
	#[error("not a WebAssembly module (no \\0asm header)")]
	NotWasm,
	/// A section runs past the end of the module.
	#[error("the WebAssembly module is truncated")]
	Truncated,
	/// A module without the section a runtime declares its version in.
	#[error("the module has no runtime_version section: it is not a Substrate runtime")]
	NoVersion,
	/// The version section does not decode.
	#[error("the runtime_version section does not decode: {0}")]
	BadVersion(String),
}

impl RuntimeCode {
	/// Checks `code` and reads its version.
	pub fn read(code: Vec<u8>) -> Result<RuntimeCode, RuntimeCodeError> {
		let hash = H256(sp_io::hashing::blake2_256(&code));
		let version = {
			let wasm = sp_maybe_compressed_blob::decompress(
				&code,
				sp_maybe_compressed_blob::CODE_BLOB_BOMB_LIMIT,
			)
			.map_err(|e| RuntimeCodeError::Decompress(e.to_string()))?;
			embedded_version(&wasm)?
		};
		Ok(RuntimeCode { code, hash, version })
	}
}

/// The version in a runtime module's custom sections, read as the node reads it: the
/// `runtime_apis` section tells which encoding `runtime_version` has.
fn embedded_version(wasm: &[u8]) -> Result<RuntimeVersion, RuntimeCodeError> {
	let sections = custom_sections(wasm)?;
	let find = |name: &[u8]| sections.iter().find(|(n, _)| *n == name).map(|(_, c)| *c);
	let mut version = find(b"runtime_version").ok_or(RuntimeCodeError::NoVersion)?;
	let apis: Option<sp_version::ApisVec> = find(b"runtime_apis").map(|apis| {
		apis.chunks_exact(12)
			.map(|api| {
				let mut id = [0u8; 8];
				id.copy_from_slice(&api[..8]);
				let mut number = [0u8; 4];
				number.copy_from_slice(&api[8..]);
				(id, u32::from_le_bytes(number))
			})
			.collect::<Vec<_>>()
			.into()
	});
	let core_version = apis.as_ref().and_then(sp_version::core_version_from_apis);
	let mut decoded = RuntimeVersion::decode_with_version_hint(&mut version, core_version)
		.map_err(|e| RuntimeCodeError::BadVersion(e.to_string()))?;
	if let Some(apis) = apis {
		decoded.apis = apis;
	}
	Ok(decoded)
}

/// The custom sections (id 0) of a WebAssembly module: name and contents.
fn custom_sections(wasm: &[u8]) -> Result<Vec<(&[u8], &[u8])>, RuntimeCodeError> {
	let mut rest = wasm.strip_prefix(b"\0asm").ok_or(RuntimeCodeError::NotWasm)?;
	rest = rest.get(4..).ok_or(RuntimeCodeError::Truncated)?; // the format version
	let mut sections = Vec::new();
	while let Some((&id, after_id)) = rest.split_first() {
		let (size, after_size) = leb128_u32(after_id)?;
		let (contents, next) = split(after_size, size as usize)?;
		if id == 0 {
			let (name_length, after_length) = leb128_u32(contents)?;
			let (name, payload) = split(after_length, name_length as usize)?;
			sections.push((name, payload));
		}
		rest = next;
	}
	Ok(sections)
}

fn split(bytes: &[u8], at: usize) -> Result<(&[u8], &[u8]), RuntimeCodeError> {
	(at <= bytes.len())
		.then(|| bytes.split_at(at))
		.ok_or(RuntimeCodeError::Truncated)
}

/// An unsigned LEB128 number of at most 32 bits, and what follows it.
fn leb128_u32(bytes: &[u8]) -> Result<(u32, &[u8]), RuntimeCodeError> {
	let mut value = 0u32;
	for (index, byte) in bytes.iter().enumerate().take(5) {
		value |= u32::from(byte & 0x7f) << (7 * index);
		if byte & 0x80 == 0 {
			return Ok((value, &bytes[index + 1..]));
		}
	}
	Err(RuntimeCodeError::Truncated)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_built_runtimes_declare_their_versions() {
		let Some(code) = dt_runtime::WASM_BINARY else {
			return; // built with SKIP_WASM_BUILD: no runtime to read
		};
		let running = RuntimeCode::read(code.to_vec()).expect("the runtime reads");
		assert_eq!(running.version.spec_name, dt_runtime::VERSION.spec_name);
		assert_eq!(running.version.spec_version, dt_runtime::VERSION.spec_version);
		assert_eq!(running.version.transaction_version, dt_runtime::VERSION.transaction_version);
		assert_eq!(running.hash, H256(sp_io::hashing::blake2_256(code)));
		let next = dt_runtime::upgrade_fixture::WASM_BINARY.expect("built with the runtime");
		let next = RuntimeCode::read(next.to_vec()).expect("the fixture reads");
		assert_eq!(next.version.spec_version, dt_runtime::VERSION.spec_version + 1);
	}

	#[test]
	fn what_is_not_a_runtime_is_named() {
		assert_eq!(
			RuntimeCode::read(b"#!/bin/sh".to_vec()).unwrap_err(),
			RuntimeCodeError::NotWasm
		);
		// A module with only its header and one custom section cut short.
		let truncated = [b"\0asm".as_slice(), &[1, 0, 0, 0], &[0, 10, 3, b'a']].concat();
		assert_eq!(RuntimeCode::read(truncated).unwrap_err(), RuntimeCodeError::Truncated);
		// A valid module with a custom section, but no version.
		let plain = [b"\0asm".as_slice(), &[1, 0, 0, 0], &[0, 4, 3, b'a', b'b', b'c']].concat();
		assert_eq!(RuntimeCode::read(plain).unwrap_err(), RuntimeCodeError::NoVersion);
	}
}
