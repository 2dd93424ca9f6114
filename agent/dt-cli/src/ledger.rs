//! The ledger updates that concern a twin: every event of the twin-spec, access, documents,
//! feeds and programs pallets names its twin, so a block's updates are its events with that
//! twin, told with who sent them (the transaction's signer), the block and its time. Shared
//! by `dt audit` (every block since the twin's creation) and `dt watch` (blocks as they are
//! finalized).

use crate::{access::role_name, clock};
use anyhow::{anyhow, Result};
use codec::Decode;
use dt_client::Client;
use dt_primitives::access::{Confidentiality, Grantee, TwinId};
use dt_runtime::{AccountId, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use frame_system::Phase;
use jsonrpsee::rpc_params;
use serde_json::{json, Value};
use sp_core::H256;
use sp_runtime::{generic::Preamble, MultiAddress};

/// One change of a twin's ledger.
#[derive(Debug, Clone)]
pub struct Update {
	pub block: u32,
	pub hash: H256,
	/// The block's timestamp, ms since the Unix epoch.
	pub time: Option<u64>,
	/// Who sent the transaction; `None` for what the runtime did by itself (expiries).
	pub who: Option<AccountId>,
	/// The event, as `pallet.Event`.
	pub event: &'static str,
	/// What happened, in words.
	pub summary: String,
	/// The event's fields.
	pub detail: Value,
}

impl Update {
	/// One line: `#12 2026-11-26T09:30:00.000Z  twinSpec.TwinCreated  ...  by 5Grw…`.
	pub fn line(&self) -> String {
		format!(
			"#{:<7} {}  {:<32} {}{}",
			self.block,
			self.time.map(clock::format_ms).unwrap_or_else(|| "-".into()),
			self.event,
			self.summary,
			match &self.who {
				Some(who) => format!("  (by {who})"),
				None => "  (by the runtime)".into(),
			}
		)
	}

	pub fn json(&self) -> Value {
		json!({
			"block": self.block,
			"hash": format!("{:?}", self.hash),
			"time_ms": self.time,
			"time": self.time.map(clock::format_ms),
			"who": self.who.as_ref().map(|who| who.to_string()),
			"event": self.event,
			"summary": self.summary,
			"detail": self.detail,
		})
	}
}

/// The updates of `twin` in the block `number`/`hash`, in the order of its events.
pub async fn updates_in_block(
	client: &Client,
	number: u32,
	hash: H256,
	twin: TwinId,
) -> Result<Vec<Update>> {
	let records = client.event_records(hash).await?;
	let concerning: Vec<_> = records
		.into_iter()
		.filter_map(|record| describe(&record.event, twin).map(|told| (record.phase, told)))
		.collect();
	if concerning.is_empty() {
		return Ok(Vec::new());
	}
	let body = BlockBody::fetch(client, hash).await?;
	Ok(concerning
		.into_iter()
		.map(|(phase, (event, summary, detail))| Update {
			block: number,
			hash,
			time: body.time,
			who: match phase {
				Phase::ApplyExtrinsic(index) => body.signers.get(index as usize).cloned().flatten(),
				_ => None,
			},
			event,
			summary,
			detail,
		})
		.collect())
}

/// What a block says beyond its events: when it was made and who signed each extrinsic.
struct BlockBody {
	time: Option<u64>,
	signers: Vec<Option<AccountId>>,
}

impl BlockBody {
	async fn fetch(client: &Client, hash: H256) -> Result<BlockBody> {
		let block: Value = client.request("chain_getBlock", rpc_params![hash]).await?;
		let extrinsics = block["block"]["extrinsics"]
			.as_array()
			.ok_or_else(|| anyhow!("the node returned block {hash:?} without extrinsics"))?;
		let mut time = None;
		let mut signers = Vec::with_capacity(extrinsics.len());
		for encoded in extrinsics {
			let bytes = encoded
				.as_str()
				.and_then(|text| hex::decode(text.trim_start_matches("0x")).ok())
				.unwrap_or_default();
			let Ok(extrinsic) = UncheckedExtrinsic::decode(&mut &bytes[..]) else {
				signers.push(None);
				continue;
			};
			if let RuntimeCall::Timestamp(dt_runtime::TimestampCall::set { now }) =
				&extrinsic.function
			{
				time = Some(*now);
			}
			signers.push(match extrinsic.preamble {
				Preamble::Signed(MultiAddress::Id(who), ..) => Some(who),
				_ => None,
			});
		}
		Ok(BlockBody { time, signers })
	}
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn level(level: &Confidentiality) -> String {
	format!("{level:?}").to_lowercase()
}

fn grantee(grantee: &Grantee<AccountId>) -> String {
	match grantee {
		Grantee::Account(account) => account.to_string(),
		Grantee::Organisation(organisation) => format!("organisation {organisation}"),
	}
}

type Told = (&'static str, String, Value);

/// The event as (`pallet.Event`, summary, fields) if it concerns `twin`.
pub fn describe(event: &RuntimeEvent, twin: TwinId) -> Option<Told> {
	match event {
		RuntimeEvent::TwinSpec(event) => twin_spec(event, twin),
		RuntimeEvent::Access(event) => access(event, twin),
		RuntimeEvent::Documents(event) => documents(event, twin),
		RuntimeEvent::Feeds(event) => feeds(event, twin),
		RuntimeEvent::Programs(event) => programs(event, twin),
		_ => None,
	}
}

fn twin_spec(event: &pallet_dt_twin_spec::Event<dt_runtime::Runtime>, of: TwinId) -> Option<Told> {
	use pallet_dt_twin_spec::Event::*;
	let told: Told = match event {
		TwinCreated { twin, creator } if *twin == of => (
			"twinSpec.TwinCreated",
			format!("twin {twin} created; {creator} is its owner"),
			json!({ "creator": creator.to_string() }),
		),
		ElementsImported { twin, count, complete } if *twin == of => (
			"twinSpec.ElementsImported",
			format!(
				"{count} elements imported{}",
				if *complete { ", import complete" } else { "" }
			),
			json!({ "count": count, "complete": complete }),
		),
		ElementInserted { twin, element, parent, .. } if *twin == of => (
			"twinSpec.ElementInserted",
			format!("element {} inserted under {}", text(element), text(parent)),
			json!({ "element": text(element), "parent": text(parent) }),
		),
		ElementRemoved { twin, element, removed, .. } if *twin == of => (
			"twinSpec.ElementRemoved",
			format!("element {} removed ({removed} elements with its subtree)", text(element)),
			json!({ "element": text(element), "removed": removed }),
		),
		ElementReplaced { twin, old, new, removed, .. } if *twin == of => (
			"twinSpec.ElementReplaced",
			format!("element {} replaced by {} ({removed} removed)", text(old), text(new)),
			json!({ "old": text(old), "new": text(new), "removed": removed }),
		),
		FragmentReplaced { twin, element, version, .. } if *twin == of => (
			"twinSpec.FragmentReplaced",
			format!("element {} changed (version {version})", text(element)),
			json!({ "element": text(element), "version": version }),
		),
		ConfidentialitySet { twin, element, level: new, .. } if *twin == of => (
			"twinSpec.ConfidentialitySet",
			format!("element {} is now {}", text(element), level(new)),
			json!({ "element": text(element), "confidentiality": level(new) }),
		),
		ExternalSourceAdded { twin, source, element, .. } if *twin == of => (
			"twinSpec.ExternalSourceAdded",
			format!(
				"external source {source} added{}",
				element.as_ref().map(|e| format!(" on {}", text(e))).unwrap_or_default()
			),
			json!({ "source": source, "element": element.as_ref().map(|e| text(e)) }),
		),
		ExternalSourceRemoved { twin, source, .. } if *twin == of => (
			"twinSpec.ExternalSourceRemoved",
			format!("external source {source} removed"),
			json!({ "source": source }),
		),
		ProgramDeclared { twin, element, program, described_by, replaced, .. } if *twin == of => (
			"twinSpec.ProgramDeclared",
			if *replaced {
				format!(
					"program {} re-declared on {}: its parameters and safety bounds may have \
					 changed (now from the AML of {})",
					text(program),
					text(element),
					text(described_by)
				)
			} else {
				format!(
					"program {} declared on {} (parameters and safety bounds from the AML of {})",
					text(program),
					text(element),
					text(described_by)
				)
			},
			json!({
				"element": text(element),
				"program": text(program),
				"describedBy": text(described_by),
				"replaced": replaced,
			}),
		),
		ProgramRemoved { twin, element, program, .. } if *twin == of => (
			"twinSpec.ProgramRemoved",
			format!("program {} removed from {}", text(program), text(element)),
			json!({ "element": text(element), "program": text(program) }),
		),
		_ => return None,
	};
	Some(told)
}

fn access(event: &pallet_dt_access::Event<dt_runtime::Runtime>, of: TwinId) -> Option<Told> {
	use pallet_dt_access::Event::*;
	let told: Told = match event {
		AccessControlCreated { twin, owner } if *twin == of => (
			"access.AccessControlCreated",
			format!("access control created, owner {owner}"),
			json!({ "owner": owner.to_string() }),
		),
		RoleGranted { twin, grantee: to, role, .. } if *twin == of => (
			"access.RoleGranted",
			format!("{} granted to {}", role_name(role), grantee(to)),
			json!({ "role": role_name(role), "grantee": grantee(to) }),
		),
		RoleRevoked { twin, grantee: from, role, .. } if *twin == of => (
			"access.RoleRevoked",
			format!("{} revoked from {}", role_name(role), grantee(from)),
			json!({ "role": role_name(role), "grantee": grantee(from) }),
		),
		RolePermissionsSet { twin, role, permissions, .. } if *twin == of => {
			let permissions: Vec<String> =
				permissions.iter().map(crate::access::permission_name).collect();
			(
				"access.RolePermissionsSet",
				format!("permissions of {} set to {}", role_name(role), permissions.join(", ")),
				json!({ "role": role_name(role), "permissions": permissions }),
			)
		},
		CustomRoleCreated { twin, role, name, .. } if *twin == of => (
			"access.CustomRoleCreated",
			format!("custom role custom:{role} \"{}\" created", text(name)),
			json!({ "role": format!("custom:{role}"), "name": text(name) }),
		),
		CustomRoleRemoved { twin, role, .. } if *twin == of => (
			"access.CustomRoleRemoved",
			format!("custom role custom:{role} removed"),
			json!({ "role": format!("custom:{role}") }),
		),
		_ => return None,
	};
	Some(told)
}

fn documents(event: &pallet_dt_documents::Event<dt_runtime::Runtime>, of: TwinId) -> Option<Told> {
	use pallet_dt_documents::Event::*;
	let told: Told = match event {
		DocumentRegistered { twin, document, confidentiality, .. } if *twin == of => (
			"documents.DocumentRegistered",
			format!("document {document} registered ({})", level(confidentiality)),
			json!({ "document": document, "confidentiality": level(confidentiality) }),
		),
		DocumentVersionAdded { twin, document, version, .. } if *twin == of => (
			"documents.DocumentVersionAdded",
			format!("document {document}: version {version} added"),
			json!({ "document": document, "version": version }),
		),
		DocumentAnnotated { twin, document, version, annotation, .. } if *twin == of => (
			"documents.DocumentAnnotated",
			format!("document {document} version {version}: annotation {annotation} added"),
			json!({ "document": document, "version": version, "annotation": annotation }),
		),
		DocumentRetired { twin, document, .. } if *twin == of => (
			"documents.DocumentRetired",
			format!("document {document} retired"),
			json!({ "document": document }),
		),
		DocumentAttached { twin, document, element, .. } if *twin == of => (
			"documents.DocumentAttached",
			match element {
				Some(element) => format!("document {document} attached to {}", text(element)),
				None => format!("document {document} attached to the whole twin"),
			},
			json!({ "document": document, "element": element.as_ref().map(|e| text(e)) }),
		),
		_ => return None,
	};
	Some(told)
}

fn feeds(event: &pallet_dt_feeds::Event<dt_runtime::Runtime>, of: TwinId) -> Option<Told> {
	use pallet_dt_feeds::Event::*;
	let told: Told = match event {
		FeedRegistered { twin, feed, element, owner, confidentiality, .. } if *twin == of => (
			"feeds.FeedRegistered",
			format!(
				"feed {feed} registered on {} ({}), written by {owner}",
				text(element),
				level(confidentiality)
			),
			json!({
				"feed": feed, "element": text(element), "owner": owner.to_string(),
				"confidentiality": level(confidentiality),
			}),
		),
		CheckpointAnchored { twin, feed, index, checkpoint } if *twin == of => (
			"feeds.CheckpointAnchored",
			format!(
				"feed {feed}: checkpoint {index} at entry {} (hash 0x{})",
				checkpoint.sequence,
				hex::encode(checkpoint.entry_hash)
			),
			json!({
				"feed": feed, "index": index, "sequence": checkpoint.sequence,
				"entry_hash": dt_client::hex_string(&checkpoint.entry_hash),
				"timestamp": checkpoint.timestamp,
			}),
		),
		FeedClosed { twin, feed, .. } if *twin == of => {
			("feeds.FeedClosed", format!("feed {feed} closed"), json!({ "feed": feed }))
		},
		FeedReplaced { twin, old, new, element, .. } if *twin == of => (
			"feeds.FeedReplaced",
			format!("feed {old} replaced by feed {new} on {}", text(element)),
			json!({ "old": old, "new": new, "element": text(element) }),
		),
		SensorReplaced { twin, old_element, new_element, old_feed, new_feed, .. }
			if *twin == of =>
		{
			(
				"feeds.SensorReplaced",
				format!(
					"sensor {} (feed {old_feed}) replaced by {} (feed {new_feed})",
					text(old_element),
					text(new_element)
				),
				json!({
					"old_element": text(old_element), "new_element": text(new_element),
					"old_feed": old_feed, "new_feed": new_feed,
				}),
			)
		},
		_ => return None,
	};
	Some(told)
}

fn programs(event: &pallet_dt_programs::Event<dt_runtime::Runtime>, of: TwinId) -> Option<Told> {
	use pallet_dt_programs::Event::*;
	let told: Told = match event {
		ProgramCallQueued { twin, call, element, program, .. } if *twin == of => (
			"programs.ProgramCallQueued",
			format!("call {call} of {} on {} queued", text(program), text(element)),
			json!({ "call": call, "element": text(element), "program": text(program) }),
		),
		ProgramCallClaimed { twin, call, device } if *twin == of => (
			"programs.ProgramCallClaimed",
			format!("call {call} claimed by the device {device}"),
			json!({ "call": call, "device": device.to_string() }),
		),
		ProgramCallCompleted { twin, call, result, .. } if *twin == of => (
			"programs.ProgramCallCompleted",
			format!("call {call} completed: {}", text(result)),
			json!({ "call": call, "result": text(result) }),
		),
		ProgramCallFailed { twin, call, result, .. } if *twin == of => (
			"programs.ProgramCallFailed",
			format!("call {call} failed: {}", text(result)),
			json!({ "call": call, "result": text(result) }),
		),
		ProgramCallCancelled { twin, call, .. } if *twin == of => (
			"programs.ProgramCallCancelled",
			format!("call {call} cancelled by its caller"),
			json!({ "call": call }),
		),
		ProgramCallExpired { twin, call, at } if *twin == of => (
			"programs.ProgramCallExpired",
			format!("call {call} expired unfinished in block {at}"),
			json!({ "call": call, "at": at }),
		),
		_ => return None,
	};
	Some(told)
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::crypto::AccountId32;

	#[test]
	fn only_the_twins_own_events_are_told() {
		let alice = AccountId32::new([1; 32]);
		let created = RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated {
			twin: 3,
			creator: alice.clone(),
		});
		let (name, summary, detail) = describe(&created, 3).unwrap();
		assert_eq!(name, "twinSpec.TwinCreated");
		assert!(summary.contains("twin 3 created"), "{summary}");
		assert_eq!(detail["creator"], alice.to_string());
		assert!(describe(&created, 4).is_none());
		let expired = RuntimeEvent::Programs(pallet_dt_programs::Event::ProgramCallExpired {
			twin: 4,
			call: 9,
			at: 12,
		});
		assert_eq!(describe(&expired, 4).unwrap().0, "programs.ProgramCallExpired");
		let other = RuntimeEvent::System(frame_system::Event::NewAccount { account: alice });
		assert!(describe(&other, 4).is_none());
	}

	#[test]
	fn a_changed_safety_bound_is_told_as_such() {
		fn bytes<S: sp_core::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
			text.as_bytes().to_vec().try_into().unwrap()
		}
		let declared = |replaced| {
			RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::ProgramDeclared {
				twin: 2,
				element: bytes("filling-station-1"),
				program: bytes("SetFillVolume"),
				described_by: bytes("set-fill-volume-1"),
				replaced,
				author: AccountId32::new([1; 32]),
			})
		};
		let (_, summary, detail) = describe(&declared(true), 2).unwrap();
		assert!(summary.contains("re-declared") && summary.contains("safety bounds"), "{summary}");
		assert_eq!(detail["describedBy"], "set-fill-volume-1");
		assert_eq!(detail["replaced"], true);
		let (_, summary, _) = describe(&declared(false), 2).unwrap();
		assert!(summary.starts_with("program SetFillVolume declared on"), "{summary}");
	}
}
