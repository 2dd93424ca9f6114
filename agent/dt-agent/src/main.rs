//! `dt-agent`: drives a twin's device: runs its program calls, streams its sensors into
//! feeds, anchors checkpoints and replaces exchanged sensors on chain.

use clap::Parser;
use dt_agent::{
	chain::Submitter,
	config::{parse_duration, Connector, DeviceConfig},
	connectors::{mqtt::MqttDevice, opcua::OpcUaDevice},
	device::Device,
	envelope::SafetyEnvelope,
	feeds::{recorded_sensors, FeedConfig, FeedStreamer},
	programs::ProgramRunner,
	simulator::{BottlingPlant, SharedPlant},
};
use dt_primitives::access::Confidentiality;
use sp_core::{crypto::Pair as _, sr25519};
use std::{
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};

/// The device agent of dt-ledger: runs the twin's program calls on the device, streams the
/// device's sensors into signed feeds (buffered on disk until the node acknowledged them),
/// anchors the feeds' heads on chain, and replaces an exchanged sensor on chain by itself.
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
	/// The device file: how the agent reaches the device (an MQTT broker or an OPC UA
	/// server) and how the
	/// device's sensors and programs map onto the twin (see agent/README.md, "Device
	/// connectors"). Without it, the agent drives the simulated bottling plant.
	#[arg(long, env = "DT_AGENT_DEVICE", value_name = "FILE")]
	device: Option<PathBuf>,
	/// The device's safety envelope: a TOML file of the values it accepts per program and
	/// parameter (see agent/README.md). Calls outside it are reported `Failed` and never run.
	/// Without it, the device file's `[envelope]`, or for the simulated plant its own
	/// envelope (envelopes/bottling-plant.toml).
	#[arg(long, env = "DT_AGENT_ENVELOPE", value_name = "FILE")]
	envelope: Option<PathBuf>,
	/// Simulation: the plant's filling stations (element ids of the twin's specification).
	#[arg(long = "station", default_value = "filler", conflicts_with = "device")]
	stations: Vec<String>,
	/// Simulation: the element of a station's fill-level sensor, as `STATION=ELEMENT`
	/// (default `STATION-fill-sensor`).
	#[arg(long = "sensor", value_parser = parse_sensor, conflicts_with = "device")]
	sensors: Vec<(String, String)>,
	/// Where the agent keeps its reading buffers; keep it across restarts.
	#[arg(long, default_value = "dt-agent-data")]
	data_dir: PathBuf,
	/// How often each sensor is read: `250ms`, `2s`, `5m`.
	#[arg(long, default_value = "1s", value_parser = parse_duration)]
	sample_interval: Duration,
	/// How often new readings are fsynced to the buffer; a machine crash loses at most the
	/// readings of this long, none of them ever sent.
	#[arg(long, default_value = "200ms", value_parser = parse_duration)]
	flush_interval: Duration,
	/// How often buffered readings are sent to the node, in one batch per feed.
	#[arg(long, default_value = "1s", value_parser = parse_duration)]
	batch_interval: Duration,
	/// Most entries in one batch.
	#[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=8192))]
	max_batch: u32,
	/// How often each feed's head is anchored on chain.
	#[arg(long, default_value = "1m", value_parser = parse_duration)]
	checkpoint_interval: Duration,
	/// Register a feed for a sensor that has none (needs `RegisterFeeds` on the twin).
	#[arg(long)]
	register_feeds: bool,
	/// Confidentiality of the feeds the agent registers: public, internal, confidential or
	/// secret.
	#[arg(long, default_value = "internal", value_parser = parse_confidentiality)]
	feed_confidentiality: Confidentiality,
	/// Simulation: exchange the first station's fill-level sensor after this long (also on
	/// SIGUSR1, any time).
	#[arg(long, value_parser = parse_duration, conflicts_with = "device")]
	replace_sensor_after: Option<Duration>,
	/// Also append every reading to this file, one `ELEMENT TIMESTAMP VALUE` line each.
	#[arg(long)]
	readings_log: Option<PathBuf>,
}

fn parse_sensor(text: &str) -> Result<(String, String), String> {
	match text.split_once('=') {
		Some((station, element)) if !station.is_empty() && !element.is_empty() => {
			Ok((station.to_owned(), element.to_owned()))
		},
		_ => Err(format!("{text:?} is not STATION=ELEMENT")),
	}
}

fn parse_confidentiality(text: &str) -> Result<Confidentiality, String> {
	match text.to_ascii_lowercase().as_str() {
		"public" => Ok(Confidentiality::Public),
		"internal" => Ok(Confidentiality::Internal),
		"confidential" => Ok(Confidentiality::Confidential),
		"secret" => Ok(Confidentiality::Secret),
		_ => Err(format!("{text:?} is not public, internal, confidential or secret")),
	}
}

/// Log lines on stderr; the level from `DT_AGENT_LOG` (`error` … `trace`, default `info`).
struct StderrLogger;

impl log::Log for StderrLogger {
	fn enabled(&self, metadata: &log::Metadata) -> bool {
		metadata.level() <= log::max_level()
	}

	fn log(&self, record: &log::Record) {
		if self.enabled(record.metadata()) && record.target().starts_with("dt_agent") {
			eprintln!("dt-agent {:<5} {}", record.level(), record.args());
		}
	}

	fn flush(&self) {}
}

fn fail(message: String) -> ! {
	eprintln!("dt-agent: {message}");
	std::process::exit(2);
}

#[tokio::main]
async fn main() {
	let options = Options::parse();
	let level = std::env::var("DT_AGENT_LOG")
		.ok()
		.and_then(|level| level.parse().ok())
		.unwrap_or(log::LevelFilter::Info);
	let _ = log::set_logger(&StderrLogger).map(|()| log::set_max_level(level));

	let key = sr25519::Pair::from_string(&options.key, None)
		.unwrap_or_else(|error| fail(format!("--key is not a valid sr25519 secret ({error:?})")));
	let given_envelope = options
		.envelope
		.as_ref()
		.map(|path| SafetyEnvelope::load(path).unwrap_or_else(|e| fail(e.to_string())));
	// The sensors as they were when the agent stopped (exchanged ones included).
	let recorded = recorded_sensors(&options.data_dir)
		.unwrap_or_else(|e| fail(format!("cannot read the reading buffers: {e}")));
	let (stop, shutdown) = tokio::sync::watch::channel(false);

	match &options.device {
		Some(path) => {
			let config = DeviceConfig::load(path).unwrap_or_else(|e| fail(e.to_string()));
			let envelope =
				given_envelope.or_else(|| config.envelope.clone()).unwrap_or_else(|| {
					fail(format!(
						"the device file {} has no [envelope] and no --envelope is given: a real \
					 device runs only the calls inside its own safety envelope",
						path.display()
					))
				});
			match &config.connector {
				Connector::Mqtt(mqtt) => {
					let device = MqttDevice::start(&config, mqtt, &recorded, shutdown.clone())
						.unwrap_or_else(|e| fail(e.to_string()));
					log::info!(
						"the device: {} over MQTT at {}:{}",
						path.display(),
						mqtt.host,
						mqtt.port
					);
					drive(&options, key, device, envelope, stop, shutdown).await;
				},
				Connector::OpcUa(opcua) => {
					let device = OpcUaDevice::start(&config, opcua, &recorded, shutdown.clone())
						.unwrap_or_else(|e| fail(e.to_string()));
					log::info!(
						"the device: {} over OPC UA at {} ({}, {})",
						path.display(),
						opcua.endpoint,
						opcua.security_policy,
						opcua.security_mode
					);
					drive(&options, key, device, envelope, stop, shutdown).await;
				},
			}
		},
		None => {
			let envelope = given_envelope.unwrap_or_else(SafetyEnvelope::bottling_plant);
			let plant = simulated_plant(&options, &recorded);
			let first_station = options.stations.first().cloned();
			let replacer = tokio::spawn(replace_sensors(
				plant.clone(),
				first_station,
				options.replace_sensor_after,
			));
			drive(&options, key, plant, envelope, stop, shutdown).await;
			replacer.abort();
		},
	}
	log::info!("stopped");
}

/// The simulated plant of the command line, its sensors as the agent last `recorded` them.
fn simulated_plant(options: &Options, recorded: &[(String, String)]) -> SharedPlant {
	let mut plant = BottlingPlant::new(options.stations.iter().map(String::as_str));
	for (station, element) in &options.sensors {
		plant.set_sensor_element(station, element).unwrap_or_else(|e| {
			fail(format!("--sensor {station}={element}: {e} (add --station {station})"))
		});
	}
	for (station, element) in recorded {
		if plant.stations.contains_key(station) {
			let _ = plant.set_sensor_element(station, element);
		}
	}
	Arc::new(Mutex::new(plant))
}

/// Runs the program-call loop and the feeds on `device` until Ctrl-C or SIGTERM, then
/// delivers what it can.
async fn drive<D: Device>(
	options: &Options,
	key: sr25519::Pair,
	device: D,
	envelope: SafetyEnvelope,
	stop: tokio::sync::watch::Sender<bool>,
	shutdown: tokio::sync::watch::Receiver<bool>,
) {
	let submitter = Submitter::new(key.clone());
	let config = FeedConfig {
		node: options.node.clone(),
		twin: options.twin,
		data_dir: options.data_dir.clone(),
		sample_interval: options.sample_interval,
		flush_interval: options.flush_interval,
		batch_interval: options.batch_interval,
		max_batch: options.max_batch as usize,
		checkpoint_interval: options.checkpoint_interval,
		register_missing: options.register_feeds,
		confidentiality: options.feed_confidentiality,
		readings_log: options.readings_log.clone(),
	};
	let streamer = FeedStreamer::open(config, submitter.clone(), device.clone())
		.unwrap_or_else(|e| fail(format!("cannot open the reading buffers: {e}")));
	log::info!(
		"driving twin {} through {} (buffers in {}, safety envelope {})",
		options.twin,
		options.node,
		options.data_dir.display(),
		envelope.origin().display()
	);
	let mut runner = ProgramRunner::new(&options.node, key, options.twin, device, envelope)
		.with_submitter(submitter);
	let programs = tokio::spawn(async move { runner.run().await });
	let feeds = tokio::spawn(streamer.run(shutdown));
	wait_for_stop().await;
	log::info!("stopping: delivering buffered readings");
	let _ = stop.send(true);
	programs.abort();
	let _ = feeds.await;
}

/// Exchanges the first station's sensor after `after` and on every SIGUSR1.
async fn replace_sensors(plant: SharedPlant, station: Option<String>, after: Option<Duration>) {
	let Some(station) = station else { return };
	let replace = || {
		let mut plant = plant.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		match plant.replace_sensor(&station) {
			Ok(replacement) => log::info!(
				"simulation: sensor {} exchanged for {} (serial {})",
				replacement.old_element,
				replacement.new_sensor.element,
				replacement.serial
			),
			Err(e) => log::warn!("simulation: {e}"),
		}
	};
	let mut signals =
		tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok();
	let timer = async {
		match after {
			Some(after) => tokio::time::sleep(after).await,
			None => std::future::pending().await,
		}
	};
	tokio::pin!(timer);
	let mut timer_done = false;
	loop {
		tokio::select! {
			_ = &mut timer, if !timer_done => {
				timer_done = true;
				replace();
			},
			Some(()) = async {
				match signals.as_mut() {
					Some(signals) => signals.recv().await,
					None => std::future::pending().await,
				}
			} => replace(),
		}
	}
}

/// Ctrl-C or SIGTERM.
async fn wait_for_stop() {
	let mut terminate =
		tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
	tokio::select! {
		_ = tokio::signal::ctrl_c() => {},
		_ = async {
			match terminate.as_mut() {
				Some(terminate) => { terminate.recv().await; },
				None => std::future::pending().await,
			}
		} => {},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn sensors_and_confidentiality_levels_are_checked() {
		assert_eq!(parse_sensor("filler=fill-sensor"), Ok(("filler".into(), "fill-sensor".into())));
		for bad in ["filler", "=fill-sensor", "filler=", ""] {
			assert!(parse_sensor(bad).is_err(), "{bad:?}");
		}
		assert_eq!(parse_confidentiality("Secret"), Ok(Confidentiality::Secret));
		assert!(parse_confidentiality("top-secret").is_err());
	}

	#[test]
	fn the_command_line_is_consistent() {
		use clap::CommandFactory;
		Options::command().debug_assert();
		let options =
			Options::try_parse_from(["dt-agent", "--twin", "3", "--key", "//Bob"]).unwrap();
		assert_eq!(options.sample_interval, Duration::from_secs(1));
		assert!(Options::try_parse_from([
			"dt-agent",
			"--twin",
			"3",
			"--key",
			"//Bob",
			"--max-batch",
			"9000"
		])
		.is_err());
	}
}
