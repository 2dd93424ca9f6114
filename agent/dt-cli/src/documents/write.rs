//! `dt doc upload`, `version` and `annotate`: a file or a text sealed for the accounts cleared
//! for the document's level, its blocks stored, then registered on chain and (on the store's
//! network) its key envelope published behind the document's reader list. And the writes
//! that are the chain's alone: `attach` and `retire`.

use super::{
	block_number, block_text, bytes_text, check_element, check_media_type, check_title, content_id,
	document_of, element_id, element_text, ensure_key_registered, ensure_may, ensure_may_publish,
	envelopes, file_name, guess_media_type, level_name, open_input, pick_version, progress_bar,
	publish_version, published_json, published_text, readers, readers_json, readers_text,
	skipped_json, stored_but_unregistered, submit, transfer, unlock, Names, Party, Readers, Store,
	StoreArg,
};
use crate::{chain, keystore::Keystore, Output};
use anyhow::{anyhow, bail, Context, Result};
use dt_primitives::access::{Action, Confidentiality, TwinId};
use dt_runtime::{RuntimeCall, RuntimeEvent};
use indicatif::ProgressBar;
use pallet_dt_documents::{DocumentId, VersionNumber};
use serde_json::json;
use std::{io::Read, path::PathBuf};
use transfer::Uploaded;

/// What `dt doc upload` was asked.
pub struct NewDocument {
	pub twin: TwinId,
	pub file: PathBuf,
	pub title: Option<String>,
	pub element: Option<String>,
	pub confidentiality: Confidentiality,
	pub media_type: Option<String>,
}

/// A version sealed and stored, not yet registered: what upload, version and annotate share.
struct Stored {
	store: Store,
	network: bool,
	readers: Readers,
	uploaded: Uploaded,
}

/// What is sealed, which decides what the replicas will check once it is registered.
#[derive(Clone, Copy, PartialEq)]
enum Sealing {
	/// A new document: its author sets the reader list and publishes the envelope.
	NewDocument,
	/// A new version: its envelope is published behind the document's list.
	Version,
	/// An annotation: published where the author may, else kept as a block.
	Annotation,
}

/// Seals `plaintext` for the accounts cleared for `level` on `twin` (and the author) and
/// stores its blocks (and its envelope as a block where there is no store network), after
/// refusing early what the replicas would refuse once it is registered.
#[allow(clippy::too_many_arguments)]
async fn seal_and_store(
	client: &dt_client::Client,
	node: &str,
	store: &StoreArg,
	me: &Party,
	(twin, level): (TwinId, Confidentiality),
	sealing: Sealing,
	plaintext: impl Read + Send + 'static,
	progress: &ProgressBar,
) -> Result<Stored> {
	let readers = readers::readers_of(client, twin, level, &me.account, &me.public).await?;
	let store = store.connect(node).await?.signing_as(&me.pair);
	let network = envelopes::has_network(&store).await?;
	if network && sealing == Sealing::NewDocument {
		ensure_may_publish(client, twin, me).await?;
	}
	if network && sealing != Sealing::Annotation {
		ensure_key_registered(&readers, me)?;
	}
	let uploaded = transfer::upload(&store, plaintext, &readers.keys(), !network, progress).await?;
	progress.finish_and_clear();
	Ok(Stored { store, network, readers, uploaded })
}

/// The first event of a finalized transaction `pick` recognises; `what` names it otherwise.
fn reported<T>(
	finalized: &dt_client::Finalized,
	pick: impl Fn(&RuntimeEvent) -> Option<T>,
	what: &str,
) -> Result<T> {
	finalized
		.events
		.iter()
		.find_map(pick)
		.ok_or_else(|| anyhow!("the chain did not report the {what}"))
}

/// `dt doc upload`: a new document, version 0.
pub async fn upload(
	keystore: &Keystore,
	node: &str,
	json: bool,
	request: NewDocument,
	store: StoreArg,
	signer: &str,
) -> Result<Output> {
	let NewDocument { twin, file, title, element, confidentiality: level, media_type } = request;
	let (input, size) = open_input(&file)?;
	let title = check_title(&match title {
		Some(title) => title,
		None => file_name(&file)?,
	})?;
	let media_type = match media_type {
		Some(media_type) => check_media_type(&media_type)?,
		None => guess_media_type(&file).to_owned(),
	};
	let element = element.map(|id| element_id(&id)).transpose()?;
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	if let Some(element) = &element {
		check_element(&client, twin, element).await?;
	}
	ensure_may(&client, twin, &me, Action::AddDocument, "add documents to", level).await?;
	let progress = progress_bar(json, size, "uploading");
	let stored = seal_and_store(
		&client,
		node,
		&store,
		&me,
		(twin, level),
		Sealing::NewDocument,
		input,
		&progress,
	)
	.await
	.with_context(|| format!("uploading {} failed; nothing was registered", file.display()))?;
	let call = pallet_dt_documents::Call::register_document {
		twin,
		title: title.clone().into_bytes().try_into().expect("length checked"),
		media_type: media_type.clone().into_bytes().try_into().expect("length checked"),
		size: stored.uploaded.size,
		content_id: content_id(&stored.uploaded.content_id),
		key_envelope: content_id(&stored.uploaded.key_envelope),
		confidentiality: level,
		element: element.clone(),
	};
	let size = bytes_text(stored.uploaded.size);
	let head = |_| format!("\"{title}\" ({media_type}, {size}), version 0");
	let registration = Registration { twin, level, what: "register the document", head: &head };
	let mut output =
		register_version(keystore, json, &client, &me, stored, call, registration).await?;
	output.json["title"] = json!(title);
	output.json["media_type"] = json!(media_type);
	output.json["confidentiality"] = json!(level_name(level));
	output.json["element"] =
		json!(element.as_ref().map(|e| String::from_utf8_lossy(e).into_owned()));
	Ok(output)
}

/// `dt doc version`: the next version, sealed for the readers cleared now.
pub async fn add_version(
	keystore: &Keystore,
	node: &str,
	json: bool,
	(twin, document, file): (TwinId, DocumentId, PathBuf),
	store: StoreArg,
	signer: &str,
) -> Result<Output> {
	let (input, size) = open_input(&file)?;
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	let info = &history.document;
	if let Some((who, block)) = &info.retired {
		bail!(
			"document {document} was retired by {who} in block {block}: it takes no new versions"
		);
	}
	let level = info.confidentiality;
	ensure_may(&client, twin, &me, Action::VersionDocument, "add versions to", level).await?;
	let progress = progress_bar(json, size, "uploading");
	let stored = seal_and_store(
		&client,
		node,
		&store,
		&me,
		(twin, level),
		Sealing::Version,
		input,
		&progress,
	)
	.await
	.with_context(|| format!("uploading {} failed; nothing was registered", file.display()))?;
	let call = pallet_dt_documents::Call::add_version {
		document,
		size: stored.uploaded.size,
		content_id: content_id(&stored.uploaded.content_id),
		key_envelope: content_id(&stored.uploaded.key_envelope),
	};
	let size = bytes_text(stored.uploaded.size);
	let head = |version| format!("version {version} ({size})");
	let registration = Registration { twin, level, what: "add the version", head: &head };
	register_version(keystore, json, &client, &me, stored, call, registration).await
}

/// What a registration is of: `head` says which version of what, given its number.
struct Registration<'a> {
	twin: TwinId,
	level: Confidentiality,
	what: &'a str,
	head: &'a dyn Fn(VersionNumber) -> String,
}

/// Registers a stored version with `call` (a new document or its next version), publishes
/// its envelope to the readers it was sealed for, and says what was done.
async fn register_version(
	keystore: &Keystore,
	json: bool,
	client: &dt_client::Client,
	me: &Party,
	stored: Stored,
	call: pallet_dt_documents::Call<dt_runtime::Runtime>,
	Registration { twin, level, what, head }: Registration<'_>,
) -> Result<Output> {
	let Stored { store, network, readers, uploaded } = stored;
	let finalized = submit(json, client, &me.pair, RuntimeCall::Documents(call), what)
		.await
		.with_context(|| stored_but_unregistered(&uploaded.content_id))?;
	let (document, version) = reported(
		&finalized,
		|event| match event {
			RuntimeEvent::Documents(pallet_dt_documents::Event::DocumentRegistered {
				document,
				..
			}) => Some((*document, 0)),
			RuntimeEvent::Documents(pallet_dt_documents::Event::DocumentVersionAdded {
				document,
				version,
				..
			}) => Some((*document, *version)),
			_ => None,
		},
		"registration",
	)?;
	let names = Names::new(keystore);
	let published = publish_version(
		network,
		&store,
		me,
		twin,
		document,
		version,
		&readers,
		&uploaded.envelope,
		&names,
	)
	.await?;
	let block = finalized.block;
	Ok(Output {
		text: format!(
			"document {document} on twin {twin}: {}, {}\ncontent id: {}\n{}registered in block {}\n{}",
			head(version),
			level_name(level),
			uploaded.content_id,
			readers_text(&readers, &names),
			block_text(client, block).await,
			published_text(&published, &names)
		),
		json: json!({
			"document": document,
			"twin": twin,
			"version": version,
			"content_id": uploaded.content_id.to_string(),
			"key_envelope": uploaded.key_envelope.to_string(),
			"size": uploaded.size,
			"chunks": uploaded.chunks,
			"readers": readers_json(&readers, &names),
			"skipped": skipped_json(&readers),
			"author_key_registered": readers.author_key_registered,
			"reader_list": published_json(&published),
			"store": store.url(),
			"block": block,
			"block_number": block_number(client, block).await,
		}),
	})
}

/// `dt doc annotate`: a text on a version, sealed like the document.
pub async fn annotate(
	keystore: &Keystore,
	node: &str,
	json: bool,
	(twin, document, version, text): (TwinId, DocumentId, Option<VersionNumber>, String),
	store: StoreArg,
	signer: &str,
) -> Result<Output> {
	if text.trim().is_empty() {
		bail!("the annotation is empty: give its text");
	}
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	let (number, _) = pick_version(&history, version)?;
	let level = history.document.confidentiality;
	// The chain decides whether this account may annotate: an annotation is small, so there
	// is nothing to save by asking first.
	let Stored { store, network, readers, uploaded } = seal_and_store(
		&client,
		node,
		&store,
		&me,
		(twin, level),
		Sealing::Annotation,
		std::io::Cursor::new(text.into_bytes()),
		&ProgressBar::hidden(),
	)
	.await
	.context("storing the annotation failed; nothing was registered")?;
	// Published behind the document's list when this party may; otherwise (a reader
	// annotating) kept as a block, which only the sealed readers can open.
	if network
		&& !envelopes::publish_annotation(&store, &me.pair, document, &uploaded.envelope)
			.await
			.context("publishing the annotation's key envelope failed; nothing was registered")?
	{
		store
			.put(&uploaded.envelope)
			.await
			.context("storing the annotation's key envelope failed; nothing was registered")?;
	}
	let call = pallet_dt_documents::Call::annotate {
		document,
		version: number,
		content_id: content_id(&uploaded.content_id),
	};
	let finalized =
		submit(json, &client, &me.pair, RuntimeCall::Documents(call), "annotate the document")
			.await?;
	let annotation = reported(
		&finalized,
		|event| match event {
			RuntimeEvent::Documents(pallet_dt_documents::Event::DocumentAnnotated {
				annotation,
				..
			}) => Some(*annotation),
			_ => None,
		},
		"annotation",
	)?;
	let names = Names::new(keystore);
	Ok(Output {
		text: format!(
			"annotation {annotation} of version {number} of document {document}\n\
			 content id: {}\n{}registered in block {}",
			uploaded.content_id,
			readers_text(&readers, &names),
			block_text(&client, finalized.block).await
		),
		json: json!({
			"document": document,
			"twin": twin,
			"version": number,
			"annotation": annotation,
			"content_id": uploaded.content_id.to_string(),
			"readers": readers_json(&readers, &names),
			"skipped": skipped_json(&readers),
			"author_key_registered": readers.author_key_registered,
			"block": finalized.block,
			"block_number": block_number(&client, finalized.block).await,
		}),
	})
}

/// `dt doc attach`: the document moved to an element, or to the whole twin.
pub async fn attach(
	keystore: &Keystore,
	node: &str,
	json: bool,
	(twin, document, element): (TwinId, DocumentId, Option<String>),
	signer: &str,
) -> Result<Output> {
	let element = element.map(|id| element_id(&id)).transpose()?;
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	if let Some(element) = &element {
		check_element(&client, twin, element).await?;
	}
	let call = pallet_dt_documents::Call::attach_to_element { document, element: element.clone() };
	let finalized =
		submit(json, &client, &me.pair, RuntimeCall::Documents(call), "attach the document")
			.await?;
	let title = String::from_utf8_lossy(&history.document.title).into_owned();
	let place = element_text(&element)
		.map(|e| format!("element {e}"))
		.unwrap_or_else(|| "the whole twin".into());
	Ok(Output {
		text: format!(
			"document {document} (\"{title}\") attached to {place} of twin {twin} in block {}",
			block_text(&client, finalized.block).await
		),
		json: json!({
			"document": document,
			"twin": twin,
			"element": element_text(&element),
			"block": finalized.block,
			"block_number": block_number(&client, finalized.block).await,
		}),
	})
}

/// `dt doc retire`: no new versions; its history stays readable.
pub async fn retire(
	keystore: &Keystore,
	node: &str,
	json: bool,
	(twin, document): (TwinId, DocumentId),
	signer: &str,
) -> Result<Output> {
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	let call = pallet_dt_documents::Call::retire_document { document };
	let finalized =
		submit(json, &client, &me.pair, RuntimeCall::Documents(call), "retire the document")
			.await?;
	let title = String::from_utf8_lossy(&history.document.title).into_owned();
	Ok(Output {
		text: format!(
			"document {document} (\"{title}\") of twin {twin} retired in block {}; its \
			 versions stay readable",
			block_text(&client, finalized.block).await
		),
		json: json!({
			"document": document,
			"twin": twin,
			"retired": true,
			"block": finalized.block,
			"block_number": block_number(&client, finalized.block).await,
		}),
	})
}
