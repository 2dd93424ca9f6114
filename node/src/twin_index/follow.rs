//! The task that keeps the twin index up to date: it follows finality and writes every newly
//! finalized block, in order and without gaps, reading its events and the twins' elements
//! from the node's own state while it still has it (a pruning node keeps the state of the
//! last 256 blocks by default: the index keeps up long before that).
//!
//! Blocks are taken by number from the finalized chain, so a finality notification that
//! jumps several blocks still has each of the blocks in between indexed. An empty index
//! starts at the earliest block whose state the node has (genesis on an archive node); if
//! that is later than genesis, or if the state of the next block to index is gone (the node
//! was stopped for longer than its pruning window), the index starts over at the earliest
//! block it can read, says so in a warning naming the missing range, and records it as
//! `completeFrom`, which every answer carries.

use codec::Decode;
use dt_client::ledger::{describe_any, BlockBody};
use dt_primitives::access::{ElementId, TwinId};
use dt_runtime::{opaque::Block, AccountId, BlockNumber, Hash, RuntimeEvent};
use dt_twin_index::{
	BlockWrite, ChangeRow, ElementOp, ElementRow, IndexError, IndexStore, TwinRow,
};
use futures::StreamExt;
use pallet_dt_twin_spec::{runtime_api::TwinSpecApi, ElementRecord};
use sc_client_api::{BlockBackend, BlockchainEvents, StorageProvider};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_core::storage::StorageKey;
use std::{
	sync::Arc,
	time::{Duration, Instant},
};

use super::LOG_TARGET;

/// Elements asked for per runtime call when a twin's elements are read.
const PAGE_SIZE: u32 = 500;
/// How often a long catch-up logs where it is.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// A catch-up longer than this many blocks is logged as a rebuild.
const LONG_CATCH_UP: u32 = 100;

/// Why a block could not be indexed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
	#[error("the node no longer has the state of block #{0}")]
	StateGone(u32),
	#[error("block #{number}: {reason}")]
	Chain { number: u32, reason: String },
	#[error(transparent)]
	Store(#[from] IndexError),
}

/// What the follower reads the chain through: the node's client.
pub trait ChainReader: Send + Sync {
	fn finalized_number(&self) -> u32;
	fn hash(&self, number: u32) -> Option<Hash>;
	/// `None` if the state of the block is gone.
	fn events(&self, hash: Hash) -> Option<Vec<frame_system::EventRecord<RuntimeEvent, Hash>>>;
	fn body(&self, hash: Hash) -> Result<BlockBody, String>;
	fn twins(&self, hash: Hash) -> Result<Vec<(TwinId, AccountId, BlockNumber)>, String>;
	fn element(
		&self,
		hash: Hash,
		twin: TwinId,
		id: ElementId,
	) -> Result<Option<ElementRecord<AccountId, BlockNumber>>, String>;
	fn elements_after(
		&self,
		hash: Hash,
		twin: TwinId,
		after: Option<ElementId>,
	) -> Result<Vec<ElementRecord<AccountId, BlockNumber>>, String>;
}

impl<C> ChainReader for C
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ BlockBackend<Block>
		+ StorageProvider<Block, sc_service::TFullBackend<Block>>
		+ Send
		+ Sync,
	C::Api: TwinSpecApi<Block, AccountId, BlockNumber>,
{
	fn finalized_number(&self) -> u32 {
		self.info().finalized_number
	}

	fn hash(&self, number: u32) -> Option<Hash> {
		HeaderBackend::hash(self, number).ok().flatten()
	}

	fn events(&self, hash: Hash) -> Option<Vec<frame_system::EventRecord<RuntimeEvent, Hash>>> {
		let key =
			[sp_io::hashing::twox_128(b"System"), sp_io::hashing::twox_128(b"Events")].concat();
		let stored = StorageProvider::storage(self, hash, &StorageKey(key)).ok()?;
		Some(
			stored
				.and_then(|data| Decode::decode(&mut &data.0[..]).ok())
				.unwrap_or_default(),
		)
	}

	fn body(&self, hash: Hash) -> Result<BlockBody, String> {
		use codec::Encode;
		let extrinsics = self
			.block_body(hash)
			.map_err(|e| e.to_string())?
			.ok_or_else(|| "the node has no body for the block".to_string())?;
		let encoded: Vec<Vec<u8>> = extrinsics.iter().map(Encode::encode).collect();
		Ok(BlockBody::from_extrinsics(encoded.iter().map(Vec::as_slice)))
	}

	fn twins(&self, hash: Hash) -> Result<Vec<(TwinId, AccountId, BlockNumber)>, String> {
		let twins = self.runtime_api().twins(hash).map_err(|e| e.to_string())?;
		Ok(twins
			.into_iter()
			.map(|(id, info)| (id, info.creator, info.created_at))
			.collect())
	}

	fn element(
		&self,
		hash: Hash,
		twin: TwinId,
		id: ElementId,
	) -> Result<Option<ElementRecord<AccountId, BlockNumber>>, String> {
		self.runtime_api().element(hash, twin, id).map_err(|e| e.to_string())
	}

	fn elements_after(
		&self,
		hash: Hash,
		twin: TwinId,
		after: Option<ElementId>,
	) -> Result<Vec<ElementRecord<AccountId, BlockNumber>>, String> {
		self.runtime_api()
			.elements(hash, twin, after, PAGE_SIZE, None)
			.map_err(|e| e.to_string())
	}
}

/// Follows finality for as long as the node runs.
pub async fn follow<C>(client: Arc<C>, store: Arc<IndexStore>)
where
	C: ChainReader + BlockchainEvents<Block> + 'static,
{
	let mut finalized = client.finality_notification_stream();
	loop {
		if let Err(e) = catch_up(&*client, &store) {
			log::error!(
				target: LOG_TARGET,
				"the twin index {} stopped at a block it could not write: {e}. It tries again at \
				 the next finalized block",
				store.path().display()
			);
		}
		if finalized.next().await.is_none() {
			return;
		}
	}
}

/// Indexes every finalized block after the last indexed one.
pub fn catch_up(chain: &dyn ChainReader, store: &IndexStore) -> Result<(), ReadError> {
	let target = chain.finalized_number();
	let mut next = match store.progress()?.last {
		// An index that is not of this node's chain past genesis (the chain's database was
		// purged and the chain started again) is started over.
		Some((last, hash)) if last <= target && chain.hash(last).is_some_and(|h| h.0 != hash) => {
			log::warn!(
				target: LOG_TARGET,
				"twin index: block #{last} of {} is not this node's finalized block #{last} (was \
				 the chain's database purged?): rebuilding the index",
				store.path().display()
			);
			let start = earliest_state(chain, 0, target).ok_or(ReadError::StateGone(target))?;
			start_at(chain, store, start, None)?;
			start + 1
		},
		Some((last, _)) => last + 1,
		None => {
			let start = earliest_state(chain, 0, target).ok_or(ReadError::StateGone(target))?;
			start_at(chain, store, start, None)?;
			start + 1
		},
	};
	let long = target.saturating_sub(next) > LONG_CATCH_UP;
	if long {
		log::info!(
			target: LOG_TARGET,
			"twin index: indexing blocks #{next} to #{target} into {}",
			store.path().display()
		);
	}
	let mut logged = Instant::now();
	while next <= target {
		match read_block(chain, next) {
			Ok(block) => store.write_block(&block)?,
			Err(ReadError::StateGone(_)) => {
				let start =
					earliest_state(chain, next, target).ok_or(ReadError::StateGone(target))?;
				start_at(chain, store, start, Some(next))?;
				next = start;
			},
			Err(e) => return Err(e),
		}
		next += 1;
		if long && logged.elapsed() >= PROGRESS_EVERY {
			log::info!(target: LOG_TARGET, "twin index: block #{} of #{target}", next - 1);
			logged = Instant::now();
		}
	}
	if long {
		log::info!(target: LOG_TARGET, "twin index: up to date at block #{target}");
	}
	Ok(())
}

/// The lowest block in `from..=to` whose state the node has (state is pruned from the
/// oldest end, so the blocks that have it are a range ending at the finalized head).
fn earliest_state(chain: &dyn ChainReader, from: u32, to: u32) -> Option<u32> {
	let has_state = |number| chain.hash(number).and_then(|hash| chain.events(hash)).is_some();
	if has_state(from) {
		return Some(from);
	}
	if !has_state(to) {
		return None;
	}
	let (mut gone, mut kept) = (from, to);
	while kept - gone > 1 {
		let middle = gone + (kept - gone) / 2;
		if has_state(middle) {
			kept = middle;
		} else {
			gone = middle;
		}
	}
	Some(kept)
}

/// Starts the index over at `start`, from the twins and elements in its state. `missing_from`
/// is the first block that was wanted and could not be read (`None` for a new index).
fn start_at(
	chain: &dyn ChainReader,
	store: &IndexStore,
	start: u32,
	missing_from: Option<u32>,
) -> Result<(), ReadError> {
	let gap_from = missing_from.unwrap_or(0);
	if start > gap_from {
		log::warn!(
			target: LOG_TARGET,
			"twin index: this node no longer has the state of blocks #{gap_from} to #{} (state \
			 pruning), so the index holds the changes from block #{start} on only: trails are \
			 complete from #{start} (completeFrom in every index_* answer). For complete trails \
			 run the node with --state-pruning archive and delete {} to rebuild it",
			start - 1,
			store.path().display()
		);
	} else {
		log::info!(target: LOG_TARGET, "twin index: building {} from block #{start}", store.path().display());
	}
	let mut seed = read_block(chain, start)?;
	let hash = chain.hash(start).ok_or(ReadError::StateGone(start))?;
	seed.element_ops.clear();
	let twins = chain.twins(hash).map_err(|reason| chain_error(start, reason))?;
	for (twin, creator, created_at) in twins {
		seed.element_ops.push(ElementOp::Twin(TwinRow {
			id: twin,
			creator: creator.to_string(),
			created_block: created_at,
		}));
		whole_twin(chain, hash, start, twin, &mut seed.element_ops)?;
	}
	store.start_at(&seed)?;
	Ok(())
}

fn chain_error(number: u32, reason: String) -> ReadError {
	ReadError::Chain { number, reason }
}

/// The changes and element updates of block `number`.
pub fn read_block(chain: &dyn ChainReader, number: u32) -> Result<BlockWrite, ReadError> {
	let hash = chain
		.hash(number)
		.ok_or_else(|| chain_error(number, "not a finalized block of this node".into()))?;
	let records = chain.events(hash).ok_or(ReadError::StateGone(number))?;
	let mut block = BlockWrite { number, hash: hash.0, ..Default::default() };
	let told: Vec<_> = records
		.iter()
		.enumerate()
		.filter_map(|(index, record)| describe_any(&record.event).map(|told| (index, record, told)))
		.collect();
	if told.is_empty() {
		return Ok(block);
	}
	let body = chain.body(hash).map_err(|reason| chain_error(number, reason))?;
	let mut whole = std::collections::BTreeSet::new();
	for (index, record, (twin, (event, summary, detail))) in told {
		block.changes.push(ChangeRow {
			twin,
			event_index: index as u32,
			time_ms: body.time,
			who: body.signer(&record.phase).map(|who| who.to_string()),
			event: event.to_string(),
			summary,
			detail: detail.to_string(),
		});
		let RuntimeEvent::TwinSpec(event) = &record.event else { continue };
		use pallet_dt_twin_spec::Event::*;
		match event {
			TwinCreated { twin, creator } => {
				block.element_ops.push(ElementOp::Twin(TwinRow {
					id: *twin,
					creator: creator.to_string(),
					created_block: number,
				}));
				whole.insert(*twin);
			},
			ElementsImported { twin, .. } => {
				whole.insert(*twin);
			},
			ElementInserted { twin, element, .. } => {
				subtree(chain, hash, number, *twin, element, &mut block.element_ops)?
			},
			ElementRemoved { twin, element, .. } => block
				.element_ops
				.push(ElementOp::RemoveSubtree { twin: *twin, id: text(element) }),
			ElementReplaced { twin, old, new, .. } => {
				block.element_ops.push(ElementOp::RemoveSubtree { twin: *twin, id: text(old) });
				subtree(chain, hash, number, *twin, new, &mut block.element_ops)?;
			},
			FragmentReplaced { twin, element, .. } | ConfidentialitySet { twin, element, .. } => {
				if let Some(record) = chain
					.element(hash, *twin, element.clone())
					.map_err(|reason| chain_error(number, reason))?
				{
					block.element_ops.push(ElementOp::Put(row(*twin, record)));
				}
			},
			_ => {},
		}
	}
	// A twin created or imported in this block is read whole from the block's state, which
	// already holds every other change of the block.
	for twin in whole {
		block
			.element_ops
			.retain(|op| !matches!(op, ElementOp::Put(e) if e.twin == twin));
		block
			.element_ops
			.retain(|op| !matches!(op, ElementOp::RemoveSubtree { twin: t, .. } if *t == twin));
		whole_twin(chain, hash, number, twin, &mut block.element_ops)?;
	}
	Ok(block)
}

/// Every element of `twin` at `hash`, after clearing the twin's elements.
fn whole_twin(
	chain: &dyn ChainReader,
	hash: Hash,
	number: u32,
	twin: TwinId,
	ops: &mut Vec<ElementOp>,
) -> Result<(), ReadError> {
	ops.push(ElementOp::ClearTwin(twin));
	elements_after(chain, hash, number, twin, None, None, ops)
}

/// An inserted element with its subtree (its descendants follow it in document order).
fn subtree(
	chain: &dyn ChainReader,
	hash: Hash,
	number: u32,
	twin: TwinId,
	element: &ElementId,
	ops: &mut Vec<ElementOp>,
) -> Result<(), ReadError> {
	let Some(top) = chain
		.element(hash, twin, element.clone())
		.map_err(|reason| chain_error(number, reason))?
	else {
		// Removed again later in the same block.
		return Ok(());
	};
	let depth = top.node.depth;
	ops.push(ElementOp::Put(row(twin, top)));
	elements_after(chain, hash, number, twin, Some(element.clone()), Some(depth), ops)
}

/// The elements after `after` in document order (from the first without), page by page, up
/// to the first one at depth `stop_at` or shallower (to the end without).
fn elements_after(
	chain: &dyn ChainReader,
	hash: Hash,
	number: u32,
	twin: TwinId,
	mut after: Option<ElementId>,
	stop_at: Option<u32>,
	ops: &mut Vec<ElementOp>,
) -> Result<(), ReadError> {
	loop {
		let page = chain
			.elements_after(hash, twin, after.clone())
			.map_err(|reason| chain_error(number, reason))?;
		let Some(last) = page.last() else { return Ok(()) };
		after = Some(last.id.clone());
		for record in page {
			if stop_at.is_some_and(|depth| record.node.depth <= depth) {
				return Ok(());
			}
			ops.push(ElementOp::Put(row(twin, record)));
		}
	}
}

fn text(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

/// The index's row of an element record: what a search looks at.
fn row(twin: TwinId, record: ElementRecord<AccountId, BlockNumber>) -> ElementRow {
	let fragment = text(&record.fragment);
	let (tag, name) = tag_and_name(&fragment);
	ElementRow {
		twin,
		id: text(&record.id),
		parent: record.node.parent.as_ref().map(|parent| text(parent)),
		tag,
		name,
		confidentiality: record.node.confidentiality as u8,
		changed_block: record.node.changed_at,
	}
}

/// The XML name of a fragment's root and its `Name` attribute (unescaped), read from its
/// start tag; the runtime validated the fragment, so this stays simple.
pub fn tag_and_name(fragment: &str) -> (String, Option<String>) {
	let fragment = fragment.trim_start();
	let start_tag = fragment.split('>').next().unwrap_or("");
	let tag: String = start_tag
		.trim_start_matches('<')
		.chars()
		.take_while(|c| !c.is_whitespace() && *c != '/' && *c != '>')
		.collect();
	let name = [" Name=\"", " Name='", "\tName=\"", "\nName=\""].iter().find_map(|opening| {
		let at = start_tag.find(opening)? + opening.len();
		let quote = opening.chars().last()?;
		let value = &start_tag[at..];
		let value = &value[..value.find(quote)?];
		Some(
			value
				.replace("&lt;", "<")
				.replace("&gt;", ">")
				.replace("&quot;", "\"")
				.replace("&apos;", "'")
				.replace("&amp;", "&"),
		)
	});
	(tag, name)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_tag_and_name_come_from_the_start_tag() {
		assert_eq!(
			tag_and_name(
				r#"<InternalElement Name="Fill &amp; cap" ID="x"><Attribute Name="no"/></InternalElement>"#
			),
			("InternalElement".into(), Some("Fill & cap".into()))
		);
		assert_eq!(
			tag_and_name("<caex:CAEXFile FileName='a.aml'/>"),
			("caex:CAEXFile".into(), None)
		);
		assert_eq!(tag_and_name("<X Name='y'/>"), ("X".into(), Some("y".into())));
	}
}
