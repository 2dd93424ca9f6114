//! `dt twin insert | remove | confidentiality | source-add | source-remove | declare-program |
//! remove-program`: the authorized changes to a twin's specification.

use crate::{chain, keystore::Keystore, unlock, Output, Signer};
use anyhow::{anyhow, bail, Context, Result};
use dt_aml::program::{program_parameters, ParameterKind, ProgramParameter};
use dt_client::Client;
use dt_primitives::{
	access::{Confidentiality, ElementId, TwinId},
	program::{ParameterDeclaration, ParameterType},
};
use dt_runtime::RuntimeCall;
use jsonrpsee::rpc_params;
use pallet_dt_twin_spec::{Call as SpecCall, SourceKind};
use serde_json::json;
use sp_runtime::{traits::Get, BoundedVec};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum TwinEdit {
	/// Inserts an AML element (with the elements nested in it) under a parent element, in one
	/// transaction, all or none (a snippet of more than 120 elements in several, each all or
	/// none).
	Insert {
		twin: TwinId,
		/// A file holding the element's AML snippet.
		#[arg(required_unless_present = "xml", conflicts_with = "xml")]
		file: Option<PathBuf>,
		/// The snippet itself, instead of a file.
		#[arg(long)]
		xml: Option<String>,
		/// The id of the parent element.
		#[arg(long)]
		parent: String,
		/// The id of the sibling it follows; first child when left out.
		#[arg(long)]
		after: Option<String>,
		#[command(flatten)]
		signer: Signer,
	},
	/// Removes an element with everything below it.
	Remove {
		twin: TwinId,
		element: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// Sets the confidentiality level of an element (public, internal, confidential, secret).
	Confidentiality {
		twin: TwinId,
		element: String,
		level: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// References an external data source (a URI) from the twin or one of its elements.
	SourceAdd {
		twin: TwinId,
		uri: String,
		/// The element it describes; the whole twin when left out.
		#[arg(long)]
		element: Option<String>,
		#[arg(long, default_value = "")]
		description: String,
		/// web, opc-ua, mqtt, database, file or other.
		#[arg(long, default_value = "web")]
		kind: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// Removes an external data source by its id (`dt twin sources` lists them).
	SourceRemove {
		twin: TwinId,
		source: u32,
		#[command(flatten)]
		signer: Signer,
	},
	/// The twin's external data sources.
	Sources { twin: TwinId },
	/// Declares the device program an element offers, with the parameters and safety bounds
	/// its AML attributes give (see `dt program list`). Needs the declare-programs permission
	/// (the owner's and the manufacturer's by default, not the maintainer's). The declaration
	/// is anchored to the element its parameters come from: while it stands, changing or
	/// removing that element's AML needs declare-programs too. Declaring a program again
	/// replaces its bounds; every party watching the twin is told.
	DeclareProgram {
		twin: TwinId,
		/// The element offering the program (e.g. an ExternalInterface of a program class, or
		/// the station the device runs it on).
		element: String,
		program: String,
		/// The element whose AML attributes give the parameters and bounds (default: ELEMENT
		/// itself), e.g. the program's ExternalInterface when the program is declared on its
		/// station.
		#[arg(long, value_name = "ELEMENT")]
		parameters_from: Option<String>,
		#[command(flatten)]
		signer: Signer,
	},
	/// Withdraws a declared program (needs declare-programs).
	RemoveProgram {
		twin: TwinId,
		element: String,
		program: String,
		#[command(flatten)]
		signer: Signer,
	},
}

pub async fn twin_edit(keystore: &Keystore, node: &str, command: TwinEdit) -> Result<Output> {
	match command {
		TwinEdit::Insert { twin, file, xml, parent, after, signer } => {
			let snippet = match (file, xml) {
				(Some(path), _) => std::fs::read_to_string(&path)
					.with_context(|| format!("cannot read the AML snippet {}", path.display()))?,
				(None, Some(xml)) => xml,
				(None, None) => bail!("give the snippet as a FILE or with --xml"),
			};
			let records =
				dt_aml::parse_snippet(snippet.as_bytes(), Some(&parent), after.as_deref())
					.map_err(|e| anyhow!("the snippet is not an insertable AML element: {e}"))?;
			let insertions = dt_client::insertion_calls(twin, &parent, &records)?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let mut block = None;
			let mut inserted = 0;
			for insertion in insertions {
				let finalized =
					chain::submit(&client, &pair, insertion.call, "insert the elements")
						.await
						.with_context(|| match inserted {
							0 => format!("none of the {} elements was inserted", records.len()),
							_ => format!(
								"{inserted} of {} elements were inserted; {} and the rest were not",
								records.len(),
								insertion.elements[0]
							),
						})?;
				inserted += insertion.elements.len();
				block = Some(finalized.block);
			}
			let ids: Vec<&str> = records.iter().map(|record| record.id.as_str()).collect();
			Ok(Output {
				text: format!("inserted {} under {parent} of twin {twin}", ids.join(", ")),
				json: json!({ "twin": twin, "inserted": ids, "parent": parent, "block": block }),
			})
		},
		TwinEdit::Remove { twin, element, signer } => {
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let mut tree = current_tree(&client, twin).await?;
			let removed = tree.remove(&element).map_err(|_| {
				anyhow!("twin {twin} has no element {element} (`dt twin show {twin}` lists them)")
			})?;
			let call = RuntimeCall::TwinSpec(SpecCall::remove_element {
				twin,
				element: element_id(&element)?,
				subtree_size: removed.len() as u32,
			});
			let finalized = chain::submit(&client, &pair, call, "remove the element").await?;
			Ok(Output {
				text: format!(
					"removed {element} and {} element(s) below it from twin {twin}",
					removed.len().saturating_sub(1)
				),
				json: json!({ "twin": twin, "removed": removed, "block": finalized.block }),
			})
		},
		TwinEdit::Confidentiality { twin, element, level, signer } => {
			let level = parse_confidentiality(&level)?;
			let call = RuntimeCall::TwinSpec(SpecCall::set_element_confidentiality {
				twin,
				element: element_id(&element)?,
				level,
			});
			let block =
				submit_to_twin(keystore, node, twin, &signer, call, "set the level").await?;
			let name = confidentiality_name(level);
			Ok(Output {
				text: format!("element {element} of twin {twin} is now {name}"),
				json: json!({ "twin": twin, "element": element, "level": name, "block": block }),
			})
		},
		TwinEdit::SourceAdd { twin, uri, element, description, kind, signer } => {
			let call = RuntimeCall::TwinSpec(SpecCall::add_external_source {
				twin,
				element: element.as_deref().map(element_id).transpose()?,
				uri: bounded(&uri, "the URI")?,
				description: bounded(&description, "the description")?,
				kind: parse_source_kind(&kind)?,
			});
			let block =
				submit_to_twin(keystore, node, twin, &signer, call, "add the source").await?;
			Ok(Output {
				text: format!("twin {twin} references {uri}"),
				json: json!({ "twin": twin, "uri": uri, "element": element, "block": block }),
			})
		},
		TwinEdit::SourceRemove { twin, source, signer } => {
			let call = RuntimeCall::TwinSpec(SpecCall::remove_external_source { twin, source });
			let block =
				submit_to_twin(keystore, node, twin, &signer, call, "remove the source").await?;
			Ok(Output {
				text: format!("removed source {source} from twin {twin}"),
				json: json!({ "twin": twin, "source": source, "block": block }),
			})
		},
		TwinEdit::Sources { twin } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let sources: Vec<pallet_dt_twin_spec::ExternalSourceRecord<dt_runtime::AccountId>> =
				client.runtime_api("TwinSpecApi_external_sources", twin, None).await?;
			let text = if sources.is_empty() {
				format!("twin {twin} references no external sources")
			} else {
				sources
					.iter()
					.map(|source| {
						format!(
							"{:>4}  {:<9} {}{}{}",
							source.id,
							format!("{:?}", source.kind).to_lowercase(),
							String::from_utf8_lossy(&source.uri),
							source
								.element
								.as_ref()
								.map(|e| format!("  (element {})", String::from_utf8_lossy(e)))
								.unwrap_or_default(),
							if source.description.is_empty() {
								String::new()
							} else {
								format!("  {}", String::from_utf8_lossy(&source.description))
							},
						)
					})
					.collect::<Vec<_>>()
					.join("\n")
			};
			let json = sources
				.iter()
				.map(|source| {
					json!({
						"id": source.id,
						"kind": format!("{:?}", source.kind).to_lowercase(),
						"uri": String::from_utf8_lossy(&source.uri),
						"element": source.element.as_ref().map(|e| String::from_utf8_lossy(e).into_owned()),
						"description": String::from_utf8_lossy(&source.description),
					})
				})
				.collect();
			Ok(Output { text, json: serde_json::Value::Array(json) })
		},
		TwinEdit::DeclareProgram { twin, element, program, parameters_from, signer } => {
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let tree = current_tree(&client, twin).await?;
			let unknown = |id: &str| {
				anyhow!("twin {twin} has no element {id} (`dt twin show {twin}` lists them)")
			};
			if !tree.contains(&element) {
				return Err(unknown(&element));
			}
			let described = parameters_from.as_deref().unwrap_or(&element);
			let xml = subtree_xml(&tree, described).ok_or_else(|| unknown(described))?;
			let fragment = dt_aml::Fragment::parse(&xml)
				.map_err(|e| anyhow!("element {described}'s AML does not parse: {e}"))?;
			let parameters = program_parameters(&fragment).map_err(|e| {
				anyhow!("element {described} does not describe program parameters: {e}")
			})?;
			let names: Vec<String> = parameters.iter().map(describe_parameter).collect();
			let declarations = parameters
				.into_iter()
				.map(declaration)
				.collect::<Result<Vec<_>>>()?
				.try_into()
				.map_err(|_| anyhow!("element {element} declares too many parameters"))?;
			let call = RuntimeCall::TwinSpec(SpecCall::declare_program {
				twin,
				element: element_id(&element)?,
				program: bounded(&program, "the program's name")?,
				parameters: declarations,
				described_by: element_id(described)?,
			});
			let finalized = chain::submit(&client, &pair, call, "declare the program").await?;
			Ok(Output {
				text: format!(
					"element {element} of twin {twin} offers {program}({})",
					names.join(", ")
				),
				json: json!({
					"twin": twin, "element": element, "program": program,
					"describedBy": described, "parameters": names, "block": finalized.block,
				}),
			})
		},
		TwinEdit::RemoveProgram { twin, element, program, signer } => {
			let call = RuntimeCall::TwinSpec(SpecCall::remove_program {
				twin,
				element: element_id(&element)?,
				program: bounded(&program, "the program's name")?,
			});
			let block =
				submit_to_twin(keystore, node, twin, &signer, call, "remove the program").await?;
			Ok(Output {
				text: format!("element {element} of twin {twin} no longer offers {program}"),
				json: json!({ "twin": twin, "element": element, "program": program, "block": block }),
			})
		},
	}
}

/// Unlocks the signer, checks the twin exists and submits; the finalized block's hash.
async fn submit_to_twin(
	keystore: &Keystore,
	node: &str,
	twin: TwinId,
	signer: &Signer,
	call: RuntimeCall,
	what: &str,
) -> Result<sp_core::H256> {
	let pair = unlock(keystore, signer)?;
	let client = chain::connect(node).await?;
	chain::twin(&client, twin).await?;
	Ok(chain::submit(&client, &pair, call, what).await?.block)
}

/// The twin's specification as it stands at the best block.
async fn current_tree(client: &Client, twin: TwinId) -> Result<dt_aml::AmlTree> {
	let aml: String = client
		.request("twin_getAml", rpc_params![twin, Option::<sp_core::H256>::None])
		.await
		.map_err(|e| anyhow!("cannot read twin {twin}'s AML: {e}"))?;
	dt_aml::AmlTree::parse_str(&aml)
		.map_err(|e| anyhow!("the chain's document of twin {twin} does not parse: {e}"))
}

/// The XML of `id` with everything below it, as one element.
fn subtree_xml(tree: &dt_aml::AmlTree, id: &str) -> Option<String> {
	let top = tree.get(id)?;
	let mut subtree = dt_aml::AmlTree::new(dt_aml::DocumentHeader::default());
	let mut pending = vec![top];
	let mut first = true;
	while let Some(node) = pending.pop() {
		let mut record = node.to_record();
		if first {
			record.parent = None;
			record.previous_sibling = None;
			first = false;
		}
		subtree.insert_record(record).ok()?;
		let children: Vec<_> = node.children().collect();
		pending.extend(children.into_iter().rev());
	}
	subtree.to_xml_string().ok()
}

/// The chain's declaration of a parameter the AML describes.
fn declaration(parameter: ProgramParameter) -> Result<ParameterDeclaration> {
	let allowed = parameter
		.allowed
		.iter()
		.map(|value| bounded(value, "an allowed value"))
		.collect::<Result<Vec<_>>>()?
		.try_into()
		.map_err(|_| anyhow!("parameter {} lists too many allowed values", parameter.name))?;
	Ok(ParameterDeclaration {
		name: bounded(&parameter.name, "a parameter's name")?,
		kind: match parameter.kind {
			ParameterKind::Boolean => ParameterType::Boolean,
			ParameterKind::Integer => ParameterType::Integer,
			ParameterKind::Decimal { decimals } => ParameterType::Decimal { decimals },
			ParameterKind::Text => ParameterType::Text,
		},
		min: parameter.min,
		max: parameter.max,
		allowed,
		unit: bounded(parameter.unit.as_deref().unwrap_or_default(), "a parameter's unit")?,
	})
}

fn describe_parameter(parameter: &ProgramParameter) -> String {
	let kind = match parameter.kind {
		ParameterKind::Boolean => "boolean".to_string(),
		ParameterKind::Integer => "integer".to_string(),
		ParameterKind::Decimal { decimals } => format!("decimal/{decimals}"),
		ParameterKind::Text => "text".to_string(),
	};
	format!("{}: {kind}", parameter.name)
}

pub fn element_id(text: &str) -> Result<ElementId> {
	bounded(text, "an element id")
}

fn bounded<S: Get<u32>>(text: &str, what: &str) -> Result<BoundedVec<u8, S>> {
	text.as_bytes()
		.to_vec()
		.try_into()
		.map_err(|_| anyhow!("{what} is longer than the chain allows ({} bytes)", S::get()))
}

/// public, internal, confidential or secret.
pub fn parse_confidentiality(text: &str) -> Result<Confidentiality> {
	Ok(match text.to_ascii_lowercase().as_str() {
		"public" => Confidentiality::Public,
		"internal" => Confidentiality::Internal,
		"confidential" => Confidentiality::Confidential,
		"secret" => Confidentiality::Secret,
		_ => bail!("unknown level {text:?}: use public, internal, confidential or secret"),
	})
}

pub use dt_client::ledger::confidentiality_name;

fn parse_source_kind(text: &str) -> Result<SourceKind> {
	Ok(match text.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
		"web" => SourceKind::Web,
		"opcua" => SourceKind::OpcUa,
		"mqtt" => SourceKind::Mqtt,
		"database" => SourceKind::Database,
		"file" => SourceKind::File,
		"other" => SourceKind::Other,
		_ => bail!("unknown source kind {text:?}: use web, opc-ua, mqtt, database, file or other"),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn levels_and_kinds_parse() {
		for level in [
			Confidentiality::Public,
			Confidentiality::Internal,
			Confidentiality::Confidential,
			Confidentiality::Secret,
		] {
			assert_eq!(parse_confidentiality(&confidentiality_name(level)).unwrap(), level);
		}
		assert!(parse_confidentiality("top").unwrap_err().to_string().contains("secret"));
		assert_eq!(parse_source_kind("OPC-UA").unwrap(), SourceKind::OpcUa);
		assert!(parse_source_kind("ftp").is_err());
	}

	#[test]
	fn a_program_element_is_reassembled_with_its_parameters() {
		let aml = r#"<CAEXFile FileName="p.aml"><InstanceHierarchy Name="H"><InternalElement Name="Filler" ID="filler"><ExternalInterface Name="SetFillVolume" ID="set-fill-volume" RefBaseClassPath="Lib/Program"><Attribute Name="volume" AttributeDataType="xs:double" Unit="ml"><Constraint Name="Safe"><OrdinalScaledType><RequiredMaxValue>1500.5</RequiredMaxValue><RequiredMinValue>250</RequiredMinValue></OrdinalScaledType></Constraint></Attribute></ExternalInterface></InternalElement></InstanceHierarchy></CAEXFile>"#;
		let tree = dt_aml::AmlTree::parse_str(aml).unwrap();
		let xml = subtree_xml(&tree, "set-fill-volume").unwrap();
		let parameters = program_parameters(&dt_aml::Fragment::parse(&xml).unwrap()).unwrap();
		assert_eq!(parameters.len(), 1, "{xml}");
		let volume = declaration(parameters[0].clone()).unwrap();
		assert_eq!(volume.kind, ParameterType::Decimal { decimals: 1 });
		assert_eq!((volume.min, volume.max), (Some(2_500), Some(15_005)));
		assert!(subtree_xml(&tree, "nothing").is_none());
	}
}
