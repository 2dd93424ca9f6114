//! `dt consortium`: governance as the organisations' admins take part in it. Proposals are
//! listed, voted on and executed; the runtime is upgraded in four steps (propose, vote,
//! execute, apply) so that its code is submitted once, only after a majority approved it.

use crate::{chain, keystore::Keystore, unlock, Output, Signer};
use anyhow::{anyhow, bail, Context, Result};
use dt_client::{Client, RuntimeCode};
use dt_primitives::ProposalId;
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use pallet_dt_consortium::{Action, Call as ConsortiumCall, Event as ConsortiumEvent, Proposal};
use serde_json::{json, Value};
use sp_core::{crypto::Ss58Codec, H256};
use std::{path::PathBuf, time::Duration};

#[derive(clap::Subcommand, Debug)]
pub enum ConsortiumCommand {
	/// The open proposals: what each would do, which organisations approve and reject it,
	/// the block it expires after.
	Proposals,
	/// Proposes to upgrade the chain's runtime to the code in CODE (the runtime build's
	/// `dt_runtime.compact.compressed.wasm`), after checking that it is a runtime of this
	/// chain with a higher spec version. Needs an admin.
	ProposeUpgrade {
		code: PathBuf,
		#[command(flatten)]
		signer: Signer,
	},
	/// Votes on a proposal for the signer's organisation (an admin). Approving a runtime
	/// upgrade needs its code (--code): the vote is refused unless the file is the code the
	/// proposal names, with the spec version it announces.
	Vote {
		proposal: ProposalId,
		#[arg(value_enum)]
		decision: Decision,
		/// The runtime's code, for a runtime upgrade.
		#[arg(long, value_name = "FILE")]
		code: Option<PathBuf>,
		#[command(flatten)]
		signer: Signer,
	},
	/// Carries out a proposal a strict majority of the organisations approves (any member).
	Execute {
		proposal: ProposalId,
		#[command(flatten)]
		signer: Signer,
	},
	/// Submits the code of an authorized runtime upgrade (any member) and waits until the
	/// chain runs it.
	Apply {
		code: PathBuf,
		#[command(flatten)]
		signer: Signer,
	},
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
	Approve,
	Reject,
}

pub async fn consortium_command(
	keystore: &Keystore,
	node: &str,
	command: ConsortiumCommand,
) -> Result<Output> {
	let client = chain::connect(node).await?;
	match command {
		ConsortiumCommand::Proposals => list_proposals(&client).await,
		ConsortiumCommand::ProposeUpgrade { code, signer } => {
			propose_upgrade(keystore, &client, &code, &signer).await
		},
		ConsortiumCommand::Vote { proposal, decision, code, signer } => {
			vote(keystore, &client, proposal, decision, code.as_ref(), &signer).await
		},
		ConsortiumCommand::Execute { proposal, signer } => {
			execute(keystore, &client, proposal, &signer).await
		},
		ConsortiumCommand::Apply { code, signer } => {
			apply_upgrade(keystore, &client, &code, &signer).await
		},
	}
}

/// Proposes the runtime in `path` as the chain's next.
async fn propose_upgrade(
	keystore: &Keystore,
	client: &Client,
	path: &PathBuf,
	signer: &Signer,
) -> Result<Output> {
	let runtime = upgrade_code(client, path).await?;
	let action = Action::UpgradeRuntime {
		code_hash: runtime.hash,
		spec_version: runtime.version.spec_version,
	};
	let pair = unlock(keystore, signer)?;
	let call = RuntimeCall::Consortium(ConsortiumCall::propose { action });
	let finalized = chain::submit(client, &pair, call, "propose the runtime upgrade").await?;
	let proposal = finalized
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::Consortium(ConsortiumEvent::ProposalCreated { proposal, .. }) => {
				Some(*proposal)
			},
			_ => None,
		})
		.ok_or_else(|| anyhow!("the chain did not report the new proposal"))?;
	Ok(Output {
		text: format!(
			"proposal {proposal}: upgrade the runtime to spec version {} (code {:?}); the other \
			 organisations' admins approve it with `dt consortium vote {proposal} approve --code {}`",
			runtime.version.spec_version,
			runtime.hash,
			path.display()
		),
		json: json!({
			"proposal": proposal,
			"code_hash": runtime.hash,
			"spec_version": runtime.version.spec_version,
			"block": finalized.block,
		}),
	})
}

/// Votes for the signer's organisation; an approval of a runtime upgrade only with its code.
async fn vote(
	keystore: &Keystore,
	client: &Client,
	proposal: ProposalId,
	decision: Decision,
	code: Option<&PathBuf>,
	signer: &Signer,
) -> Result<Output> {
	let open = open_proposal(client, proposal).await?;
	if let (Action::UpgradeRuntime { code_hash, spec_version }, Decision::Approve) =
		(&open.action, decision)
	{
		let path = code.ok_or_else(|| {
			anyhow!(
				"proposal {proposal} upgrades the runtime: approve it with the code you were \
				 sent (--code FILE), so that the vote is for a code you checked"
			)
		})?;
		let runtime = upgrade_code(client, path).await?;
		if runtime.hash != *code_hash {
			bail!(
				"{} is not the code proposal {proposal} names: it hashes to {:?}, the proposal \
				 to {code_hash:?}; nothing was voted",
				path.display(),
				runtime.hash
			);
		}
		if runtime.version.spec_version != *spec_version {
			bail!(
				"proposal {proposal} announces spec version {spec_version} but its code declares \
				 {}; nothing was voted",
				runtime.version.spec_version
			);
		}
	}
	let pair = unlock(keystore, signer)?;
	let approve = decision == Decision::Approve;
	let call = RuntimeCall::Consortium(ConsortiumCall::vote { proposal, approve });
	let finalized = chain::submit(client, &pair, call, "vote").await?;
	let word = if approve { "approves" } else { "rejects" };
	Ok(Output {
		text: format!("{}'s organisation {word} proposal {proposal}", signer.key),
		json: json!({ "proposal": proposal, "approve": approve, "block": finalized.block }),
	})
}

/// Carries out a proposal the majority approves.
async fn execute(
	keystore: &Keystore,
	client: &Client,
	proposal: ProposalId,
	signer: &Signer,
) -> Result<Output> {
	let open = open_proposal(client, proposal).await?;
	let pair = unlock(keystore, signer)?;
	let call = RuntimeCall::Consortium(ConsortiumCall::execute_proposal { proposal });
	let finalized = chain::submit(client, &pair, call, "execute the proposal").await?;
	let next = match open.action {
		Action::UpgradeRuntime { .. } => {
			"; the upgrade is authorized: submit its code with `dt consortium apply FILE`"
		},
		_ => "",
	};
	Ok(Output {
		text: format!("proposal {proposal} executed: {}{next}", describe(&open.action)),
		json: json!({ "proposal": proposal, "executed": true, "block": finalized.block }),
	})
}

/// The runtime in `path`, checked to be a possible upgrade of the chain's runtime.
async fn upgrade_code(client: &Client, path: &PathBuf) -> Result<RuntimeCode> {
	let bytes = std::fs::read(path)
		.with_context(|| format!("cannot read the runtime {}", path.display()))?;
	let runtime = RuntimeCode::read(bytes)
		.with_context(|| format!("{} is not a runtime's code", path.display()))?;
	let running = client.runtime_version(None).await?;
	if *runtime.version.spec_name != *running.spec_name {
		bail!(
			"{} is a runtime of {}, the chain runs {}",
			path.display(),
			runtime.version.spec_name,
			running.spec_name
		);
	}
	if runtime.version.spec_version <= running.spec_version {
		bail!(
			"{} declares spec version {}, not above the running {}: an upgrade must raise it",
			path.display(),
			runtime.version.spec_version,
			running.spec_version
		);
	}
	Ok(runtime)
}

/// Submits the authorized code and waits until the best block runs it.
async fn apply_upgrade(
	keystore: &Keystore,
	client: &Client,
	path: &PathBuf,
	signer: &Signer,
) -> Result<Output> {
	let runtime = upgrade_code(client, path).await?;
	match authorized_upgrade(client).await? {
		None => bail!(
			"no runtime upgrade is authorized: propose it (`dt consortium propose-upgrade`), \
			 have a majority approve it and execute it first"
		),
		Some(authorized) if authorized != runtime.hash => bail!(
			"the authorized upgrade is the code {authorized:?}; {} hashes to {:?}",
			path.display(),
			runtime.hash
		),
		Some(_) => {},
	}
	let pair = unlock(keystore, signer)?;
	let spec_version = runtime.version.spec_version;
	let call =
		RuntimeCall::System(frame_system::Call::apply_authorized_upgrade { code: runtime.code });
	let finalized = chain::submit(client, &pair, call, "apply the runtime upgrade").await?;
	for event in &finalized.events {
		if let RuntimeEvent::System(frame_system::Event::RejectedInvalidAuthorizedUpgrade {
			error,
			..
		}) = event
		{
			bail!(
				"the chain refused the code: {} (the authorization is used up; propose again)",
				dt_client::dispatch_error_name(error)
			);
		}
	}
	// The new code runs from the block after the one that stored it.
	let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
	loop {
		let running = client.runtime_version(None).await?;
		if running.spec_version == spec_version {
			break;
		}
		if tokio::time::Instant::now() > deadline {
			bail!(
				"the code was stored in block {:?} but the node still runs spec version {} \
				 after two minutes",
				finalized.block,
				running.spec_version
			);
		}
		tokio::time::sleep(Duration::from_millis(500)).await;
	}
	Ok(Output {
		text: format!(
			"the chain runs spec version {spec_version}; the code was stored in block {:?}",
			finalized.block
		),
		json: json!({ "spec_version": spec_version, "block": finalized.block }),
	})
}

/// The code hash of the runtime upgrade governance authorized and no one applied yet.
async fn authorized_upgrade(client: &Client) -> Result<Option<H256>> {
	// `System::AuthorizedUpgrade` is private to frame-system; its key is the usual pair.
	let key = frame_support::storage::storage_prefix(b"System", b"AuthorizedUpgrade");
	let authorization: Option<(H256, bool)> = client.storage(&key, None).await?;
	Ok(authorization.map(|(code_hash, _check_version)| code_hash))
}

/// The open proposal `proposal`, or an error saying it is not open.
async fn open_proposal(client: &Client, proposal: ProposalId) -> Result<Proposal<Runtime>> {
	let key = pallet_dt_consortium::Proposals::<Runtime>::hashed_key_for(proposal);
	client.storage(&key, None).await?.ok_or_else(|| {
		anyhow!(
			"proposal {proposal} is not open (executed, closed or never made): \
			 `dt consortium proposals` lists the open ones"
		)
	})
}

async fn list_proposals(client: &Client) -> Result<Output> {
	let prefix = frame_support::storage::storage_prefix(b"Consortium", b"Proposals");
	let mut proposals: Vec<(ProposalId, Proposal<Runtime>)> = Vec::new();
	for key in client.storage_keys(&prefix, None).await? {
		// Twox64Concat: 8 hash bytes, then the id itself.
		let id = key[prefix.len() + 8..]
			.try_into()
			.map(u32::from_le_bytes)
			.map_err(|_| anyhow!("a proposal's storage key does not end in an id"))?;
		if let Some(entry) = client.storage(&key, None).await? {
			proposals.push((id, entry));
		}
	}
	proposals.sort_by_key(|(id, _)| *id);
	let mut text = String::new();
	let mut json = Vec::new();
	for (id, proposal) in &proposals {
		text.push_str(&format!(
			"{id}: {} (by {}, organisation {}); approve {:?}, reject {:?}; expires after block {}\n",
			describe(&proposal.action),
			proposal.proposer,
			proposal.organisation,
			proposal.approvals.to_vec(),
			proposal.rejections.to_vec(),
			proposal.expires_at
		));
		json.push(json!({
			"proposal": id,
			"action": describe(&proposal.action),
			"action_detail": action_json(&proposal.action),
			"proposer": proposal.proposer.to_ss58check(),
			"organisation": proposal.organisation,
			"approvals": proposal.approvals.to_vec(),
			"rejections": proposal.rejections.to_vec(),
			"expires_at": proposal.expires_at,
		}));
	}
	if proposals.is_empty() {
		text.push_str("no open proposals\n");
	}
	Ok(Output { text, json: Value::Array(json) })
}

/// A proposal's action in a line.
fn describe(action: &Action<Runtime>) -> String {
	match action {
		Action::UpgradeRuntime { code_hash, spec_version } => {
			format!("upgrade the runtime to spec version {spec_version} (code {code_hash:?})")
		},
		Action::AddOrganisation { name, admin, .. } => {
			format!("add the organisation {} with admin {admin}", String::from_utf8_lossy(name))
		},
		Action::RemoveOrganisation { organisation } => {
			format!("remove organisation {organisation}")
		},
		Action::AddValidator { validator } => format!("add the validator {validator}"),
		Action::RemoveValidator { validator } => format!("remove the validator {validator}"),
		Action::AddPartnerNode { organisation, peer_id } => {
			format!("allow the node {} of organisation {organisation}", hex::encode(peer_id))
		},
		Action::RemovePartnerNode { peer_id } => {
			format!("disallow the node {}", hex::encode(peer_id))
		},
		Action::AppointAccessManager { twin, manager } => {
			format!("appoint {manager} access manager of twin {twin}")
		},
	}
}

fn action_json(action: &Action<Runtime>) -> Value {
	match action {
		Action::UpgradeRuntime { code_hash, spec_version } => {
			json!({ "upgrade_runtime": { "code_hash": code_hash, "spec_version": spec_version } })
		},
		other => json!({ "other": format!("{other:?}") }),
	}
}
