//! `dt doc`: a twin's documents. Files are encrypted here, before they leave the party's
//! machine, under a fresh key sealed for every account the chain lets read the document's
//! level; the encrypted blocks go to a node's off-chain store and the chain registers their
//! content ids. Reading fetches the blocks, checks each against its id and decrypts.

mod access_list;
mod envelopes;
mod read;
pub(crate) mod readers;
mod store;
mod transfer;
mod write;

use crate::{chain, feed_reader, keystore, Output};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand};
use dt_client::Client;
use dt_offchain::{
	content_id::Cid,
	crypto::{ReaderPrivateKey, ReaderPublicKey},
};
use dt_primitives::access::{Action, Confidentiality, ElementId, TwinId};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall};
use envelopes::{FetchError, PublishError, Published};
use indicatif::{ProgressBar, ProgressStyle};
use keystore::Keystore;
use pallet_dt_documents::{DocumentHistory, DocumentId, DocumentRecord, VersionNumber};
use readers::{level_name, parse_level, roles_text, Readers};
use serde_json::{json, Value};
use sp_core::crypto::Ss58Codec;
use std::{
	collections::{BTreeMap, BTreeSet},
	fs::File,
	path::{Path, PathBuf},
};
use store::Store;
use transfer::{Registered, TransferError};

/// The chain's bound on titles (runtime `MaxTitleLength`).
const MAX_TITLE_LEN: usize = 256;
/// The chain's bound on media types (runtime `MaxMediaTypeLength`).
const MAX_MEDIA_TYPE_LEN: usize = 128;

type History = DocumentHistory<AccountId, BlockNumber>;
type Record = DocumentRecord<AccountId, BlockNumber>;

#[derive(Subcommand, Debug)]
pub enum DocCommand {
	/// Encrypts a file for every account that may read it, stores it in the off-chain store
	/// and registers it on the twin; prints the document id and content id.
	Upload {
		twin: TwinId,
		file: PathBuf,
		/// The title (default: the file's name).
		#[arg(long)]
		title: Option<String>,
		/// The element of the twin's specification it documents (default: the whole twin).
		#[arg(long)]
		element: Option<String>,
		/// Who may read it: public, internal, confidential or secret.
		#[arg(long, default_value = "internal", value_parser = parse_level)]
		confidentiality: Confidentiality,
		/// The media type (default: guessed from the file name's extension).
		#[arg(long)]
		media_type: Option<String>,
		#[command(flatten)]
		store: StoreArg,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// Adds a new version of a document from a file, sealed for the current readers.
	Version {
		twin: TwinId,
		document: DocumentId,
		file: PathBuf,
		#[command(flatten)]
		store: StoreArg,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// Fetches a version, checks every block against its content id, decrypts it with the
	/// key's RSA key and writes it to a file (only once all of it verified).
	Download {
		twin: TwinId,
		document: DocumentId,
		/// The version (default: the latest).
		#[arg(long)]
		version: Option<VersionNumber>,
		/// The file to write.
		#[arg(short, long)]
		output: PathBuf,
		#[command(flatten)]
		store: StoreArg,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// Annotates a version (default: the latest) with a text, encrypted like the document.
	Annotate {
		twin: TwinId,
		document: DocumentId,
		text: String,
		#[arg(long)]
		version: Option<VersionNumber>,
		#[command(flatten)]
		store: StoreArg,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// The twin's documents.
	List {
		twin: TwinId,
		/// Only those attached to this element.
		#[arg(long)]
		element: Option<String>,
		/// Only those this key's account is cleared to read.
		#[arg(long = "as", value_name = "KEY")]
		reader: Option<String>,
	},
	/// Attaches a document to an element of the twin's specification (e.g. a report to the
	/// sensor that replaced another), or with --whole-twin to the twin as a whole.
	Attach {
		twin: TwinId,
		document: DocumentId,
		/// The element.
		#[arg(long, required_unless_present = "whole_twin", conflicts_with = "whole_twin")]
		element: Option<String>,
		/// Attach it to the twin rather than to one element.
		#[arg(long)]
		whole_twin: bool,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// Retires a document: it stays readable with its history but takes no new versions.
	Retire {
		twin: TwinId,
		document: DocumentId,
		#[command(flatten)]
		signer: crate::Signer,
	},
	/// A document with its history: every version and annotation, who added it and when.
	Show {
		twin: TwinId,
		document: DocumentId,
		/// Read as this key's account (only if cleared) and decrypt the annotations it may.
		#[arg(long = "as", value_name = "KEY")]
		reader: Option<String>,
		#[command(flatten)]
		store: StoreArg,
	},
}

#[derive(Args, Debug)]
pub struct StoreArg {
	/// The node whose off-chain store holds the blocks (default: --node).
	#[arg(long, value_name = "URL", env = "DT_STORE")]
	pub store: Option<String>,
}

impl StoreArg {
	async fn connect(&self, node: &str) -> Result<Store> {
		Ok(Store::connect(self.store.as_deref().unwrap_or(node)).await?)
	}
}

pub async fn doc_command(
	keystore: &Keystore,
	node: &str,
	command: DocCommand,
	json: bool,
) -> Result<Output> {
	match command {
		DocCommand::Upload {
			twin,
			file,
			title,
			element,
			confidentiality,
			media_type,
			store,
			signer,
		} => {
			let request =
				write::NewDocument { twin, file, title, element, confidentiality, media_type };
			write::upload(keystore, node, json, request, store, &signer.key).await
		},
		DocCommand::Version { twin, document, file, store, signer } => {
			write::add_version(keystore, node, json, (twin, document, file), store, &signer.key)
				.await
		},
		DocCommand::Download { twin, document, version, output, store, signer } => {
			let target = (twin, document, version);
			read::download(keystore, node, json, target, output, store, &signer.key).await
		},
		DocCommand::Annotate { twin, document, text, version, store, signer } => {
			let target = (twin, document, version, text);
			write::annotate(keystore, node, json, target, store, &signer.key).await
		},
		DocCommand::List { twin, element, reader } => {
			read::list(keystore, node, twin, element, reader).await
		},
		DocCommand::Attach { twin, document, element, whole_twin: _, signer } => {
			write::attach(keystore, node, json, (twin, document, element), &signer.key).await
		},
		DocCommand::Retire { twin, document, signer } => {
			write::retire(keystore, node, json, (twin, document), &signer.key).await
		},
		DocCommand::Show { twin, document, reader, store } => {
			read::show(keystore, node, (twin, document), reader, store).await
		},
	}
}

/// A key decrypted for document work: the account that signs and the RSA key that opens.
struct Party {
	account: AccountId,
	pair: sp_core::sr25519::Pair,
	private: ReaderPrivateKey,
	public: ReaderPublicKey,
	name: String,
}

fn unlock(keystore: &Keystore, name: &str) -> Result<Party> {
	let feed_reader::Party { account, pair, private_key } =
		feed_reader::Party::unlock(keystore, name)?;
	Ok(Party {
		account,
		pair,
		public: private_key.public_key().clone(),
		private: private_key,
		name: name.to_owned(),
	})
}

/// The account of a stored key, without its passphrase.
fn stored_account(keystore: &Keystore, name: &str) -> Result<AccountId> {
	let file = keystore.read(name)?;
	AccountId::from_ss58check(&file.account)
		.map_err(|e| anyhow!("the key file of {name} is damaged: {e:?}"))
}

/// The file to upload, opened, and its size; refused before anything else happens.
fn open_input(path: &Path) -> Result<(File, u64)> {
	let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
	let metadata = file.metadata().with_context(|| format!("cannot read {}", path.display()))?;
	if metadata.is_dir() {
		bail!("cannot read {}: it is a directory, give a file", path.display());
	}
	if metadata.len() > dt_offchain::documents::MAX_DOCUMENT_SIZE {
		bail!(
			"{} is {}, more than a document version can hold ({})",
			path.display(),
			bytes_text(metadata.len()),
			bytes_text(dt_offchain::documents::MAX_DOCUMENT_SIZE)
		);
	}
	Ok((file, metadata.len()))
}

/// The directory a download is written in (it must exist); the file itself is replaced.
fn output_directory(output: &Path) -> Result<PathBuf> {
	if output.is_dir() {
		bail!(
			"{} is a directory: give the file to write, e.g. -o {}/report.pdf",
			output.display(),
			output.display()
		);
	}
	let directory = match output.parent() {
		Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
		_ => PathBuf::from("."),
	};
	if !directory.is_dir() {
		bail!(
			"cannot write {}: the directory {} does not exist",
			output.display(),
			directory.display()
		);
	}
	Ok(directory)
}

fn file_name(path: &Path) -> Result<String> {
	path.file_name()
		.map(|name| name.to_string_lossy().into_owned())
		.ok_or_else(|| anyhow!("{} has no file name: give a --title", path.display()))
}

fn check_title(title: &str) -> Result<String> {
	if title.trim().is_empty() {
		bail!("the title is empty: give one with --title");
	}
	if title.len() > MAX_TITLE_LEN {
		bail!("the title is {} bytes long; the chain takes at most {MAX_TITLE_LEN}", title.len());
	}
	Ok(title.to_owned())
}

/// `type/subtype`, both ASCII tokens, as the chain accepts them.
fn check_media_type(media_type: &str) -> Result<String> {
	let token = |part: &str| {
		!part.is_empty()
			&& part.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
	};
	match media_type.split_once('/') {
		Some((kind, subtype))
			if token(kind) && token(subtype) && media_type.len() <= MAX_MEDIA_TYPE_LEN =>
		{
			Ok(media_type.to_owned())
		},
		_ => bail!("bad media type {media_type:?}: expected type/subtype, e.g. application/pdf"),
	}
}

fn guess_media_type(path: &Path) -> &'static str {
	let extension = path
		.extension()
		.map(|e| e.to_string_lossy().to_ascii_lowercase())
		.unwrap_or_default();
	match extension.as_str() {
		"pdf" => "application/pdf",
		"txt" | "log" => "text/plain",
		"md" => "text/markdown",
		"csv" => "text/csv",
		"json" => "application/json",
		"xml" | "aml" => "application/xml",
		"html" | "htm" => "text/html",
		"png" => "image/png",
		"jpg" | "jpeg" => "image/jpeg",
		"svg" => "image/svg+xml",
		"zip" => "application/zip",
		"step" | "stp" => "model/step",
		_ => "application/octet-stream",
	}
}

fn element_id(text: &str) -> Result<ElementId> {
	text.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| anyhow!("the element id {text:?} is too long for the chain"))
}

async fn check_element(client: &Client, twin: TwinId, element: &ElementId) -> Result<()> {
	let id = String::from_utf8_lossy(element);
	client
		.request::<Value>("twin_getElement", jsonrpsee::rpc_params![twin, &id])
		.await
		.map(|_| ())
		.map_err(|e| {
			anyhow!("twin {twin} has no element {id} (`dt twin show {twin}` lists them): {e}")
		})
}

/// Refuses early, before uploading anything, what the chain would refuse at registration.
async fn ensure_may(
	client: &Client,
	twin: TwinId,
	me: &Party,
	action: Action<'_>,
	what: &str,
	level: Confidentiality,
) -> Result<()> {
	let name = &me.name;
	if !readers::may(client, twin, &me.account, action).await? {
		bail!(
			"{name} ({}) may not {what} twin {twin}: none of its roles there allows it; ask an \
			 access manager of the twin (e.g. its owner) for a role such as maintainer \
			 (`dt access grant {twin} {} maintainer --as OWNER`). Nothing was uploaded.",
			me.account,
			me.account
		);
	}
	if !readers::may(client, twin, &me.account, Action::Read(level)).await? {
		bail!(
			"{name} ({}) is not cleared for {} data on twin {twin}: nobody writes what they may \
			 not read; ask an access manager of the twin for a role that reaches it, or choose \
			 a lower --confidentiality. Nothing was uploaded.",
			me.account,
			level_name(level)
		);
	}
	Ok(())
}

/// Refuses early what the replicas would refuse after registration: with the store's
/// network, the uploader sets the new document's reader list and publishes its envelope,
/// which only a holder of `VersionDocuments` or `ManageAccess` may.
async fn ensure_may_publish(client: &Client, twin: TwinId, me: &Party) -> Result<()> {
	if readers::may(client, twin, &me.account, Action::VersionDocument).await?
		|| readers::may(client, twin, &me.account, Action::ManageAccess).await?
	{
		return Ok(());
	}
	bail!(
		"{} ({}) may add documents to twin {twin} but not manage their reader lists on the \
		 store's network (VersionDocuments or ManageAccess), which a new document's readers \
		 need; ask an access manager of the twin for a role such as maintainer. Nothing was \
		 uploaded.",
		me.name,
		me.account
	)
}

/// Refuses early an envelope the replicas would refuse after registration: they take only
/// envelopes sealed for the keys the list's readers registered on chain, and the author's
/// own key is sealed for from its keystore.
fn ensure_key_registered(readers: &Readers, me: &Party) -> Result<()> {
	if readers.author_key_registered {
		return Ok(());
	}
	bail!(
		"the encryption key registered on chain for {} ({}) is not this keystore's, and the \
		 store's replicas take only envelopes sealed for the readers' registered keys: run \
		 `dt key register {}` first. Nothing was uploaded.",
		me.name,
		me.account,
		me.name
	)
}

/// The document `document` of `twin` with its whole history, as the node reads it.
async fn document_of(client: &Client, twin: TwinId, document: DocumentId) -> Result<History> {
	chain::twin(client, twin).await?;
	let history: Option<History> = client
		.runtime_api("DocumentsApi_document_with_history", (document, None::<AccountId>), None)
		.await?;
	let history = history.ok_or_else(|| {
		anyhow!("document {document} does not exist (`dt doc list {twin}` shows twin {twin}'s documents)")
	})?;
	if history.document.twin != twin {
		bail!("document {document} belongs to twin {}, not to twin {twin}", history.document.twin);
	}
	Ok(history)
}

/// The version asked for (the latest by default), as the chain registered it.
fn pick_version(
	history: &History,
	version: Option<VersionNumber>,
) -> Result<(VersionNumber, Registered)> {
	let document = history.document.id;
	let record = match version {
		None => history.versions.last(),
		Some(number) => history.versions.iter().find(|v| v.number == number),
	}
	.ok_or_else(|| {
		anyhow!(
			"document {document} has no version {}: its versions are 0 to {}",
			version.map(|v| v.to_string()).unwrap_or_default(),
			history.versions.len().saturating_sub(1)
		)
	})?;
	let cid = |bytes: &[u8], what: &str| {
		Cid::from_bytes(bytes).map_err(|e| {
			anyhow!(
				"version {} of document {document} has an unusable {what} on chain: {e}",
				record.number
			)
		})
	};
	Ok((
		record.number,
		Registered {
			content_id: cid(&record.version.content_id, "content id")?,
			key_envelope: cid(&record.version.key_envelope, "key envelope id")?,
			size: record.version.size,
		},
	))
}

/// Why a party the replicas refused an envelope to cannot read.
fn not_a_reader(refusal: &str) -> String {
	format!(
		"it is not a reader of this document: the document's reader list does not name it \
		 ({refusal})"
	)
}

/// With the store's network (`network`), brings the document's reader list to exactly the
/// readers version `version` was sealed for, then publishes its envelope; `None` without
/// it (the envelope was stored as a block with the other blocks). The version is already
/// registered: a failure says what was done and how to finish.
#[allow(clippy::too_many_arguments)]
async fn publish_version(
	network: bool,
	store: &Store,
	me: &Party,
	twin: TwinId,
	document: DocumentId,
	version: VersionNumber,
	readers: &Readers,
	envelope: &[u8],
	names: &Names,
) -> Result<Option<Published>> {
	if !network {
		return Ok(None);
	}
	let wanted: BTreeSet<AccountId> =
		readers.included.iter().map(|reader| reader.account.clone()).collect();
	match envelopes::publish(store, &me.pair, document, &wanted, envelope).await {
		Ok(published) => Ok(Some(published)),
		Err(PublishError { changes, list_done, error }) => {
			let step = if list_done {
				"publishing its key envelope"
			} else {
				"bringing the document's reader list to its readers"
			};
			let reason = match &error {
				access_list::AccessListError::NotAllowed { message } => format!(
					"{message}: only holders of VersionDocuments or ManageAccess on twin {twin} \
					 (its owner, a maintainer) may change the document's reader list and publish \
					 its envelope"
				),
				other => other.to_string(),
			};
			let mut done = Vec::new();
			if !changes.added.is_empty() {
				done.push(format!("added {}", accounts_text(&changes.added, names)));
			}
			if !changes.removed.is_empty() {
				done.push(format!("removed {}", accounts_text(&changes.removed, names)));
			}
			let done = if done.is_empty() {
				"the reader list was not changed".to_owned()
			} else {
				format!("the reader list is at version {} ({})", changes.version, done.join("; "))
			};
			bail!(
				"version {version} of document {document} is registered on chain and its blocks \
				 are stored, but {step} failed: {reason}\n{done}; nobody can open this version \
				 until its envelope is published: once that is fixed, add the file again with \
				 `dt doc version {twin} {document} FILE --as {}`, which seals it for the current \
				 readers and publishes it",
				me.name
			)
		},
	}
}

fn accounts_text(accounts: &[AccountId], names: &Names) -> String {
	accounts.iter().map(|account| names.of(account)).collect::<Vec<_>>().join(", ")
}

fn published_text(published: &Option<Published>, names: &Names) -> String {
	match published {
		None => "key envelope stored as a block (the node has no store network)".to_owned(),
		Some(published) => {
			let mut changes = Vec::new();
			if !published.changes.added.is_empty() {
				changes.push(format!("added {}", accounts_text(&published.changes.added, names)));
			}
			if !published.changes.removed.is_empty() {
				changes
					.push(format!("removed {}", accounts_text(&published.changes.removed, names)));
			}
			format!(
				"reader list at version {}{}; key envelope published on {} replica(s)",
				published.changes.version,
				if changes.is_empty() {
					" (unchanged)".to_owned()
				} else {
					format!(": {}", changes.join("; "))
				},
				published.stored_on.len()
			)
		},
	}
}

fn published_json(published: &Option<Published>) -> Value {
	match published {
		None => Value::Null,
		Some(published) => json!({
			"version": published.changes.version,
			"added": published.changes.added.iter().map(ToString::to_string).collect::<Vec<_>>(),
			"removed": published.changes.removed.iter().map(ToString::to_string).collect::<Vec<_>>(),
			"envelope_stored_on": published.stored_on,
		}),
	}
}

/// The error for a reader the version's envelope is not for (`reason`), saying why it
/// may be so and what to do.
async fn no_access(
	client: &Client,
	me: &Party,
	history: &History,
	number: VersionNumber,
	reason: &str,
) -> anyhow::Error {
	let document = history.document.id;
	let twin = history.document.twin;
	let level = history.document.confidentiality;
	let author = &history.versions[number as usize].version.author;
	let mut hints = Vec::new();
	match readers::may(client, twin, &me.account, Action::Read(level)).await {
		Ok(false) => hints.push(format!(
			"it is not cleared for {} data on twin {twin}: ask an access manager of the twin for a role that reaches it, then ask for a new version",
			level_name(level)
		)),
		Ok(true) => hints.push(format!(
			"it was not a reader (or had another key) when the version was written: ask the owner or {author}, who wrote it, to add a new version (`dt doc version {twin} {document} FILE`), which seals the key for every current reader"
		)),
		Err(_) => {},
	}
	if let Ok(Some(registered)) = readers::registered_key(client, &me.account).await {
		if ReaderPublicKey::from_der(&registered).map(|key| key.id()).ok() != Some(me.public.id()) {
			hints.push(format!(
				"its key registered on chain is not the one in this keystore: run `dt key register {}`",
				me.name
			));
		}
	}
	anyhow!(
		"{} ({}) has no access to version {number} of document {document}: {reason}; {}",
		me.name,
		me.account,
		hints.join("; ")
	)
}

/// The annotations `private` can open, by (version, annotation), as text; unreadable ones
/// say why instead.
async fn read_annotations(
	store: &Store,
	history: &History,
	me: &Party,
) -> BTreeMap<(VersionNumber, usize), Result<String, String>> {
	let mut texts = BTreeMap::new();
	for version in &history.versions {
		for (index, annotation) in version.annotations.iter().enumerate() {
			let text =
				read_annotation(store, history.document.id, &annotation.content_id, me).await;
			texts.insert((version.number, index), text);
		}
	}
	texts
}

/// Annotations are short texts: more than this is not one.
const MAX_ANNOTATION_LEN: u64 = 1 << 20;

async fn read_annotation(
	store: &Store,
	document: DocumentId,
	content_id: &[u8],
	me: &Party,
) -> Result<String, String> {
	let cid = Cid::from_bytes(content_id).map_err(|e| format!("unusable content id: {e}"))?;
	let bytes = store.get(&cid).await.map_err(|e| e.to_string())?;
	let manifest =
		dt_offchain::documents::Manifest::from_bytes(&cid, &bytes).map_err(|e| e.to_string())?;
	if manifest.plaintext_len() > MAX_ANNOTATION_LEN {
		return Err(format!(
			"{} is too long for an annotation",
			bytes_text(manifest.plaintext_len())
		));
	}
	let envelope_id = *manifest.envelope();
	let envelope = match envelopes::fetch(store, &me.pair, document, &envelope_id).await {
		Err(FetchError::NotAReader(refusal)) => return Err(not_a_reader(&refusal)),
		other => other.map_err(|e| e.to_string())?,
	};
	let key = match transfer::open_key(envelope_id, &envelope, &me.private) {
		Err(TransferError::NotARecipient { .. }) => return Err("not sealed for this key".into()),
		other => other.map_err(|e| e.to_string())?,
	};
	let mut text = Vec::new();
	transfer::decrypt_into(store, &manifest, key, &mut text, &ProgressBar::hidden())
		.await
		.map_err(|e| e.to_string())?;
	String::from_utf8(text).map_err(|_| "not UTF-8 text".into())
}

/// The number of the block with this hash, if the node still has it.
async fn block_number(client: &Client, block: sp_core::H256) -> Option<BlockNumber> {
	client.header(Some(block)).await.ok().map(|header| header.number)
}

/// A block as `#number (hash)`.
async fn block_text(client: &Client, block: sp_core::H256) -> String {
	match block_number(client, block).await {
		Some(number) => format!("#{number} ({block:?})"),
		None => format!("{block:?}"),
	}
}

fn content_id(cid: &Cid) -> dt_primitives::content_id::ContentId {
	cid.as_bytes()
		.to_vec()
		.try_into()
		.expect("a CID is 36 bytes, the chain takes 64")
}

fn stored_but_unregistered(cid: &Cid) -> String {
	format!("the blocks are stored (content id {cid}) but nothing was registered on chain")
}

/// Submits `call` like [`chain::submit`], with a spinner on a terminal while the chain
/// finalizes it (several seconds).
async fn submit(
	json: bool,
	client: &Client,
	signer: &sp_core::sr25519::Pair,
	call: RuntimeCall,
	what: &str,
) -> Result<dt_client::Finalized> {
	let spinner = if json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
	spinner.set_message(format!("waiting for the chain to {what}"));
	spinner.enable_steady_tick(std::time::Duration::from_millis(120));
	let finalized = chain::submit(client, signer, call, what).await;
	spinner.finish_and_clear();
	finalized
}

fn progress_bar(json: bool, len: u64, message: &'static str) -> ProgressBar {
	if json {
		return ProgressBar::hidden();
	}
	// indicatif draws on standard error, and only when it is a terminal.
	let bar = ProgressBar::new(len).with_message(message);
	bar.set_style(
		ProgressStyle::with_template(
			"{msg} [{wide_bar}] {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
		)
		.expect("a valid template")
		.progress_chars("=> "),
	);
	bar
}

fn bytes_text(bytes: u64) -> String {
	if bytes < 1024 {
		format!("{bytes} bytes")
	} else {
		format!("{} bytes, {}", bytes, indicatif::BinaryBytes(bytes))
	}
}

/// Names of the accounts whose keys are in the keystore, to print next to their addresses.
struct Names(BTreeMap<AccountId, String>);

impl Names {
	fn new(keystore: &Keystore) -> Names {
		let keys = keystore.list().unwrap_or_default();
		Names(
			keys.into_iter()
				.filter_map(|key| Some((AccountId::from_ss58check(&key.account).ok()?, key.name)))
				.collect(),
		)
	}

	fn of(&self, account: &AccountId) -> String {
		match self.0.get(account) {
			Some(name) => format!("{name} ({account})"),
			None => account.to_string(),
		}
	}

	fn name(&self, account: &AccountId) -> Option<&str> {
		self.0.get(account).map(String::as_str)
	}
}

fn readers_text(readers: &Readers, names: &Names) -> String {
	let mut text = format!("sealed for {} reader(s):\n", readers.included.len());
	for reader in &readers.included {
		let roles = roles_text(&reader.roles);
		text.push_str(&format!(
			"  {}{}\n",
			names.of(&reader.account),
			if roles.is_empty() { String::new() } else { format!(": {roles}") }
		));
	}
	if !readers.author_key_registered {
		let author = &readers.included[0].account;
		text.push_str(&format!(
			"warning: the encryption key registered on chain for {} is not this keystore's: \
			 what others write is sealed for the registered key; run `dt key register {}`\n",
			names.of(author),
			names.name(author).unwrap_or("KEY")
		));
	}
	if !readers.skipped.is_empty() {
		text.push_str(&format!(
			"skipped {} reader(s) who cannot be sealed for:\n",
			readers.skipped.len()
		));
		for skipped in &readers.skipped {
			text.push_str(&format!("  {}: {}\n", names.of(&skipped.account), skipped.reason));
		}
	}
	text
}

fn readers_json(readers: &Readers, names: &Names) -> Value {
	readers
		.included
		.iter()
		.map(|reader| {
			json!({
				"account": reader.account.to_string(),
				"name": names.name(&reader.account),
				"roles": reader.roles.iter().map(crate::access::role_name).collect::<Vec<_>>(),
				"key": reader.key.id().to_string(),
			})
		})
		.collect()
}

fn skipped_json(readers: &Readers) -> Value {
	readers
		.skipped
		.iter()
		.map(|skipped| json!({ "account": skipped.account.to_string(), "reason": skipped.reason }))
		.collect()
}

fn element_text(element: &Option<ElementId>) -> Option<String> {
	element.as_ref().map(|e| String::from_utf8_lossy(e).into_owned())
}

fn record_line(record: &Record, names: &Names) -> String {
	format!(
		"{:>4}  v{:<3} {:<12} \"{}\" ({}){}, registered by {} in block {}{}",
		record.id,
		record.version_count.saturating_sub(1),
		level_name(record.confidentiality),
		String::from_utf8_lossy(&record.title),
		String::from_utf8_lossy(&record.media_type),
		element_text(&record.element)
			.map(|e| format!(" on element {e}"))
			.unwrap_or_default(),
		names.of(&record.registered_by),
		record.registered_at,
		record
			.retired
			.as_ref()
			.map(|(who, block)| format!(", retired by {} in block {block}", names.of(who)))
			.unwrap_or_default()
	)
}

fn record_json(record: &Record, names: &Names) -> Value {
	json!({
		"document": record.id,
		"twin": record.twin,
		"title": String::from_utf8_lossy(&record.title),
		"media_type": String::from_utf8_lossy(&record.media_type),
		"confidentiality": level_name(record.confidentiality),
		"element": element_text(&record.element),
		"registered_by": record.registered_by.to_string(),
		"registered_by_name": names.name(&record.registered_by),
		"registered_at": record.registered_at,
		"retired": record.retired.as_ref().map(|(who, block)| json!({ "by": who.to_string(), "at": block })),
		"versions": record.version_count,
	})
}

type AnnotationTexts = BTreeMap<(VersionNumber, usize), Result<String, String>>;

fn history_text(history: &History, annotations: &AnnotationTexts, names: &Names) -> String {
	let record = &history.document;
	let mut text = format!(
		"document {} on twin {}: \"{}\" ({}), {}\nattached to {}\nregistered by {} in block {}\n",
		record.id,
		record.twin,
		String::from_utf8_lossy(&record.title),
		String::from_utf8_lossy(&record.media_type),
		level_name(record.confidentiality),
		element_text(&record.element)
			.map(|e| format!("element {e}"))
			.unwrap_or_else(|| "the whole twin".into()),
		names.of(&record.registered_by),
		record.registered_at
	);
	if let Some((who, block)) = &record.retired {
		text.push_str(&format!("retired by {} in block {block}\n", names.of(who)));
	}
	text.push_str("versions:\n");
	for version in &history.versions {
		let content = Cid::from_bytes(&version.version.content_id)
			.map(|c| c.to_string())
			.unwrap_or_else(|_| dt_client::hex_string(&version.version.content_id));
		text.push_str(&format!(
			"  v{}  {}, by {} in block {}\n      content id {}\n",
			version.number,
			bytes_text(version.version.size),
			names.of(&version.version.author),
			version.version.added_at,
			content
		));
		for (index, annotation) in version.annotations.iter().enumerate() {
			let body = match annotations.get(&(version.number, index)) {
				Some(Ok(said)) => format!("\"{said}\""),
				Some(Err(why)) => format!("(unreadable: {why})"),
				None => Cid::from_bytes(&annotation.content_id)
					.map(|c| format!("content id {c}"))
					.unwrap_or_default(),
			};
			text.push_str(&format!(
				"      annotation {index} by {} in block {}: {body}\n",
				names.of(&annotation.author),
				annotation.added_at
			));
		}
	}
	text
}

fn history_json(history: &History, annotations: &AnnotationTexts, names: &Names) -> Value {
	let mut document = record_json(&history.document, names);
	let cid_text = |bytes: &[u8]| {
		Cid::from_bytes(bytes)
			.map(|c| c.to_string())
			.unwrap_or_else(|_| dt_client::hex_string(&bytes))
	};
	document["history"] = history
		.versions
		.iter()
		.map(|version| {
			json!({
				"version": version.number,
				"size": version.version.size,
				"content_id": cid_text(&version.version.content_id),
				"key_envelope": cid_text(&version.version.key_envelope),
				"author": version.version.author.to_string(),
				"author_name": names.name(&version.version.author),
				"block": version.version.added_at,
				"annotations": version.annotations.iter().enumerate().map(|(index, annotation)| {
					let (text, error) = match annotations.get(&(version.number, index)) {
						Some(Ok(text)) => (Some(text.clone()), None),
						Some(Err(why)) => (None, Some(why.clone())),
						None => (None, None),
					};
					json!({
						"annotation": index,
						"content_id": cid_text(&annotation.content_id),
						"author": annotation.author.to_string(),
						"author_name": names.name(&annotation.author),
						"block": annotation.added_at,
						"text": text,
						"unreadable": error,
					})
				}).collect::<Vec<_>>(),
			})
		})
		.collect();
	document
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn media_types_are_checked_and_guessed() {
		assert_eq!(check_media_type("application/pdf").unwrap(), "application/pdf");
		assert_eq!(check_media_type("image/svg+xml").unwrap(), "image/svg+xml");
		for bad in ["pdf", "/pdf", "application/", "a b/c", "tëxt/plain"] {
			assert!(check_media_type(bad).is_err(), "{bad}");
		}
		assert_eq!(guess_media_type(Path::new("Manual.PDF")), "application/pdf");
		assert_eq!(guess_media_type(Path::new("blob")), "application/octet-stream");
	}

	#[test]
	fn titles_are_bounded_like_on_chain() {
		assert!(check_title("Maintenance report").is_ok());
		assert!(check_title("  ").is_err());
		assert!(check_title(&"x".repeat(MAX_TITLE_LEN + 1)).is_err());
	}

	#[test]
	fn downloads_need_an_existing_directory() {
		let dir = tempfile::tempdir().unwrap();
		assert!(output_directory(dir.path()).unwrap_err().to_string().contains("is a directory"));
		assert_eq!(output_directory(&dir.path().join("out.bin")).unwrap(), dir.path());
		let error = output_directory(&dir.path().join("missing/out.bin")).unwrap_err();
		assert!(error.to_string().contains("does not exist"), "{error}");
		assert_eq!(output_directory(Path::new("out.bin")).unwrap(), PathBuf::from("."));
	}
}
