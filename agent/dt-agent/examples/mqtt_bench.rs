//! Readings per second the device agent forwards from an MQTT broker into signed feed
//! batches on a dt-node.
//!
//! The agent's own path, in this process: the MQTT connector (a persistent QoS 1 session)
//! takes each reading from the broker and checks it, the sampler appends it to the sensor's
//! buffer and fsyncs, the sender builds the hash-linked entries, signs each batch and sends
//! it with `feed_append`. A publisher, playing the device, publishes the readings (JSON with
//! the device's time) as fast as the broker takes them. Two figures:
//!
//! - live: readings over the time from the first publish to the node's acknowledgement of
//!   the last reading, the agent forwarding while the device publishes (the slower of the
//!   two sets the pace);
//! - backlog: the device publishes while the agent is away (the broker keeps it for the
//!   agent's session), then the agent starts: readings over the time from its start to the
//!   node's acknowledgement of the last one, the agent's own pace.
//!
//! ```text
//! mosquitto -c bench.conf &   # listener 1883 127.0.0.1, allow_anonymous true, max_queued_messages 0
//! dt-node --dev --tmp --rpc-port 9944 &
//! cargo run --release -p dt-agent --example mqtt_bench -- ws://127.0.0.1:9944 127.0.0.1:1883 [READINGS]
//! ```

use dt_agent::{
	chain::Submitter,
	config::{Connector, DeviceConfig},
	connectors::mqtt::MqttDevice,
	feeds::FeedStreamer,
};
use dt_client::Client;
use dt_primitives::access::Confidentiality;
use jsonrpsee::rpc_params;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use sp_core::sr25519;
use std::time::{Duration, Instant};

#[path = "bench_plant/mod.rs"]
mod bench_plant;
use bench_plant::{agent_feeds, register_feed, Error, Plant, ELEMENT};

const TOPIC: &str = "bench/fill-level";

#[tokio::main]
async fn main() -> Result<(), Error> {
	let mut args = std::env::args().skip(1);
	let node = args.next().unwrap_or_else(|| "ws://127.0.0.1:9944".into());
	let broker = args.next().unwrap_or_else(|| "127.0.0.1:1883".into());
	let readings: u64 = args.next().map_or(Ok(50_000), |n| n.parse())?;
	if readings == 0 {
		return Err("READINGS must be at least 1".into());
	}
	let client = Client::connect(&node).await?;
	let Plant { owner, device, twin } = Plant::set_up(&client).await?;
	let feed = register_feed(&client, &owner, &device, twin, Confidentiality::Public).await?;

	// The agent: the MQTT connector and the feeds, with a fresh session and buffer.
	let run = std::process::id();
	let device_file = format!(
		"[mqtt]\nbroker = \"{broker}\"\nclient_id = \"dt-agent-bench-{run}\"\n\
		 [[sensor]]\nstation = \"{ELEMENT}\"\nelement = \"{ELEMENT}\"\nunit = \"mm\"\n\
		 topic = \"{TOPIC}\"\nvalue = \"/level\"\ntimestamp = \"/time\"\n"
	);
	let config = DeviceConfig::parse(&device_file, std::path::Path::new("bench.toml"))?;
	let data = tempfile::tempdir()?;
	let agent = Agent { config, node: node.clone(), twin, data: data.path().to_owned(), device };
	println!("{readings} readings over MQTT ({broker}) into feed {feed}, through {node}");

	// Live: the agent forwards while the device publishes.
	let running = agent.start();
	// The agent's subscription is in place before the first reading.
	tokio::time::sleep(Duration::from_secs(2)).await;
	let started = Instant::now();
	let published = tokio::spawn(publish(broker.clone(), readings, 0));
	wait_stored(&client, feed, readings, started).await?;
	let forwarded = started.elapsed();
	let publishing = published.await??;
	running.stop().await;
	println!(
		"live, published (broker acknowledged): {:>8.0} readings/s ({:.2} s)",
		readings as f64 / publishing.as_secs_f64(),
		publishing.as_secs_f64()
	);
	println!(
		"live, forwarded into the feed:         {:>8.0} readings/s ({:.2} s to the last acknowledgement)",
		readings as f64 / forwarded.as_secs_f64(),
		forwarded.as_secs_f64()
	);

	// Backlog: the device published while the agent was away; the broker kept it all for
	// the agent's session, and the agent forwards it as fast as it can.
	publish(broker, readings, readings).await?;
	let started = Instant::now();
	let running = agent.start();
	wait_stored(&client, feed, 2 * readings, started).await?;
	let drained = started.elapsed();
	running.stop().await;
	println!(
		"backlog, forwarded into the feed:      {:>8.0} readings/s ({:.2} s from the agent's start)",
		readings as f64 / drained.as_secs_f64(),
		drained.as_secs_f64()
	);
	Ok(())
}

/// How the benchmark starts the agent: its device file, node, twin, buffers and key.
struct Agent {
	config: DeviceConfig,
	node: String,
	twin: u32,
	data: std::path::PathBuf,
	device: sr25519::Pair,
}

/// The agent's feeds running, until [`Running::stop`].
struct Running {
	stop: tokio::sync::watch::Sender<bool>,
	task: tokio::task::JoinHandle<()>,
}

impl Agent {
	fn start(&self) -> Running {
		let Connector::Mqtt(mqtt) = &self.config.connector else {
			unreachable!("an MQTT device file")
		};
		let (stop, shutdown) = tokio::sync::watch::channel(false);
		let connector = MqttDevice::start(&self.config, mqtt, &[], shutdown.clone())
			.expect("the benchmark's device file names no secrets");
		let feeds = agent_feeds(&self.node, self.twin, self.data.clone());
		let streamer = FeedStreamer::open(feeds, Submitter::new(self.device.clone()), connector)
			.expect("the buffers open");
		Running { stop, task: tokio::spawn(streamer.run(shutdown)) }
	}
}

impl Running {
	async fn stop(self) {
		let _ = self.stop.send(true);
		let _ = self.task.await;
	}
}

/// Waits until the node holds `count` entries of `feed`.
async fn wait_stored(
	client: &Client,
	feed: u64,
	count: u64,
	started: Instant,
) -> Result<(), Error> {
	let mut last_report = Instant::now();
	loop {
		let latest: Option<serde_json::Value> =
			client.request("feed_latest", rpc_params![feed]).await?;
		let stored = latest.and_then(|entry| entry["sequence"].as_u64()).map_or(0, |s| s + 1);
		if stored >= count {
			return Ok(());
		}
		if last_report.elapsed() > Duration::from_secs(10) {
			println!("  {stored} stored after {:.0} s", started.elapsed().as_secs_f64());
			last_report = Instant::now();
		}
		if started.elapsed() > Duration::from_secs(600) {
			return Err(format!("only {stored} of {count} entries stored after 600 s").into());
		}
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
}

/// Publishes `readings` fill levels (the first timed `first` ms after the base time) with
/// QoS 1 as fast as the broker acknowledges them; how long that took.
async fn publish(broker: String, readings: u64, first: u64) -> Result<Duration, String> {
	let (host, port) = broker.rsplit_once(':').ok_or("BROKER is HOST:PORT")?;
	let port: u16 = port.parse().map_err(|_| "BROKER is HOST:PORT")?;
	let mut options = MqttOptions::new(format!("bench-device-{}", std::process::id()), host, port);
	options.set_inflight(1000);
	let (client, mut events) = AsyncClient::new(options, 1000);
	let started = Instant::now();
	let base = 1_800_000_000_000u64 + first;
	let sender = tokio::spawn(async move {
		for i in 0..readings {
			let payload =
				format!(r#"{{"level": {}.{}, "time": {}}}"#, 240 + i % 20, i % 10, base + i);
			if client.publish(TOPIC, QoS::AtLeastOnce, false, payload).await.is_err() {
				return;
			}
		}
	});
	let mut acknowledged = 0;
	while acknowledged < readings {
		match events.poll().await {
			Ok(Event::Incoming(Packet::PubAck(_))) => acknowledged += 1,
			Ok(_) => {},
			Err(e) => return Err(format!("the publisher lost the broker: {e}")),
		}
	}
	let _ = sender.await;
	Ok(started.elapsed())
}
