//! The ledger updates that concern a twin, told in words: every event of the twin-spec,
//! access, documents, feeds and programs pallets names its twin, so a block's updates are its
//! events with that twin, told with who sent them (the transaction's signer), the block and
//! its time.
//!
//! Shared by `dt watch` and `dt audit` (which read blocks over RPC) and by dt-node's twin
//! index (which reads them from its own database and serves them as `index_twinTrail`), so a
//! change reads the same wherever it is shown.

use codec::Decode;
use dt_primitives::access::{Confidentiality, Grantee, Permission, Role, TwinId};
use dt_runtime::{AccountId, RuntimeCall, RuntimeEvent, UncheckedExtrinsic};
use serde_json::{json, Value};
use sp_core::H256;
use sp_runtime::{generic::Preamble, MultiAddress};

/// One change of a twin's ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
	pub block: u32,
	pub hash: H256,
	/// The block's timestamp, ms since the Unix epoch.
	pub time: Option<u64>,
	/// Who sent the transaction; `None` for what the runtime did by itself (expiries).
	pub who: Option<AccountId>,
	/// The event, as `pallet.Event`.
	pub event: String,
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
			self.time.map(format_ms).unwrap_or_else(|| "-".into()),
			self.event,
			self.summary,
			match &self.who {
				Some(who) => format!("  (by {who})"),
				None => "  (by the runtime)".into(),
			}
		)
	}

	/// The update as `dt audit --json`, `dt watch --json` and `index_twinTrail` give it.
	pub fn json(&self) -> Value {
		json!({
			"block": self.block,
			"hash": format!("{:?}", self.hash),
			"time_ms": self.time,
			"time": self.time.map(format_ms),
			"who": self.who.as_ref().map(|who| who.to_string()),
			"event": self.event,
			"summary": self.summary,
			"detail": self.detail,
		})
	}

	/// Reads back what [`Update::json`] wrote (an `index_twinTrail` answer); `None` if a field
	/// is missing or malformed.
	pub fn from_json(value: &Value) -> Option<Update> {
		use std::str::FromStr;
		let hash = value["hash"].as_str()?;
		Some(Update {
			block: u32::try_from(value["block"].as_u64()?).ok()?,
			hash: H256::from_str(hash.trim_start_matches("0x")).ok()?,
			time: match &value["time_ms"] {
				Value::Null => None,
				time => Some(time.as_u64()?),
			},
			who: match &value["who"] {
				Value::Null => None,
				who => Some(AccountId::from_str(who.as_str()?).ok()?),
			},
			event: value["event"].as_str()?.to_string(),
			summary: value["summary"].as_str()?.to_string(),
			detail: value["detail"].clone(),
		})
	}
}

/// What a block says beyond its events: when it was made and who signed each extrinsic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockBody {
	/// The block's timestamp (`Timestamp::set`), ms since the Unix epoch.
	pub time: Option<u64>,
	/// The signer of each extrinsic, by index; `None` for an unsigned one (or one that does
	/// not decode with this runtime's types).
	pub signers: Vec<Option<AccountId>>,
}

impl BlockBody {
	/// From the block's extrinsics, each SCALE-encoded.
	pub fn from_extrinsics<'a>(extrinsics: impl IntoIterator<Item = &'a [u8]>) -> BlockBody {
		let mut body = BlockBody::default();
		for bytes in extrinsics {
			let Ok(extrinsic) = UncheckedExtrinsic::decode(&mut &bytes[..]) else {
				body.signers.push(None);
				continue;
			};
			if let RuntimeCall::Timestamp(dt_runtime::TimestampCall::set { now }) =
				&extrinsic.function
			{
				body.time = Some(*now);
			}
			body.signers.push(match extrinsic.preamble {
				Preamble::Signed(MultiAddress::Id(who), ..) => Some(who),
				_ => None,
			});
		}
		body
	}

	/// Who sent the extrinsic whose event has this phase; `None` for the runtime itself.
	pub fn signer(&self, phase: &frame_system::Phase) -> Option<AccountId> {
		match phase {
			frame_system::Phase::ApplyExtrinsic(index) => {
				self.signers.get(*index as usize).cloned().flatten()
			},
			_ => None,
		}
	}
}

/// The updates of `twin` among a block's event records, in their order.
pub fn updates(
	records: impl IntoIterator<Item = frame_system::EventRecord<RuntimeEvent, H256>>,
	twin: TwinId,
	number: u32,
	hash: H256,
	body: &BlockBody,
) -> Vec<Update> {
	records
		.into_iter()
		.filter_map(|record| {
			let (event, summary, detail) = describe(&record.event, twin)?;
			Some(Update {
				block: number,
				hash,
				time: body.time,
				who: body.signer(&record.phase),
				event: event.to_string(),
				summary,
				detail,
			})
		})
		.collect()
}

const MS_PER_DAY: i64 = 86_400_000;

/// `ms` as RFC 3339 UTC with milliseconds: `2026-11-26T09:30:00.250Z`.
pub fn format_ms(ms: u64) -> String {
	let ms = ms as i64;
	let (days, rest) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY));
	let (year, month, day) = civil_from_days(days);
	let seconds = rest / 1000;
	format!(
		"{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
		seconds / 3600,
		seconds / 60 % 60,
		seconds % 60,
		rest % 1000
	)
}

/// The (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
	let days = days + 719_468;
	let era = days.div_euclid(146_097);
	let day_of_era = days - era * 146_097;
	let year_of_era =
		(day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
	let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
	let month_index = (5 * day_of_year + 2) / 153;
	let day = day_of_year - (153 * month_index + 2) / 5 + 1;
	let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
	let year = year_of_era + era * 400 + if month <= 2 { 1 } else { 0 };
	(year, month, day)
}

/// `public`, `internal`, ...: a confidentiality level as `dt` prints and parses it.
pub fn confidentiality_name(level: Confidentiality) -> String {
	format!("{level:?}").to_lowercase()
}

/// `owner`, ..., `custom:ID`: a role as `dt` prints and parses it.
pub fn role_name(role: &Role) -> String {
	match role {
		Role::Custom(id) => format!("custom:{id}"),
		other => format!("{other:?}").to_lowercase(),
	}
}

/// `read:internal`, `write-spec`, ...: a permission as `dt` prints and parses it.
pub fn permission_name(permission: &Permission) -> String {
	let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
	match permission {
		Permission::Read(level) => format!("read:{}", confidentiality_name(*level)),
		Permission::WriteSpecification(None) => "write-spec".into(),
		Permission::WriteSpecification(Some(element)) => format!("write-spec:{}", text(element)),
		Permission::AddDocuments => "add-documents".into(),
		Permission::VersionDocuments => "version-documents".into(),
		Permission::AnnotateDocuments => "annotate-documents".into(),
		Permission::RegisterFeeds => "register-feeds".into(),
		Permission::AppendToFeeds => "append-to-feeds".into(),
		Permission::CallPrograms(None) => "call-programs".into(),
		Permission::CallPrograms(Some(program)) => format!("call-programs:{}", text(program)),
		Permission::AddExternalSources => "add-external-sources".into(),
		Permission::ManageAccess => "manage-access".into(),
		Permission::RunPrograms => "run-programs".into(),
		Permission::DeclarePrograms => "declare-programs".into(),
	}
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

fn level(level: &Confidentiality) -> String {
	confidentiality_name(*level)
}

fn grantee(grantee: &Grantee<AccountId>) -> String {
	match grantee {
		Grantee::Account(account) => account.to_string(),
		Grantee::Organisation(organisation) => format!("organisation {organisation}"),
	}
}

/// An event told: (`pallet.Event`, summary, fields).
pub type Told = (&'static str, String, Value);

/// The event as (`pallet.Event`, summary, fields) if it concerns `twin`.
pub fn describe(event: &RuntimeEvent, twin: TwinId) -> Option<Told> {
	describe_any(event).filter(|(of, _)| *of == twin).map(|(_, told)| told)
}

/// The twin the event concerns and the event as (`pallet.Event`, summary, fields), for an
/// event of the twin-spec, access, documents, feeds and programs pallets (all of which name
/// their twin); `None` for any other event. What the node's twin index stores.
pub fn describe_any(event: &RuntimeEvent) -> Option<(TwinId, Told)> {
	match event {
		RuntimeEvent::TwinSpec(event) => twin_spec(event),
		RuntimeEvent::Access(event) => access(event),
		RuntimeEvent::Documents(event) => documents(event),
		RuntimeEvent::Feeds(event) => feeds(event),
		RuntimeEvent::Programs(event) => programs(event),
		_ => None,
	}
}

fn twin_spec(event: &pallet_dt_twin_spec::Event<dt_runtime::Runtime>) -> Option<(TwinId, Told)> {
	use pallet_dt_twin_spec::Event::*;
	let told: (TwinId, Told) = match event {
		TwinCreated { twin, creator } => (
			*twin,
			(
				"twinSpec.TwinCreated",
				format!("twin {twin} created; {creator} is its owner"),
				json!({ "creator": creator.to_string() }),
			),
		),
		ElementsImported { twin, count, complete } => (
			*twin,
			(
				"twinSpec.ElementsImported",
				format!(
					"{count} elements imported{}",
					if *complete { ", import complete" } else { "" }
				),
				json!({ "count": count, "complete": complete }),
			),
		),
		ElementInserted { twin, element, parent, .. } => (
			*twin,
			(
				"twinSpec.ElementInserted",
				format!("element {} inserted under {}", text(element), text(parent)),
				json!({ "element": text(element), "parent": text(parent) }),
			),
		),
		ElementRemoved { twin, element, removed, .. } => (
			*twin,
			(
				"twinSpec.ElementRemoved",
				format!("element {} removed ({removed} elements with its subtree)", text(element)),
				json!({ "element": text(element), "removed": removed }),
			),
		),
		ElementReplaced { twin, old, new, removed, .. } => (
			*twin,
			(
				"twinSpec.ElementReplaced",
				format!("element {} replaced by {} ({removed} removed)", text(old), text(new)),
				json!({ "old": text(old), "new": text(new), "removed": removed }),
			),
		),
		FragmentReplaced { twin, element, version, .. } => (
			*twin,
			(
				"twinSpec.FragmentReplaced",
				format!("element {} changed (version {version})", text(element)),
				json!({ "element": text(element), "version": version }),
			),
		),
		ConfidentialitySet { twin, element, level: new, .. } => (
			*twin,
			(
				"twinSpec.ConfidentialitySet",
				format!("element {} is now {}", text(element), level(new)),
				json!({ "element": text(element), "confidentiality": level(new) }),
			),
		),
		ExternalSourceAdded { twin, source, element, .. } => (
			*twin,
			(
				"twinSpec.ExternalSourceAdded",
				format!(
					"external source {source} added{}",
					element.as_ref().map(|e| format!(" on {}", text(e))).unwrap_or_default()
				),
				json!({ "source": source, "element": element.as_ref().map(|e| text(e)) }),
			),
		),
		ExternalSourceRemoved { twin, source, .. } => (
			*twin,
			(
				"twinSpec.ExternalSourceRemoved",
				format!("external source {source} removed"),
				json!({ "source": source }),
			),
		),
		ProgramDeclared { twin, element, program, described_by, replaced, .. } => (
			*twin,
			(
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
		),
		ProgramRemoved { twin, element, program, .. } => (
			*twin,
			(
				"twinSpec.ProgramRemoved",
				format!("program {} removed from {}", text(program), text(element)),
				json!({ "element": text(element), "program": text(program) }),
			),
		),
		_ => return None,
	};
	Some(told)
}

fn access(event: &pallet_dt_access::Event<dt_runtime::Runtime>) -> Option<(TwinId, Told)> {
	use pallet_dt_access::Event::*;
	let told: (TwinId, Told) = match event {
		AccessControlCreated { twin, owner } => (
			*twin,
			(
				"access.AccessControlCreated",
				format!("access control created, owner {owner}"),
				json!({ "owner": owner.to_string() }),
			),
		),
		RoleGranted { twin, grantee: to, role, .. } => (
			*twin,
			(
				"access.RoleGranted",
				format!("{} granted to {}", role_name(role), grantee(to)),
				json!({ "role": role_name(role), "grantee": grantee(to) }),
			),
		),
		RoleRevoked { twin, grantee: from, role, .. } => (
			*twin,
			(
				"access.RoleRevoked",
				format!("{} revoked from {}", role_name(role), grantee(from)),
				json!({ "role": role_name(role), "grantee": grantee(from) }),
			),
		),
		RolePermissionsSet { twin, role, permissions, .. } => (*twin, {
			let permissions: Vec<String> = permissions.iter().map(permission_name).collect();
			(
				"access.RolePermissionsSet",
				format!("permissions of {} set to {}", role_name(role), permissions.join(", ")),
				json!({ "role": role_name(role), "permissions": permissions }),
			)
		}),
		CustomRoleCreated { twin, role, name, .. } => (
			*twin,
			(
				"access.CustomRoleCreated",
				format!("custom role custom:{role} \"{}\" created", text(name)),
				json!({ "role": format!("custom:{role}"), "name": text(name) }),
			),
		),
		CustomRoleRemoved { twin, role, .. } => (
			*twin,
			(
				"access.CustomRoleRemoved",
				format!("custom role custom:{role} removed"),
				json!({ "role": format!("custom:{role}") }),
			),
		),
		_ => return None,
	};
	Some(told)
}

fn documents(event: &pallet_dt_documents::Event<dt_runtime::Runtime>) -> Option<(TwinId, Told)> {
	use pallet_dt_documents::Event::*;
	let told: (TwinId, Told) = match event {
		DocumentRegistered { twin, document, confidentiality, .. } => (
			*twin,
			(
				"documents.DocumentRegistered",
				format!("document {document} registered ({})", level(confidentiality)),
				json!({ "document": document, "confidentiality": level(confidentiality) }),
			),
		),
		DocumentVersionAdded { twin, document, version, .. } => (
			*twin,
			(
				"documents.DocumentVersionAdded",
				format!("document {document}: version {version} added"),
				json!({ "document": document, "version": version }),
			),
		),
		DocumentAnnotated { twin, document, version, annotation, .. } => (
			*twin,
			(
				"documents.DocumentAnnotated",
				format!("document {document} version {version}: annotation {annotation} added"),
				json!({ "document": document, "version": version, "annotation": annotation }),
			),
		),
		DocumentRetired { twin, document, .. } => (
			*twin,
			(
				"documents.DocumentRetired",
				format!("document {document} retired"),
				json!({ "document": document }),
			),
		),
		DocumentAttached { twin, document, element, .. } => (
			*twin,
			(
				"documents.DocumentAttached",
				match element {
					Some(element) => format!("document {document} attached to {}", text(element)),
					None => format!("document {document} attached to the whole twin"),
				},
				json!({ "document": document, "element": element.as_ref().map(|e| text(e)) }),
			),
		),
		_ => return None,
	};
	Some(told)
}

fn feeds(event: &pallet_dt_feeds::Event<dt_runtime::Runtime>) -> Option<(TwinId, Told)> {
	use pallet_dt_feeds::Event::*;
	let told: (TwinId, Told) = match event {
		FeedRegistered { twin, feed, element, owner, confidentiality, .. } => (
			*twin,
			(
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
		),
		CheckpointAnchored { twin, feed, index, checkpoint } => (
			*twin,
			(
				"feeds.CheckpointAnchored",
				format!(
					"feed {feed}: checkpoint {index} at entry {} (hash 0x{})",
					checkpoint.sequence,
					hex::encode(checkpoint.entry_hash)
				),
				json!({
					"feed": feed, "index": index, "sequence": checkpoint.sequence,
					"entry_hash": crate::hex_string(&checkpoint.entry_hash),
					"timestamp": checkpoint.timestamp,
				}),
			),
		),
		FeedClosed { twin, feed, .. } => (*twin, {
			("feeds.FeedClosed", format!("feed {feed} closed"), json!({ "feed": feed }))
		}),
		FeedReplaced { twin, old, new, element, .. } => (
			*twin,
			(
				"feeds.FeedReplaced",
				format!("feed {old} replaced by feed {new} on {}", text(element)),
				json!({ "old": old, "new": new, "element": text(element) }),
			),
		),
		SensorReplaced { twin, old_element, new_element, old_feed, new_feed, .. } => (*twin, {
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
		}),
		_ => return None,
	};
	Some(told)
}

fn programs(event: &pallet_dt_programs::Event<dt_runtime::Runtime>) -> Option<(TwinId, Told)> {
	use pallet_dt_programs::Event::*;
	let told: (TwinId, Told) = match event {
		ProgramCallQueued { twin, call, element, program, .. } => (
			*twin,
			(
				"programs.ProgramCallQueued",
				format!("call {call} of {} on {} queued", text(program), text(element)),
				json!({ "call": call, "element": text(element), "program": text(program) }),
			),
		),
		ProgramCallClaimed { twin, call, device } => (
			*twin,
			(
				"programs.ProgramCallClaimed",
				format!("call {call} claimed by the device {device}"),
				json!({ "call": call, "device": device.to_string() }),
			),
		),
		ProgramCallCompleted { twin, call, result, .. } => (
			*twin,
			(
				"programs.ProgramCallCompleted",
				format!("call {call} completed: {}", text(result)),
				json!({ "call": call, "result": text(result) }),
			),
		),
		ProgramCallFailed { twin, call, result, .. } => (
			*twin,
			(
				"programs.ProgramCallFailed",
				format!("call {call} failed: {}", text(result)),
				json!({ "call": call, "result": text(result) }),
			),
		),
		ProgramCallCancelled { twin, call, .. } => (
			*twin,
			(
				"programs.ProgramCallCancelled",
				format!("call {call} cancelled by its caller"),
				json!({ "call": call }),
			),
		),
		ProgramCallExpired { twin, call, at } => (
			*twin,
			(
				"programs.ProgramCallExpired",
				format!("call {call} expired unfinished in block {at}"),
				json!({ "call": call, "at": at }),
			),
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
		assert!(describe_any(&other).is_none());
		assert_eq!(describe_any(&expired).unwrap().0, 4);
	}

	#[test]
	fn an_update_reads_back_from_its_json() {
		let update = Update {
			block: 12,
			hash: H256::repeat_byte(7),
			time: Some(1_764_149_400_250),
			who: Some(AccountId32::new([1; 32])),
			event: "twinSpec.TwinCreated".into(),
			summary: "twin 3 created".into(),
			detail: json!({ "creator": "x" }),
		};
		assert_eq!(Update::from_json(&update.json()), Some(update.clone()));
		let by_runtime = Update { time: None, who: None, ..update };
		assert_eq!(Update::from_json(&by_runtime.json()), Some(by_runtime.clone()));
		assert!(by_runtime.line().contains("(by the runtime)"));
		assert_eq!(Update::from_json(&json!({ "block": 1 })), None);
	}

	#[test]
	fn times_are_rfc_3339_utc() {
		assert_eq!(format_ms(1_795_685_400_250), "2026-11-26T09:30:00.250Z");
		assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
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
