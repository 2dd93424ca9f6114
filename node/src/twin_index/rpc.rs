//! The `index_*` RPC methods: a twin's change trail and searches over twins and elements,
//! answered from the twin index (so from finalized blocks whose state a pruning node has
//! long dropped), a page at a time.
//!
//! What they reveal is what the chain's events and the `twin_*` methods reveal to anyone
//! who can reach the node's RPC: every partner node holds the whole chain. A search finds
//! elements by id and name, and gives their confidentiality level, as `twin_getElement`
//! does, never their fragments. With `reader`, it leaves out what that account is not
//! cleared for, as `twin_getAml` with a reader does (an element is left out with its
//! subtree): a filter for clients, not a secret.

use dt_client::ledger::Update;
use dt_primitives::access::TwinId;
use dt_runtime::{opaque::Block, AccountId};
use dt_twin_index::{Cursor, IndexError, IndexStore, TrailQuery};
use jsonrpsee::{core::RpcResult, proc_macros::rpc, types::ErrorObjectOwned};
use pallet_dt_access::runtime_api::AccessApi;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sp_api::ProvideRuntimeApi;
use sp_core::{crypto::Ss58Codec, H256};
use std::sync::Arc;

/// Rows per page when a client does not say.
const DEFAULT_LIMIT: u32 = 100;

/// JSON-RPC error codes of the `index_*` methods.
pub mod error_code {
	/// The node has no twin index (it could not be opened: see the node's log).
	pub const INDEX_UNAVAILABLE: i32 = 7401;
	/// A parameter is out of bounds or malformed (limit, cursor, query, events, who).
	pub const INVALID_PARAMETER: i32 = 7402;
	/// No twin with this id in the index.
	pub const UNKNOWN_TWIN: i32 = 7403;
}

/// What `index_twinTrail` takes beside the twin.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TrailOptions {
	pub from_block: Option<u32>,
	pub to_block: Option<u32>,
	/// Only these events, as `pallet.Event` (e.g. `twinSpec.ElementInserted`).
	pub events: Option<Vec<String>>,
	/// Only what this account (SS58) sent.
	pub who: Option<String>,
	pub cursor: Option<String>,
	pub limit: Option<u32>,
}

/// What `index_searchTwins` takes beside the query.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PageOptions {
	pub cursor: Option<String>,
	pub limit: Option<u32>,
}

/// What `index_searchElements` takes beside the query.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ElementSearchOptions {
	/// Only this twin's elements.
	pub twin: Option<TwinId>,
	/// Only what this account (SS58) is cleared to read, at the last indexed block.
	pub reader: Option<String>,
	pub cursor: Option<String>,
	pub limit: Option<u32>,
}

/// Where the index stands; every answer carries it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexStatus {
	/// Trails are complete from this block on; changes before it may be missing (the node
	/// lacked their state when it built the index).
	pub complete_from: u32,
	/// The last finalized block indexed; `None` while the index is being started.
	pub indexed_to: Option<u32>,
	pub indexed_hash: Option<H256>,
}

/// A page of a twin's trail.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailPage {
	pub twin: TwinId,
	pub created_at: u32,
	/// As `dt audit --json` gives them (`dt_client::ledger::Update::json`), oldest first.
	pub changes: Vec<Value>,
	/// Pass it back for the next page; `None` on the last one.
	pub next_cursor: Option<String>,
	#[serde(flatten)]
	pub status: IndexStatus,
}

/// A twin found by `index_searchTwins`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundTwin {
	pub id: TwinId,
	pub creator: String,
	pub created_at: u32,
	pub root: Option<String>,
	pub root_name: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinsPage {
	pub twins: Vec<FoundTwin>,
	pub next_cursor: Option<String>,
	#[serde(flatten)]
	pub status: IndexStatus,
}

/// An element found by `index_searchElements`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundElementView {
	pub twin: TwinId,
	pub id: String,
	pub parent: Option<String>,
	/// The XML name of the element, e.g. `InternalElement`.
	pub tag: String,
	/// Its `Name` attribute.
	pub name: Option<String>,
	pub confidentiality: String,
	/// The block of its last change.
	pub changed_at: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementsPage {
	pub elements: Vec<FoundElementView>,
	pub next_cursor: Option<String>,
	#[serde(flatten)]
	pub status: IndexStatus,
}

#[rpc(server, namespace = "index")]
pub trait IndexApi {
	/// Where the index stands.
	#[method(name = "status")]
	fn status(&self) -> RpcResult<IndexStatus>;

	/// A page of the changes of `twin` in finalized blocks, oldest first.
	#[method(name = "twinTrail")]
	fn twin_trail(&self, twin: TwinId, options: Option<TrailOptions>) -> RpcResult<TrailPage>;

	/// Twins whose id, creator or root element (id or `Name`) contains `query`
	/// (case-insensitive; empty: every twin).
	#[method(name = "searchTwins")]
	fn search_twins(&self, query: String, options: Option<PageOptions>) -> RpcResult<TwinsPage>;

	/// Current elements whose id or `Name` contains `query` (case-insensitive).
	#[method(name = "searchElements")]
	fn search_elements(
		&self,
		query: String,
		options: Option<ElementSearchOptions>,
	) -> RpcResult<ElementsPage>;
}

/// Serves the `index_*` methods from the store; `store` is `None` when the index could not
/// be opened.
pub struct Index<C> {
	client: Arc<C>,
	store: Option<Arc<IndexStore>>,
}

impl<C> Index<C> {
	pub fn new(client: Arc<C>, store: Option<Arc<IndexStore>>) -> Self {
		Index { client, store }
	}
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

/// A refused parameter is the client's to fix (7402); anything else is the index's (7401).
fn index_error(e: IndexError) -> ErrorObjectOwned {
	match e {
		IndexError::InvalidParameter { .. } => error(error_code::INVALID_PARAMETER, e.to_string()),
		other => error(error_code::INDEX_UNAVAILABLE, other.to_string()),
	}
}

fn account(parameter: &str, text: &str) -> Result<AccountId, ErrorObjectOwned> {
	AccountId::from_ss58check(text).map_err(|e| {
		error(
			error_code::INVALID_PARAMETER,
			format!(
				"invalid {parameter}: {:?} is not an SS58 address ({e:?})",
				text.chars().take(64).collect::<String>()
			),
		)
	})
}

fn next_cursor(more: bool, last: Option<Cursor>) -> Option<String> {
	if more {
		last.map(|cursor| cursor.encode())
	} else {
		None
	}
}

impl<C> Index<C>
where
	C: ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: AccessApi<Block, AccountId>,
{
	fn store(&self) -> Result<&IndexStore, ErrorObjectOwned> {
		self.store.as_deref().ok_or_else(|| {
			error(
				error_code::INDEX_UNAVAILABLE,
				"this node has no twin index: it could not be opened (see the node's log for \
				 the file and what to do)",
			)
		})
	}

	fn status_of(store: &IndexStore) -> RpcResult<IndexStatus> {
		let progress = store.progress().map_err(index_error)?;
		Ok(IndexStatus {
			complete_from: progress.complete_from,
			indexed_to: progress.last.map(|(number, _)| number),
			indexed_hash: progress.last.map(|(_, hash)| H256(hash)),
		})
	}
}

impl<C> IndexApiServer for Index<C>
where
	C: ProvideRuntimeApi<Block> + Send + Sync + 'static,
	C::Api: AccessApi<Block, AccountId>,
{
	fn status(&self) -> RpcResult<IndexStatus> {
		Self::status_of(self.store()?)
	}

	fn twin_trail(&self, twin: TwinId, options: Option<TrailOptions>) -> RpcResult<TrailPage> {
		let store = self.store()?;
		let options = options.unwrap_or_default();
		let status = Self::status_of(store)?;
		let created_at =
			store.twin(twin).map_err(index_error)?.map(|row| row.created_block).ok_or_else(
				|| {
					error(
						error_code::UNKNOWN_TWIN,
						format!(
							"no twin {twin} in the index (indexed to block {:?})",
							status.indexed_to
						),
					)
				},
			)?;
		let after = match options.cursor.as_deref() {
			Some(text) => match Cursor::decode(text, 'c').map_err(index_error)? {
				Cursor::Change { block, event_index } => Some((block, event_index)),
				_ => None,
			},
			None => None,
		};
		let who = match options.who.as_deref() {
			Some(text) => Some(account("who", text)?.to_string()),
			None => None,
		};
		let query = TrailQuery {
			twin,
			from_block: options.from_block,
			to_block: options.to_block,
			events: options.events.unwrap_or_default(),
			who,
			after,
			limit: options.limit.unwrap_or(DEFAULT_LIMIT),
		};
		let (rows, more) = store.trail(&query).map_err(index_error)?;
		let last = rows.last().map(|change| Cursor::Change {
			block: change.block,
			event_index: change.row.event_index,
		});
		let changes = rows
			.into_iter()
			.map(|change| {
				Update {
					block: change.block,
					hash: H256(change.hash),
					time: change.row.time_ms,
					who: change
						.row
						.who
						.as_deref()
						.and_then(|who| AccountId::from_ss58check(who).ok()),
					event: change.row.event,
					summary: change.row.summary,
					detail: serde_json::from_str(&change.row.detail).unwrap_or(Value::Null),
				}
				.json()
			})
			.collect();
		Ok(TrailPage { twin, created_at, changes, next_cursor: next_cursor(more, last), status })
	}

	fn search_twins(&self, query: String, options: Option<PageOptions>) -> RpcResult<TwinsPage> {
		let store = self.store()?;
		let options = options.unwrap_or_default();
		let after = match options.cursor.as_deref() {
			Some(text) => match Cursor::decode(text, 't').map_err(index_error)? {
				Cursor::Twin(twin) => Some(twin),
				_ => None,
			},
			None => None,
		};
		let (rows, more) = store
			.search_twins(&query, after, options.limit.unwrap_or(DEFAULT_LIMIT))
			.map_err(index_error)?;
		let last = rows.last().map(|(twin, ..)| Cursor::Twin(twin.id));
		Ok(TwinsPage {
			twins: rows
				.into_iter()
				.map(|(twin, root, root_name)| FoundTwin {
					id: twin.id,
					creator: twin.creator,
					created_at: twin.created_block,
					root,
					root_name,
				})
				.collect(),
			next_cursor: next_cursor(more, last),
			status: Self::status_of(store)?,
		})
	}

	fn search_elements(
		&self,
		query: String,
		options: Option<ElementSearchOptions>,
	) -> RpcResult<ElementsPage> {
		let store = self.store()?;
		let options = options.unwrap_or_default();
		let status = Self::status_of(store)?;
		let after = match options.cursor.as_deref() {
			Some(text) => match Cursor::decode(text, 'e').map_err(index_error)? {
				Cursor::Element { twin, id } => Some((twin, id)),
				_ => None,
			},
			None => None,
		};
		let reader = match options.reader.as_deref() {
			Some(text) => Some(account("reader", text)?),
			None => None,
		};
		let at = status.indexed_hash;
		let api = self.client.runtime_api();
		let clearance = |twin: TwinId| -> Option<u8> {
			let (reader, at) = (reader.clone()?, at?);
			api.clearance(at, twin, reader).ok().flatten().map(|level| level as u8)
		};
		let (rows, more) = store
			.search_elements(
				&query,
				options.twin,
				reader.is_some().then_some(&clearance as &dyn Fn(TwinId) -> Option<u8>),
				after,
				options.limit.unwrap_or(DEFAULT_LIMIT),
			)
			.map_err(index_error)?;
		let last = rows.last().map(|found| Cursor::Element {
			twin: found.element.twin,
			id: found.element.id.clone(),
		});
		Ok(ElementsPage {
			elements: rows
				.into_iter()
				.map(|found| FoundElementView {
					twin: found.element.twin,
					id: found.element.id,
					parent: found.element.parent,
					tag: found.element.tag,
					name: found.element.name,
					confidentiality: level_name(found.element.confidentiality),
					changed_at: found.element.changed_block,
				})
				.collect(),
			next_cursor: next_cursor(more, last),
			status,
		})
	}
}

fn level_name(level: u8) -> String {
	["public", "internal", "confidential", "secret"]
		.get(usize::from(level))
		.map_or_else(|| level.to_string(), |name| name.to_string())
}
