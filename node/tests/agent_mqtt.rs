//! The device agent over MQTT, on real processes: Debian's `mosquitto` broker (passwords,
//! persistence), the `dt-agent` binary with a device file, a `--dev` dt-node, and the
//! bottling plant's controller played by this test over its own MQTT connections.
//!
//! - Readings the controller publishes stream into the fill-level feed, each once, with the
//!   controller's value and time; payloads that are no reading are logged and never sent.
//! - Program calls reach the controller as JSON and its answers come back: `ok` completes
//!   the call, `error` fails it with the controller's reason, silence fails it after the
//!   device file's timeout; a call outside the device file's envelope never reaches it.
//! - The broker is stopped and started again mid-stream: every reading the broker
//!   acknowledged to the controller reaches the feed, none twice.
//! - A new serial number on the sensor's identity topic: the agent replaces the sensor on
//!   chain, and the readings go on into the new sensor's feed.
//! - Over TLS, the broker's certificate is checked against the device file's CA: the right
//!   CA connects, another one does not.
//! - Wrong credentials, a misspelt topic: the agent says so in its log; its status file
//!   shows the broker's absence while it lasts and counts the unreadable payloads.

mod common;

use common::{agent::*, plant::*, *};
use dt_client::Client;
use dt_primitives::access::TwinId;
use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, Packet, QoS};
use serde_json::{json, Value};
use std::{
	collections::HashMap,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::sync::watch;

const USER: &str = "plant";
const PASSWORD: &str = "filler-2026";
const READINGS: &str = "plant/filler/fill-level";
const CALLS: &str = "plant/filler/calls";
const ANSWERS: &str = "plant/filler/answers";
const IDENTITY: &str = "plant/filler/sensor";

/// Debian's mosquitto, on `port` and with TLS on `tls_port` (its CA certificate in
/// `dir/ca.pem`), with a password file and persistence under `dir`.
struct Broker {
	child: Option<Child>,
	dir: PathBuf,
	port: u16,
	tls_port: u16,
}

impl Broker {
	fn start(dir: &Path) -> Broker {
		std::fs::create_dir_all(dir.join("data")).unwrap();
		let passwords = dir.join("passwords");
		std::fs::write(&passwords, "").unwrap();
		let added = Command::new("mosquitto_passwd")
			.arg("-b")
			.arg(&passwords)
			.args([USER, PASSWORD])
			.status()
			.expect("mosquitto_passwd runs (scripts/setup.sh installs mosquitto)");
		assert!(added.success());
		let port = free_port();
		let tls_port = free_port();
		write_certificates(dir);
		// Started by root, mosquitto would run as the user `mosquitto`, who may not write its
		// persistence here: it stays the user who runs the test.
		let user = Command::new("id").arg("-un").output().expect("id runs").stdout;
		let certificates = dir.display();
		std::fs::write(
			dir.join("mosquitto.conf"),
			format!(
				"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\n\
				 persistence true\npersistence_location {}/\nlog_dest file {}\nuser {}\n\
				 listener {tls_port} 127.0.0.1\ncafile {certificates}/ca.pem\n\
				 certfile {certificates}/broker.pem\nkeyfile {certificates}/broker.key\n",
				passwords.display(),
				dir.join("data").display(),
				dir.join("mosquitto.log").display(),
				String::from_utf8_lossy(&user).trim()
			),
		)
		.unwrap();
		let mut broker = Broker { child: None, dir: dir.to_owned(), port, tls_port };
		broker.run();
		broker
	}

	fn run(&mut self) {
		let binary = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
			.into_iter()
			.find(|path| Path::new(path).is_file())
			.unwrap_or("mosquitto");
		let child = Command::new(binary)
			.arg("-c")
			.arg(self.dir.join("mosquitto.conf"))
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.expect("mosquitto starts (scripts/setup.sh installs it)");
		self.child = Some(child);
		let deadline = std::time::Instant::now() + Duration::from_secs(20);
		while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err()
			|| std::net::TcpStream::connect(("127.0.0.1", self.tls_port)).is_err()
		{
			assert!(std::time::Instant::now() < deadline, "mosquitto never listened");
			std::thread::sleep(Duration::from_millis(100));
		}
	}

	/// Stops it as an operator would (it saves its persistent state).
	fn stop(&mut self) {
		if let Some(mut child) = self.child.take() {
			assert!(terminate(&mut child, Duration::from_secs(20)).success());
		}
	}
}

impl Drop for Broker {
	fn drop(&mut self) {
		if let Some(mut child) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// The CA (`ca.pem`), the broker's certificate for 127.0.0.1 signed by it (`broker.pem`,
/// `broker.key`) and another CA (`other-ca.pem`), from the repository's test data, copied
/// into `dir`.
fn write_certificates(dir: &Path) {
	let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mqtt-tls");
	for file in ["ca.pem", "broker.pem", "broker.key", "other-ca.pem"] {
		std::fs::copy(data.join(file), dir.join(file)).unwrap();
	}
}

/// One of the controller's connections, with its events on a channel.
fn connect(port: u16, id: &str) -> (AsyncClient, tokio::sync::mpsc::UnboundedReceiver<Event>) {
	let mut options = MqttOptions::new(id, "127.0.0.1", port);
	options.set_credentials(USER, PASSWORD).set_keep_alive(Duration::from_secs(5));
	let (client, mut events) = AsyncClient::new(options, 64);
	let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
	tokio::spawn(async move {
		loop {
			match events.poll().await {
				Ok(event) => {
					if sender.send(event).is_err() {
						return;
					}
				},
				Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
			}
		}
	});
	(client, receiver)
}

/// The fill-level sensor of the controller: publishes a reading every 50 ms, one at a time,
/// each waited for until the broker acknowledged it (PUBACK) or the connection broke, and
/// records which were acknowledged: (time, value).
async fn publish_readings(
	port: u16,
	acked: Arc<Mutex<Vec<(u64, String)>>>,
	mut stop: watch::Receiver<bool>,
) {
	let (client, mut events) = connect(port, "plant-fill-sensor");
	let mut connected = false;
	let mut in_flight: HashMap<u16, (u64, String)> = HashMap::new();
	let mut current: Option<(u64, String)> = None;
	let mut sequence = 0u64;
	let base = now_ms();
	loop {
		if *stop.borrow() {
			return;
		}
		if connected && current.is_none() {
			let reading =
				(base + sequence * 10, format!("{}.{}", 245 + sequence % 10, sequence % 7));
			sequence += 1;
			let payload = json!({ "level": reading.1, "time": reading.0 }).to_string();
			client.publish(READINGS, QoS::AtLeastOnce, false, payload).await.unwrap();
			current = Some(reading);
		}
		let event = tokio::select! {
			event = events.recv() => event.expect("the connection task runs"),
			_ = tokio::time::sleep(Duration::from_millis(50)) => continue,
			_ = stop.changed() => return,
		};
		match event {
			Event::Incoming(Packet::ConnAck(_)) => {
				// A clean session: whatever was not acknowledged before is gone, and its
				// packet ids are free again.
				connected = true;
				current = None;
				in_flight.clear();
			},
			Event::Outgoing(Outgoing::Publish(pkid)) => {
				if let Some(reading) = current.clone() {
					in_flight.entry(pkid).or_insert(reading);
				}
			},
			Event::Incoming(Packet::PubAck(ack)) => {
				if let Some(reading) = in_flight.remove(&ack.pkid) {
					let done = current.as_ref() == Some(&reading);
					acked.lock().unwrap().push(reading);
					if done {
						current = None;
						tokio::time::sleep(Duration::from_millis(50)).await;
					}
				}
			},
			Event::Outgoing(Outgoing::Disconnect) | Event::Incoming(Packet::Disconnect) => {
				connected = false;
			},
			_ => {},
		}
	}
}

/// The controller's program side: answers each call on [`CALLS`] as the filler would, and
/// records every call it got.
async fn answer_calls(port: u16, calls: Arc<Mutex<Vec<Value>>>) -> AsyncClient {
	let (client, mut events) = connect(port, "plant-programs");
	let answering = client.clone();
	tokio::spawn(async move {
		while let Some(event) = events.recv().await {
			match event {
				Event::Incoming(Packet::ConnAck(_)) => {
					answering.subscribe(CALLS, QoS::AtLeastOnce).await.unwrap();
				},
				Event::Incoming(Packet::Publish(publish)) if publish.topic == CALLS => {
					let call: Value = serde_json::from_slice(&publish.payload).unwrap();
					calls.lock().unwrap().push(call.clone());
					let volume = call["arguments"]["volume"].as_str().unwrap_or("").to_owned();
					let answer = match volume.as_str() {
						// The filler does not answer; someone else on the broker answers with a
						// guessed id, which takes nothing.
						"777.0" => json!({ "id": "0-0", "ok": "done, trust me" }),
						"1000.0" => json!({ "id": call["id"], "error": "the pump jammed" }),
						_ => {
							json!({ "id": call["id"], "ok": format!("fill volume set to {volume} ml") })
						},
					};
					let _ = answering
						.publish(ANSWERS, QoS::AtLeastOnce, false, answer.to_string())
						.await;
				},
				_ => {},
			}
		}
	});
	client
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_millis() as u64
}

/// A device file for the broker on `port` (over TLS if `ca` names the CA to trust): the
/// filler's sensor on `topic`, its programs, its exchange and its envelope.
fn device_file(
	dir: &Path,
	name: &str,
	port: u16,
	ca: Option<&Path>,
	client_id: &str,
	topic: &str,
) -> PathBuf {
	let tls = ca.map(|ca| format!("ca_file = \"{}\"", ca.display())).unwrap_or_default();
	let path = dir.join(format!("{name}.toml"));
	std::fs::write(
		&path,
		format!(
			r#"
[mqtt]
broker = "127.0.0.1:{port}"
client_id = "{client_id}"
username = "{USER}"
password = {{ env = "PLANT_MQTT_PASSWORD" }}
keep_alive = "5s"
silence_warning = "2s"
{tls}

[[sensor]]
station = "{FILLER}"
element = "{FILL_SENSOR}"
serial = "FLS-0001"
unit = "mm"
min = 240.0
max = 260.0
topic = "{topic}"
value = "/level"
timestamp = "/time"

[[program]]
element = "{FILLER}"
name = "{SET_FILL_VOLUME}"
topic = "{CALLS}"
reply_topic = "{ANSWERS}"
timeout = "2s"

[[exchange]]
station = "{FILLER}"
topic = "{IDENTITY}"
element = "fill-sensor-{{serial}}"
fragment = '{EXCHANGED_SENSOR_FRAGMENT}'

[envelope.programs.{SET_FILL_VOLUME}]
volume = {{ min = 250.0, max = 1200.0 }}
"#
		),
	)
	.unwrap();
	path
}

fn start_agent(
	node: &Node,
	twin: TwinId,
	dir: &Path,
	device: &Path,
	password: &str,
	name: &str,
) -> AgentProcess {
	start_device_agent(node, twin, dir, device, &[("PLANT_MQTT_PASSWORD", password)], name)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_drives_the_plant_through_a_real_mqtt_broker() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let dir = dir.path();
	let node = Node::start_dev("mqtt-node", &dir.join("node"), &[]);
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up_with_sensor(&client).await;
	allow_sensor_replacement(&client, twin).await;
	let old_feed = register_fill_level_feed(&client, twin).await;

	let mut broker = Broker::start(&dir.join("broker"));
	let calls = Arc::new(Mutex::new(Vec::new()));
	let programs = answer_calls(broker.port, calls.clone()).await;
	programs
		.publish(IDENTITY, QoS::AtLeastOnce, true, json!({ "serial": "FLS-0001" }).to_string())
		.await
		.unwrap();
	let device = device_file(dir, "device", broker.port, None, "dt-agent-filler", READINGS);
	let mut agent = start_agent(&node, twin, dir, &device, PASSWORD, "agent");
	wait_logged(dir, "agent", &format!("subscribed to 3 of 3 topics at 127.0.0.1:{}", broker.port))
		.await;
	// The agent's session is at the broker now: it gets every reading from here on.
	let acked = Arc::new(Mutex::new(Vec::new()));
	let (stop_readings, readings_stop) = watch::channel(false);
	let readings = tokio::spawn(publish_readings(broker.port, acked.clone(), readings_stop));
	wait_stored(&client, old_feed, 20).await;

	// Program calls: answered, failed by the device, unanswered, refused by the envelope.
	let answered = queue(&client, twin, 3_305).await;
	assert_eq!(call_ended(&client, answered).await, Ok("fill volume set to 330.5 ml".into()));
	let jammed = queue(&client, twin, 10_000).await;
	assert_eq!(call_ended(&client, jammed).await, Err("the pump jammed".into()));
	let unanswered = queue(&client, twin, 7_770).await;
	let silence = call_ended(&client, unanswered).await.unwrap_err();
	assert!(
		silence.contains(&format!("no answer on {ANSWERS} within 2s"))
			&& silence.contains("the device did not answer"),
		"{silence}"
	);
	let beyond = queue(&client, twin, 13_000).await;
	let refused = call_ended(&client, beyond).await.unwrap_err();
	assert!(refused.starts_with(dt_agent::programs::REFUSED), "{refused}");
	let volumes: Vec<String> = calls
		.lock()
		.unwrap()
		.iter()
		.map(|call| {
			assert_eq!(call["element"], FILLER);
			assert_eq!(call["program"], SET_FILL_VOLUME);
			call["arguments"]["volume"].as_str().unwrap().to_owned()
		})
		.collect();
	assert_eq!(
		volumes,
		["330.5", "1000.0", "777.0"],
		"the call beyond the envelope never went out"
	);

	// Payloads that are no reading: logged, never sent.
	for bad in [
		json!({ "level": "high", "time": now_ms() }).to_string(),
		"250.0 mm".to_owned(),
		json!({ "level": 250.0 }).to_string(),
	] {
		programs.publish(READINGS, QoS::AtLeastOnce, false, bad).await.unwrap();
	}
	wait_logged(dir, "agent", "is not a decimal number").await;
	wait_logged(dir, "agent", "not JSON").await;
	wait_logged(dir, "agent", "nothing at /time").await;
	wait_status(dir, "agent", "the three unreadable payloads counted", |status| {
		status["device"]["unreadable"] == 3
	})
	.await;

	// The broker goes away mid-stream and comes back.
	let before_restart = acked.lock().unwrap().len();
	broker.stop();
	wait_status(dir, "agent", "the broker's absence", |status| {
		status["device"]["problem"]
			.as_str()
			.is_some_and(|p| p.contains("cannot reach the MQTT broker"))
	})
	.await;
	broker.run();
	wait_for(
		"readings acknowledged after the broker's restart",
		Duration::from_secs(60),
		|| async { (acked.lock().unwrap().len() >= before_restart + 20).then_some(()) },
	)
	.await;
	assert!(log_of(dir, "agent").contains("cannot reach the MQTT broker"));
	wait_status(dir, "agent", "the broker back", |status| status["device"]["problem"].is_null())
		.await;

	// The sensor is exchanged: the controller tells its new serial number.
	programs
		.publish(IDENTITY, QoS::AtLeastOnce, true, json!({ "serial": "FLS-0002" }).to_string())
		.await
		.unwrap();
	let new_element = "fill-sensor-FLS-0002";
	let new_feed = active_feed(&client, twin, new_element).await.id;
	let aml: String = client.request("twin_getAml", jsonrpsee::rpc_params![twin]).await.unwrap();
	assert!(aml.contains(&format!("ID=\"{new_element}\"")) && aml.contains("FLS-0002"), "{aml}");
	assert!(!aml.contains(&format!("ID=\"{FILL_SENSOR}\"")), "{aml}");
	wait_stored(&client, new_feed, 10).await;

	// Every reading the broker acknowledged is in the feeds, once; nothing else is.
	let _ = stop_readings.send(true);
	let _ = readings.await;
	let acknowledged: Vec<(u64, String)> = acked.lock().unwrap().clone();
	let stored =
		wait_readings_stored(&client, &[old_feed, new_feed], &acknowledged, str::to_owned, || {
			format!("the broker restarted after {before_restart}:\n{}", log_of(dir, "agent"))
		})
		.await;
	assert!(stored.iter().all(|(_, value)| value.parse::<f64>().is_ok()));
	assert!(agent.terminate(), "{}", log_of(dir, "agent"));

	// Over TLS to the broker, whose certificate chains to the CA the device file names; a
	// broker whose certificate does not is not talked to.
	let ca = broker.dir.join("ca.pem");
	let tls = device_file(dir, "tls", broker.tls_port, Some(&ca), "dt-agent-tls", READINGS);
	let mut over_tls = start_agent(&node, twin, dir, &tls, PASSWORD, "tls");
	wait_logged(
		dir,
		"tls",
		&format!("subscribed to 3 of 3 topics at 127.0.0.1:{}", broker.tls_port),
	)
	.await;
	over_tls.kill();
	let other_ca = broker.dir.join("other-ca.pem");
	let untrusted = device_file(
		dir,
		"untrusted",
		broker.tls_port,
		Some(&other_ca),
		"dt-agent-untrusted",
		READINGS,
	);
	let mut distrusting = start_agent(&node, twin, dir, &untrusted, PASSWORD, "untrusted");
	wait_logged(dir, "untrusted", "cannot reach the MQTT broker").await;
	distrusting.kill();
	let log = log_of(dir, "untrusted");
	assert!(log.contains("certificate") && !log.contains("subscribed"), "{log}");

	// Wrong credentials, and a topic nobody publishes on: the agent says so.
	let wrong = device_file(dir, "wrong-password", broker.port, None, "dt-agent-wrong", READINGS);
	let mut refused = start_agent(&node, twin, dir, &wrong, "not-the-password", "refused");
	wait_logged(dir, "refused", "refused the agent's credentials").await;
	refused.kill();
	let misspelt = device_file(
		dir,
		"misspelt",
		broker.port,
		None,
		"dt-agent-misspelt",
		"plant/filler/fill-levle",
	);
	let mut quiet = start_agent(&node, twin, dir, &misspelt, PASSWORD, "quiet");
	wait_logged(dir, "quiet", "nothing on plant/filler/fill-levle since the agent subscribed")
		.await;
	quiet.kill();
}
