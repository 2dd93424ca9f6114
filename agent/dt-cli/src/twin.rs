//! `dt twin`: create a twin from an AML file, list the chain's twins, show one as a tree;
//! the changes to a twin's specification are in [`crate::twin_edit`].

use crate::{chain, unlock, Output, Signer};
use anyhow::{anyhow, Context, Result};
use clap::Subcommand;
use dt_primitives::access::TwinId;
use dt_runtime::{RuntimeCall, RuntimeEvent};
use jsonrpsee::rpc_params;
use keystore::Keystore;
use serde_json::{json, Value};
use sp_core::H256;
use std::path::{Path, PathBuf};

use crate::keystore;

#[derive(Subcommand, Debug)]
pub enum TwinCommand {
	/// Creates a twin from an AML file and prints its id.
	Create {
		file: PathBuf,
		/// Give every later element whose ID repeats an earlier one a fresh ID (references
		/// to it inside the file follow where they are unambiguous), reporting each change
		/// with its line. The file itself is not changed.
		#[arg(long)]
		repair_duplicate_ids: bool,
		#[command(flatten)]
		signer: Signer,
	},
	/// The chain's twins.
	List,
	#[command(flatten)]
	Edit(crate::twin_edit::TwinEdit),
	/// A twin's elements as a tree.
	Show {
		twin: TwinId,
		/// Also show structural nodes (attributes, interfaces ... without an ID).
		#[arg(long)]
		all: bool,
	},
	/// A twin's AML document.
	Aml {
		twin: TwinId,
		/// The block (hash) to read it at; the best block by default.
		#[arg(long)]
		at: Option<H256>,
		/// Write it to this file instead of standard output.
		#[arg(short, long)]
		output: Option<PathBuf>,
	},
}

pub async fn twin_command(
	keystore: &Keystore,
	node: &str,
	command: TwinCommand,
	json: bool,
) -> Result<Output> {
	match command {
		TwinCommand::Edit(edit) => crate::twin_edit::twin_edit(keystore, node, edit).await,
		TwinCommand::Create { file, repair_duplicate_ids, signer } => {
			create_twin(keystore, node, &file, repair_duplicate_ids, &signer, json).await
		},
		TwinCommand::List => {
			let client = chain::connect(node).await?;
			let twins = chain::twins(&client).await?;
			let text = if twins.is_empty() {
				"no twins yet (create one with `dt twin create FILE.aml --as KEY`)".into()
			} else {
				twins
					.iter()
					.map(|(id, info)| {
						format!(
							"twin {id}: {} elements, created by {} in block {}{}",
							info.element_count,
							info.creator,
							info.created_at,
							if info.importing { " (import in progress)" } else { "" }
						)
					})
					.collect::<Vec<_>>()
					.join("\n")
			};
			let json = twins
				.iter()
				.map(|(id, info)| {
					json!({
						"twin": id,
						"creator": info.creator.to_string(),
						"created_at": info.created_at,
						"elements": info.element_count,
						"importing": info.importing,
						"root": info.root.as_ref().map(|r| String::from_utf8_lossy(r).into_owned()),
					})
				})
				.collect();
			Ok(Output { text, json: Value::Array(json) })
		},
		TwinCommand::Show { twin, all } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let aml = get_aml(&client, twin, None).await?;
			let tree = dt_aml::AmlTree::parse_str(&aml)
				.map_err(|e| anyhow!("the chain's document of twin {twin} does not parse: {e}"))?;
			let (text, json) = render_tree(&tree, all);
			Ok(Output { text, json: json!({ "twin": twin, "elements": json }) })
		},
		TwinCommand::Aml { twin, at, output } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let aml = get_aml(&client, twin, at).await?;
			match output {
				Some(path) => {
					std::fs::write(&path, &aml)
						.with_context(|| format!("cannot write {}", path.display()))?;
					Ok(Output {
						text: format!("wrote twin {twin}'s AML to {}", path.display()),
						json: json!({ "twin": twin, "file": path, "bytes": aml.len() }),
					})
				},
				None if !json => {
					print!("{aml}");
					Ok(Output { text: String::new(), json: Value::Null })
				},
				None => {
					Ok(Output { text: String::new(), json: json!({ "twin": twin, "aml": aml }) })
				},
			}
		},
	}
}

/// `dt twin create`: reads the file (repairing repeated IDs if asked), then creates the
/// twin with its first elements and imports the rest, one finalized call at a time.
async fn create_twin(
	keystore: &Keystore,
	node: &str,
	file: &Path,
	repair_duplicate_ids: bool,
	signer: &Signer,
	json: bool,
) -> Result<Output> {
	let (tree, repairs) = read_twin_document(file, repair_duplicate_ids)?;
	if !json {
		for repair in &repairs {
			eprintln!("{}: {repair}", file.display());
		}
	}
	let import = dt_client::twin_import(&tree)
		.map_err(|e| anyhow!("{} is not a usable AML file: {e}", file.display()))?;
	let pair = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	let total = import.element_count();
	let first = import.create_call();
	let finalized = chain::submit(&client, &pair, first, "create the twin").await?;
	let twin = finalized
		.events
		.iter()
		.find_map(|event| match event {
			RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated { twin, .. }) => {
				Some(*twin)
			},
			_ => None,
		})
		.ok_or_else(|| anyhow!("the chain did not report the new twin"))?;
	let mut imported = total.min(dt_client::ELEMENTS_PER_CALL);
	if !json {
		eprintln!("twin {twin}: imported {imported}/{total} elements");
	}
	for call in import.import_calls(twin) {
		let count = match &call {
			RuntimeCall::TwinSpec(pallet_dt_twin_spec::Call::import_elements {
				elements, ..
			}) => elements.len(),
			_ => 0,
		};
		chain::submit(&client, &pair, call, "import the twin's elements")
			.await
			.with_context(|| {
				format!(
					"twin {twin} was created but its import stopped at {imported}/{total} elements"
				)
			})?;
		imported += count;
		if !json {
			eprintln!("twin {twin}: imported {imported}/{total} elements");
		}
	}
	let repairs: Vec<Value> = repairs.iter().map(|repair| json!(repair.to_string())).collect();
	Ok(Output {
		text: format!("created twin {twin} with {total} elements"),
		json: json!({
			"twin": twin,
			"elements": total,
			"block": finalized.block,
			"repairs": repairs,
		}),
	})
}

/// Reads an AML file as the element tree a twin is created from. Repeated IDs are refused
/// with the place and the option that repairs them, or repaired when `repair` is set.
fn read_twin_document(
	file: &Path,
	repair: bool,
) -> Result<(dt_aml::AmlTree, Vec<dt_aml::IdRepair>)> {
	let aml = std::fs::read_to_string(file)
		.with_context(|| format!("cannot read the AML file {}", file.display()))?;
	let (aml, repairs) = if repair {
		let repaired = dt_aml::repair_duplicate_ids(&aml, random_guid)
			.map_err(|e| anyhow!("{} is not a usable AML file: {e}", file.display()))?;
		(repaired.text, repaired.repairs)
	} else {
		(aml, Vec::new())
	};
	let tree = dt_aml::AmlTree::parse_str(&aml).map_err(|e| match e {
		dt_aml::AmlError::DuplicateIdInDocument { .. } => anyhow!(
			"{} is not a usable AML file: {e}; run again with --repair-duplicate-ids to give \
			 every later element with a repeated ID a fresh one",
			file.display()
		),
		e => anyhow!("{} is not a usable AML file: {e}", file.display()),
	})?;
	Ok((tree, repairs))
}

/// A random (version 4) GUID in the lower-case form AutomationML tools write.
fn random_guid() -> String {
	let mut bytes = [0u8; 16];
	getrandom::fill(&mut bytes).expect("the operating system provides randomness");
	bytes[6] = (bytes[6] & 0x0f) | 0x40;
	bytes[8] = (bytes[8] & 0x3f) | 0x80;
	let hex = hex::encode(bytes);
	format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

async fn get_aml(client: &dt_client::Client, twin: TwinId, at: Option<H256>) -> Result<String> {
	client
		.request::<String>("twin_getAml", rpc_params![twin, at])
		.await
		.map_err(|e| anyhow!("cannot read twin {twin}'s AML: {e}"))
}

/// The elements as an indented tree: `id  Tag Name="…"`.
fn render_tree(tree: &dt_aml::AmlTree, all: bool) -> (String, Vec<Value>) {
	let mut text = String::new();
	let mut json = Vec::new();
	let Some(root) = tree.root() else { return (text, json) };
	let mut stack = vec![(root, 0usize)];
	while let Some((node, depth)) = stack.pop() {
		let shown = all || !node.is_structural() || node.parent().is_none();
		let child_depth = if shown { depth + 1 } else { depth };
		if shown {
			let fragment = node.fragment();
			let name = attribute(fragment.as_str(), "Name");
			text.push_str(&format!(
				"{}{} {}{}\n",
				"  ".repeat(depth),
				node.id(),
				fragment.name(),
				name.as_ref().map(|n| format!(" \"{n}\"")).unwrap_or_default()
			));
			json.push(json!({
				"id": node.id(),
				"depth": depth,
				"tag": fragment.name(),
				"name": name,
				"parent": node.parent().map(|p| p.id().to_owned()),
			}));
		}
		let children: Vec<_> = node.children().collect();
		for child in children.into_iter().rev() {
			stack.push((child, child_depth));
		}
	}
	(text, json)
}

/// The value of an attribute of the first tag of `xml`.
fn attribute(xml: &str, name: &str) -> Option<String> {
	let tag_end = xml.find('>').unwrap_or(xml.len());
	let tag = &xml[..tag_end];
	let mut rest = tag;
	while let Some(position) = rest.find(name) {
		let before = rest[..position].chars().last();
		let after = &rest[position + name.len()..];
		if before.is_some_and(char::is_whitespace) {
			let after = after.trim_start();
			if let Some(value) = after.strip_prefix('=') {
				let value = value.trim_start();
				let quote = value.chars().next()?;
				let value = &value[1..];
				return value.find(quote).map(|end| value[..end].to_owned());
			}
		}
		rest = after;
	}
	None
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn attributes_are_read_from_the_first_tag() {
		let xml = r#"<InternalElement ID="x" Name='Filler 1'><Attribute Name="inner"/>"#;
		assert_eq!(attribute(xml, "Name").as_deref(), Some("Filler 1"));
		assert_eq!(attribute(r#"<A RefName="r" Name="n">"#, "Name").as_deref(), Some("n"));
		assert_eq!(attribute("<A ID=\"x\">", "Name"), None);
	}
}
