//! The command line of dt-node.

use crate::consortium_spec::ConsortiumSpecCmd;

#[derive(Debug, clap::Parser)]
#[command(
	about = "A partner's node of a dt-ledger consortium chain",
	after_help = "Start a single development node: dt-node --dev\n\
	              Start one of the four partners of the local consortium: see scripts/local-network.sh\n\
	              Generate the chain specification of a real consortium: dt-node consortium-spec --help"
)]
pub struct Cli {
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[clap(flatten)]
	pub store_network: crate::offchain_network::StoreNetworkParams,
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
