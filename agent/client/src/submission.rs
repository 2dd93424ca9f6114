//! Following a signed transaction from submission to finality, through what a node's pool
//! may do to it on the way.
//!
//! A pool that accepted a transaction may still let it go: it drops transactions to keep
//! within its limits (a burst larger than its queues), and a watch ends early when the node
//! has too many of them. Neither means the transaction failed, and the client cannot tell
//! from the watch whether it was included meanwhile. So a transaction that leaves the watch
//! without being finalized is looked for in the finalized blocks, and submitted again (the
//! same bytes: same nonce, so it can never apply twice) until it is finalized, its nonce is
//! used by another, or the time is up. A block that is retracted is no ending at all: the
//! pool takes its transactions back.

use crate::{client::hex_string, error::ClientError, Client, Finalized};
use jsonrpsee::{core::client::SubscriptionClientT, rpc_params, types::ErrorObjectOwned};
use serde_json::Value;
use sp_core::H256;
use sp_io::hashing::blake2_256;
use std::time::Duration;
use tokio::time::Instant;

/// How long a transaction may take to be finalized, resubmissions included.
const FINALITY_TIMEOUT: Duration = Duration::from_secs(120);
/// The first wait before a resubmission; it doubles up to [`MAX_RETRY_DELAY`].
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(8);

/// The pool's JSON-RPC error codes that matter here (sc-rpc-api's author errors).
const INVALID_TRANSACTION: i32 = 1010;
const TEMPORARILY_BANNED: i32 = 1012;
const ALREADY_IMPORTED: i32 = 1013;
const IMMEDIATELY_DROPPED: i32 = 1016;

/// How a submission or a watch ended, as far as the next step is concerned.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ending {
	/// In this finalized block.
	Finalized(H256),
	/// Out of the pool for a reason that does not make it invalid (limits, a watch that
	/// ended, a pool that has it already or will take it later): look for it in the
	/// finalized blocks, then submit it again.
	Released(String),
	/// Its nonce is used: by itself in a block not finalized yet, or by another transaction.
	NonceUsed,
	/// Refused or invalid for good: the reason.
	Refused(String),
}

/// What a status update of `author_submitAndWatchExtrinsic` means; `None` while the
/// transaction is on its way (ready, broadcast, in a block, retracted from one).
pub(crate) fn ending_of_status(update: &Value) -> Option<Ending> {
	if let Some(block) = update.get("finalized") {
		return Some(match serde_json::from_value(block.clone()) {
			Ok(block) => Ending::Finalized(block),
			Err(e) => Ending::Refused(format!("a finalized status without a block hash: {e}")),
		});
	}
	let name = match update {
		Value::String(name) => name.as_str(),
		Value::Object(fields) => fields.keys().next().map(String::as_str).unwrap_or_default(),
		_ => "",
	};
	match name {
		// The pool let it go to keep within its limits, or the node stopped watching it
		// (it may be in a block that is finalized later).
		"dropped" | "finalityTimeout" => Some(Ending::Released(name.to_owned())),
		"invalid" => Some(Ending::Refused("found invalid by the node's pool".into())),
		"usurped" => Some(Ending::Refused("replaced in the pool by another transaction".into())),
		_ => None,
	}
}

/// A pool's refusal as its code, message and (the pool's detail) data.
pub(crate) fn refusal_parts(refusal: &ErrorObjectOwned) -> (i32, &str, Option<String>) {
	let data = refusal.data().map(|data| {
		serde_json::from_str::<String>(data.get()).unwrap_or_else(|_| data.get().to_owned())
	});
	(refusal.code(), refusal.message(), data)
}

/// A pool's refusal as a person reads it: `Invalid Transaction: Transaction is outdated
/// (error 1010)`.
pub(crate) fn refusal_reason(code: i32, message: &str, data: Option<&str>) -> String {
	match data {
		Some(data) => format!("{message}: {data} (error {code})"),
		None => format!("{message} (error {code})"),
	}
}

/// What a refusal of `author_submitAndWatchExtrinsic` means.
pub(crate) fn ending_of_refusal(code: i32, message: &str, data: Option<&str>) -> Ending {
	let reason = refusal_reason(code, message, data);
	match code {
		INVALID_TRANSACTION if data.is_some_and(|data| data.contains("outdated")) => {
			Ending::NonceUsed
		},
		// Banned for a while after the pool dropped it, in the pool already, or the pool
		// full for now: none of them says anything against the transaction itself.
		TEMPORARILY_BANNED | ALREADY_IMPORTED | IMMEDIATELY_DROPPED => Ending::Released(reason),
		_ => Ending::Refused(reason),
	}
}

impl Client {
	/// Submits a signed extrinsic and waits until it is finalized, submitting the same bytes
	/// again while the node's pool lets it go without its being invalid (see the module
	/// docs). The outcome is read from its finalized block.
	pub async fn submit_signed(&self, extrinsic: &[u8]) -> Result<Finalized, ClientError> {
		let hash = H256::from(blake2_256(extrinsic));
		let deadline = Instant::now() + FINALITY_TIMEOUT;
		// The blocks to search start after the last one finalized before the submission.
		let mut searched = self.finalized_number().await?;
		let mut delay = FIRST_RETRY_DELAY;
		// The best block when the pool first said the nonce is used: once it is finalized
		// without the transaction, another one took the nonce.
		let mut nonce_used_at: Option<u32> = None;
		loop {
			let reason = match self.submit_and_watch(extrinsic, deadline).await? {
				Ending::Finalized(block) => return self.outcome(block, hash).await,
				Ending::Refused(reason) => return Err(ClientError::Refused(reason)),
				Ending::Released(reason) => reason,
				Ending::NonceUsed => {
					let best = self.header(None).await?.number;
					nonce_used_at.get_or_insert(best);
					"its nonce is used".to_owned()
				},
			};
			let finalized = self.finalized_number().await?;
			if let Some(block) = self.find_in_blocks(hash, searched + 1..=finalized).await? {
				return self.outcome(block, hash).await;
			}
			searched = finalized;
			if nonce_used_at.is_some_and(|best| finalized >= best) {
				return Err(ClientError::Refused(
					"its nonce was used by another transaction of the same account".into(),
				));
			}
			if Instant::now() + delay >= deadline {
				return Err(ClientError::Dropped(format!(
					"{reason} and not finalized within {} s",
					FINALITY_TIMEOUT.as_secs()
				)));
			}
			tokio::time::sleep(delay).await;
			delay = (delay * 2).min(MAX_RETRY_DELAY);
		}
	}

	/// Submits `extrinsic` with a watch and follows it until the watch ends or `deadline`.
	async fn submit_and_watch(
		&self,
		extrinsic: &[u8],
		deadline: Instant,
	) -> Result<Ending, ClientError> {
		const METHOD: &str = "author_submitAndWatchExtrinsic";
		let mut status = match self
			.rpc()
			.subscribe::<Value, _>(
				METHOD,
				rpc_params![hex_string(extrinsic)],
				"author_unwatchExtrinsic",
			)
			.await
		{
			Ok(status) => status,
			Err(jsonrpsee::core::ClientError::Call(refusal)) => {
				let (code, message, data) = refusal_parts(&refusal);
				return Ok(ending_of_refusal(code, message, data.as_deref()));
			},
			Err(other) => {
				return Err(ClientError::Rpc { method: METHOD, reason: other.to_string() })
			},
		};
		loop {
			let update = match tokio::time::timeout_at(deadline, status.next()).await {
				Err(_) => {
					return Err(ClientError::Timeout {
						seconds: FINALITY_TIMEOUT.as_secs(),
						waiting_for: "the transaction to be finalized",
					})
				},
				// The node ended the watch without a final status.
				Ok(None) => return Ok(Ending::Released("no longer watched by the node".into())),
				Ok(Some(update)) => update
					.map_err(|e| ClientError::Rpc { method: METHOD, reason: e.to_string() })?,
			};
			if let Some(ending) = ending_of_status(&update) {
				return Ok(ending);
			}
		}
	}

	/// The first block of `numbers` holding the extrinsic with this hash.
	async fn find_in_blocks(
		&self,
		hash: H256,
		numbers: std::ops::RangeInclusive<u32>,
	) -> Result<Option<H256>, ClientError> {
		for number in numbers {
			let Some(block) = self.block_hash(number).await? else { continue };
			if self.extrinsic_index(block, hash).await?.is_some() {
				return Ok(Some(block));
			}
		}
		Ok(None)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	#[test]
	fn a_retracted_or_included_transaction_is_still_on_its_way() {
		for update in [
			json!("ready"),
			json!({"broadcast": ["peer"]}),
			json!({"inBlock": H256::repeat_byte(1)}),
			json!({"retracted": H256::repeat_byte(1)}),
		] {
			assert_eq!(ending_of_status(&update), None, "{update}");
		}
	}

	#[test]
	fn a_finalized_status_names_its_block() {
		let block = H256::repeat_byte(7);
		assert_eq!(ending_of_status(&json!({"finalized": block})), Some(Ending::Finalized(block)));
	}

	#[test]
	fn a_dropped_or_unwatched_transaction_is_looked_for_and_sent_again() {
		assert_eq!(ending_of_status(&json!("dropped")), Some(Ending::Released("dropped".into())));
		assert_eq!(
			ending_of_status(&json!({"finalityTimeout": H256::zero()})),
			Some(Ending::Released("finalityTimeout".into()))
		);
	}

	#[test]
	fn an_invalid_or_usurped_transaction_ends_the_submission() {
		assert!(matches!(ending_of_status(&json!("invalid")), Some(Ending::Refused(_))));
		assert!(matches!(
			ending_of_status(&json!({"usurped": H256::zero()})),
			Some(Ending::Refused(_))
		));
	}

	#[test]
	fn refusals_that_say_nothing_against_the_transaction_are_retried() {
		for code in [TEMPORARILY_BANNED, ALREADY_IMPORTED, IMMEDIATELY_DROPPED] {
			assert!(matches!(ending_of_refusal(code, "pool", None), Ending::Released(_)), "{code}");
		}
		assert_eq!(
			ending_of_refusal(
				INVALID_TRANSACTION,
				"Invalid Transaction",
				Some("Transaction is outdated")
			),
			Ending::NonceUsed
		);
	}

	#[test]
	fn other_refusals_end_the_submission_with_the_nodes_reason() {
		let ending = ending_of_refusal(
			INVALID_TRANSACTION,
			"Invalid Transaction",
			Some("Invalid signing address"),
		);
		assert_eq!(
			ending,
			Ending::Refused("Invalid Transaction: Invalid signing address (error 1010)".into())
		);
		assert!(matches!(ending_of_refusal(1014, "Priority is too low", None), Ending::Refused(_)));
	}
}
