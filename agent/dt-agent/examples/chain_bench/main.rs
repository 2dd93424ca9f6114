//! The chain as the parties feel it: how long until a change one partner submits is in a
//! best block and finalized on another partner's node, and how many transactions the
//! consortium finalizes when it is saturated, losing none.
//!
//! ```text
//! chain_bench latency   SUBMIT_WS WATCH_WS [SAMPLES] [INTERVAL_MS] [WORKLOAD]
//! chain_bench burst     SUBMIT_WS WATCH_WS [ACCOUNTS] [PER_ACCOUNT] [WORKLOAD]
//! chain_bench roundtrip SUBMIT_WS DEVICE_WS [SAMPLES] [INTERVAL_MS]
//! ```
//!
//! Both sign transactions with the development accounts (`//Alice`, `//Bob`, `//Charlie`,
//! `//Dave`: the members of the `local` consortium; `--dev` has Alice and Bob), submit them
//! to SUBMIT_WS with `author_submitExtrinsic`, and follow WATCH_WS's best and finalized
//! blocks, finding each transaction by its hash. WORKLOAD is what they submit:
//!
//! - `remark` (the default): `system.remark`, the chain's cheapest transaction, the baseline;
//! - `insert`: `twinSpec.insertElement`, a new element under the filling station of a
//!   bottling-plant twin that each account creates first (a specification write, checked
//!   against the writer's roles along the element's path);
//! - `insert-batch`: `twinSpec.insertElements`, ten new elements there in one transaction
//!   (authorized once, at the filling station), as `dt twin insert` adds a snippet;
//! - `document`: `documents.registerDocument`, a public document of that twin (the
//!   registration only: its content ids name no stored bytes);
//! - `checkpoint`: `feeds.anchorCheckpoint`, the next checkpoint of a feed of that twin the
//!   account owns (as a device anchors its signed readings);
//! - `mix`: the three in turn, as the bottling plant's parties and devices write.
//!
//! - `latency` submits one remark every INTERVAL_MS (default 500) until SAMPLES (default
//!   200) are finalized, and prints p50/p95/p99 of submission → in a best block and
//!   submission → finalized.
//! - `burst` signs PER_ACCOUNT (default 750) remarks for each of ACCOUNTS (default 4)
//!   accounts in advance, submits them (each account's in nonce order, the accounts side
//!   by side), and waits until every accepted one is finalized or nothing more is finalized
//!   for 60 s. Printed: accepted, refused (with the node's reasons), finalized, **lost**
//!   (accepted and never finalized, by account and nonce), finalized per second, the
//!   fullest block, and the finality lag (best - finalized) while the burst ran. Exits
//!   with status 1 if any accepted transaction was lost.
//! - `roundtrip` measures program calls from a party to a device and back: `//Alice` makes
//!   a twin of a filler that declares `SetFillVolume` and grants `//Bob` its Device role; a
//!   device agent (the agent's own program loop, [`dt_agent::programs::ProgramRunner`], on
//!   the simulated plant) runs as `//Bob` on DEVICE_WS; Alice calls the program every
//!   INTERVAL_MS (default 3,000) on SUBMIT_WS until SAMPLES (default 100) calls are done.
//!   Printed: p50/p95/p99 of submission → the call queued (finalized) and submission → the
//!   device's `Completed` outcome finalized, both as SUBMIT_WS sees them. Exits with status
//!   1 unless every call completed.

use codec::Encode;
use dt_client::{Client, ClientError, SigningContext};
use futures::{stream::FuturesUnordered, StreamExt};
use jsonrpsee::rpc_params;
use serde_json::Value;
use sp_core::{sr25519, Pair as _, H256};
use sp_crypto_hashing::blake2_256;
use std::{
	collections::{BTreeMap, HashMap},
	sync::Arc,
	time::{Duration, Instant},
};

#[allow(dead_code)] // only the twin and the feeds are needed here
#[path = "../bench_plant/mod.rs"]
mod bench_plant;
mod roundtrip;
mod watch;
mod workload;

use watch::{start_watching, Shared};
use workload::Workload;

type Error = Box<dyn std::error::Error + Send + Sync>;

const ACCOUNTS: [&str; 4] = ["Alice", "Bob", "Charlie", "Dave"];
/// How long the burst waits for one more of its transactions to be finalized before it
/// counts the rest as lost.
const STALL: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let result = match args.first().map(String::as_str) {
		Some("latency") if args.len() >= 3 => latency(&args[1..]).await,
		Some("burst") if args.len() >= 3 => burst(&args[1..]).await,
		Some("roundtrip") if args.len() >= 3 => roundtrip::roundtrip(&args[1..]).await,
		_ => Err("usage: chain_bench latency SUBMIT_WS WATCH_WS [SAMPLES] [INTERVAL_MS] [WORKLOAD]\n       \
		          chain_bench burst SUBMIT_WS WATCH_WS [ACCOUNTS] [PER_ACCOUNT] [WORKLOAD]\n       \
		          chain_bench roundtrip SUBMIT_WS DEVICE_WS [SAMPLES] [INTERVAL_MS]\n\
		          WORKLOAD: remark (the default), insert, document, checkpoint or mix"
			.into()),
	};
	match result {
		Ok(true) => {},
		Ok(false) => std::process::exit(1),
		Err(e) => {
			eprintln!("chain_bench: {e}");
			std::process::exit(2);
		},
	}
}

/// The numeric argument at `index`, or `default`.
fn number_arg(args: &[String], index: usize, what: &str, default: usize) -> Result<usize, Error> {
	match args.get(index) {
		None => Ok(default),
		Some(text) => text
			.parse()
			.map_err(|_| format!("{what} must be a whole number, not '{text}'").into()),
	}
}

fn account(name: &str) -> sr25519::Pair {
	sr25519::Pair::from_string(&format!("//{name}"), None).expect("a development account")
}

fn run_id() -> u128 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|elapsed| elapsed.as_nanos())
		.unwrap_or_default()
}

/// `p`-th percentile of sorted `values`, nearest rank.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
	if sorted.is_empty() {
		return Duration::ZERO;
	}
	let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
	sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_percentiles(what: &str, mut values: Vec<Duration>) {
	values.sort();
	println!(
		"{what}: p50 {:.2} s, p95 {:.2} s, p99 {:.2} s, max {:.2} s ({} samples)",
		percentile(&values, 50.0).as_secs_f64(),
		percentile(&values, 95.0).as_secs_f64(),
		percentile(&values, 99.0).as_secs_f64(),
		values.last().copied().unwrap_or_default().as_secs_f64(),
		values.len()
	);
}

async fn latency(args: &[String]) -> Result<bool, Error> {
	let (submit_url, watch_url) = (&args[0], &args[1]);
	let samples = number_arg(args, 2, "SAMPLES", 200)?;
	let interval = Duration::from_millis(number_arg(args, 3, "INTERVAL_MS", 500)? as u64);
	let workload_name = args.get(4).map(String::as_str).unwrap_or("remark");
	let submitter = Client::connect(submit_url).await?;
	let workload = Workload::set_up(workload_name, &submitter, 1).await?;
	let (sightings, watcher) = start_watching(watch_url).await?;
	let signer = account(ACCOUNTS[0]);
	let context = submitter.signing_context().await?;
	let first_nonce = submitter.next_nonce(&signer.public().into()).await?;
	let run = run_id();
	println!(
		"latency: {samples} {workload_name} transactions by //{}, one every {} ms, submitted \
		 to {submit_url}, watched on {watch_url}",
		ACCOUNTS[0],
		interval.as_millis()
	);
	let mut ticks = tokio::time::interval(interval);
	for index in 0..samples {
		ticks.tick().await;
		let extrinsic = context
			.sign(&signer, workload.call(run, 0, index), first_nonce + index as u32)
			.encode();
		let hash = H256::from(blake2_256(&extrinsic));
		sightings.lock().unwrap().submitted.insert(hash, Instant::now());
		submitter.submit_only(&extrinsic).await?;
	}
	let finalized = wait_for_finality(&sightings, samples).await;
	watcher.abort();
	let sightings = sightings.lock().unwrap();
	let since_submission = |seen: &HashMap<H256, Instant>| -> Vec<Duration> {
		seen.iter()
			.map(|(hash, at)| at.duration_since(sightings.submitted[hash]))
			.collect()
	};
	print_percentiles("submitted → in a best block", since_submission(&sightings.in_best));
	print_percentiles("submitted → finalized", since_submission(&sightings.finalized));
	println!("finalized: {finalized} of {samples}");
	Ok(finalized == samples)
}

/// Waits until `expected` tracked transactions are finalized, or none more was for
/// [`STALL`]; how many were.
async fn wait_for_finality(sightings: &Shared, expected: usize) -> usize {
	let (mut count, mut progress) = (0, Instant::now());
	loop {
		let now = sightings.lock().unwrap().finalized.len();
		if now != count {
			(count, progress) = (now, Instant::now());
		}
		if count >= expected || progress.elapsed() > STALL {
			return count;
		}
		tokio::time::sleep(Duration::from_millis(200)).await;
	}
}

/// One signed transaction of the burst.
struct Planned {
	account: usize,
	nonce: u32,
	hash: H256,
	bytes: Vec<u8>,
}

async fn burst(args: &[String]) -> Result<bool, Error> {
	let (submit_url, watch_url) = (&args[0], &args[1]);
	let accounts = number_arg(args, 2, "ACCOUNTS", 4)?;
	if !(1..=ACCOUNTS.len()).contains(&accounts) {
		return Err(format!("ACCOUNTS must be 1 to {}, not {accounts}", ACCOUNTS.len()).into());
	}
	let per_account = number_arg(args, 3, "PER_ACCOUNT", 750)?;
	let workload_name = args.get(4).map(String::as_str).unwrap_or("remark");
	let submitter = Arc::new(Client::connect(submit_url).await?);
	let workload = Workload::set_up(workload_name, &submitter, accounts).await?;
	let context = submitter.signing_context().await?;
	let run = run_id();

	println!(
		"burst: signing {per_account} {workload_name} transactions for each of {accounts} accounts"
	);
	let mut plans: Vec<Vec<Planned>> = Vec::new();
	for (index, name) in ACCOUNTS[..accounts].iter().enumerate() {
		let signer = account(name);
		let first_nonce = submitter.next_nonce(&signer.public().into()).await?;
		plans.push(sign_all(&context, &workload, &signer, index, first_nonce, per_account, run));
	}

	let before = workload.applied(&submitter).await?;
	let (sightings, watcher) = start_watching(watch_url).await?;
	println!("burst: submitting {} to {submit_url}, watching {watch_url}", accounts * per_account);
	let started = Instant::now();
	let mut submissions: FuturesUnordered<_> = plans
		.into_iter()
		.map(|plan| {
			let (submitter, sightings) = (submitter.clone(), sightings.clone());
			async move { submit_in_order(&submitter, &sightings, plan).await }
		})
		.collect();
	let (mut accepted, mut refused): (Vec<Planned>, BTreeMap<String, usize>) = Default::default();
	while let Some(result) = submissions.next().await {
		let (ok, refusals) = result?;
		accepted.extend(ok);
		for reason in refusals {
			*refused.entry(reason).or_default() += 1;
		}
	}
	let submitted_in = started.elapsed();
	println!(
		"submitted in {:.1} s: {} accepted, {} refused",
		submitted_in.as_secs_f64(),
		accepted.len(),
		refused.values().sum::<usize>()
	);
	for (reason, count) in &refused {
		println!("  refused {count}: {reason}");
	}

	let finalized = wait_for_finality(&sightings, accepted.len()).await;
	watcher.abort();
	let pending = pool_size(&submitter).await;
	// A transaction finalized is not yet one that did what it was for: count the elements.
	let failed = match (before, workload.applied(&submitter).await?) {
		(Some(before), Some(after)) => {
			let applied: u32 = after.iter().zip(&before).map(|(a, b)| a.saturating_sub(*b)).sum();
			Some(finalized.saturating_sub(applied as usize))
		},
		_ => None,
	};
	let sightings = sightings.lock().unwrap();
	let lost: Vec<&Planned> = accepted
		.iter()
		.filter(|tx| !sightings.finalized.contains_key(&tx.hash))
		.collect();
	let last = sightings.finalized.values().max().copied().unwrap_or(started);
	let span = last.duration_since(started).as_secs_f64().max(f64::EPSILON);
	println!("finalized: {finalized} of {} accepted", accepted.len());
	if let Some(failed) = failed {
		println!("failed: {failed} finalized without their effect (dispatch errors)");
	}
	println!(
		"throughput: {:.0} finalized per second (first submission to the last finalized, {span:.1} s), \
		 fullest block {} of ours, {} blocks",
		finalized as f64 / span,
		sightings.per_block.values().max().copied().unwrap_or(0),
		sightings.per_block.len()
	);
	let mut lag = sightings.finality_lag.clone();
	lag.sort();
	let writes = workload.writes_per_transaction();
	if writes > 1 {
		println!(
			"twin writes: {:.0} per second ({writes} per transaction)",
			(finalized * writes) as f64 / span
		);
	}
	println!(
		"finality lag (best - finalized) while it ran: median {}, max {} blocks",
		lag.get(lag.len() / 2).copied().unwrap_or(0),
		lag.last().copied().unwrap_or(0)
	);
	println!(
		"lost: {} (accepted, never finalized); the submitting node's pool holds {pending}",
		lost.len()
	);
	for (index, name) in ACCOUNTS[..accounts].iter().enumerate() {
		let nonces: Vec<u32> =
			lost.iter().filter(|tx| tx.account == index).map(|tx| tx.nonce).collect();
		if !nonces.is_empty() {
			println!("  //{name}: {} lost, nonces {}", nonces.len(), ranges(&nonces));
		}
	}
	Ok(lost.is_empty() && failed.unwrap_or(0) == 0)
}

fn sign_all(
	context: &SigningContext,
	workload: &Workload,
	signer: &sr25519::Pair,
	account: usize,
	first_nonce: u32,
	count: usize,
	run: u128,
) -> Vec<Planned> {
	(0..count)
		.map(|index| {
			let nonce = first_nonce + index as u32;
			let bytes = context.sign(signer, workload.call(run, account, index), nonce).encode();
			Planned { account, nonce, hash: H256::from(blake2_256(&bytes)), bytes }
		})
		.collect()
}

/// Submits one account's transactions in nonce order; the accepted ones and the reasons of
/// the refusals.
async fn submit_in_order(
	submitter: &Client,
	sightings: &Shared,
	plan: Vec<Planned>,
) -> Result<(Vec<Planned>, Vec<String>), Error> {
	let (mut accepted, mut refused) = (Vec::new(), Vec::new());
	for tx in plan {
		sightings.lock().unwrap().submitted.insert(tx.hash, Instant::now());
		match submitter.submit_only(&tx.bytes).await {
			Ok(_) => accepted.push(tx),
			Err(ClientError::Refused(reason)) => {
				sightings.lock().unwrap().submitted.remove(&tx.hash);
				refused.push(reason)
			},
			Err(other) => return Err(other.into()),
		}
	}
	Ok((accepted, refused))
}

/// How many transactions the node's pool says it holds.
async fn pool_size(client: &Client) -> String {
	match client.request::<Vec<Value>>("author_pendingExtrinsics", rpc_params![]).await {
		Ok(pending) => pending.len().to_string(),
		Err(e) => format!("an unknown number ({e})"),
	}
}

/// `1, 2, 3, 7` as `1-3, 7`.
fn ranges(sorted: &[u32]) -> String {
	let mut parts: Vec<String> = Vec::new();
	let mut start = sorted[0];
	for pair in sorted.windows(2) {
		if pair[1] != pair[0] + 1 {
			parts.push(range(start, pair[0]));
			start = pair[1];
		}
	}
	parts.push(range(start, *sorted.last().unwrap()));
	parts.join(", ")
}

fn range(first: u32, last: u32) -> String {
	if first == last {
		first.to_string()
	} else {
		format!("{first}-{last}")
	}
}
