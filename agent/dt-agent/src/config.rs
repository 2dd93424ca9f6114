//! The device file: how the agent reaches its device and how the device maps onto the twin,
//! in one TOML file (`dt-agent --device FILE`; a full example for the bottling plant is
//! `devices/bottling-plant-mqtt.toml`):
//!
//! - one connector section: `[mqtt]` (a broker: address, client id, credentials, TLS) or
//!   `[opcua]` (a server: endpoint, security policy and mode, the agent's certificate store,
//!   the server certificate it trusts, and the user: a name and password, or a user
//!   certificate and its private key);
//! - `[[sensor]]`: each sensor the twin knows, by station and element, with its serial
//!   number, unit and expected range, and where its readings come from: over MQTT a `topic`
//!   (and in a JSON payload the `value` and optional `timestamp` as JSON pointers), over OPC
//!   UA a variable's `node` id and the `sampling` interval;
//! - `[[program]]`: each program the device runs, by element and name, and where a call
//!   goes: over MQTT a `topic` and the `reply_topic` of the answer, over OPC UA the
//!   `object` and `method` node ids and the order (and OPC UA types) of its `arguments`;
//!   and how long the agent waits for the outcome (`timeout`);
//! - `[[exchange]]`: where the device tells a station's sensor identity, its serial number
//!   (a retained MQTT `topic`, or an OPC UA variable's `node`), and how a new sensor's element
//!   id and its AML element are made from it (`element` and `fragment`, with `{station}`,
//!   `{serial}` and `{element}` filled in);
//! - `[envelope]`: the device's safety envelope, as in an envelope file
//!   ([`crate::envelope`]), under `[envelope.programs.NAME]`.
//!
//! Secrets never live in the file: a password is named by `password = { file = "..." }`
//! (relative to the device file) or `password = { env = "NAME" }`. Every error names the
//! file, the line and the entry at fault.

use crate::{
	device::SensorInfo,
	envelope::{line_of, parse_bound, EnvelopeFile, SafetyEnvelope},
};
use dt_primitives::{feed::ValueRange, program::MAX_DECIMALS};
use serde::Deserialize;
use std::{
	collections::BTreeSet,
	ops::Range,
	path::{Path, PathBuf},
	time::Duration,
};
use toml::Spanned;

/// Why a device file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
	#[error("cannot read the device file {}: {source}", path.display())]
	Read { path: PathBuf, source: std::io::Error },
	#[error("the device file {}, line {line}: {message}", path.display())]
	Invalid { path: PathBuf, line: usize, message: String },
	#[error("the device file {}: {message}", path.display())]
	Secret { path: PathBuf, message: String },
	#[error(transparent)]
	Envelope(#[from] crate::envelope::EnvelopeError),
}

/// A secret named by the device file: read from a file or the environment when needed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretSource {
	/// A file holding the secret (a trailing newline is not part of it).
	File(PathBuf),
	/// An environment variable holding it.
	Env(String),
}

impl SecretSource {
	/// The secret; `Err` names where it should have been.
	pub fn read(&self) -> Result<String, String> {
		match self {
			SecretSource::File(path) => std::fs::read_to_string(path)
				.map(|text| text.trim_end_matches(['\r', '\n']).to_owned())
				.map_err(|e| format!("cannot read the secret file {}: {e}", path.display())),
			SecretSource::Env(name) => std::env::var(name)
				.map_err(|_| format!("the environment variable {name} is not set")),
		}
	}
}

/// How the agent reaches an MQTT broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttConfig {
	pub host: String,
	pub port: u16,
	pub client_id: String,
	pub username: Option<String>,
	pub password: Option<SecretSource>,
	/// The CA certificate (PEM) the broker's certificate must chain to: TLS when given.
	pub ca_file: Option<PathBuf>,
	pub keep_alive: Duration,
	/// How long a sensor's topic may stay silent after subscribing before the agent warns
	/// that it may be the wrong topic.
	pub silence_warning: Duration,
}

/// How the agent reaches an OPC UA server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpcUaConfig {
	/// The server's endpoint URL, `opc.tcp://HOST:PORT/PATH`.
	pub endpoint: String,
	/// The security policy's name: `None`, `Basic256Sha256`, `Aes128Sha256RsaOaep` or
	/// `Aes256Sha256RsaPss`.
	pub security_policy: String,
	/// `None`, `Sign` or `SignAndEncrypt` (`None` exactly with the policy `None`).
	pub security_mode: String,
	/// The agent's certificate store: its own application certificate and key (made at the
	/// first start), the servers it trusts (`trusted/`) and those it refused (`rejected/`).
	pub pki_dir: PathBuf,
	/// A server certificate (DER) the agent trusts from the start, put into `trusted/`.
	pub server_certificate: Option<PathBuf>,
	/// A user name and its password; without them (and without a user certificate) the
	/// session is anonymous.
	pub username: Option<String>,
	pub password: Option<SecretSource>,
	/// A user certificate (DER or PEM) and its private key (PEM): the user the agent's
	/// session acts as, instead of a name and password.
	pub user_certificate: Option<UserCertificate>,
	/// How often the server sends what its monitored items sampled.
	pub publishing_interval: Duration,
}

/// An X.509 user identity: the certificate the server knows and the key that proves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCertificate {
	pub certificate: PathBuf,
	pub private_key: PathBuf,
}

/// The device's side of the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connector {
	Mqtt(MqttConfig),
	OpcUa(OpcUaConfig),
}

/// Where a sensor's readings come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorMapping {
	/// The sensor as the twin knows it (its element is the one the device file starts with;
	/// an exchange moves the station to a new element).
	pub sensor: SensorInfo,
	/// The serial number of the sensor the element describes: an exchange is a different
	/// one on the station's identity topic or variable.
	pub serial: Option<String>,
	pub source: ReadingSource,
}

/// Where a sensor's readings come from, by connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadingSource {
	Topic(TopicReadings),
	Node(NodeReadings),
}

/// Readings published on an MQTT topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicReadings {
	/// The MQTT topic the device publishes the readings on.
	pub topic: String,
	/// Where the reading sits in a JSON payload (a JSON pointer such as `/level`); without
	/// it the payload is the decimal number itself.
	pub value: Option<String>,
	/// Where the reading's time sits in a JSON payload (milliseconds since the Unix epoch);
	/// without it, the time the agent received it.
	pub timestamp: Option<String>,
}

/// Readings of an OPC UA variable, monitored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeReadings {
	/// The variable's node id, e.g. `ns=2;s=filler.FillLevel`.
	pub node: String,
	/// How often the server samples it; zero for every value it takes. A value the server
	/// gets sooner after the last one than this is held and reported at the next sampling
	/// time (OPC UA's sampling), so a device that updates the variable itself is sampled at
	/// its own update interval or faster, and no reading is lost or retimed.
	pub sampling: Duration,
}

/// Where a program's calls go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramMapping {
	pub element: String,
	pub program: String,
	pub target: ProgramTarget,
	/// How long the agent waits for the outcome before it reports the call `Failed`.
	pub timeout: Duration,
}

/// Where a program's calls go, by connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProgramTarget {
	/// Published on `topic`, answered on `reply_topic`.
	Topic { topic: String, reply_topic: String },
	/// An OPC UA method call.
	Method(MethodTarget),
}

/// An OPC UA method and how a call's arguments become its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodTarget {
	/// The object the method is called on, e.g. `ns=2;s=filler`.
	pub object: String,
	/// The method's node id, e.g. `ns=2;s=filler.SetFillVolume`.
	pub method: String,
	/// The method's input arguments in order: the program's argument of each name.
	pub arguments: Vec<MethodArgument>,
}

/// One input of an OPC UA method.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MethodArgument {
	/// The program argument it takes its value from.
	pub name: String,
	/// The OPC UA type it is sent as; without it, from the declared type (boolean as
	/// Boolean, integer as Int64, decimal as Double, text as String).
	pub kind: Option<OpcUaType>,
}

/// The OPC UA scalar types a method argument can be sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpcUaType {
	Boolean,
	SByte,
	Byte,
	Int16,
	UInt16,
	Int32,
	UInt32,
	Int64,
	UInt64,
	Float,
	Double,
	String,
}

impl OpcUaType {
	const ALL: [(&'static str, OpcUaType); 12] = [
		("Boolean", OpcUaType::Boolean),
		("SByte", OpcUaType::SByte),
		("Byte", OpcUaType::Byte),
		("Int16", OpcUaType::Int16),
		("UInt16", OpcUaType::UInt16),
		("Int32", OpcUaType::Int32),
		("UInt32", OpcUaType::UInt32),
		("Int64", OpcUaType::Int64),
		("UInt64", OpcUaType::UInt64),
		("Float", OpcUaType::Float),
		("Double", OpcUaType::Double),
		("String", OpcUaType::String),
	];

	fn named(name: &str) -> Option<OpcUaType> {
		OpcUaType::ALL.iter().find(|(known, _)| *known == name).map(|(_, kind)| *kind)
	}
}

/// Where the device tells a station's sensor identity, by connector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdentitySource {
	/// A retained MQTT topic: the serial number as the payload itself or under `"serial"`
	/// in a JSON object.
	Topic(String),
	/// An OPC UA variable holding the serial number (a String), monitored.
	Node(String),
}

/// How the device tells that a station's sensor was exchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeMapping {
	pub station: String,
	pub source: IdentitySource,
	/// The element id of the sensor with a serial number: `{station}` and `{serial}` are
	/// filled in.
	pub element: String,
	/// The new sensor's AML `InternalElement`: `{station}`, `{serial}` and `{element}` are
	/// filled in; its root must carry `ID="{element}"`.
	pub fragment: String,
}

impl ExchangeMapping {
	/// The element id of the sensor with `serial`.
	pub fn element_of(&self, serial: &str) -> String {
		self.element.replace("{station}", &self.station).replace("{serial}", serial)
	}

	/// The AML element of the sensor with `serial`.
	pub fn fragment_of(&self, serial: &str) -> String {
		self.fragment
			.replace("{element}", &self.element_of(serial))
			.replace("{station}", &self.station)
			.replace("{serial}", serial)
	}
}

/// A device file, checked.
#[derive(Clone, Debug)]
pub struct DeviceConfig {
	/// Where it was read from.
	pub path: PathBuf,
	pub connector: Connector,
	pub sensors: Vec<SensorMapping>,
	pub programs: Vec<ProgramMapping>,
	pub exchanges: Vec<ExchangeMapping>,
	/// The safety envelope of its `[envelope]` table, if it has one.
	pub envelope: Option<SafetyEnvelope>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFile {
	mqtt: Option<Spanned<MqttSection>>,
	opcua: Option<Spanned<OpcUaSection>>,
	#[serde(default)]
	sensor: Vec<Spanned<SensorSection>>,
	#[serde(default)]
	program: Vec<Spanned<ProgramSection>>,
	#[serde(default)]
	exchange: Vec<Spanned<ExchangeSection>>,
	envelope: Option<EnvelopeFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MqttSection {
	broker: String,
	client_id: String,
	username: Option<String>,
	password: Option<Spanned<toml::Value>>,
	ca_file: Option<PathBuf>,
	keep_alive: Option<String>,
	silence_warning: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OpcUaSection {
	endpoint: String,
	security_policy: String,
	security_mode: String,
	pki_dir: PathBuf,
	server_certificate: Option<PathBuf>,
	username: Option<String>,
	password: Option<Spanned<toml::Value>>,
	user_certificate: Option<PathBuf>,
	user_private_key: Option<PathBuf>,
	publishing_interval: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SensorSection {
	station: String,
	element: String,
	serial: Option<String>,
	unit: String,
	min: Option<Spanned<toml::Value>>,
	max: Option<Spanned<toml::Value>>,
	// MQTT
	topic: Option<String>,
	value: Option<String>,
	timestamp: Option<String>,
	// OPC UA
	node: Option<String>,
	sampling: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramSection {
	element: String,
	name: String,
	timeout: Option<String>,
	// MQTT
	topic: Option<String>,
	reply_topic: Option<String>,
	// OPC UA
	object: Option<String>,
	method: Option<String>,
	arguments: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExchangeSection {
	station: String,
	element: String,
	fragment: String,
	// MQTT
	topic: Option<String>,
	// OPC UA
	node: Option<String>,
}

/// Which connector the file's sections are read for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
	Mqtt,
	OpcUa,
}

impl Kind {
	fn section(self) -> &'static str {
		match self {
			Kind::Mqtt => "[mqtt]",
			Kind::OpcUa => "[opcua]",
		}
	}
}

/// Refuses the keys of `section` that belong to the other connector.
fn only_keys_of(kind: Kind, name: &str, other: &[(&str, bool)]) -> Result<(), String> {
	match other.iter().find(|(_, given)| *given) {
		Some((key, _)) => {
			Err(format!("{name}: {key} is not for a device reached through {}", kind.section()))
		},
		None => Ok(()),
	}
}

/// `value` of `key`, which the connector needs.
fn required<T>(kind: Kind, name: &str, key: &str, value: Option<T>) -> Result<T, String> {
	value.ok_or_else(|| format!("{name}: a device reached through {} needs {key}", kind.section()))
}

/// How long the agent waits for a program's answer unless the device file says otherwise.
pub const DEFAULT_PROGRAM_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an OPC UA server samples a sensor unless the device file says otherwise.
pub const DEFAULT_SAMPLING: Duration = Duration::from_secs(1);
/// How often an OPC UA server publishes what it sampled unless the device file says
/// otherwise.
pub const DEFAULT_PUBLISHING_INTERVAL: Duration = Duration::from_millis(500);
/// The MQTT keep-alive unless the device file says otherwise.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How long a sensor's topic may be silent before the agent warns, unless the device file
/// says otherwise.
pub const DEFAULT_SILENCE_WARNING: Duration = Duration::from_secs(30);

impl DeviceConfig {
	/// Reads and checks the device file at `path`.
	pub fn load(path: &Path) -> Result<DeviceConfig, ConfigError> {
		let text = std::fs::read_to_string(path)
			.map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
		DeviceConfig::parse(&text, path)
	}

	/// Checks a device file's `text`; `path` names it in messages and anchors its relative
	/// paths.
	pub fn parse(text: &str, path: &Path) -> Result<DeviceConfig, ConfigError> {
		let source = Source { text, path };
		let file: DeviceFile = toml::from_str(text)
			.map_err(|error| source.invalid(error.span(), error.message().to_owned()))?;
		let (connector, kind) = match (file.mqtt, file.opcua) {
			(Some(mqtt), None) => (Connector::Mqtt(mqtt_config(&source, mqtt)?), Kind::Mqtt),
			(None, Some(opcua)) => (Connector::OpcUa(opcua_config(&source, opcua)?), Kind::OpcUa),
			(None, None) => {
				return Err(source
					.invalid(None, "no connector: add an [mqtt] or an [opcua] section".into()))
			},
			(Some(_), Some(opcua)) => {
				return Err(source.invalid(
					Some(opcua.span()),
					"one connector per device file: [mqtt] or [opcua], not both".into(),
				))
			},
		};
		let sensors = sensor_mappings(&source, kind, file.sensor)?;
		let programs = program_mappings(&source, kind, file.program)?;
		let exchanges = exchange_mappings(&source, kind, file.exchange, &sensors)?;
		let envelope = file
			.envelope
			.map(|envelope| SafetyEnvelope::from_file(envelope, text, path))
			.transpose()?;
		Ok(DeviceConfig {
			path: path.to_owned(),
			connector,
			sensors,
			programs,
			exchanges,
			envelope,
		})
	}
}

/// The device file's text and path, for errors that name a line and for relative paths.
struct Source<'a> {
	text: &'a str,
	path: &'a Path,
}

impl Source<'_> {
	/// The error at `span` (the file's first line without one).
	fn invalid(&self, span: Option<Range<usize>>, message: String) -> ConfigError {
		ConfigError::Invalid {
			path: self.path.to_owned(),
			line: span.map_or(1, |span| line_of(self.text, span.start)),
			message,
		}
	}

	/// The password a section names (`{ file }` or `{ env }`), which needs a username.
	fn password(
		&self,
		section: &str,
		span: &Range<usize>,
		password: Option<Spanned<toml::Value>>,
		username: &Option<String>,
	) -> Result<Option<SecretSource>, ConfigError> {
		let password = password
			.map(|password| {
				secret_source(password.get_ref())
					.map(|secret| match secret {
						SecretSource::File(file) => SecretSource::File(self.relative(file)),
						env => env,
					})
					.map_err(|message| self.invalid(Some(password.span()), message))
			})
			.transpose()?;
		if password.is_some() && username.is_none() {
			return Err(
				self.invalid(Some(span.clone()), format!("{section}: a password needs a username"))
			);
		}
		Ok(password)
	}

	/// The duration `text` of `key` in the entry at `span`, `default` without it.
	fn duration(
		&self,
		span: &Range<usize>,
		key: &str,
		text: Option<&str>,
		default: Duration,
	) -> Result<Duration, ConfigError> {
		text.map(|text| {
			parse_duration(text)
				.map_err(|message| self.invalid(Some(span.clone()), format!("{key}: {message}")))
		})
		.transpose()
		.map(|duration| duration.unwrap_or(default))
	}

	/// `file` as the device file names it: relative to the device file's directory.
	fn relative(&self, file: PathBuf) -> PathBuf {
		if file.is_absolute() {
			file
		} else {
			self.path.parent().unwrap_or(Path::new(".")).join(file)
		}
	}
}

/// The `[mqtt]` section, checked.
fn mqtt_config(source: &Source, mqtt: Spanned<MqttSection>) -> Result<MqttConfig, ConfigError> {
	let mqtt_span = mqtt.span();
	let mqtt = mqtt.into_inner();
	let (host, port) = broker_address(&mqtt.broker)
		.map_err(|message| source.invalid(Some(mqtt_span.clone()), message))?;
	let password = source.password("[mqtt]", &mqtt_span, mqtt.password, &mqtt.username)?;
	let duration = |text: &Option<String>, key: &str, default: Duration| {
		source.duration(&mqtt_span, &format!("[mqtt] {key}"), text.as_deref(), default)
	};
	let keep_alive = duration(&mqtt.keep_alive, "keep_alive", DEFAULT_KEEP_ALIVE)?;
	let silence_warning =
		duration(&mqtt.silence_warning, "silence_warning", DEFAULT_SILENCE_WARNING)?;
	Ok(MqttConfig {
		host,
		port,
		client_id: mqtt.client_id,
		username: mqtt.username,
		password,
		ca_file: mqtt.ca_file.map(|file| source.relative(file)),
		keep_alive,
		silence_warning,
	})
}

/// The `[opcua]` section, checked.
fn opcua_config(source: &Source, opcua: Spanned<OpcUaSection>) -> Result<OpcUaConfig, ConfigError> {
	let span = opcua.span();
	let opcua = opcua.into_inner();
	let invalid = |message: String| source.invalid(Some(span.clone()), message);
	if !opcua.endpoint.starts_with("opc.tcp://") || opcua.endpoint.len() <= "opc.tcp://".len() {
		return Err(invalid(format!(
			"[opcua] endpoint {:?} is not opc.tcp://HOST:PORT/, such as opc.tcp://127.0.0.1:4840/",
			opcua.endpoint
		)));
	}
	const POLICIES: [&str; 4] =
		["None", "Basic256Sha256", "Aes128Sha256RsaOaep", "Aes256Sha256RsaPss"];
	if !POLICIES.contains(&opcua.security_policy.as_str()) {
		return Err(invalid(format!(
			"[opcua] security_policy {:?} is not one of {}",
			opcua.security_policy,
			POLICIES.join(", ")
		)));
	}
	const MODES: [&str; 3] = ["None", "Sign", "SignAndEncrypt"];
	if !MODES.contains(&opcua.security_mode.as_str()) {
		return Err(invalid(format!(
			"[opcua] security_mode {:?} is not one of {}",
			opcua.security_mode,
			MODES.join(", ")
		)));
	}
	if (opcua.security_policy == "None") != (opcua.security_mode == "None") {
		return Err(invalid(
			"[opcua]: security_mode None goes with security_policy None, and only with it".into(),
		));
	}
	let password = source.password("[opcua]", &span, opcua.password, &opcua.username)?;
	let user_certificate =
		match (opcua.user_certificate, opcua.user_private_key) {
			(None, None) => None,
			(Some(_), Some(_)) if opcua.username.is_some() => return Err(invalid(
				"[opcua]: the user is a username (and password) or a user_certificate, not both"
					.into(),
			)),
			(Some(certificate), Some(private_key)) => Some(UserCertificate {
				certificate: source.relative(certificate),
				private_key: source.relative(private_key),
			}),
			_ => {
				return Err(invalid(
					"[opcua]: a user_certificate goes with its user_private_key, and only with it"
						.into(),
				))
			},
		};
	let publishing_interval = source.duration(
		&span,
		"[opcua] publishing_interval",
		opcua.publishing_interval.as_deref(),
		DEFAULT_PUBLISHING_INTERVAL,
	)?;
	Ok(OpcUaConfig {
		endpoint: opcua.endpoint,
		security_policy: opcua.security_policy,
		security_mode: opcua.security_mode,
		pki_dir: source.relative(opcua.pki_dir),
		server_certificate: opcua.server_certificate.map(|file| source.relative(file)),
		username: opcua.username,
		password,
		user_certificate,
		publishing_interval,
	})
}

/// An OPC UA node id as the device file writes it (`ns=2;s=filler.FillLevel`, `i=2258`),
/// checked by the OPC UA stack's own parser.
fn node_id(name: &str, key: &str, text: &str) -> Result<String, String> {
	text.parse::<opcua::types::NodeId>().map(|_| text.to_owned()).map_err(|_| {
		format!("{name}: {key} {text:?} is not an OPC UA node id such as ns=2;s=filler.FillLevel")
	})
}

/// The `[[sensor]]` sections, checked: one sensor per element and per station.
fn sensor_mappings(
	source: &Source,
	kind: Kind,
	sections: Vec<Spanned<SensorSection>>,
) -> Result<Vec<SensorMapping>, ConfigError> {
	let mut sensors = Vec::new();
	let mut elements = BTreeSet::new();
	let mut stations = BTreeSet::new();
	for section in sections {
		let span = section.span();
		let section = section.into_inner();
		let name = format!("[[sensor]] {}", section.element);
		let invalid = |message: String| source.invalid(Some(span.clone()), message);
		if !elements.insert(section.element.clone()) {
			return Err(invalid(format!("{name} is listed twice")));
		}
		if !stations.insert(section.station.clone()) {
			return Err(invalid(format!(
				"{name}: station {} has another sensor already",
				section.station
			)));
		}
		let expected_range = expected_range(source.text, section.min, section.max)
			.map_err(|(span, message)| source.invalid(Some(span), format!("{name}: {message}")))?;
		let reading_source = match kind {
			Kind::Mqtt => {
				only_keys_of(
					kind,
					&name,
					&[("node", section.node.is_some()), ("sampling", section.sampling.is_some())],
				)
				.map_err(invalid)?;
				let topic = required(kind, &name, "topic", section.topic).map_err(invalid)?;
				for pointer in [&section.value, &section.timestamp].into_iter().flatten() {
					if !pointer.is_empty() && !pointer.starts_with('/') {
						return Err(invalid(format!(
							"{name}: {pointer:?} is not a JSON pointer such as /level"
						)));
					}
				}
				if section.timestamp.is_some() && section.value.is_none() {
					return Err(invalid(format!(
						"{name}: a timestamp pointer needs a value pointer (a JSON payload)"
					)));
				}
				ReadingSource::Topic(TopicReadings {
					topic,
					value: section.value,
					timestamp: section.timestamp,
				})
			},
			Kind::OpcUa => {
				only_keys_of(
					kind,
					&name,
					&[
						("topic", section.topic.is_some()),
						("value", section.value.is_some()),
						("timestamp", section.timestamp.is_some()),
					],
				)
				.map_err(invalid)?;
				let node = required(kind, &name, "node", section.node).map_err(invalid)?;
				let node = node_id(&name, "node", &node).map_err(invalid)?;
				// 0 asks the server for every value the variable takes, unsampled.
				let sampling = match section.sampling.as_deref() {
					Some("0" | "0ms" | "0s") => Duration::ZERO,
					text => source.duration(
						&span,
						&format!("{name} sampling"),
						text,
						DEFAULT_SAMPLING,
					)?,
				};
				ReadingSource::Node(NodeReadings { node, sampling })
			},
		};
		sensors.push(SensorMapping {
			sensor: SensorInfo {
				station: section.station,
				element: section.element,
				unit: section.unit,
				expected_range,
			},
			serial: section.serial,
			source: reading_source,
		});
	}
	Ok(sensors)
}

/// The `[[program]]` sections, checked: each program of an element once.
fn program_mappings(
	source: &Source,
	kind: Kind,
	sections: Vec<Spanned<ProgramSection>>,
) -> Result<Vec<ProgramMapping>, ConfigError> {
	let mut programs: Vec<ProgramMapping> = Vec::new();
	for section in sections {
		let span = section.span();
		let section = section.into_inner();
		let name = format!("[[program]] {} of {}", section.name, section.element);
		let invalid = |message: String| source.invalid(Some(span.clone()), message);
		if programs
			.iter()
			.any(|p| p.element == section.element && p.program == section.name)
		{
			return Err(invalid(format!("{name} is listed twice")));
		}
		let timeout = source.duration(
			&span,
			&format!("{name}: timeout"),
			section.timeout.as_deref(),
			DEFAULT_PROGRAM_TIMEOUT,
		)?;
		let target = match kind {
			Kind::Mqtt => {
				only_keys_of(
					kind,
					&name,
					&[
						("object", section.object.is_some()),
						("method", section.method.is_some()),
						("arguments", section.arguments.is_some()),
					],
				)
				.map_err(invalid)?;
				ProgramTarget::Topic {
					topic: required(kind, &name, "topic", section.topic).map_err(invalid)?,
					reply_topic: required(kind, &name, "reply_topic", section.reply_topic)
						.map_err(invalid)?,
				}
			},
			Kind::OpcUa => {
				only_keys_of(
					kind,
					&name,
					&[
						("topic", section.topic.is_some()),
						("reply_topic", section.reply_topic.is_some()),
					],
				)
				.map_err(invalid)?;
				let object = required(kind, &name, "object", section.object).map_err(invalid)?;
				let method = required(kind, &name, "method", section.method).map_err(invalid)?;
				let arguments = section
					.arguments
					.unwrap_or_default()
					.iter()
					.map(|argument| method_argument(&name, argument))
					.collect::<Result<Vec<_>, _>>()
					.map_err(invalid)?;
				ProgramTarget::Method(MethodTarget {
					object: node_id(&name, "object", &object).map_err(invalid)?,
					method: node_id(&name, "method", &method).map_err(invalid)?,
					arguments,
				})
			},
		};
		programs.push(ProgramMapping {
			element: section.element,
			program: section.name,
			target,
			timeout,
		});
	}
	Ok(programs)
}

/// `NAME` or `NAME:TYPE` of a method's input.
fn method_argument(program: &str, text: &str) -> Result<MethodArgument, String> {
	let (name, kind) = match text.split_once(':') {
		None => (text, None),
		Some((name, kind)) => match OpcUaType::named(kind) {
			Some(kind) => (name, Some(kind)),
			None => {
				let known: Vec<&str> = OpcUaType::ALL.iter().map(|(name, _)| *name).collect();
				return Err(format!(
					"{program}: argument {text:?}: {kind:?} is not one of the OPC UA types {}",
					known.join(", ")
				));
			},
		},
	};
	if name.is_empty() {
		return Err(format!("{program}: argument {text:?} has no name"));
	}
	Ok(MethodArgument { name: name.to_owned(), kind })
}

/// The `[[exchange]]` sections, checked against the `sensors`: each of a station with a
/// sensor whose serial number is known, once.
fn exchange_mappings(
	source: &Source,
	kind: Kind,
	sections: Vec<Spanned<ExchangeSection>>,
	sensors: &[SensorMapping],
) -> Result<Vec<ExchangeMapping>, ConfigError> {
	let mut exchanges: Vec<ExchangeMapping> = Vec::new();
	for section in sections {
		let span = section.span();
		let section = section.into_inner();
		let name = format!("[[exchange]] of {}", section.station);
		let invalid = |message: String| source.invalid(Some(span.clone()), message);
		let Some(sensor) = sensors.iter().find(|s| s.sensor.station == section.station) else {
			return Err(invalid(format!("{name}: no [[sensor]] has station {}", section.station)));
		};
		if sensor.serial.is_none() {
			return Err(invalid(format!(
				"{name}: [[sensor]] {} needs the serial number of the sensor it describes \
				 (serial = \"...\"), so an exchange can be told apart",
				sensor.sensor.element
			)));
		}
		if exchanges.iter().any(|e| e.station == section.station) {
			return Err(invalid(format!("{name} is listed twice")));
		}
		if !section.element.contains("{serial}") {
			return Err(invalid(format!(
				"{name}: element must contain {{serial}}, so each sensor has its own"
			)));
		}
		if !section.fragment.contains("ID=\"{element}\"") {
			return Err(invalid(format!(
				"{name}: the fragment's root must carry ID=\"{{element}}\""
			)));
		}
		let identity = match kind {
			Kind::Mqtt => {
				only_keys_of(kind, &name, &[("node", section.node.is_some())]).map_err(invalid)?;
				IdentitySource::Topic(
					required(kind, &name, "topic", section.topic).map_err(invalid)?,
				)
			},
			Kind::OpcUa => {
				only_keys_of(kind, &name, &[("topic", section.topic.is_some())])
					.map_err(invalid)?;
				let node = required(kind, &name, "node", section.node).map_err(invalid)?;
				IdentitySource::Node(node_id(&name, "node", &node).map_err(invalid)?)
			},
		};
		exchanges.push(ExchangeMapping {
			station: section.station,
			source: identity,
			element: section.element,
			fragment: section.fragment,
		});
	}
	Ok(exchanges)
}

/// `host:port` of a broker.
fn broker_address(broker: &str) -> Result<(String, u16), String> {
	let bad = || format!("broker {broker:?} is not HOST:PORT, such as 127.0.0.1:1883");
	let (host, port) = broker.rsplit_once(':').ok_or_else(bad)?;
	let port: u16 = port.parse().ok().filter(|port| *port > 0).ok_or_else(bad)?;
	if host.is_empty() {
		return Err(bad());
	}
	Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), port))
}

/// `{ file = "..." }` or `{ env = "..." }`; a literal secret is refused.
fn secret_source(value: &toml::Value) -> Result<SecretSource, String> {
	let refuse = || {
		"password: name where the secret is, { file = \"PATH\" } or { env = \"NAME\" }; \
		 it never goes in the device file itself"
			.to_owned()
	};
	let table = value.as_table().ok_or_else(refuse)?;
	match (table.get("file"), table.get("env"), table.len()) {
		(Some(toml::Value::String(file)), None, 1) => Ok(SecretSource::File(file.into())),
		(None, Some(toml::Value::String(name)), 1) => Ok(SecretSource::Env(name.clone())),
		_ => Err(refuse()),
	}
}

/// The expected range of `min` and `max` (plain decimal numbers), at the finer of their
/// decimal places.
fn expected_range(
	text: &str,
	min: Option<Spanned<toml::Value>>,
	max: Option<Spanned<toml::Value>>,
) -> Result<Option<ValueRange>, (Range<usize>, String)> {
	let (min, max) = match (min, max) {
		(None, None) => return Ok(None),
		(Some(min), Some(max)) => (min, max),
		(Some(one), None) | (None, Some(one)) => {
			return Err((one.span(), "give both min and max, or neither".into()))
		},
	};
	let bound = |value: &Spanned<toml::Value>| {
		parse_bound(&text[value.span()]).map_err(|message| (value.span(), message))
	};
	let (low, high) = (bound(&min)?, bound(&max)?);
	let decimals = low.decimals.max(high.decimals);
	if decimals > MAX_DECIMALS {
		return Err((min.span(), format!("more than {MAX_DECIMALS} decimal places")));
	}
	let scale = |digits: i128, from: u8, span: Range<usize>| {
		10i128
			.checked_pow(u32::from(decimals - from))
			.and_then(|factor| digits.checked_mul(factor))
			.ok_or((span, "too large".to_owned()))
	};
	let range = ValueRange {
		min: scale(low.digits, low.decimals, min.span())?,
		max: scale(high.digits, high.decimals, max.span())?,
		decimals,
	};
	if range.min > range.max {
		return Err((min.span(), "min is above max".into()));
	}
	Ok(Some(range))
}

/// A duration as the agent's options and device files write it: `250ms`, `2s`, `5m` (a bare
/// number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
	let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
	let (number, unit) = text.split_at(split);
	let number: u64 = number
		.parse()
		.map_err(|_| format!("{text:?} is not a duration like 500ms, 2s or 5m"))?;
	let duration = match unit {
		"ms" => Duration::from_millis(number),
		"s" | "" => Duration::from_secs(number),
		"m" => Duration::from_secs(number.saturating_mul(60)),
		_ => return Err(format!("{text:?}: the unit must be ms, s or m")),
	};
	if duration.is_zero() {
		return Err("a duration must not be zero".into());
	}
	Ok(duration)
}

#[cfg(test)]
mod tests {
	use super::*;

	const EXAMPLE: &str = include_str!("../devices/bottling-plant-mqtt.toml");
	const OPCUA_EXAMPLE: &str = include_str!("../devices/bottling-plant-opcua.toml");

	fn parse(text: &str) -> Result<DeviceConfig, ConfigError> {
		DeviceConfig::parse(text, Path::new("/etc/dt-agent/device.toml"))
	}

	fn error_of(text: &str) -> (usize, String) {
		match parse(text) {
			Err(ConfigError::Invalid { line, message, .. }) => (line, message),
			other => panic!("expected an invalid file, got {other:?}"),
		}
	}

	#[test]
	fn the_bottling_plants_example_reads_whole() {
		let config = parse(EXAMPLE).unwrap();
		let Connector::Mqtt(mqtt) = &config.connector else { panic!("an MQTT device") };
		assert_eq!((mqtt.host.as_str(), mqtt.port), ("127.0.0.1", 1883));
		assert_eq!(mqtt.password, Some(SecretSource::Env("DT_AGENT_MQTT_PASSWORD".into())));
		assert_eq!(config.sensors.len(), 1);
		let sensor = &config.sensors[0];
		assert_eq!(sensor.sensor.element, "filler-fill-sensor");
		assert_eq!(
			sensor.sensor.expected_range,
			Some(ValueRange { min: 2400, max: 2600, decimals: 1 })
		);
		let ReadingSource::Topic(readings) = &sensor.source else { panic!("{sensor:?}") };
		assert_eq!(readings.value.as_deref(), Some("/level"));
		assert_eq!(config.programs.len(), 4);
		assert!(config.programs.iter().all(|p| p.timeout == Duration::from_secs(5)));
		let exchange = &config.exchanges[0];
		assert_eq!(exchange.element_of("FLS-0002"), "filler-fill-sensor-FLS-0002");
		assert!(exchange.fragment_of("FLS-0002").contains("ID=\"filler-fill-sensor-FLS-0002\""));
		assert!(config.envelope.is_some());
	}

	#[test]
	fn the_bottling_plants_opcua_example_reads_whole() {
		let config = parse(OPCUA_EXAMPLE).unwrap();
		let Connector::OpcUa(opcua) = &config.connector else { panic!("an OPC UA device") };
		assert_eq!(opcua.endpoint, "opc.tcp://127.0.0.1:4840/");
		assert_eq!(
			(opcua.security_policy.as_str(), opcua.security_mode.as_str()),
			("Basic256Sha256", "SignAndEncrypt")
		);
		assert_eq!(opcua.pki_dir, PathBuf::from("/etc/dt-agent/opcua-pki"));
		assert_eq!(opcua.password, Some(SecretSource::Env("DT_AGENT_OPCUA_PASSWORD".into())));
		assert_eq!(opcua.publishing_interval, Duration::from_millis(200));
		assert_eq!(
			config.sensors[0].source,
			ReadingSource::Node(NodeReadings {
				node: "ns=2;s=filler.FillLevel".into(),
				sampling: Duration::from_millis(50)
			})
		);
		let ProgramTarget::Method(method) = &config.programs[0].target else { panic!() };
		assert_eq!(method.method, "ns=2;s=filler.SetFillVolume");
		assert_eq!(
			method.arguments,
			[MethodArgument { name: "volume".into(), kind: Some(OpcUaType::Double) }]
		);
		assert_eq!(
			config.exchanges[0].source,
			IdentitySource::Node("ns=2;s=filler.SensorSerial".into())
		);
		assert_eq!(config.programs.len(), 4);
	}

	#[test]
	fn opcua_mistakes_are_named_with_their_line() {
		let head = |policy: &str, mode: &str| {
			format!(
				"[opcua]\nendpoint = \"opc.tcp://127.0.0.1:4840/\"\nsecurity_policy = \"{policy}\"\n\
				 security_mode = \"{mode}\"\npki_dir = \"pki\"\n"
			)
		};
		let ok = head("None", "None");
		assert!(parse(&ok).is_ok());
		assert!(error_of(&head("Basic128", "Sign"))
			.1
			.contains("\"Basic128\" is not one of None"));
		assert!(error_of(&head("None", "Sign")).1.contains("security_mode None goes with"));
		assert!(error_of(&head("Basic256Sha256", "None"))
			.1
			.contains("security_mode None goes with"));
		let (line, message) = error_of(&ok.replace("opc.tcp://127.0.0.1:4840/", "http://plc"));
		assert_eq!(line, 1);
		assert!(message.contains("is not opc.tcp://"), "{message}");
		let sensor = |extra: &str| {
			format!("{ok}[[sensor]]\nstation = \"filler\"\nelement = \"s\"\nunit = \"mm\"\n{extra}")
		};
		assert!(parse(&sensor("node = \"ns=2;s=filler.FillLevel\"\n")).is_ok());
		let (line, message) = error_of(&sensor("node = \"filler.FillLevel;;\"\n"));
		assert_eq!(line, 6);
		assert!(message.contains("is not an OPC UA node id"), "{message}");
		assert!(error_of(&sensor("")).1.contains("needs node"));
		assert!(error_of(&sensor("node = \"i=5\"\ntopic = \"t\"\n"))
			.1
			.contains("topic is not for a device reached through [opcua]"));
		assert!(error_of(&sensor("node = \"i=5\"\nsampling = \"often\"\n"))
			.1
			.contains("sampling"));
		let program = |arguments: &str| {
			format!(
				"{ok}[[program]]\nelement = \"filler\"\nname = \"SetFillVolume\"\n\
				 object = \"ns=2;s=filler\"\nmethod = \"ns=2;s=filler.SetFillVolume\"\n\
				 arguments = {arguments}\n"
			)
		};
		assert!(parse(&program("[\"volume:Float\"]")).is_ok());
		let message = error_of(&program("[\"volume:Decimal\"]")).1;
		assert!(message.contains("\"Decimal\" is not one of the OPC UA types"), "{message}");
		assert!(error_of(&program("[\":Double\"]")).1.contains("has no name"));
		let x509 =
			format!("{ok}user_certificate = \"user.der\"\nuser_private_key = \"user.pem\"\n");
		let Connector::OpcUa(opcua) = parse(&x509).unwrap().connector else { panic!() };
		assert_eq!(
			opcua.user_certificate,
			Some(UserCertificate {
				certificate: "/etc/dt-agent/user.der".into(),
				private_key: "/etc/dt-agent/user.pem".into()
			})
		);
		let (line, message) = error_of(&format!("{ok}user_certificate = \"user.der\"\n"));
		assert_eq!(line, 1);
		assert!(message.contains("goes with its user_private_key"), "{message}");
		let both = format!("{x509}username = \"u\"\n");
		assert!(error_of(&both).1.contains("not both"));
		let both = format!("{ok}[mqtt]\nbroker = \"127.0.0.1:1883\"\nclient_id = \"a\"\n");
		assert!(error_of(&both).1.contains("not both"));
	}

	#[test]
	fn secrets_are_named_never_written() {
		let with_password = |password: &str| {
			format!(
				"[mqtt]\nbroker = \"127.0.0.1:1883\"\nclient_id = \"a\"\nusername = \"u\"\n\
				 password = {password}\n"
			)
		};
		let (line, message) = error_of(&with_password("\"hunter2\""));
		assert_eq!(line, 5);
		assert!(message.contains("never goes in the device file"), "{message}");
		let config = parse(&with_password("{ file = \"secrets/mqtt\" }")).unwrap();
		let Connector::Mqtt(mqtt) = config.connector else { panic!("an MQTT device") };
		assert_eq!(
			mqtt.password,
			Some(SecretSource::File("/etc/dt-agent/secrets/mqtt".into())),
			"relative to the device file"
		);
		assert!(error_of(&with_password("{ file = \"a\", env = \"B\" }")).1.contains("never"));
		let missing = SecretSource::Env("DT_AGENT_NO_SUCH_VARIABLE".into()).read().unwrap_err();
		assert!(missing.contains("DT_AGENT_NO_SUCH_VARIABLE"), "{missing}");
	}

	#[test]
	fn mistakes_are_named_with_their_line() {
		let head = "[mqtt]\nbroker = \"127.0.0.1:1883\"\nclient_id = \"a\"\n";
		let (line, message) = error_of("[mqtt]\nbroker = \"localhost\"\nclient_id = \"a\"\n");
		assert_eq!(line, 1);
		assert!(message.contains("\"localhost\" is not HOST:PORT"), "{message}");
		let (line, message) = error_of(&format!("{head}[[sensor]]\nstation = \"f\"\n"));
		assert_eq!(line, 4);
		assert!(message.contains("missing field"), "{message}");
		let sensor = |extra: &str| {
			format!(
				"{head}[[sensor]]\nstation = \"filler\"\nelement = \"s\"\nunit = \"mm\"\n\
				 topic = \"t\"\n{extra}"
			)
		};
		assert!(error_of(&sensor("min = 260\nmax = 240\n")).1.contains("min is above max"));
		assert!(error_of(&sensor("min = 260\n")).1.contains("both min and max"));
		assert!(error_of(&sensor("value = \"level\"\n")).1.contains("not a JSON pointer"));
		assert!(error_of(&sensor("colour = \"red\"\n")).1.contains("unknown field"));
		let twice = format!(
			"{}[[sensor]]\nstation = \"filler\"\nelement = \"t\"\nunit = \"mm\"\ntopic = \"u\"\n",
			sensor("")
		);
		assert!(error_of(&twice).1.contains("station filler has another sensor"));
		let exchange = |element: &str, fragment: &str| {
			format!(
				"{}[[exchange]]\nstation = \"filler\"\ntopic = \"id\"\nelement = \"{element}\"\n\
				 fragment = '{fragment}'\n",
				sensor("serial = \"FLS-1\"\n")
			)
		};
		let unknown_serial = exchange("s-{serial}", "<InternalElement ID=\"{element}\"/>")
			.replace("serial = \"FLS-1\"\n", "");
		assert!(error_of(&unknown_serial).1.contains("needs the serial number"));
		assert!(error_of(&exchange("s-2", "<InternalElement ID=\"{element}\"/>"))
			.1
			.contains("{serial}"));
		assert!(error_of(&exchange("s-{serial}", "<InternalElement/>")).1.contains("ID="));
		let (_, message) = error_of(&format!(
			"{head}[[program]]\nelement = \"filler\"\nname = \"OpenValve\"\ntopic = \"c\"\n\
			 reply_topic = \"r\"\ntimeout = \"soon\"\n"
		));
		assert!(message.contains("timeout") && message.contains("\"soon\""), "{message}");
		assert!(error_of("").1.contains("no connector"));
		let (_, message) = error_of(&format!("{head}[[sensor]]\nstation = \"f\"\nelement = \"s\"\nunit = \"mm\"\nnode = \"ns=2;s=f\"\n"));
		assert!(message.contains("node is not for a device reached through [mqtt]"), "{message}");
	}

	#[test]
	fn durations_take_milliseconds_to_minutes() {
		assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
		assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
		assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
		assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
		for bad in ["", "ms", "1h", "0s", "-1s", "1.5s", "2 s"] {
			assert!(parse_duration(bad).is_err(), "{bad:?}");
		}
	}
}
