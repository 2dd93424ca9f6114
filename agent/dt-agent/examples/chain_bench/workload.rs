//! What the latency and burst runs submit, and how their effects are counted.

use crate::{
	account,
	bench_plant::{self, bounded, register_feed, ELEMENT},
	Error, ACCOUNTS,
};
use codec::Compact;
use dt_client::Client;
use dt_primitives::access::Confidentiality;
use dt_runtime::{DocumentsCall, RuntimeCall, SystemCall, TwinSpecCall};
use jsonrpsee::rpc_params;
use pallet_dt_feeds::{Call as FeedsCall, Checkpoint, FeedId, FeedRecord};
use serde_json::Value;
use sp_core::sr25519;
use sp_crypto_hashing::blake2_256;

/// A bottling-plant twin made by `owner`.
async fn create_twin(client: &Client, owner: &sr25519::Pair) -> Result<u32, String> {
	bench_plant::create_twin(client, owner).await.map_err(|e| e.to_string())
}

/// What a run submits.
pub enum Workload {
	Remark,
	/// Writes into a bottling-plant twin of each account (its own, so it holds every role),
	/// and checkpoints of a feed of that twin the account owns.
	Twin {
		write: TwinWrite,
		twins: Vec<u32>,
		feeds: Vec<FeedId>,
	},
}

#[derive(Clone, Copy, PartialEq)]
pub enum TwinWrite {
	/// A new element under the filling station.
	Insert,
	/// A snippet of [`ELEMENTS_PER_BATCH`] new elements in one transaction, as `dt twin
	/// insert` adds one: an element under the filling station and the others below it.
	InsertBatch,
	/// A new public document of the twin.
	Document,
	/// The next checkpoint of the account's feed.
	Checkpoint,
	/// The three in turn, as the bottling plant's parties and devices write.
	Mix,
}

/// The writes of the mix, in the order each account makes them.
const MIX: [TwinWrite; 3] = [TwinWrite::Insert, TwinWrite::Document, TwinWrite::Checkpoint];

impl Workload {
	/// The workload named `name`, set up for the first `accounts` development accounts.
	pub async fn set_up(name: &str, client: &Client, accounts: usize) -> Result<Workload, Error> {
		let write = match name {
			"remark" => return Ok(Workload::Remark),
			"insert" => TwinWrite::Insert,
			"insert-batch" => TwinWrite::InsertBatch,
			"document" => TwinWrite::Document,
			"checkpoint" => TwinWrite::Checkpoint,
			"mix" => TwinWrite::Mix,
			other => {
				return Err(format!("WORKLOAD must be one of {WORKLOADS}, not '{other}'").into())
			},
		};
		let with_feed = matches!(write, TwinWrite::Checkpoint | TwinWrite::Mix);
		println!(
			"setting up: a bottling-plant twin{} for each of {accounts} accounts",
			if with_feed { " with a feed" } else { "" }
		);
		let creations = ACCOUNTS[..accounts].iter().map(|name| async move {
			let owner = account(name);
			let twin = create_twin(client, &owner).await?;
			let feed = if with_feed {
				let feed = register_feed(client, &owner, &owner, twin, Confidentiality::Public);
				Some(feed.await.map_err(|e| e.to_string())?)
			} else {
				None
			};
			Ok::<_, String>((twin, feed))
		});
		let created = futures::future::join_all(creations)
			.await
			.into_iter()
			.collect::<Result<Vec<_>, _>>()
			.map_err(|e| format!("cannot set up a twin to write into: {e}"))?;
		let twins = created.iter().map(|(twin, _)| *twin).collect();
		let feeds = created.iter().filter_map(|(_, feed)| *feed).collect();
		Ok(Workload::Twin { write, twins, feeds })
	}

	/// How many transactions of each account have changed the finalized state so far (for
	/// remarks, which cannot fail: none is counted).
	pub async fn applied(&self, client: &Client) -> Result<Option<Vec<u32>>, Error> {
		let Workload::Twin { write, twins, feeds } = self else { return Ok(None) };
		let counts_writes = |kind: TwinWrite| *write == kind || *write == TwinWrite::Mix;
		let at = client.finalized_head().await?;
		let mut counts = vec![0u32; twins.len()];
		if counts_writes(TwinWrite::Insert) || *write == TwinWrite::InsertBatch {
			let per_transaction = self.writes_per_transaction() as u64;
			let listed: Vec<Value> = client.request("twin_listTwins", rpc_params![at]).await?;
			for (count, twin) in counts.iter_mut().zip(twins) {
				let elements = listed
					.iter()
					.find(|listed| listed["id"] == *twin)
					.and_then(|listed| listed["elementCount"].as_u64())
					.ok_or_else(|| format!("twin {twin} is not listed"))?;
				*count += (elements / per_transaction) as u32;
			}
		}
		if counts_writes(TwinWrite::Document) {
			for (count, twin) in counts.iter_mut().zip(twins) {
				// The answer is a SCALE vector of documents: its length comes first, and the
				// length is all that is counted here.
				let documents: Compact<u32> = client
					.runtime_api(
						"DocumentsApi_documents_of_twin",
						(twin, None::<dt_runtime::AccountId>),
						Some(at),
					)
					.await?;
				*count += documents.0;
			}
		}
		if counts_writes(TwinWrite::Checkpoint) {
			for (count, feed) in counts.iter_mut().zip(feeds) {
				let record: Option<FeedRecord<dt_runtime::AccountId, dt_runtime::BlockNumber>> =
					client.runtime_api("FeedsApi_feed", feed, Some(at)).await?;
				*count += record.ok_or_else(|| format!("feed {feed} is unknown"))?.checkpoint_count;
			}
		}
		Ok(Some(counts))
	}

	/// How many twin writes one transaction makes.
	pub fn writes_per_transaction(&self) -> usize {
		match self {
			Workload::Twin { write: TwinWrite::InsertBatch, .. } => ELEMENTS_PER_BATCH,
			_ => 1,
		}
	}

	/// The call of `account`'s transaction number `index` in run `run`: unlike any an
	/// earlier run signed, so the pool never takes it for one it has seen.
	pub fn call(&self, run: u128, account: usize, index: usize) -> RuntimeCall {
		let unique = format!("chain-bench-{run}-{account}-{index}");
		let Workload::Twin { write, twins, feeds } = self else {
			return RuntimeCall::System(SystemCall::remark { remark: unique.into_bytes() });
		};
		// The mix's `index`th write is the `nth` of its kind.
		let (write, nth) = match write {
			TwinWrite::Mix => (MIX[index % MIX.len()], index / MIX.len()),
			single => (*single, index),
		};
		match write {
			TwinWrite::Insert => {
				let fragment = format!(r#"<InternalElement Name="Bench{nth}" ID="{unique}" />"#);
				RuntimeCall::TwinSpec(TwinSpecCall::insert_element {
					twin: twins[account],
					element: bounded(&unique).expect("a short id"),
					parent: bounded(ELEMENT).expect("a short id"),
					previous_sibling: None,
					fragment: bounded(&fragment).expect("a short fragment"),
				})
			},
			TwinWrite::InsertBatch => {
				// A sensor under the filling station with its interfaces below it (the
				// station takes at most MaxChildrenPerElement children, the bursts' sensors
				// fit).
				let id = |k: usize| bounded(&format!("{unique}-{k}")).expect("a short id");
				let elements = (0..ELEMENTS_PER_BATCH)
					.map(|k| pallet_dt_twin_spec::NewElement {
						id: id(k),
						parent: Some(if k == 0 {
							bounded(ELEMENT).expect("a short id")
						} else {
							id(0)
						}),
						previous_sibling: (k >= 2).then(|| id(k - 1)),
						fragment: bounded(&format!(
							r#"<InternalElement Name="Bench{nth}-{k}" ID="{unique}-{k}" />"#
						))
						.expect("a short fragment"),
					})
					.collect::<Vec<_>>();
				RuntimeCall::TwinSpec(TwinSpecCall::insert_elements {
					twin: twins[account],
					parent: bounded(ELEMENT).expect("a short id"),
					elements: elements.try_into().expect("fewer than MaxElementsPerCall"),
				})
			},
			TwinWrite::Document => RuntimeCall::Documents(DocumentsCall::register_document {
				twin: twins[account],
				title: bounded(&format!("Inspection report {nth}")).expect("a short title"),
				media_type: bounded("application/pdf").expect("a short media type"),
				size: 1024,
				content_id: content_id(&unique, "document"),
				key_envelope: content_id(&unique, "envelope"),
				confidentiality: Confidentiality::Public,
				element: None,
			}),
			// Checkpoints follow each other in the order of the account's nonces.
			TwinWrite::Checkpoint | TwinWrite::Mix => {
				RuntimeCall::Feeds(FeedsCall::anchor_checkpoint {
					feed: feeds[account],
					checkpoint: Checkpoint {
						sequence: nth as u64 + 1,
						entry_hash: blake2_256(unique.as_bytes()),
						timestamp: CHECKPOINT_EPOCH_MS + nth as u64,
					},
				})
			},
		}
	}
}

/// The workloads, as the usage names them.
const WORKLOADS: &str = "remark, insert, insert-batch, document, checkpoint or mix";
/// Elements one `insert-batch` transaction inserts: a sensor with its interfaces and
/// attributes' elements, about what one `dt twin insert` snippet holds.
pub const ELEMENTS_PER_BATCH: usize = 10;
/// When the benchmark's feeds' first entries were taken (any fixed time does: the chain
/// checks only that checkpoints go forward).
const CHECKPOINT_EPOCH_MS: u64 = 1_800_000_000_000;

/// A well-formed content id (CIDv1, raw, SHA-256 multihash) of no stored bytes: the chain
/// checks only its form, and registering is what is measured.
fn content_id(unique: &str, part: &str) -> dt_primitives::content_id::ContentId {
	let mut cid = vec![0x01, 0x55, 0x12, 0x20];
	cid.extend(sp_crypto_hashing::sha2_256(format!("{unique} {part}").as_bytes()));
	cid.try_into().expect("36 bytes")
}
