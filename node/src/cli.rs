//! The command line of dt-node.

use crate::consortium_spec::ConsortiumSpecCmd;

#[derive(Debug, clap::Parser)]
#[command(
	about = "A partner's node of a dt-ledger consortium chain",
	after_help = "Start a single development node: dt-node --dev\n\
	              Start one of the four partners of the local consortium: see scripts/local-network.sh\n\
	              Generate the chain specification of a real consortium: dt-node consortium-spec --help\n\
	              The node runs the single-state transaction pool unless --pool-type names another:\n\
	              the fork-aware pool loses transactions of large bursts on a chain that several\n\
	              partners author (docs/performance.md)"
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub store_network: crate::offchain_network::StoreNetworkParams,

	#[clap(flatten)]
	pub finality: FinalityParams,
}

/// How the node's GRANDPA voter paces its rounds.
#[derive(Debug, Clone, clap::Args)]
pub struct FinalityParams {
	/// How long GRANDPA waits for the partners' votes before it casts its own, in
	/// milliseconds: it prevotes after twice this and precommits after four times this,
	/// sooner once the votes it needs have arrived. A round, and so the time from a block's
	/// import to its finality, takes about four of these. Keep it above the partners'
	/// network round trip; Substrate's default, 333, suits hundreds of validators
	/// around the world (docs/performance.md).
	#[arg(
		long,
		value_name = "MILLISECONDS",
		default_value_t = 100,
		value_parser = clap::value_parser!(u64).range(10..=5_000)
	)]
	pub grandpa_gossip_ms: u64,
}

impl FinalityParams {
	pub fn gossip_duration(&self) -> std::time::Duration {
		std::time::Duration::from_millis(self.grandpa_gossip_ms)
	}
}

#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management: generate and inspect account, session and node keys.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Generate the chain specification of a consortium from a file listing its partners.
	ConsortiumSpec(ConsortiumSpecCmd),

	/// Build a chain specification (`--chain dev`, `--chain local` or a file).
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Export the chain specification.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Measure the weights of the runtime's calls (nodes built with `runtime-benchmarks`).
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),
}

impl Cli {
	/// Applies what a consortium node needs where Substrate's defaults differ, unless the
	/// command line `args` chose otherwise: the single-state transaction pool. Substrate's
	/// default, the fork-aware pool, loses accepted transactions of a burst when several
	/// partners author the blocks (measured, with the mechanism, in docs/performance.md).
	pub fn with_consortium_defaults(mut self, args: &[String]) -> Self {
		let given =
			|flag: &str| args.iter().any(|arg| arg == flag || arg.starts_with(&format!("{flag}=")));
		if !given("--pool-type") {
			self.run.pool_config.pool_type = sc_cli::TransactionPoolType::SingleState;
		}
		self
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	fn parsed(args: &[&str]) -> Cli {
		let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
		Cli::parse_from(&args).with_consortium_defaults(&args)
	}

	fn is_single_state(cli: &Cli) -> bool {
		matches!(cli.run.pool_config.pool_type, sc_cli::TransactionPoolType::SingleState)
	}

	#[test]
	fn a_node_runs_the_single_state_pool_by_default() {
		assert!(is_single_state(&parsed(&["dt-node", "--dev"])));
	}

	#[test]
	fn the_grandpa_gossip_duration_is_bounded() {
		assert_eq!(parsed(&["dt-node", "--dev"]).finality.grandpa_gossip_ms, 100);
		let chosen = parsed(&["dt-node", "--grandpa-gossip-ms", "100"]);
		assert_eq!(chosen.finality.gossip_duration(), std::time::Duration::from_millis(100));
		for out_of_range in ["0", "9", "5001", "soon"] {
			let refused = Cli::try_parse_from(["dt-node", "--grandpa-gossip-ms", out_of_range]);
			assert!(refused.is_err(), "{out_of_range} was accepted");
		}
	}

	#[test]
	fn a_pool_type_on_the_command_line_wins() {
		assert!(!is_single_state(&parsed(&["dt-node", "--dev", "--pool-type", "fork-aware"])));
		assert!(!is_single_state(&parsed(&["dt-node", "--pool-type=fork-aware"])));
		assert!(is_single_state(&parsed(&["dt-node", "--pool-type", "single-state"])));
	}
}
