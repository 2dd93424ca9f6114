//! What can go wrong talking to a node.

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
	/// No connection to the node's RPC.
	#[error("cannot connect to {url}: {reason} (is dt-node running with its RPC on that port?)")]
	Connect { url: String, reason: String },
	/// The connection broke, or the answer was not JSON-RPC.
	#[error("{method} failed: {reason}")]
	Rpc { method: &'static str, reason: String },
	/// The node answered the request with an error: `code` is its JSON-RPC error code
	/// (see docs/rpc.md for the project's own).
	#[error("{method} failed: {message} (error {code})")]
	Call { method: &'static str, code: i32, message: String },
	/// The node's answer did not decode as the runtime's type.
	#[error("cannot decode {what} from the node's answer: {reason}")]
	Decode { what: &'static str, reason: String },
	/// The node refused the transaction before it reached a block (bad signature, not a
	/// member, stale nonce, ...).
	#[error("the node refused the transaction: {0}")]
	Refused(String),
	/// The transaction left the pool without being finalized.
	#[error("the transaction was {0} before it was finalized; submit it again")]
	Dropped(String),
	/// Nothing happened in time.
	#[error("no answer within {seconds} s while {waiting_for}")]
	Timeout { seconds: u64, waiting_for: &'static str },
	/// The chain runs a runtime whose transactions and events this client was not built for.
	#[error(
		"the chain runs {spec_name} spec version {spec_version} with transaction version \
		 {transaction_version}, but this client was built for {built_for_name} transaction version \
		 {built_for}: its transactions would be refused and the chain's events misread. {advice}"
	)]
	IncompatibleRuntime {
		spec_name: String,
		spec_version: u32,
		transaction_version: u32,
		built_for_name: String,
		built_for: u32,
		advice: &'static str,
	},
	/// An AML document could not be split into a twin's elements.
	#[error("the AML document cannot become a twin: {0}")]
	Aml(String),
}

impl ClientError {
	pub(crate) fn rpc(method: &'static str, error: jsonrpsee::core::ClientError) -> Self {
		match error {
			jsonrpsee::core::ClientError::Call(object) => ClientError::Call {
				method,
				code: object.code(),
				message: object.message().to_owned(),
			},
			other => ClientError::Rpc { method, reason: other.to_string() },
		}
	}

	/// The node's JSON-RPC error code, when the node answered with an error.
	pub fn code(&self) -> Option<i32> {
		match self {
			ClientError::Call { code, .. } => Some(*code),
			_ => None,
		}
	}

	pub(crate) fn decode(what: &'static str, error: impl std::fmt::Display) -> Self {
		ClientError::Decode { what, reason: error.to_string() }
	}
}
