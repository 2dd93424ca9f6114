//! `dt doc download`, `list` and `show`: a version fetched, checked block by block against
//! its content id and decrypted with the party's key; a twin's documents; a document's
//! history with the annotations the party may open.

use super::{
	bytes_text, check_element, document_of, element_id, envelopes, history_json, history_text,
	level_name, no_access, not_a_reader, output_directory, pick_version, progress_bar,
	read_annotations, record_json, record_line, stored_account, transfer, unlock, FetchError,
	History, Names, Record, StoreArg, TransferError,
};
use crate::{chain, keystore::Keystore, Output};
use anyhow::{anyhow, bail, Context, Result};
use dt_primitives::access::TwinId;
use pallet_dt_documents::{DocumentId, VersionNumber};
use serde_json::{json, Value};
use std::{collections::BTreeMap, path::PathBuf};

/// `dt doc download`: writes the version to `output` only once every block verified.
pub async fn download(
	keystore: &Keystore,
	node: &str,
	json: bool,
	(twin, document, version): (TwinId, DocumentId, Option<VersionNumber>),
	output: PathBuf,
	store: StoreArg,
	signer: &str,
) -> Result<Output> {
	let directory = output_directory(&output)?;
	let me = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	let (number, registered) = pick_version(&history, version)?;
	let store = store.connect(node).await?;
	let manifest = transfer::manifest(&store, &registered)
		.await
		.with_context(|| format!("cannot read version {number} of document {document}"))?;
	let envelope_id = *manifest.envelope();
	let envelope = match envelopes::fetch(&store, &me.pair, document, &envelope_id).await {
		Err(FetchError::NotAReader(refusal)) => {
			let reason = not_a_reader(&refusal);
			return Err(no_access(&client, &me, &history, number, &reason).await);
		},
		other => other.with_context(|| {
			format!("cannot read the key envelope of version {number} of document {document}")
		})?,
	};
	let key = match transfer::open_key(envelope_id, &envelope, &me.private) {
		Err(TransferError::NotARecipient { fingerprint }) => {
			let reason =
				format!("the document key was not sealed for its encryption key {fingerprint}");
			return Err(no_access(&client, &me, &history, number, &reason).await);
		},
		other => {
			other.with_context(|| format!("cannot open version {number} of document {document}"))?
		},
	};
	let mut partial = tempfile::Builder::new()
		.prefix(".dt-download-")
		.tempfile_in(&directory)
		.with_context(|| format!("cannot write in {}", directory.display()))?;
	let progress = progress_bar(json, registered.size, "downloading");
	let written = transfer::decrypt_into(&store, &manifest, key, partial.as_file_mut(), &progress)
		.await
		.with_context(|| {
			format!(
				"cannot read version {number} of document {document}; nothing was written to {}",
				output.display()
			)
		})?;
	progress.finish_and_clear();
	partial
		.as_file()
		.sync_all()
		.with_context(|| format!("cannot write in {}", directory.display()))?;
	partial
		.persist(&output)
		.map_err(|e| anyhow!("cannot write {}: {}", output.display(), e.error))?;
	let title = String::from_utf8_lossy(&history.document.title).into_owned();
	Ok(Output {
		text: format!(
			"wrote version {number} of document {document} (\"{title}\", {}) to {}\n\
			 every block verified against content id {}",
			bytes_text(written),
			output.display(),
			registered.content_id
		),
		json: json!({
			"document": document,
			"twin": twin,
			"version": number,
			"title": title,
			"file": output,
			"size": written,
			"content_id": registered.content_id.to_string(),
			"store": store.url(),
		}),
	})
}

/// `dt doc list`: the twin's documents, or an element's, or those `reader` may read.
pub async fn list(
	keystore: &Keystore,
	node: &str,
	twin: TwinId,
	element: Option<String>,
	reader: Option<String>,
) -> Result<Output> {
	let element = element.map(|id| element_id(&id)).transpose()?;
	let reader = reader.map(|name| stored_account(keystore, &name)).transpose()?;
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	let records: Vec<Record> = match &element {
		Some(element) => {
			check_element(&client, twin, element).await?;
			client
				.runtime_api(
					"DocumentsApi_documents_of_element",
					(twin, element.clone(), reader.clone()),
					None,
				)
				.await?
		},
		None => {
			client
				.runtime_api("DocumentsApi_documents_of_twin", (twin, reader.clone()), None)
				.await?
		},
	};
	let names = Names::new(keystore);
	let text = if records.is_empty() {
		format!(
			"no documents on twin {twin}{}{} (upload one with `dt doc upload {twin} FILE --as KEY`)",
			element
				.as_ref()
				.map(|e| format!(" attached to {}", String::from_utf8_lossy(e)))
				.unwrap_or_default(),
			reader.as_ref().map(|r| format!(" that {} may read", names.of(r))).unwrap_or_default()
		)
	} else {
		records
			.iter()
			.map(|record| record_line(record, &names))
			.collect::<Vec<_>>()
			.join("\n")
	};
	Ok(Output {
		text,
		json: Value::Array(records.iter().map(|record| record_json(record, &names)).collect()),
	})
}

/// `dt doc show`: a document's history, with the annotations `reader` may open.
pub async fn show(
	keystore: &Keystore,
	node: &str,
	(twin, document): (TwinId, DocumentId),
	reader: Option<String>,
	store: StoreArg,
) -> Result<Output> {
	let client = chain::connect(node).await?;
	let history = document_of(&client, twin, document).await?;
	let mut annotations = BTreeMap::new();
	if let Some(name) = reader {
		let me = unlock(keystore, &name)?;
		let visible: Option<History> = client
			.runtime_api(
				"DocumentsApi_document_with_history",
				(document, Some(me.account.clone())),
				None,
			)
			.await?;
		if visible.is_none() {
			bail!(
				"{name} ({}) is not cleared to read document {document}, which is {}: \
				 ask an access manager of twin {twin} (e.g. its owner) for a role that reaches it",
				me.account,
				level_name(history.document.confidentiality)
			);
		}
		let store = store.connect(node).await?;
		annotations = read_annotations(&store, &history, &me).await;
	}
	let names = Names::new(keystore);
	Ok(Output {
		text: history_text(&history, &annotations, &names),
		json: history_json(&history, &annotations, &names),
	})
}
