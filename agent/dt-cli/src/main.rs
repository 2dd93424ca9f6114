//! `dt`: the command-line client of the parties around a twin.

mod access;
mod audit;
mod chain;
mod clock;
mod consortium;
mod documents;
mod feed_read;
mod feed_reader;
mod feeds;
mod key;
mod key_export;
mod keystore;
mod ledger;
mod member;
mod programs;
mod twin;
mod twin_edit;
mod verify;
mod watch;

use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use dt_runtime::AccountId;
use keystore::Keystore;
use serde_json::{json, Value};
use sp_core::{
	crypto::{Pair as _, Ss58Codec},
	sr25519,
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
	Key(key::KeyCommand),
	/// Twins: create from AML, list, show.
	#[command(subcommand)]
	Twin(twin::TwinCommand),
	/// Roles on a twin.
	#[command(subcommand)]
	Access(access::AccessCommand),
	/// Members of the signer's organisation.
	#[command(subcommand)]
	Member(member::MemberCommand),
	/// Governance: open proposals, votes, execution, runtime upgrades.
	#[command(subcommand)]
	Consortium(consortium::ConsortiumCommand),
	/// Documents of a twin: upload (encrypted), new versions, download, annotate, list,
	/// show with their history.
	#[command(subcommand, name = "doc", alias = "document")]
	Document(documents::DocCommand),
	/// Programs of a twin's device: list, call (and wait for the outcome), past calls.
	#[command(subcommand)]
	Program(programs::ProgramCommand),
	/// Sensor feeds: register, list, latest, range, follow; readings outside the expected
	/// range are flagged.
	#[command(subcommand)]
	Feed(feeds::FeedCommand),
	/// The full change trail of a twin, from the chain: who changed what, in which block.
	Audit {
		twin: dt_primitives::access::TwinId,
		/// Start at this block instead of the twin's creation (a node that prunes state
		/// keeps the events of its recent blocks only).
		#[arg(long, value_name = "BLOCK")]
		from: Option<u32>,
	},
	/// Re-checks every document version and feed of a twin in the store against the chain;
	/// exits non-zero on any mismatch.
	Verify {
		twin: dt_primitives::access::TwinId,
		#[command(flatten)]
		store: feeds::StoreNode,
		/// The key (by name) to read feeds above Public as; without it they are skipped.
		#[arg(long = "as", value_name = "KEY")]
		reader: Option<String>,
	},
	/// Prints a twin's ledger updates as their blocks are finalized.
	Watch {
		twin: dt_primitives::access::TwinId,
		/// Stop after this many updates.
		#[arg(long)]
		count: Option<u64>,
	},
}

#[derive(Args, Debug)]
pub struct Signer {
	/// The key (by name) that signs.
	#[arg(long = "as", value_name = "KEY")]
	pub key: String,
}

/// What a command prints: text for people, JSON for programs.
pub struct Output {
	pub text: String,
	pub json: Value,
}

/// A command that ran to its end but whose result is a failure (a program call that failed,
/// a verification that found mismatches): its output is printed as usual and `dt` exits 1.
pub struct Unsuccessful(pub Output);

impl std::fmt::Debug for Unsuccessful {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0.text)
	}
}

impl std::fmt::Display for Unsuccessful {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0.text)
	}
}

impl std::error::Error for Unsuccessful {}

fn print(output: &Output, json: bool) {
	if json {
		// Streaming commands print their own lines and leave nothing to add.
		if !output.json.is_null() {
			println!("{}", serde_json::to_string_pretty(&output.json).expect("JSON"));
		}
	} else if !output.text.is_empty() {
		println!("{}", output.text.trim_end());
	}
}

fn main() {
	let cli = Cli::parse();
	let json = cli.json;
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.expect("a tokio runtime");
	match runtime.block_on(run(cli)) {
		Ok(output) => print(&output, json),
		Err(error) if error.is::<Unsuccessful>() => {
			let Ok(Unsuccessful(output)) = error.downcast::<Unsuccessful>() else { unreachable!() };
			print(&output, json);
			std::process::exit(1);
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
		Command::Key(command) => key::key_command(&keystore, &cli.node, command, cli.json).await,
		Command::Document(command) => {
			documents::doc_command(&keystore, &cli.node, command, cli.json).await
		},
		Command::Twin(command) => twin::twin_command(&keystore, &cli.node, command, cli.json).await,
		Command::Access(command) => access::access_command(&keystore, &cli.node, command).await,
		Command::Member(command) => member::member_command(&keystore, &cli.node, command).await,
		Command::Consortium(command) => {
			consortium::consortium_command(&keystore, &cli.node, command).await
		},
		Command::Program(command) => {
			programs::program_command(&keystore, &cli.node, command, cli.json).await
		},
		Command::Feed(command) => {
			feeds::feed_command(&keystore, &cli.node, command, cli.json).await
		},
		Command::Audit { twin, from } => audit::audit_command(&cli.node, twin, from).await,
		Command::Verify { twin, store, reader } => {
			let party =
				reader.map(|name| feed_reader::Party::unlock(&keystore, &name)).transpose()?;
			verify::verify_command(&cli.node, &store, twin, party.as_ref(), cli.json).await
		},
		Command::Watch { twin, count } => {
			watch::watch_command(&cli.node, twin, count, cli.json).await
		},
	}
}

pub fn passphrase(prompt: &str, confirm: bool) -> Result<String> {
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

pub fn unlock(keystore: &Keystore, signer: &Signer) -> Result<sr25519::Pair> {
	Ok(unlock_key(keystore, &signer.key)?.pair)
}

/// The stored key `name` decrypted: its account and its RSA private key.
pub fn unlock_key(keystore: &Keystore, name: &str) -> Result<keystore::UnlockedKey> {
	// Read first, so that an unknown key is reported before asking for a passphrase.
	let file = keystore.read(name)?;
	let passphrase = passphrase(&format!("Passphrase for key {name}: "), false)?;
	keystore::unlock(&file, &passphrase)
}

/// An account given as an SS58 address, a stored key's name or a secret URI (`//Bob`).
pub fn parse_account(keystore: &Keystore, text: &str) -> Result<AccountId> {
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

#[cfg(test)]
mod tests {
	use super::*;

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
			Command::Access(access::AccessCommand::Grant { twin: 3, account, role, signer }) => {
				assert_eq!((account.as_str(), role.as_str()), ("//Bob", "maintainer"));
				assert_eq!(signer.key, "alice");
			},
			other => panic!("{other:?}"),
		}
		assert!(Cli::try_parse_from(["dt", "twin", "show", "seven"]).is_err());
		assert!(Cli::try_parse_from(["dt", "twin", "create", "x.aml"]).is_err(), "--as required");
	}
}
