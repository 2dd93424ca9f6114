//! `dt-agent`: runs the program calls of a twin on its device.

use clap::Parser;
use dt_agent::{programs::ProgramRunner, simulator::BottlingPlant};
use sp_core::{crypto::Pair as _, sr25519};

/// The device agent of dt-ledger.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
	/// WebSocket RPC endpoint of the owner's dt-node.
	#[arg(long, default_value = "ws://127.0.0.1:9944")]
	node: String,
	/// The twin whose device this agent drives.
	#[arg(long)]
	twin: u32,
	/// The device account's secret: a secret URI such as `//Ferdie` (development) or a
	/// mnemonic. Prefer `DT_AGENT_KEY` in the environment to keep it out of process lists.
	#[arg(long, env = "DT_AGENT_KEY", hide_env_values = true)]
	key: String,
	/// The simulated plant's filling stations (element ids of the twin's specification).
	#[arg(long = "station", default_value = "filler")]
	stations: Vec<String>,
}

#[tokio::main]
async fn main() {
	let options = Options::parse();
	let key = match sr25519::Pair::from_string(&options.key, None) {
		Ok(key) => key,
		Err(error) => {
			eprintln!("dt-agent: --key is not a valid sr25519 secret ({error:?})");
			std::process::exit(2);
		},
	};
	let plant = BottlingPlant::new(options.stations.iter().map(String::as_str));
	eprintln!("dt-agent: driving twin {} through {}", options.twin, options.node);
	ProgramRunner::new(&options.node, key, options.twin, plant).run().await;
}
