//! Readings per second the device agent forwards from an OPC UA server into signed feed
//! batches on a dt-node.
//!
//! A PLC stand-in, in this process: an OPC UA server (the same stack as `dt-plc`) whose
//! fill-level variable takes `RATE` new values per second (source-timed, in bursts every
//! 10 ms) for `READINGS` values. The agent's own path, in this process too: the OPC UA
//! connector monitors the variable with sampling interval 0 (every value) over the chosen
//! security, checks each value, the sampler appends it to the sensor's buffer and fsyncs, the
//! sender builds the hash-linked entries, signs each batch and sends it with `feed_append`.
//! Printed: the rate offered, the rate forwarded (first value set to the node's
//! acknowledgement of the last reading) and how many values the server's queues dropped
//! (then the offered rate is above what the agent takes).
//!
//! ```text
//! dt-node --dev --tmp --rpc-port 9944 &
//! cargo run --release -p dt-agent --example opcua_bench -- ws://127.0.0.1:9944 [READINGS] [RATE] [none|encrypt]
//! ```

use dt_agent::{
	chain::Submitter,
	config::{Connector, DeviceConfig},
	connectors::opcua::OpcUaDevice,
	device::Device,
	feeds::FeedStreamer,
};
use dt_client::Client;
use dt_primitives::access::Confidentiality;
use jsonrpsee::rpc_params;
use opcua::{
	crypto::SecurityPolicy,
	server::{
		address_space::VariableBuilder,
		diagnostics::NamespaceMetadata,
		node_manager::memory::{simple_node_manager, SimpleNodeManager},
		ServerBuilder, ANONYMOUS_USER_TOKEN_ID,
	},
	types::{DataTypeId, DataValue, DateTime, MessageSecurityMode, NodeId, ObjectId},
};
use std::time::{Duration, Instant};

#[path = "bench_plant/mod.rs"]
mod bench_plant;
use bench_plant::{agent_feeds, register_feed, Error, Plant, ELEMENT};

/// The bursts the stand-in sets values in.
const BURST_INTERVAL: Duration = Duration::from_millis(10);
/// Ticks (100 ns) from 1601-01-01, OPC UA's epoch, to 1970-01-01.
const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;

#[tokio::main]
async fn main() -> Result<(), Error> {
	let mut args = std::env::args().skip(1);
	let node = args.next().unwrap_or_else(|| "ws://127.0.0.1:9944".into());
	let readings: u64 = args.next().map_or(Ok(50_000), |n| n.parse())?;
	let rate: u64 = args.next().map_or(Ok(20_000), |n| n.parse())?;
	let encrypted = match args.next().as_deref() {
		None | Some("encrypt") => true,
		Some("none") => false,
		Some(other) => return Err(format!("{other:?} is not none or encrypt").into()),
	};
	if readings == 0 || rate < 100 {
		return Err("READINGS must be at least 1 and RATE at least 100".into());
	}
	let client = Client::connect(&node).await?;
	let Plant { owner, device, twin } = Plant::set_up(&client).await?;
	let feed = register_feed(&client, &owner, &device, twin, Confidentiality::Public).await?;

	let work = tempfile::tempdir()?;
	let port = free_port()?;
	let (server, handle, level) = plc_stand_in(port, &work.path().join("server-pki"))?;
	tokio::spawn(server.run());
	let nodes = handle
		.node_managers()
		.get_of_type::<SimpleNodeManager>()
		.ok_or("no node manager")?;
	let subscriptions = handle.subscriptions().clone();

	let (policy, mode) =
		if encrypted { ("Basic256Sha256", "SignAndEncrypt") } else { ("None", "None") };
	let device_file = format!(
		"[opcua]\nendpoint = \"opc.tcp://127.0.0.1:{port}/\"\nsecurity_policy = \"{policy}\"\n\
		 security_mode = \"{mode}\"\npki_dir = \"agent-pki\"\n\
		 server_certificate = \"server-pki/own/cert.der\"\npublishing_interval = \"100ms\"\n\
		 [[sensor]]\nstation = \"{ELEMENT}\"\nelement = \"{ELEMENT}\"\nunit = \"mm\"\n\
		 node = \"{level}\"\nsampling = \"0ms\"\n"
	);
	let config = DeviceConfig::parse(&device_file, &work.path().join("bench.toml"))?;
	let Connector::OpcUa(opcua) = &config.connector else { unreachable!("an OPC UA device file") };
	let (stop, shutdown) = tokio::sync::watch::channel(false);
	let connector = OpcUaDevice::start(&config, opcua, &[], shutdown.clone())?;
	let feeds = agent_feeds(&node, twin, work.path().join("agent-data"));
	let streamer = FeedStreamer::open(feeds, Submitter::new(device), connector.clone())?;
	let agent = tokio::spawn(streamer.run(shutdown));
	println!(
		"{readings} readings offered at {rate}/s over OPC UA ({policy}, {mode}) into feed \
		 {feed}, through {node}"
	);
	// The agent's subscription is in place before the first value.
	tokio::time::sleep(Duration::from_secs(3)).await;
	if let Some(problem) = connector.health().problem {
		return Err(format!("the agent's connection: {problem}").into());
	}

	let level = level.parse::<NodeId>().map_err(|status| format!("{status}"))?;
	let started = Instant::now();
	let first_ms = now_ms() + 1_000;
	let per_burst = (rate * BURST_INTERVAL.as_millis() as u64 / 1000).max(1);
	let mut ticks = tokio::time::interval(BURST_INTERVAL);
	let mut set = 0;
	while set < readings {
		ticks.tick().await;
		for _ in 0..per_burst.min(readings - set) {
			// One value per 100 µs of source time: distinct, increasing, ahead of the clock.
			let time = DateTime::from(
				UNIX_EPOCH_TICKS + (first_ms as i64) * 10_000 + (set as i64) * 1_000,
			);
			let value = 240.0 + (set % 200) as f64 / 10.0;
			nodes.set_value(&subscriptions, &level, None, DataValue::new_at(value, time))?;
			set += 1;
		}
	}
	let offering = started.elapsed();
	let (stored, last_stored) = wait_stored(&client, feed, readings, started).await?;
	let forwarded = last_stored - started;
	let _ = stop.send(true);
	let _ = agent.await;
	handle.cancel();
	println!(
		"offered:   {:>8.0} readings/s ({:.2} s)",
		readings as f64 / offering.as_secs_f64(),
		offering.as_secs_f64()
	);
	println!(
		"forwarded: {:>8.0} readings/s ({stored} stored, {:.2} s to the last acknowledgement)",
		stored as f64 / forwarded.as_secs_f64(),
		forwarded.as_secs_f64()
	);
	println!("dropped by the server's queues: {}", readings - stored);
	println!(
		"values marked as following a drop (the agent's dropped_by_device): {}",
		connector.health().dropped_by_device
	);
	Ok(())
}

/// The OPC UA server: one Double variable, `ns=2;s=filler.FillLevel`, every value of which
/// a subscriber may have (sampling 0, deep queues); its node id as text.
fn plc_stand_in(
	port: u16,
	pki: &std::path::Path,
) -> Result<(opcua::server::Server, opcua::server::ServerHandle, String), Error> {
	// Not the application URI: that is the server's own namespace.
	let namespace = "urn:dt-ledger:bench-plant";
	let tokens = [ANONYMOUS_USER_TOKEN_ID];
	let mut builder = ServerBuilder::new()
		.application_name("dt-ledger benchmark PLC")
		.application_uri("urn:dt-ledger:bench-plc")
		.product_uri("urn:dt-ledger:bench-plc")
		.host("127.0.0.1")
		.port(port)
		.pki_dir(pki)
		.create_sample_keypair(true)
		.trust_client_certs(true)
		.diagnostics_enabled(false)
		.discovery_urls(vec!["/".to_owned()])
		.add_endpoint("none", ("/", SecurityPolicy::None, MessageSecurityMode::None, &tokens[..]))
		.add_endpoint(
			"encrypt",
			("/", SecurityPolicy::Basic256Sha256, MessageSecurityMode::SignAndEncrypt, &tokens[..]),
		)
		.with_node_manager(simple_node_manager(
			NamespaceMetadata { namespace_uri: namespace.to_owned(), ..Default::default() },
			"bench",
		));
	let limits = &mut builder.limits_mut().subscriptions;
	limits.min_sampling_interval_ms = 0.0;
	limits.max_monitored_item_queue_size = 100_000;
	limits.max_queued_notifications = 10_000;
	let (server, handle) = builder.build()?;
	let nodes = handle
		.node_managers()
		.get_of_type::<SimpleNodeManager>()
		.ok_or("no node manager")?;
	let index = handle.get_namespace_index(namespace).ok_or("no namespace")?;
	let level = NodeId::new(index, "filler.FillLevel");
	{
		let address_space = nodes.address_space();
		let mut space = address_space.write();
		VariableBuilder::new(&level, "FillLevel", "FillLevel")
			.data_type(DataTypeId::Double)
			.value(250.0f64)
			.organized_by(ObjectId::ObjectsFolder)
			.insert(&mut *space);
	}
	Ok((server, handle, format!("ns={index};s=filler.FillLevel")))
}

fn free_port() -> Result<u16, Error> {
	Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |since| since.as_millis() as u64)
}

/// Waits until the node holds `count` entries of `feed`, or until it stops growing for 10 s
/// (values the server's queues dropped never come); how many it holds, and since when.
async fn wait_stored(
	client: &Client,
	feed: u64,
	count: u64,
	started: Instant,
) -> Result<(u64, Instant), Error> {
	let mut last_report = Instant::now();
	let mut last_growth = (0, Instant::now());
	loop {
		let latest: Option<serde_json::Value> =
			client.request("feed_latest", rpc_params![feed]).await?;
		let stored = latest.and_then(|entry| entry["sequence"].as_u64()).map_or(0, |s| s + 1);
		if stored > last_growth.0 {
			last_growth = (stored, Instant::now());
		}
		if stored >= count || last_growth.1.elapsed() > Duration::from_secs(10) {
			return Ok(last_growth);
		}
		if last_report.elapsed() > Duration::from_secs(10) {
			println!("  {stored} stored after {:.0} s", started.elapsed().as_secs_f64());
			last_report = Instant::now();
		}
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
}
