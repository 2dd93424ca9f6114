//! The MQTT connector: the device is a controller that talks through a broker.
//!
//! - **Readings**: each sensor's topic carries its readings, the payload the decimal number
//!   itself or JSON with the value (and optionally the time) at the device file's JSON
//!   pointers. A payload that is no reading is counted and logged, never sent.
//! - **Program calls**: the agent publishes `{"id", "element", "program", "arguments"}` on
//!   the program's topic (arguments by name, decimals as exact text such as `"330.5"`) and
//!   waits for `{"id", "ok": TEXT}` or `{"id", "error": TEXT}` with the same id on the reply
//!   topic; no answer within the timeout reports the call `Failed`, saying whether the
//!   broker was reachable.
//! - **Sensor exchange**: a station's retained identity topic carries its sensor's serial
//!   number (the payload, or `"serial"` in JSON); a serial other than the current sensor's
//!   is an exchange, and the new sensor's element is made from the device file's template.
//!
//! The connection runs in its own task, in a persistent session (the broker queues what the
//! device publishes while the agent is away): it subscribes after every (re)connection,
//! retries with backoff while the broker is away, and names a refusal of the credentials
//! as such.

use super::{current_sensors, identity_reported, random_prefix, CurrentSensor, Intake};
use crate::{
	config::{
		DeviceConfig, ExchangeMapping, IdentitySource, MqttConfig, ProgramMapping, ProgramTarget,
		ReadingSource, SensorMapping, TopicReadings,
	},
	device::{Device, DeviceEvent, ProgramCall, SensorInfo},
	reconnect::{pause, Backoff},
	status::DeviceHealth,
};
use rumqttc::{
	AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Packet, QoS,
	SubscribeFilter, SubscribeReasonCode, Transport,
};
use serde_json::Value;
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, MutexGuard,
	},
	time::Duration,
};
use tokio::sync::{oneshot, watch};

/// Largest MQTT packet the agent takes or sends (rumqttc's default is 10 KiB).
const MAX_PACKET: usize = 256 << 10;
/// Requests the client queues while the connection task is busy.
const REQUEST_CAPACITY: usize = 256;

/// Why the connector cannot start.
#[derive(Debug, thiserror::Error)]
pub enum MqttError {
	#[error("the device file's MQTT password: {0}")]
	Secret(String),
	#[error("cannot read the broker's CA certificate {}: {source}", path.display())]
	CaFile { path: std::path::PathBuf, source: std::io::Error },
}

/// The device behind an MQTT broker; clones share the connection.
#[derive(Clone)]
pub struct MqttDevice {
	shared: Arc<Shared>,
}

struct Shared {
	client: AsyncClient,
	broker: String,
	programs: Vec<ProgramMapping>,
	sensors: Vec<SensorMapping>,
	exchanges: Vec<ExchangeMapping>,
	state: Mutex<State>,
	/// Calls published and waiting for their answer, by id.
	waiting: Mutex<HashMap<String, oneshot::Sender<Result<String, String>>>>,
	next_call: AtomicU64,
	/// A random prefix of this run's call ids: an answer can be matched only by whoever saw
	/// the call, and no earlier run's answer matches.
	run: String,
}

struct State {
	/// Each station's current sensor.
	current: BTreeMap<String, CurrentSensor>,
	intake: Intake,
	/// `None` while connected, else why not.
	trouble: Option<String>,
	/// Stations that delivered a reading since the last connection.
	heard: BTreeSet<String>,
}

impl MqttDevice {
	/// Starts the connection to the broker of `config` (it keeps trying until `shutdown`):
	/// the sensors are the device file's, except a station whose sensor the agent recorded
	/// as exchanged, `recorded` (station, element), as [`crate::feeds::recorded_sensors`]
	/// reads it.
	pub fn start(
		config: &DeviceConfig,
		mqtt: &MqttConfig,
		recorded: &[(String, String)],
		shutdown: watch::Receiver<bool>,
	) -> Result<MqttDevice, MqttError> {
		let mut options = MqttOptions::new(&mqtt.client_id, &mqtt.host, mqtt.port);
		// A persistent session: the broker keeps what the device publishes while the agent
		// is away (QoS 1), and the subscriptions, as long as the broker itself keeps them.
		options
			.set_keep_alive(mqtt.keep_alive)
			.set_max_packet_size(MAX_PACKET, MAX_PACKET)
			.set_clean_session(false);
		if let (Some(username), Some(password)) = (&mqtt.username, &mqtt.password) {
			options.set_credentials(username, password.read().map_err(MqttError::Secret)?);
		} else if let Some(username) = &mqtt.username {
			options.set_credentials(username, "");
		}
		if let Some(path) = &mqtt.ca_file {
			let ca = std::fs::read(path)
				.map_err(|source| MqttError::CaFile { path: path.clone(), source })?;
			// rumqttc builds its TLS configuration on the process's default provider.
			let _ = rustls::crypto::ring::default_provider().install_default();
			options.set_transport(Transport::tls(ca, None, None));
		}
		let (client, events) = AsyncClient::new(options, REQUEST_CAPACITY);
		let current = current_sensors(config, recorded);
		let shared = Arc::new(Shared {
			client,
			broker: format!("{}:{}", mqtt.host, mqtt.port),
			programs: config.programs.clone(),
			sensors: config.sensors.clone(),
			exchanges: config.exchanges.clone(),
			state: Mutex::new(State {
				current,
				intake: Intake::default(),
				trouble: Some("not connected yet".into()),
				heard: BTreeSet::new(),
			}),
			waiting: Mutex::new(HashMap::new()),
			next_call: AtomicU64::new(0),
			run: random_prefix(),
		});
		tokio::spawn(connect(shared.clone(), events, mqtt.silence_warning, shutdown));
		Ok(MqttDevice { shared })
	}
}

impl Shared {
	fn state(&self) -> MutexGuard<'_, State> {
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn waiting(&self) -> MutexGuard<'_, HashMap<String, oneshot::Sender<Result<String, String>>>> {
		self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Every topic the agent listens on.
	fn topics(&self) -> Vec<String> {
		let mut topics: Vec<String> = self
			.sensors
			.iter()
			.filter_map(|s| readings_topic(s).map(|readings| readings.topic.clone()))
			.chain(
				self.programs
					.iter()
					.filter_map(|p| call_topics(p).map(|(_, reply)| reply.to_owned())),
			)
			.chain(self.exchanges.iter().filter_map(|e| identity_topic(e).map(str::to_owned)))
			.collect();
		topics.sort();
		topics.dedup();
		topics
	}

	fn on_publish(&self, topic: &str, payload: &[u8]) {
		for mapping in &self.sensors {
			if let Some(readings) = readings_topic(mapping).filter(|r| r.topic == topic) {
				self.on_reading(mapping, readings, payload);
			}
		}
		if self
			.programs
			.iter()
			.any(|p| call_topics(p).is_some_and(|(_, reply)| reply == topic))
		{
			self.on_answer(topic, payload);
		}
		for exchange in self.exchanges.iter().filter(|e| identity_topic(e) == Some(topic)) {
			self.on_identity(exchange, topic, payload);
		}
	}

	fn on_reading(&self, mapping: &SensorMapping, readings: &TopicReadings, payload: &[u8]) {
		let station = &mapping.sensor.station;
		let mut state = self.state();
		state.heard.insert(station.clone());
		let Some(element) = state.current.get(station).map(|c| c.info.element.clone()) else {
			return;
		};
		let pushed = match reading_of(readings, payload) {
			Ok((timestamp, value)) => state
				.intake
				.push(&element, timestamp, &value)
				.map_err(|unreadable| unreadable.0),
			Err(reason) => {
				state.intake.unreadable += 1;
				Err(reason)
			},
		};
		if let Err(reason) = pushed {
			state.intake.log_unreadable(&element, &readings.topic, &reason);
		}
	}

	fn on_answer(&self, topic: &str, payload: &[u8]) {
		let answer: Option<(String, Result<String, String>)> =
			serde_json::from_slice::<Value>(payload).ok().and_then(|json| {
				let id = json.get("id")?.as_str()?.to_owned();
				let text = |key: &str| {
					json.get(key).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
				};
				let outcome = match (text("ok"), text("error")) {
					(Some(ok), None) => Ok(ok),
					(None, Some(error)) => Err(error),
					_ => return None,
				};
				Some((id, outcome))
			});
		match answer {
			Some((id, outcome)) => match self.waiting().remove(&id) {
				Some(waiting) => {
					let _ = waiting.send(outcome);
				},
				None => log::debug!("an answer on {topic} to call {id}, which nobody waits for"),
			},
			None => log::warn!(
				"an answer on {topic} is not {{\"id\", \"ok\"}} or {{\"id\", \"error\"}}: {}",
				String::from_utf8_lossy(&payload[..payload.len().min(200)])
			),
		}
	}

	fn on_identity(&self, exchange: &ExchangeMapping, topic: &str, payload: &[u8]) {
		let Some(serial) = serial_of(payload) else {
			log::warn!(
				"station {}: the identity on {topic} carries no serial number",
				exchange.station,
			);
			return;
		};
		let mut state = self.state();
		let Some(current) = state.current.get_mut(&exchange.station) else { return };
		if let Some(replacement) = identity_reported(current, exchange, serial) {
			state.intake.exchanged(replacement);
		}
	}
}

/// Where an MQTT device publishes a sensor's readings.
fn readings_topic(mapping: &SensorMapping) -> Option<&TopicReadings> {
	match &mapping.source {
		ReadingSource::Topic(readings) => Some(readings),
		ReadingSource::Node(_) => None,
	}
}

/// The topics of a program's calls and answers.
fn call_topics(mapping: &ProgramMapping) -> Option<(&str, &str)> {
	match &mapping.target {
		ProgramTarget::Topic { topic, reply_topic } => Some((topic, reply_topic)),
		ProgramTarget::Method(_) => None,
	}
}

/// The retained topic of a station's sensor identity.
fn identity_topic(exchange: &ExchangeMapping) -> Option<&str> {
	match &exchange.source {
		IdentitySource::Topic(topic) => Some(topic),
		IdentitySource::Node(_) => None,
	}
}

/// The device's time (if the payload has it) and the decimal text of a reading's payload.
fn reading_of(mapping: &TopicReadings, payload: &[u8]) -> Result<(Option<u64>, String), String> {
	let text = std::str::from_utf8(payload).map_err(|_| "not UTF-8".to_owned())?;
	let Some(pointer) = &mapping.value else { return Ok((None, text.trim().to_owned())) };
	let json: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
	let value = match json.pointer(pointer) {
		Some(Value::Number(number)) => number.to_string(),
		Some(Value::String(text)) => text.clone(),
		Some(other) => return Err(format!("{pointer} is {other}, not a number")),
		None => return Err(format!("nothing at {pointer}")),
	};
	let timestamp =
		match &mapping.timestamp {
			None => None,
			Some(pointer) => match json.pointer(pointer) {
				Some(Value::Number(number)) => Some(number.as_u64().ok_or_else(|| {
					format!("{pointer} is {number}, not milliseconds since 1970")
				})?),
				Some(other) => {
					return Err(format!("{pointer} is {other}, not milliseconds since 1970"))
				},
				None => return Err(format!("nothing at {pointer}")),
			},
		};
	Ok((timestamp, value))
}

/// The serial number of an identity payload: the text itself, or `"serial"` in JSON.
fn serial_of(payload: &[u8]) -> Option<String> {
	let text = std::str::from_utf8(payload).ok()?.trim();
	let serial = match serde_json::from_str::<Value>(text) {
		Ok(Value::Object(object)) => object.get("serial")?.as_str()?.to_owned(),
		Ok(Value::String(serial)) => serial,
		_ => text.to_owned(),
	};
	(!serial.is_empty()).then_some(serial)
}

/// Runs the connection until `shutdown`: subscribes on every connection, hands what arrives
/// to `shared`, and waits with backoff while the broker is away.
async fn connect(
	shared: Arc<Shared>,
	mut events: rumqttc::EventLoop,
	silence_warning: Duration,
	mut shutdown: watch::Receiver<bool>,
) {
	let mut backoff = Backoff::default();
	let mut subscribed = Vec::new();
	// When to look for sensors that stayed silent since the last subscription, if still due.
	let mut silence_check: Option<tokio::time::Instant> = None;
	loop {
		let event = tokio::select! {
			event = events.poll() => event,
			_ = tokio::time::sleep_until(silence_check.unwrap_or_else(tokio::time::Instant::now)),
				if silence_check.is_some() =>
			{
				silence_check = None;
				warn_of_silence(&shared);
				continue;
			},
			_ = shutdown.wait_for(|stop| *stop) => {
				let _ = shared.client.try_disconnect();
				return;
			},
		};
		match event {
			Ok(Event::Incoming(Packet::ConnAck(_))) => {
				backoff.reset();
				log::info!("connected to the MQTT broker at {}", shared.broker);
				{
					let mut state = shared.state();
					state.trouble = None;
					state.heard.clear();
				}
				subscribed = shared.topics();
				let filters = subscribed
					.iter()
					.map(|topic| SubscribeFilter::new(topic.clone(), QoS::AtLeastOnce));
				if let Err(e) = shared.client.try_subscribe_many(filters) {
					log::error!("cannot subscribe at the broker {}: {e}", shared.broker);
				}
				silence_check = Some(tokio::time::Instant::now() + silence_warning);
			},
			Ok(Event::Incoming(Packet::Publish(publish))) => {
				shared.on_publish(&publish.topic, &publish.payload)
			},
			Ok(Event::Incoming(Packet::SubAck(ack))) => {
				let mut refused = 0;
				for (topic, code) in subscribed.iter().zip(&ack.return_codes) {
					if matches!(code, SubscribeReasonCode::Failure) {
						refused += 1;
						log::error!(
							"the broker {} refused the subscription to {topic}: check the \
							 topic in the device file and the broker's access rules",
							shared.broker
						);
					}
				}
				log::info!(
					"subscribed to {} of {} topics at {}",
					subscribed.len() - refused,
					subscribed.len(),
					shared.broker
				);
			},
			Ok(_) => {},
			Err(error) => {
				let wait = backoff.next_wait();
				let trouble = match &error {
					ConnectionError::ConnectionRefused(
						code @ (ConnectReturnCode::BadUserNamePassword
						| ConnectReturnCode::NotAuthorized),
					) => format!(
						"the MQTT broker at {} refused the agent's credentials ({code:?}): check \
						 the username and password the device file names",
						shared.broker
					),
					other => format!("cannot reach the MQTT broker at {}: {other}", shared.broker),
				};
				let first = shared.state().trouble.as_deref() != Some(trouble.as_str());
				if first {
					log::error!("{trouble}; retrying every {wait:?} or less");
				} else {
					log::debug!("{trouble}; retrying in {wait:?}");
				}
				shared.state().trouble = Some(trouble);
				if !pause(wait, &mut shutdown).await {
					return;
				}
			},
		}
	}
}

/// Logs each sensor that has delivered nothing since the agent subscribed.
fn warn_of_silence(shared: &Shared) {
	let state = shared.state();
	for mapping in &shared.sensors {
		let Some(readings) = readings_topic(mapping) else { continue };
		if !state.heard.contains(&mapping.sensor.station) {
			log::warn!(
				"sensor {}: nothing on {} since the agent subscribed: is it the topic the \
				 device publishes on?",
				mapping.sensor.element,
				readings.topic
			);
		}
	}
}

#[async_trait::async_trait]
impl Device for MqttDevice {
	async fn run_program(&self, call: &ProgramCall) -> Result<String, String> {
		let shared = &self.shared;
		let Some((mapping, (topic, reply_topic))) = shared
			.programs
			.iter()
			.filter(|p| p.element == call.element && p.program == call.program)
			.find_map(|p| Some((p, call_topics(p)?)))
		else {
			return Err(format!(
				"the device file maps no program {} of {} to the device",
				call.program, call.element
			));
		};
		let id = format!("{}-{}", shared.run, shared.next_call.fetch_add(1, Ordering::Relaxed));
		let arguments: serde_json::Map<String, Value> =
			call.values().into_iter().map(|(name, value)| (name, value.to_json())).collect();
		let request = serde_json::json!({
			"id": id,
			"element": call.element,
			"program": call.program,
			"arguments": arguments,
		});
		let (answer, answered) = oneshot::channel();
		shared.waiting().insert(id.clone(), answer);
		let published =
			shared.client.publish(topic, QoS::AtLeastOnce, false, request.to_string()).await;
		let outcome = match published {
			Err(e) => Err(format!("cannot publish the call on {topic}: {e}")),
			Ok(()) => match tokio::time::timeout(mapping.timeout, answered).await {
				Ok(Ok(outcome)) => outcome,
				Ok(Err(_)) => Err("the connector stopped before the device answered".into()),
				Err(_) => Err(match shared.state().trouble.clone() {
					Some(trouble) => format!(
						"no answer on {reply_topic} within {:?}: {trouble}",
						mapping.timeout
					),
					None => format!(
						"no answer on {reply_topic} within {:?}; the broker at {} is reachable, \
						 the device did not answer",
						mapping.timeout, shared.broker
					),
				}),
			},
		};
		shared.waiting().remove(&id);
		outcome
	}

	fn sensors(&self) -> Vec<SensorInfo> {
		self.shared
			.state()
			.current
			.values()
			.map(|current| current.info.clone())
			.collect()
	}

	fn take_events(&self) -> Vec<DeviceEvent> {
		self.shared.state().intake.take()
	}

	fn health(&self) -> DeviceHealth {
		let state = self.shared.state();
		DeviceHealth {
			problem: state.trouble.clone(),
			unreadable: state.intake.unreadable,
			..Default::default()
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn mapping(value: Option<&str>, timestamp: Option<&str>) -> TopicReadings {
		TopicReadings {
			topic: "plant/filler/fill-level".into(),
			value: value.map(Into::into),
			timestamp: timestamp.map(Into::into),
		}
	}

	#[test]
	fn readings_come_from_the_payload_or_its_json() {
		let raw = mapping(None, None);
		assert_eq!(reading_of(&raw, b" 250.3\n").unwrap().1, "250.3");
		let json = mapping(Some("/level"), Some("/time"));
		assert_eq!(
			reading_of(&json, br#"{"level": 250.3, "time": 1765000000000}"#).unwrap(),
			(Some(1_765_000_000_000), "250.3".to_owned())
		);
		assert_eq!(
			reading_of(&json, br#"{"level": "250.30", "time": 1}"#).unwrap(),
			(Some(1), "250.30".to_owned())
		);
		for (payload, reason) in [
			(&br#"{"level": true, "time": 1}"#[..], "not a number"),
			(br#"{"time": 1}"#, "nothing at /level"),
			(br#"{"level": 1, "time": -5}"#, "not milliseconds"),
			(br#"{"level": 1}"#, "nothing at /time"),
			(b"level=1", "not JSON"),
			(b"\xff", "not UTF-8"),
		] {
			let error = reading_of(&json, payload).unwrap_err();
			assert!(error.contains(reason), "{error}");
		}
	}

	#[test]
	fn a_serial_is_the_payload_or_its_json_serial() {
		assert_eq!(serial_of(b"FLS-0002\n").as_deref(), Some("FLS-0002"));
		assert_eq!(serial_of(br#"{"serial": "FLS-0003"}"#).as_deref(), Some("FLS-0003"));
		assert_eq!(serial_of(br#""FLS-0004""#).as_deref(), Some("FLS-0004"));
		assert_eq!(serial_of(br#"{"model": "x"}"#), None);
		assert_eq!(serial_of(b"  "), None);
	}
}
