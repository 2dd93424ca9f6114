//! dt-node: a partner's node of a dt-ledger consortium chain.

mod availability;
mod chain_spec;
mod cli;
mod command;
mod consortium_spec;
mod offchain_network;
mod offchain_rpc;
mod rpc;
mod runtime_watch;
mod service;
mod twin_index;
mod twin_rpc;
mod uploads;

fn main() -> sc_cli::Result<()> {
	command::run()
}
