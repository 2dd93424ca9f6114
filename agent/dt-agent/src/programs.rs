//! The program-call loop: claim the twin's pending calls in order, check each, run it on the
//! device, report the outcome.
//!
//! The agent does not take the chain's word that a call is safe: before it claims a call it
//! judges it itself, against the program's declaration as it stood when the call was queued
//! ([`crate::declarations`]) and against the device's own safety envelope
//! ([`crate::envelope`]), which no chain transaction can change. A call outside either is
//! claimed and reported `Failed` with the reason; it never reaches the device.

use crate::{
	chain::Submitter,
	declarations,
	device::{Device, ProgramCall},
	envelope::SafetyEnvelope,
	reconnect::Backoff,
};
use dt_client::{Client, ClientError};
use dt_primitives::{access::TwinId, program::ParameterDeclaration};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_dt_programs::{CallId, CallRecord, CallStatus, Outcome};
use sp_core::sr25519;

/// Longest result the chain keeps (the runtime's `MaxResultLength`).
const MAX_RESULT_LENGTH: usize = 1024;
/// What the agent reports for a call it had claimed before it restarted: it cannot know
/// whether the device ran it, and running it twice may do harm.
const INTERRUPTED: &str = "the agent restarted while the call was running; outcome unknown";
/// How the result of a call the agent refused to run begins.
pub const REFUSED: &str = "refused by the device agent: ";

/// Why a round of the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
	#[error(transparent)]
	Client(#[from] ClientError),
	#[error("the chain refused to {action} call {call}: {reason:?}")]
	Refused { action: &'static str, call: CallId, reason: sp_runtime::DispatchError },
}

/// Runs the program calls of one twin on one device.
pub struct ProgramRunner<D> {
	node: String,
	submitter: Submitter,
	twin: TwinId,
	device: D,
	envelope: SafetyEnvelope,
}

/// What one call came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handled {
	pub call: CallId,
	pub outcome: Outcome,
	pub result: String,
}

impl<D: Device> ProgramRunner<D> {
	/// A runner for `twin` that talks to the node at `node` (a WebSocket URL) as the device
	/// account `key` (it needs the twin's Device role), and runs on `device` only the calls
	/// inside its safety `envelope`.
	pub fn new(
		node: &str,
		key: sr25519::Pair,
		twin: TwinId,
		device: D,
		envelope: SafetyEnvelope,
	) -> ProgramRunner<D> {
		ProgramRunner {
			node: node.to_owned(),
			submitter: Submitter::new(key),
			twin,
			device,
			envelope,
		}
	}

	/// Submits through `submitter`, shared with the rest of the agent so the device account's
	/// transactions never race for a nonce.
	pub fn with_submitter(mut self, submitter: Submitter) -> ProgramRunner<D> {
		self.submitter = submitter;
		self
	}

	fn account(&self) -> AccountId {
		self.submitter.account()
	}

	/// Runs forever: handles what is pending, then every call queued later, reconnecting
	/// with backoff when the node goes away.
	pub async fn run(&mut self) {
		let mut backoff = Backoff::default();
		loop {
			match self.follow().await {
				Ok(()) => backoff.reset(),
				Err(error) => {
					let wait = backoff.next_wait();
					log::warn!(
						"program calls of twin {}: {error}; retrying in {wait:?}",
						self.twin
					);
					tokio::time::sleep(wait).await;
				},
			}
		}
	}

	/// One connection's worth of work: what is pending now, then what finalized blocks
	/// queue, until the connection fails.
	async fn follow(&mut self) -> Result<(), AgentError> {
		let client = Client::connect(&self.node).await?;
		let mut blocks = client.finalized_events().await?;
		self.handle_pending(&client).await?;
		loop {
			let block = blocks.next().await?;
			if let Some(runtime) = &block.runtime_upgrade {
				log::info!(
					"block {}: the consortium upgraded the runtime to {} spec version {}; its \
					 calls are unchanged, the agent goes on",
					block.number,
					runtime.spec_name,
					runtime.spec_version
				);
			}
			let queued = block.events.iter().any(|event| {
				matches!(event, RuntimeEvent::Programs(pallet_dt_programs::Event::ProgramCallQueued {
					twin, ..
				}) if *twin == self.twin)
			});
			if queued {
				self.handle_pending(&client).await?;
			}
		}
	}

	/// Handles every call of the twin's queue, oldest first: claims and runs the pending
	/// ones, and fails those this account claimed before it restarted.
	pub async fn handle_pending(&mut self, client: &Client) -> Result<Vec<Handled>, AgentError> {
		let mut handled = Vec::new();
		loop {
			let queue: Vec<CallRecord<AccountId, BlockNumber>> =
				client.runtime_api("ProgramsApi_pending_calls", self.twin, None).await?;
			let me = self.account();
			let next = queue.into_iter().find(|record| match &record.call.status {
				CallStatus::Pending => true,
				CallStatus::Claimed { by, .. } => *by == me,
				_ => false,
			});
			let Some(record) = next else { return Ok(handled) };
			handled.push(self.handle(client, record).await?);
		}
	}

	async fn handle(
		&mut self,
		client: &Client,
		record: CallRecord<AccountId, BlockNumber>,
	) -> Result<Handled, AgentError> {
		let call = record.id;
		let (outcome, result) = if record.call.status == CallStatus::Pending {
			let element = String::from_utf8_lossy(&record.call.element).into_owned();
			let program = String::from_utf8_lossy(&record.call.program).into_owned();
			// Judged before the claim, so a node that stops answering leaves the call pending
			// rather than claimed and never run.
			let verdict = self.judge(client, &record, &program).await?;
			self.submit(client, "claim", call, pallet_dt_programs::Call::claim_call { call })
				.await?;
			match verdict {
				Ok(declared) => {
					log::info!("running {program} on {element} (call {call})");
					let to_run = ProgramCall {
						element,
						program,
						arguments: record.call.arguments.to_vec(),
						declared,
					};
					match self.device.run_program(&to_run).await {
						Ok(answer) => (Outcome::Completed, answer),
						Err(reason) => (Outcome::Failed, reason),
					}
				},
				Err(reason) => {
					log::warn!("not running {program} on {element} (call {call}): {reason}");
					(Outcome::Failed, format!("{REFUSED}{reason}"))
				},
			}
		} else {
			(Outcome::Failed, INTERRUPTED.to_owned())
		};
		let mut bytes = result.clone().into_bytes();
		bytes.truncate(MAX_RESULT_LENGTH);
		let report = pallet_dt_programs::Call::report_outcome {
			call,
			outcome,
			result: bytes.try_into().expect("truncated to the bound"),
		};
		self.submit(client, "report the outcome of", call, report).await?;
		Ok(Handled { call, outcome, result })
	}

	/// Whether the device may run `record`'s call: inside the declaration it was checked
	/// against when queued (whose parameters it returns), and inside the device's envelope.
	/// `Ok(Err(reason))` if not.
	async fn judge(
		&self,
		client: &Client,
		record: &CallRecord<AccountId, BlockNumber>,
		program: &str,
	) -> Result<Result<Vec<ParameterDeclaration>, String>, AgentError> {
		let declared = match declarations::at_queue_time(client, record).await? {
			Ok(declared) => declared,
			Err(reason) => return Ok(Err(reason)),
		};
		let arguments = &record.call.arguments;
		Ok(declarations::check(&declared, arguments)
			.map_err(|reason| format!("outside the program's declaration: {reason}"))
			.and_then(|()| self.envelope.check(program, &declared, arguments))
			.map(|()| declared.to_vec()))
	}

	async fn submit(
		&self,
		client: &Client,
		action: &'static str,
		call: CallId,
		extrinsic: pallet_dt_programs::Call<dt_runtime::Runtime>,
	) -> Result<(), AgentError> {
		let finalized = self.submitter.submit(client, RuntimeCall::Programs(extrinsic)).await?;
		finalized
			.result()
			.map_err(|reason| AgentError::Refused { action, call, reason })
	}
}
