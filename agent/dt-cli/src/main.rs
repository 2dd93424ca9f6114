//! `dt`: the command-line client of the parties around a twin.

mod chain;
mod keystore;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use dt_primitives::access::{Grantee, Role, TwinId};
use dt_runtime::{AccountId, RuntimeCall, RuntimeEvent};
use jsonrpsee::rpc_params;
use keystore::Keystore;
use serde_json::{json, Value};
use sp_core::{
	crypto::{Pair as _, Ss58Codec},
	sr25519, H256,
};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "dt", version, about = "The client of the parties around a dt-ledger twin")]
struct Cli {
	/// The node's WebSocket RPC address.
	#[arg(long, global = true, env = "DT_NODE", default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// Where keys are stored (default: $HOME/.dt/keys).
	#[arg(long, global = true, env = "DT_KEYSTORE")]
	keystore: Option<PathBuf>,
	/// Print one JSON document instead of text.
	#[arg(long, global = true)]
	json: bool,
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
	/// Account and encryption keys.
	#[command(subcommand)]
	Key(KeyCommand),
	/// Twins: create from AML, list, show.
	#[command(subcommand)]
	Twin(TwinCommand),
	/// Roles on a twin.
	#[command(subcommand)]
	Access(AccessCommand),
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
	/// Generates an account key and an RSA-3072 encryption key, stored encrypted with a
	/// passphrase (from DT_PASSPHRASE, else asked).
	Create { name: String },
	/// Stores an existing account (e.g. a development account `//Alice`) with a new RSA key.
	Import {
		name: String,
		/// The account's secret URI: a mnemonic, a 0x seed or `//Alice`.
		#[arg(long)]
		suri: String,
	},
	/// The stored keys.
	List,
	/// A key's account address and RSA key fingerprint.
	Show { name: String },
}

#[derive(Subcommand, Debug)]
enum TwinCommand {
	/// Creates a twin from an AML file and prints its id.
	Create {
		file: PathBuf,
		#[command(flatten)]
		signer: Signer,
	},
	/// The chain's twins.
	List,
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

#[derive(Subcommand, Debug)]
enum AccessCommand {
	/// Grants a role on a twin to an account.
	Grant {
		twin: TwinId,
		/// SS58 address, key name or secret URI such as //Bob.
		account: String,
		/// owner, manufacturer, maintainer, auditor, device or custom:ID.
		role: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// Revokes a role on a twin from an account.
	Revoke {
		twin: TwinId,
		account: String,
		role: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// The roles an account holds on a twin.
	Roles { twin: TwinId, account: String },
}

#[derive(Args, Debug)]
struct Signer {
	/// The key (by name) that signs.
	#[arg(long = "as", value_name = "KEY")]
	key: String,
}

/// What a command prints: text for people, JSON for programs.
struct Output {
	text: String,
	json: Value,
}

fn main() {
	let cli = Cli::parse();
	let json = cli.json;
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.expect("a tokio runtime");
	match runtime.block_on(run(cli)) {
		Ok(output) => {
			if json {
				println!("{}", serde_json::to_string_pretty(&output.json).expect("JSON"));
			} else if !output.text.is_empty() {
				println!("{}", output.text.trim_end());
			}
		},
		Err(error) => {
			if json {
				println!("{}", json!({ "error": format!("{error:#}") }));
			}
			eprintln!("error: {error:#}");
			std::process::exit(1);
		},
	}
}

async fn run(cli: Cli) -> Result<Output> {
	let keystore = Keystore::new(match cli.keystore.clone() {
		Some(dir) => dir,
		None => std::env::var_os("HOME")
			.map(|home| PathBuf::from(home).join(".dt/keys"))
			.ok_or_else(|| anyhow!("no HOME: pass --keystore DIR or set DT_KEYSTORE"))?,
	});
	match cli.command {
		Command::Key(command) => key_command(&keystore, command, cli.json),
		Command::Twin(command) => twin_command(&keystore, &cli.node, command, cli.json).await,
		Command::Access(command) => access_command(&keystore, &cli.node, command).await,
	}
}

fn passphrase(prompt: &str, confirm: bool) -> Result<String> {
	if let Ok(passphrase) = std::env::var("DT_PASSPHRASE") {
		return Ok(passphrase);
	}
	let first = rpassword::prompt_password(prompt)
		.context("no passphrase: set DT_PASSPHRASE or run dt in a terminal")?;
	if confirm && rpassword::prompt_password("Repeat the passphrase: ")? != first {
		bail!("the passphrases differ; nothing was stored");
	}
	Ok(first)
}

fn key_json(file: &keystore::KeyFile) -> Value {
	json!({
		"name": file.name,
		"account": file.account,
		"rsa_fingerprint": file.rsa_fingerprint,
		"rsa_public_key": file.rsa_public_der,
	})
}

fn key_command(keystore: &Keystore, command: KeyCommand, json: bool) -> Result<Output> {
	match command {
		KeyCommand::Create { name } | KeyCommand::Import { name, .. }
			if keystore.read(&name).is_ok() =>
		{
			bail!(
				"a key named {name} exists already in {}: choose another name",
				keystore.dir().display()
			)
		},
		KeyCommand::Create { name } => {
			keystore::check_name(&name)?;
			let passphrase = passphrase(&format!("Passphrase for the new key {name}: "), true)?;
			let (_, phrase, _) = sr25519::Pair::generate_with_phrase(None);
			if !json {
				eprintln!("generating an RSA-{} key (this takes a moment)…", keystore::RSA_BITS);
			}
			let rsa = keystore::generate_rsa()?;
			let file = keystore.create(&name, &phrase, &rsa, &passphrase)?;
			Ok(Output {
				text: format!(
					"created key {name}\naccount:         {}\nRSA fingerprint: {}\nstored in {}",
					file.account,
					file.rsa_fingerprint,
					keystore.dir().display()
				),
				json: key_json(&file),
			})
		},
		KeyCommand::Import { name, suri } => {
			keystore::check_name(&name)?;
			sr25519::Pair::from_string(&suri, None).map_err(|e| {
				anyhow!("bad secret URI: {e:?} (expected e.g. //Alice or a mnemonic)")
			})?;
			let passphrase = passphrase(&format!("Passphrase for the key {name}: "), true)?;
			if !json {
				eprintln!("generating an RSA-{} key (this takes a moment)…", keystore::RSA_BITS);
			}
			let rsa = keystore::generate_rsa()?;
			let file = keystore.create(&name, &suri, &rsa, &passphrase)?;
			Ok(Output {
				text: format!(
					"imported key {name}\naccount:         {}\nRSA fingerprint: {}",
					file.account, file.rsa_fingerprint
				),
				json: key_json(&file),
			})
		},
		KeyCommand::List => {
			let keys = keystore.list()?;
			let text = if keys.is_empty() {
				format!(
					"no keys in {} (create one with `dt key create NAME`)",
					keystore.dir().display()
				)
			} else {
				keys.iter()
					.map(|key| format!("{:<16} {}", key.name, key.account))
					.collect::<Vec<_>>()
					.join("\n")
			};
			Ok(Output { text, json: Value::Array(keys.iter().map(key_json).collect()) })
		},
		KeyCommand::Show { name } => {
			let file = keystore.read(&name)?;
			Ok(Output {
				text: format!(
					"key:             {}\naccount:         {}\nRSA fingerprint: {}",
					file.name, file.account, file.rsa_fingerprint
				),
				json: key_json(&file),
			})
		},
	}
}

fn unlock(keystore: &Keystore, signer: &Signer) -> Result<sr25519::Pair> {
	// Read first, so that an unknown key is reported before asking for a passphrase.
	let file = keystore.read(&signer.key)?;
	let passphrase = passphrase(&format!("Passphrase for key {}: ", signer.key), false)?;
	Ok(keystore::unlock(&file, &passphrase)?.pair)
}

async fn twin_command(
	keystore: &Keystore,
	node: &str,
	command: TwinCommand,
	json: bool,
) -> Result<Output> {
	match command {
		TwinCommand::Create { file, signer } => {
			let aml = std::fs::read_to_string(&file)
				.with_context(|| format!("cannot read the AML file {}", file.display()))?;
			let import = dt_client::twin_import(&aml)
				.map_err(|e| anyhow!("{} is not a usable AML file: {e}", file.display()))?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			let total = import.element_count();
			let first = import.create_call();
			let finalized = chain::submit(&client, &pair, first, "create the twin").await?;
			let twin = finalized
				.events
				.iter()
				.find_map(|event| match event {
					RuntimeEvent::TwinSpec(pallet_dt_twin_spec::Event::TwinCreated {
						twin,
						..
					}) => Some(*twin),
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
						elements,
						..
					}) => elements.len(),
					_ => 0,
				};
				chain::submit(&client, &pair, call, "import the twin's elements")
					.await
					.with_context(|| {
						format!("twin {twin} was created but its import stopped at {imported}/{total} elements")
					})?;
				imported += count;
				if !json {
					eprintln!("twin {twin}: imported {imported}/{total} elements");
				}
			}
			Ok(Output {
				text: format!("created twin {twin} with {total} elements"),
				json: json!({ "twin": twin, "elements": total, "block": finalized.block }),
			})
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

/// An account given as an SS58 address, a stored key's name or a secret URI (`//Bob`).
fn parse_account(keystore: &Keystore, text: &str) -> Result<AccountId> {
	if let Ok(account) = AccountId::from_ss58check(text) {
		return Ok(account);
	}
	if text.starts_with("//") {
		let pair = sr25519::Pair::from_string(text, None)
			.map_err(|e| anyhow!("bad secret URI {text}: {e:?}"))?;
		return Ok(pair.public().into());
	}
	if let Ok(file) = keystore.read(text) {
		return AccountId::from_ss58check(&file.account)
			.map_err(|e| anyhow!("the key file of {text} is damaged: {e:?}"));
	}
	bail!(
		"{text} is neither an SS58 address, nor a key in {}, nor a development URI like //Bob",
		keystore.dir().display()
	)
}

fn parse_role(text: &str) -> Result<Role> {
	Ok(match text.to_ascii_lowercase().as_str() {
		"owner" => Role::Owner,
		"manufacturer" => Role::Manufacturer,
		"maintainer" => Role::Maintainer,
		"auditor" => Role::Auditor,
		"device" => Role::Device,
		other => match other.strip_prefix("custom:").map(str::parse) {
			Some(Ok(id)) => Role::Custom(id),
			_ => bail!(
				"unknown role {text:?}: use owner, manufacturer, maintainer, auditor, device or custom:ID"
			),
		},
	})
}

fn role_name(role: &Role) -> String {
	match role {
		Role::Custom(id) => format!("custom:{id}"),
		other => format!("{other:?}").to_lowercase(),
	}
}

async fn access_command(keystore: &Keystore, node: &str, command: AccessCommand) -> Result<Output> {
	let grant = matches!(command, AccessCommand::Grant { .. });
	match command {
		AccessCommand::Grant { twin, account, role, signer }
		| AccessCommand::Revoke { twin, account, role, signer } => {
			let who = parse_account(keystore, &account)?;
			let role = parse_role(&role)?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let grantee = Grantee::Account(who.clone());
			let (call, what) = if grant {
				(pallet_dt_access::Call::grant_role { twin, grantee, role }, "grant the role")
			} else {
				(pallet_dt_access::Call::revoke_role { twin, grantee, role }, "revoke the role")
			};
			let finalized = chain::submit(&client, &pair, RuntimeCall::Access(call), what).await?;
			let verb = if grant { "granted" } else { "revoked" };
			Ok(Output {
				text: format!(
					"{verb} {} on twin {twin} {} {who}",
					role_name(&role),
					if grant { "to" } else { "from" }
				),
				json: json!({
					"twin": twin, "account": who.to_string(), "role": role_name(&role),
					verb: true, "block": finalized.block,
				}),
			})
		},
		AccessCommand::Roles { twin, account } => {
			let who = parse_account(keystore, &account)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let roles: Vec<Role> =
				client.runtime_api("AccessApi_roles_of", (twin, who.clone()), None).await?;
			let names: Vec<String> = roles.iter().map(role_name).collect();
			Ok(Output {
				text: if names.is_empty() {
					format!("{who} holds no role on twin {twin}")
				} else {
					format!("{who} on twin {twin}: {}", names.join(", "))
				},
				json: json!({ "twin": twin, "account": who.to_string(), "roles": names }),
			})
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn roles_parse_and_print_back() {
		for role in Role::BUILT_IN.into_iter().chain([Role::Custom(7)]) {
			assert_eq!(parse_role(&role_name(&role)).unwrap(), role);
		}
		assert_eq!(parse_role("Maintainer").unwrap(), Role::Maintainer);
		let error = parse_role("boss").unwrap_err().to_string();
		assert!(error.contains("owner, manufacturer"), "{error}");
	}

	#[test]
	fn accounts_parse_from_addresses_and_dev_uris() {
		let keystore = Keystore::new("/nonexistent");
		let bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
		assert_eq!(parse_account(&keystore, bob).unwrap().to_string(), bob);
		assert_eq!(parse_account(&keystore, "//Bob").unwrap().to_string(), bob);
		let error = parse_account(&keystore, "nobody").unwrap_err().to_string();
		assert!(error.contains("neither an SS58 address"), "{error}");
	}

	#[test]
	fn attributes_are_read_from_the_first_tag() {
		let xml = r#"<InternalElement ID="x" Name='Filler 1'><Attribute Name="inner"/>"#;
		assert_eq!(attribute(xml, "Name").as_deref(), Some("Filler 1"));
		assert_eq!(attribute(r#"<A RefName="r" Name="n">"#, "Name").as_deref(), Some("n"));
		assert_eq!(attribute("<A ID=\"x\">", "Name"), None);
	}

	#[test]
	fn the_command_line_parses() {
		let cli = Cli::try_parse_from([
			"dt",
			"--json",
			"access",
			"grant",
			"3",
			"//Bob",
			"maintainer",
			"--as",
			"alice",
		])
		.unwrap();
		assert!(cli.json);
		match cli.command {
			Command::Access(AccessCommand::Grant { twin: 3, account, role, signer }) => {
				assert_eq!((account.as_str(), role.as_str()), ("//Bob", "maintainer"));
				assert_eq!(signer.key, "alice");
			},
			other => panic!("{other:?}"),
		}
		assert!(Cli::try_parse_from(["dt", "twin", "show", "seven"]).is_err());
		assert!(Cli::try_parse_from(["dt", "twin", "create", "x.aml"]).is_err(), "--as required");
	}
}
