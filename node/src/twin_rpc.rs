//! The `twin_*` RPC methods: a twin's AML document, its elements and their history, at any
//! block the node still has the state of (any block at all on an archive node,
//! `--state-pruning archive`).
//!
//! The runtime keeps a specification as a tree of elements (see `docs/aml-element-tree.md`);
//! these methods page through it with the `TwinSpecApi` runtime API and re-assemble the AML
//! document with `dt-aml`, so clients get plain AML text.

use codec::Codec;
use dt_primitives::access::{Confidentiality, ElementId, TwinId};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	types::ErrorObjectOwned,
};
use pallet_dt_twin_spec::{runtime_api::TwinSpecApi, ChangeKind, ElementRecord};
use serde::{Deserialize, Serialize};
use sp_api::{ApiError, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::{Block as BlockT, NumberFor};
use std::{marker::PhantomData, sync::Arc};

/// Elements asked for per runtime call while assembling a document.
const PAGE_SIZE: u32 = 500;

/// JSON-RPC error codes of the `twin_*` methods.
pub mod error_code {
	/// No twin with this id at the block.
	pub const UNKNOWN_TWIN: i32 = 7001;
	/// No element with this id in the twin at the block.
	pub const UNKNOWN_ELEMENT: i32 = 7002;
	/// The element id is not UTF-8 or too long.
	pub const INVALID_ELEMENT_ID: i32 = 7003;
	/// The state of the block is not available (pruned, or the block is unknown).
	pub const STATE_UNAVAILABLE: i32 = 7004;
	/// The stored elements could not be assembled into a document.
	pub const ASSEMBLY_FAILED: i32 = 7005;
	/// The AML snippet is not one insertable element (or is too long).
	pub const INVALID_SNIPPET: i32 = 7006;
}

/// The longest snippet `twin_parseSnippet` reads: more than a block's worth of fragments is
/// not inserted from a page anyway.
pub const MAX_SNIPPET_LEN: usize = 1 << 20;

/// One element of a snippet, as `twinSpec.insertElement` takes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SnippetElement {
	pub id: String,
	pub parent: String,
	pub previous_sibling: Option<String>,
	/// The element's own XML, its child elements replaced by placeholders.
	pub fragment: String,
}

/// A twin, as `twin_listTwins` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TwinSummary<AccountId, BlockNumber> {
	pub id: TwinId,
	pub creator: AccountId,
	pub created_at: BlockNumber,
	pub root: Option<String>,
	pub element_count: u32,
	pub importing: bool,
	pub source_count: u32,
}

/// One element of a twin at a block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementView<AccountId, BlockNumber> {
	pub id: String,
	pub parent: Option<String>,
	pub previous_sibling: Option<String>,
	pub next_sibling: Option<String>,
	pub first_child: Option<String>,
	pub depth: u32,
	pub confidentiality: Confidentiality,
	/// Counts the element's changes, starting at 1.
	pub version: u32,
	pub last_change: ChangeKind,
	pub changed_at: BlockNumber,
	pub changed_by: AccountId,
	pub previous_change_at: Option<BlockNumber>,
	/// The element's own XML, without its child elements.
	pub fragment: String,
}

#[rpc(server, namespace = "twin")]
pub trait TwinApi<BlockHash, AccountId, BlockNumber> {
	/// Every twin at block `at` (default: the best block).
	#[method(name = "listTwins")]
	fn list_twins(
		&self,
		at: Option<BlockHash>,
	) -> RpcResult<Vec<TwinSummary<AccountId, BlockNumber>>>;

	/// The whole AML document of `twin` at block `at`. With `reader`, only what that account
	/// is cleared to read: elements above its clearance are left out with their subtrees.
	#[method(name = "getAml")]
	fn get_aml(
		&self,
		twin: TwinId,
		at: Option<BlockHash>,
		reader: Option<AccountId>,
	) -> RpcResult<String>;

	/// One element of `twin` at block `at`.
	#[method(name = "getElement")]
	fn get_element(
		&self,
		twin: TwinId,
		element: String,
		at: Option<BlockHash>,
	) -> RpcResult<ElementView<AccountId, BlockNumber>>;

	/// Every version of an element up to block `at`, newest first: what changed, when and by
	/// whom. Reads the state of each block in which the element changed, so an element's
	/// full history needs an archive node.
	#[method(name = "elementHistory")]
	fn element_history(
		&self,
		twin: TwinId,
		element: String,
		at: Option<BlockHash>,
	) -> RpcResult<Vec<ElementView<AccountId, BlockNumber>>>;

	/// Splits an AML snippet (one element with everything inside it) into the elements
	/// `twinSpec.insertElement` takes, in order, the first placed under `parent` after
	/// `after` (first child when absent): what `dt twin insert` submits, so a browser
	/// inserts exactly what dt would. Reads no state.
	#[method(name = "parseSnippet")]
	fn parse_snippet(
		&self,
		snippet: String,
		parent: String,
		after: Option<String>,
	) -> RpcResult<Vec<SnippetElement>>;
}

/// Serves the `twin_*` methods from the client's runtime API.
pub struct Twin<Client, Block, AccountId> {
	client: Arc<Client>,
	_marker: PhantomData<(Block, AccountId)>,
}

impl<Client, Block, AccountId> Twin<Client, Block, AccountId> {
	pub fn new(client: Arc<Client>) -> Self {
		Twin { client, _marker: PhantomData }
	}
}

/// What `twin_parseSnippet` answers for `snippet`.
fn split_snippet(
	snippet: &str,
	parent: &str,
	after: Option<&str>,
) -> RpcResult<Vec<SnippetElement>> {
	if snippet.len() > MAX_SNIPPET_LEN {
		return Err(error(
			error_code::INVALID_SNIPPET,
			format!("the snippet is {} bytes, more than {MAX_SNIPPET_LEN}", snippet.len()),
		));
	}
	let records = dt_aml::parse_snippet(snippet.as_bytes(), Some(parent), after).map_err(|e| {
		error(
			error_code::INVALID_SNIPPET,
			format!("the snippet is not an insertable AML element: {e}"),
		)
	})?;
	Ok(records
		.into_iter()
		.map(|record| SnippetElement {
			parent: record.parent.unwrap_or_else(|| parent.to_owned()),
			previous_sibling: record.previous_sibling,
			fragment: record.fragment.as_str().to_owned(),
			id: record.id,
		})
		.collect())
}

fn error(code: i32, message: impl Into<String>) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(code, message.into(), None::<()>)
}

fn state_unavailable(at: impl std::fmt::Debug, cause: ApiError) -> ErrorObjectOwned {
	error(
		error_code::STATE_UNAVAILABLE,
		format!(
			"cannot read the state of block {at:?}: {cause}. Older states need an archive node \
			 (--state-pruning archive)"
		),
	)
}

fn text(bytes: Vec<u8>) -> String {
	// The runtime accepts UTF-8 only; stay total anyway.
	String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn element_id(element: &str) -> Result<ElementId, ErrorObjectOwned> {
	ElementId::try_from(element.as_bytes().to_vec()).map_err(|_| {
		error(
			error_code::INVALID_ELEMENT_ID,
			format!("element id longer than {} bytes", dt_primitives::access::MAX_ELEMENT_ID_LEN),
		)
	})
}

fn view<AccountId, BlockNumber>(
	record: ElementRecord<AccountId, BlockNumber>,
) -> ElementView<AccountId, BlockNumber> {
	let id_text = |id: ElementId| text(id.into_inner());
	let node = record.node;
	ElementView {
		id: id_text(record.id),
		parent: node.parent.map(id_text),
		previous_sibling: node.previous_sibling.map(id_text),
		next_sibling: node.next_sibling.map(id_text),
		first_child: node.first_child.map(id_text),
		depth: node.depth,
		confidentiality: node.confidentiality,
		version: node.version,
		last_change: node.last_change,
		changed_at: node.changed_at,
		changed_by: node.changed_by,
		previous_change_at: node.previous_change_at,
		fragment: text(record.fragment),
	}
}

impl<Client, Block, AccountId> Twin<Client, Block, AccountId>
where
	Block: BlockT,
	AccountId: Codec + Clone + Send + Sync + 'static,
	Client: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	Client::Api: TwinSpecApi<Block, AccountId, NumberFor<Block>>,
{
	fn at(&self, at: Option<Block::Hash>) -> Block::Hash {
		at.unwrap_or_else(|| self.client.info().best_hash)
	}

	fn record(
		&self,
		twin: TwinId,
		element: &str,
		at: Block::Hash,
	) -> RpcResult<ElementRecord<AccountId, NumberFor<Block>>> {
		let id = element_id(element)?;
		let api = self.client.runtime_api();
		if api.document_header(at, twin).map_err(|e| state_unavailable(at, e))?.is_none() {
			return Err(error(error_code::UNKNOWN_TWIN, format!("no twin {twin} at block {at:?}")));
		}
		api.element(at, twin, id).map_err(|e| state_unavailable(at, e))?.ok_or_else(|| {
			error(
				error_code::UNKNOWN_ELEMENT,
				format!("twin {twin} has no element {element:?} at block {at:?}"),
			)
		})
	}

	/// Assembles the AML document of `twin` at `at`.
	pub fn assemble(
		&self,
		twin: TwinId,
		at: Block::Hash,
		reader: Option<AccountId>,
	) -> RpcResult<String> {
		let api = self.client.runtime_api();
		let (prolog, epilog) = api
			.document_header(at, twin)
			.map_err(|e| state_unavailable(at, e))?
			.ok_or_else(|| {
				error(error_code::UNKNOWN_TWIN, format!("no twin {twin} at block {at:?}"))
			})?;
		let assembly_failed =
			|e: dt_aml::AmlError| error(error_code::ASSEMBLY_FAILED, format!("twin {twin}: {e}"));
		let mut tree = dt_aml::AmlTree::new(dt_aml::DocumentHeader {
			prolog: text(prolog),
			epilog: text(epilog),
		});
		let mut after = None;
		loop {
			let page = api
				.elements(at, twin, after.clone(), PAGE_SIZE, reader.clone())
				.map_err(|e| state_unavailable(at, e))?;
			let Some(last) = page.last() else { break };
			after = Some(last.id.clone());
			for record in page {
				let fragment =
					dt_aml::Fragment::parse(&text(record.fragment)).map_err(assembly_failed)?;
				let parent = record.node.parent.map(|parent| text(parent.into_inner()));
				tree.append_child(&text(record.id.into_inner()), parent.as_deref(), fragment)
					.map_err(assembly_failed)?;
			}
		}
		if tree.is_empty() {
			// Nothing visible (or an import that has not started): just the header.
			let header = tree.header();
			return Ok(format!("{}{}", header.prolog, header.epilog));
		}
		tree.to_xml_string().map_err(assembly_failed)
	}
}

#[async_trait]
impl<Client, Block, AccountId> TwinApiServer<Block::Hash, AccountId, NumberFor<Block>>
	for Twin<Client, Block, AccountId>
where
	Block: BlockT,
	AccountId: Codec + Clone + Send + Sync + Serialize + for<'de> Deserialize<'de> + 'static,
	Client: ProvideRuntimeApi<Block> + HeaderBackend<Block> + Send + Sync + 'static,
	Client::Api: TwinSpecApi<Block, AccountId, NumberFor<Block>>,
{
	fn list_twins(
		&self,
		at: Option<Block::Hash>,
	) -> RpcResult<Vec<TwinSummary<AccountId, NumberFor<Block>>>> {
		let at = self.at(at);
		let twins = self.client.runtime_api().twins(at).map_err(|e| state_unavailable(at, e))?;
		Ok(twins
			.into_iter()
			.map(|(id, info)| TwinSummary {
				id,
				creator: info.creator,
				created_at: info.created_at,
				root: info.root.map(|root| text(root.into_inner())),
				element_count: info.element_count,
				importing: info.importing,
				source_count: info.source_count,
			})
			.collect())
	}

	fn get_aml(
		&self,
		twin: TwinId,
		at: Option<Block::Hash>,
		reader: Option<AccountId>,
	) -> RpcResult<String> {
		self.assemble(twin, self.at(at), reader)
	}

	fn parse_snippet(
		&self,
		snippet: String,
		parent: String,
		after: Option<String>,
	) -> RpcResult<Vec<SnippetElement>> {
		split_snippet(&snippet, &parent, after.as_deref())
	}

	fn get_element(
		&self,
		twin: TwinId,
		element: String,
		at: Option<Block::Hash>,
	) -> RpcResult<ElementView<AccountId, NumberFor<Block>>> {
		self.record(twin, &element, self.at(at)).map(view)
	}

	fn element_history(
		&self,
		twin: TwinId,
		element: String,
		at: Option<Block::Hash>,
	) -> RpcResult<Vec<ElementView<AccountId, NumberFor<Block>>>> {
		let mut versions = vec![view(self.record(twin, &element, self.at(at))?)];
		while let Some(number) = versions.last().and_then(|version| version.previous_change_at) {
			let hash = self.client.hash(number).ok().flatten().ok_or_else(|| {
				error(error_code::STATE_UNAVAILABLE, format!("no block #{number}"))
			})?;
			versions.push(view(self.record(twin, &element, hash)?));
		}
		Ok(versions)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const SNIPPET: &str = r#"<InternalElement Name="Camera" ID="camera-1"><Attribute Name="SerialNumber"><Value>C-7</Value></Attribute><InternalElement Name="Lens" ID="lens-1" /></InternalElement>"#;

	#[test]
	fn a_nested_snippet_splits_into_its_elements_in_order() {
		let elements = split_snippet(SNIPPET, "filling-station-1", Some("valve-1")).unwrap();
		let ids: Vec<_> = elements.iter().map(|e| (e.id.as_str(), e.parent.as_str())).collect();
		assert_eq!(ids, [("camera-1", "filling-station-1"), ("lens-1", "camera-1")]);
		assert_eq!(elements[0].previous_sibling.as_deref(), Some("valve-1"));
		assert!(elements[0].fragment.contains("C-7"), "{}", elements[0].fragment);
		assert!(!elements[0].fragment.contains("lens-1"), "the child is its own element");
	}

	#[test]
	fn what_is_not_one_element_or_too_long_is_refused_naming_why() {
		for bad in ["<InternalElement", "<a ID=\"x\"/><b ID=\"y\"/>", "plain text"] {
			let refused = split_snippet(bad, "parent", None).unwrap_err();
			assert_eq!(refused.code(), error_code::INVALID_SNIPPET, "{bad}");
			assert!(refused.message().starts_with("the snippet is not an insertable"), "{bad}");
		}
		let long = format!("<a ID=\"x\">{}</a>", "x".repeat(MAX_SNIPPET_LEN));
		let refused = split_snippet(&long, "parent", None).unwrap_err();
		assert_eq!(refused.code(), error_code::INVALID_SNIPPET);
		assert!(refused.message().contains("more than"), "{}", refused.message());
	}
}
