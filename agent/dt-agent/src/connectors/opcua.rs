//! The OPC UA connector: the device is a PLC that serves the plant as an OPC UA server.
//!
//! - **Readings**: each sensor is a variable the agent monitors in one subscription, at the
//!   device file's sampling interval, with a data-change filter on status, value *and*
//!   source timestamp (so a reading equal to the one before still arrives) and a deep queue
//!   (so the readings between two publications are all kept). The reading's time is the
//!   server's source timestamp; a value that is no number, or has a bad status, is counted
//!   and logged, never sent. A value taken before the agent started is not taken: it may be
//!   one the agent sent before a restart.
//! - **Program calls**: a call becomes a Call of the mapped method on its object, the
//!   arguments in the device file's order and OPC UA types (decimals as Double unless said
//!   otherwise); a bad status code fails the call with the code's name, outputs complete it.
//! - **Sensor exchange**: a station's serial-number variable is monitored; another serial
//!   number than the current sensor's is an exchange, made into the new sensor's element
//!   from the device file's template. Readings the new sensor took before the agent heard of
//!   the exchange go to the new sensor (by source timestamp, see
//!   [`Intake::exchanged_at`]).
//!
//! The session is opened with the device file's security policy and mode, the agent's own
//! application certificate (made in `pki_dir` at the first start) and the user: a name and
//! password, a user certificate whose key signs the session, or none (anonymous). The
//! server's certificate must be trusted: named in the device file, or moved from
//! `pki_dir/rejected` to `pki_dir/trusted` by the operator. The stack
//! reconnects by itself, with backoff, and moves or re-creates the subscription; this
//! connector retries the first contact (the endpoint query) the same way, and tells in its
//! health what is wrong: the server unreachable, credentials or certificates refused, a
//! node the server does not have.

use super::{current_sensors, identity_reported, now_ms, CurrentSensor, Intake};
use crate::{
	config::{
		DeviceConfig, ExchangeMapping, IdentitySource, MethodTarget, OpcUaConfig, OpcUaType,
		ProgramMapping, ProgramTarget, ReadingSource, SensorMapping,
	},
	device::{ArgumentValue, Device, DeviceEvent, ProgramCall, SensorInfo},
	reconnect::{pause, Backoff, FIRST_BACKOFF, MAX_BACKOFF},
	status::DeviceHealth,
};
use futures::StreamExt;
use opcua::{
	client::{
		Client, ClientBuilder, DataChangeCallback, IdentityToken, Password, Session,
		SessionEventLoop, SessionPollResult,
	},
	crypto::CertificateStore,
	types::{
		AttributeId, DataChangeFilter, DataChangeTrigger, DataValue, ExtensionObject,
		MessageSecurityMode, MonitoredItemCreateRequest, MonitoringMode, MonitoringParameters,
		NodeId, ReadValueId, StatusCode, TimestampsToReturn, Variant,
	},
};
use std::{
	collections::{BTreeMap, BTreeSet},
	path::PathBuf,
	sync::{Arc, Mutex, MutexGuard},
	time::Duration,
};
use tokio::sync::watch;

/// How many values the agent asks the server to keep per monitored item between two
/// publications (the server may allow fewer): 100,000 readings/s at a 100 ms publishing
/// interval.
const QUEUE_SIZE: u32 = 10_000;
/// Most values in one publication: the client decodes arrays of up to 1000 entries, so a
/// larger publication would be lost whole; the server sends the rest in the next ones.
const NOTIFICATIONS_PER_PUBLISH: u32 = 1000;
/// Publishing intervals without a publication before the server ends the subscription.
const LIFETIME_COUNT: u32 = 120;
/// Publishing intervals without data before the server sends a keep-alive.
const KEEP_ALIVE_COUNT: u32 = 20;

/// Why the connector cannot start.
#[derive(Debug, thiserror::Error)]
pub enum OpcUaError {
	#[error("the device file's OPC UA password: {0}")]
	Secret(String),
	#[error("the device file's OPC UA user certificate: {0}")]
	UserCertificate(String),
	#[error("the server certificate {}: {reason}", path.display())]
	ServerCertificate { path: PathBuf, reason: String },
	#[error("the OPC UA client: {0}")]
	Client(String),
}

/// The PLC behind an OPC UA server; clones share the session.
#[derive(Clone)]
pub struct OpcUaDevice {
	shared: Arc<Shared>,
}

struct Shared {
	endpoint: String,
	pki_dir: PathBuf,
	publishing_interval: Duration,
	sensors: Vec<SensorMapping>,
	programs: Vec<ProgramMapping>,
	exchanges: Vec<ExchangeMapping>,
	/// Every node the agent monitors, and what it is.
	watched: Vec<(NodeId, Watched)>,
	/// The session, once the server's endpoints were found.
	session: Mutex<Option<Arc<Session>>>,
	state: Mutex<State>,
	/// When the agent started, ms since the Unix epoch.
	started_ms: u64,
}

/// What a monitored node is.
#[derive(Clone, Copy)]
enum Watched {
	/// The readings of `sensors[i]`.
	Sensor(usize),
	/// The serial number of `exchanges[i]`'s station.
	Identity(usize),
}

struct State {
	/// Each station's current sensor.
	current: BTreeMap<String, CurrentSensor>,
	intake: Intake,
	/// `None` while connected, else why not.
	trouble: Option<String>,
	/// Nodes of the device file the server does not serve, with what was said of each.
	missing_nodes: BTreeMap<String, String>,
	/// Values that came marked as following a value the server's full queue dropped.
	overflows: u64,
}

impl OpcUaDevice {
	/// Starts the session with the server of `config` (it keeps trying until `shutdown`):
	/// the sensors are the device file's, except a station whose sensor the agent recorded
	/// as exchanged, `recorded` (station, element).
	pub fn start(
		config: &DeviceConfig,
		opcua: &OpcUaConfig,
		recorded: &[(String, String)],
		shutdown: watch::Receiver<bool>,
	) -> Result<OpcUaDevice, OpcUaError> {
		let identity = match (&opcua.username, &opcua.password, &opcua.user_certificate) {
			(_, _, Some(user)) => {
				IdentityToken::new_x509_path(&user.certificate, &user.private_key)
					.map_err(|e| OpcUaError::UserCertificate(e.to_string()))?
			},
			(Some(user), Some(password), None) => IdentityToken::UserName(
				user.clone(),
				Password::new(password.read().map_err(OpcUaError::Secret)?),
			),
			(Some(user), None, None) => IdentityToken::UserName(user.clone(), Password::new("")),
			_ => IdentityToken::Anonymous,
		};
		let client = ClientBuilder::new()
			.application_name("dt-agent")
			.application_uri("urn:dt-ledger:dt-agent")
			.product_uri("urn:dt-ledger:dt-agent")
			.pki_dir(&opcua.pki_dir)
			.create_sample_keypair(true)
			.trust_server_certs(false)
			.session_retry_limit(-1)
			.session_retry_initial(FIRST_BACKOFF)
			.session_retry_max(MAX_BACKOFF)
			.keep_alive_interval(Duration::from_secs(5))
			.request_timeout(Duration::from_secs(10))
			.client()
			.map_err(|errors| OpcUaError::Client(errors.join("; ")))?;
		if let Some(path) = &opcua.server_certificate {
			trust_server_certificate(&opcua.pki_dir, path)?;
		}
		let mut watched = Vec::new();
		for (index, mapping) in config.sensors.iter().enumerate() {
			if let ReadingSource::Node(readings) = &mapping.source {
				watched.push((parse_node(&readings.node), Watched::Sensor(index)));
			}
		}
		for (index, exchange) in config.exchanges.iter().enumerate() {
			if let IdentitySource::Node(node) = &exchange.source {
				watched.push((parse_node(node), Watched::Identity(index)));
			}
		}
		let shared = Arc::new(Shared {
			endpoint: opcua.endpoint.clone(),
			pki_dir: opcua.pki_dir.clone(),
			publishing_interval: opcua.publishing_interval,
			sensors: config.sensors.clone(),
			programs: config.programs.clone(),
			exchanges: config.exchanges.clone(),
			watched,
			session: Mutex::new(None),
			state: Mutex::new(State {
				current: current_sensors(config, recorded),
				intake: Intake::default(),
				trouble: Some("not connected yet".into()),
				missing_nodes: BTreeMap::new(),
				overflows: 0,
			}),
			started_ms: now_ms(),
		});
		let endpoint = (
			opcua.endpoint.clone(),
			opcua.security_policy.clone(),
			security_mode(&opcua.security_mode),
		);
		tokio::spawn(run(shared.clone(), client, endpoint, identity, shutdown));
		Ok(OpcUaDevice { shared })
	}
}

/// A node id the device file holds (checked when it was read).
fn parse_node(text: &str) -> NodeId {
	text.parse().unwrap_or_else(|_| NodeId::null())
}

fn security_mode(name: &str) -> MessageSecurityMode {
	match name {
		"Sign" => MessageSecurityMode::Sign,
		"SignAndEncrypt" => MessageSecurityMode::SignAndEncrypt,
		_ => MessageSecurityMode::None,
	}
}

/// Puts the server certificate at `path` among those the agent trusts, under the name the
/// certificate store looks for.
fn trust_server_certificate(
	pki_dir: &std::path::Path,
	path: &std::path::Path,
) -> Result<(), OpcUaError> {
	let refused = |reason: String| OpcUaError::ServerCertificate { path: path.to_owned(), reason };
	let certificate = CertificateStore::read_cert(path).map_err(refused)?;
	let trusted = pki_dir.join("trusted");
	std::fs::create_dir_all(&trusted)
		.map_err(|e| refused(format!("{}: {e}", trusted.display())))?;
	let target = trusted.join(CertificateStore::cert_file_name(&certificate));
	std::fs::copy(path, &target).map_err(|e| refused(format!("{}: {e}", target.display())))?;
	Ok(())
}

impl Shared {
	fn state(&self) -> MutexGuard<'_, State> {
		self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn session(&self) -> Option<Arc<Session>> {
		self.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
	}

	/// Records what is wrong with the connection, logging it when it is news.
	fn trouble(&self, trouble: Option<String>) {
		let mut state = self.state();
		if state.trouble == trouble {
			return;
		}
		match &trouble {
			Some(trouble) => log::error!("{trouble}; retrying every {MAX_BACKOFF:?} or less"),
			None => log::info!("connected to the OPC UA server at {}", self.endpoint),
		}
		state.trouble = trouble;
	}

	/// What the server's refusal `status` means for the operator.
	fn describe(&self, status: StatusCode) -> String {
		if is_one_of(
			status,
			&[
				StatusCode::BadIdentityTokenRejected,
				StatusCode::BadIdentityTokenInvalid,
				StatusCode::BadUserAccessDenied,
			],
		) {
			format!(
				"the OPC UA server at {} refused the agent's credentials ({status}): check the \
				 user the device file names (name and password, or certificate and key)",
				self.endpoint
			)
		} else if is_one_of(
			status,
			&[
				StatusCode::BadCertificateUntrusted,
				StatusCode::BadSecurityChecksFailed,
				StatusCode::BadCertificateInvalid,
			],
		) {
			format!(
				"the OPC UA server at {} and the agent do not trust each other's certificates \
				 ({status}): a server certificate the agent does not know is put into {}; if it \
				 is the device's, move it to {} or name it as server_certificate",
				self.endpoint,
				self.pki_dir.join("rejected").display(),
				self.pki_dir.join("trusted").display()
			)
		} else {
			format!("cannot reach the OPC UA server at {}: {status}", self.endpoint)
		}
	}

	/// The server does not serve `node` (or not to this agent), which the device file names
	/// for `what`.
	fn missing_node(&self, state: &mut State, node: &NodeId, what: &str, status: StatusCode) {
		let node = node.to_string();
		if state.missing_nodes.contains_key(&node) {
			return;
		}
		let fault = if is_missing(status) { "has no node" } else { "refuses to monitor" };
		let message = format!(
			"the OPC UA server at {} {fault} {node} ({status}), which the device file names \
			 for {what}: check the device file",
			self.endpoint
		);
		log::error!("{message}");
		state.missing_nodes.insert(node, message);
	}

	/// A value of a monitored node arrived.
	fn on_value(&self, node: &NodeId, value: DataValue) {
		let Some((_, watched)) = self.watched.iter().find(|(id, _)| id == node) else { return };
		match *watched {
			Watched::Sensor(index) => self.on_reading(node, &self.sensors[index], value),
			Watched::Identity(index) => self.on_identity(node, &self.exchanges[index], value),
		}
	}

	fn on_reading(&self, node: &NodeId, mapping: &SensorMapping, value: DataValue) {
		let mut state = self.state();
		let state = &mut *state;
		let Some(element) =
			state.current.get(&mapping.sensor.station).map(|c| c.info.element.clone())
		else {
			return;
		};
		let status = value.status();
		if is_missing(status) {
			self.missing_node(state, node, &format!("sensor {element}"), status);
			return;
		}
		if status.overflow() {
			state.overflows += 1;
			if state.overflows.is_power_of_two() {
				log::warn!(
					"sensor {element}: the OPC UA server dropped readings of {node} before the \
					 agent took them, its queue full ({} times so far): the agent takes them \
					 slower than the device makes them",
					state.overflows
				);
			}
		}
		let device_time = value.source_timestamp.map(|time| unix_ms(&time));
		if device_time.is_some_and(|time| time < self.started_ms) {
			return;
		}
		let pushed = if !status.is_good() {
			state.intake.unreadable += 1;
			Err(format!("status {status}"))
		} else {
			match decimal_text(value.value.as_ref()) {
				Ok(text) => state
					.intake
					.push(&element, device_time, &text)
					.map_err(|unreadable| unreadable.0),
				Err(reason) => {
					state.intake.unreadable += 1;
					Err(reason)
				},
			}
		};
		if let Err(reason) = pushed {
			state.intake.log_unreadable(&element, &node.to_string(), &reason);
		}
	}

	fn on_identity(&self, node: &NodeId, exchange: &ExchangeMapping, value: DataValue) {
		let mut state = self.state();
		let state = &mut *state;
		let status = value.status();
		if is_missing(status) {
			self.missing_node(
				state,
				node,
				&format!("the sensor identity of {}", exchange.station),
				status,
			);
			return;
		}
		let serial = match &value.value {
			Some(Variant::String(text)) if status.is_good() => {
				text.value().as_deref().unwrap_or_default().trim().to_owned()
			},
			_ => String::new(),
		};
		if serial.is_empty() {
			log::warn!(
				"station {}: the identity in {node} carries no serial number ({status})",
				exchange.station
			);
			return;
		}
		let time = value.source_timestamp.map_or_else(now_ms, |time| unix_ms(&time));
		let Some(current) = state.current.get_mut(&exchange.station) else { return };
		if let Some(replacement) = identity_reported(current, exchange, serial) {
			state.intake.exchanged_at(replacement, time);
		}
	}
}

/// Whether `status` is one of `codes`, whatever its info bits (such as overflow).
fn is_one_of(status: StatusCode, codes: &[StatusCode]) -> bool {
	codes.iter().any(|code| status.sub_code() == code.sub_code())
}

/// Whether `status` says the node does not exist.
fn is_missing(status: StatusCode) -> bool {
	is_one_of(status, &[StatusCode::BadNodeIdUnknown, StatusCode::BadNodeIdInvalid])
}

/// Milliseconds since the Unix epoch of an OPC UA time (0 before 1970).
fn unix_ms(time: &opcua::types::DateTime) -> u64 {
	u64::try_from(time.as_chrono().timestamp_millis()).unwrap_or(0)
}

/// The decimal text of a reading's value: a number as the server sent it, or text that is
/// one; anything else is no reading.
fn decimal_text(value: Option<&Variant>) -> Result<String, String> {
	let text = match value {
		Some(Variant::Double(number)) if number.is_finite() => number.to_string(),
		Some(Variant::Float(number)) if number.is_finite() => number.to_string(),
		Some(Variant::SByte(number)) => number.to_string(),
		Some(Variant::Byte(number)) => number.to_string(),
		Some(Variant::Int16(number)) => number.to_string(),
		Some(Variant::UInt16(number)) => number.to_string(),
		Some(Variant::Int32(number)) => number.to_string(),
		Some(Variant::UInt32(number)) => number.to_string(),
		Some(Variant::Int64(number)) => number.to_string(),
		Some(Variant::UInt64(number)) => number.to_string(),
		Some(Variant::String(text)) => {
			text.value().as_deref().unwrap_or_default().trim().to_owned()
		},
		Some(other) => {
			let shown = format!("{other:?}");
			return Err(format!("{} is not a number", &shown[..shown.len().min(60)]));
		},
		None => return Err("no value".into()),
	};
	dt_client::reading::decode_reading(text.as_bytes())
		.map(|_| text.clone())
		.map_err(|error| format!("{text:?}: {error}"))
}

/// The method's inputs for `call`: each argument the device file lists, in its order and
/// OPC UA type. An argument of the call the list leaves out is refused, not dropped.
fn method_inputs(call: &ProgramCall, target: &MethodTarget) -> Result<Vec<Variant>, String> {
	let values = call.values();
	if let Some((name, _)) = values
		.iter()
		.find(|(name, _)| !target.arguments.iter().any(|a| a.name == *name))
	{
		return Err(format!(
			"the call's argument {name} is not among the inputs of {} in the device file",
			target.method
		));
	}
	target
		.arguments
		.iter()
		.map(|argument| {
			let Some((_, value)) = values.iter().find(|(name, _)| *name == argument.name) else {
				return Err(format!(
					"the call has no argument {} for {}",
					argument.name, target.method
				));
			};
			variant_of(value, argument.kind)
				.map_err(|reason| format!("argument {}: {reason}", argument.name))
		})
		.collect()
}

/// `value` as the OPC UA type `kind`, or as its own type's counterpart without one.
fn variant_of(value: &ArgumentValue, kind: Option<OpcUaType>) -> Result<Variant, String> {
	let kind = kind.unwrap_or(match value {
		ArgumentValue::Boolean(_) => OpcUaType::Boolean,
		ArgumentValue::Integer(_) => OpcUaType::Int64,
		ArgumentValue::Decimal { .. } => OpcUaType::Double,
		ArgumentValue::Text(_) => OpcUaType::String,
	});
	let whole = || match value {
		ArgumentValue::Integer(number) => Ok(*number),
		ArgumentValue::Decimal { units, decimals: 0 } => Ok(*units),
		other => Err(format!("{other} is not a whole number, which {kind:?} needs")),
	};
	let real = || match value {
		ArgumentValue::Integer(_) | ArgumentValue::Decimal { .. } => {
			value.to_string().parse::<f64>().map_err(|e| e.to_string())
		},
		other => Err(format!("{other} is not a number, which {kind:?} needs")),
	};
	Ok(match kind {
		OpcUaType::Boolean => match value {
			ArgumentValue::Boolean(flag) => Variant::Boolean(*flag),
			other => return Err(format!("{other} is not a boolean")),
		},
		OpcUaType::SByte => Variant::SByte(narrow(whole()?, kind)?),
		OpcUaType::Byte => Variant::Byte(narrow(whole()?, kind)?),
		OpcUaType::Int16 => Variant::Int16(narrow(whole()?, kind)?),
		OpcUaType::UInt16 => Variant::UInt16(narrow(whole()?, kind)?),
		OpcUaType::Int32 => Variant::Int32(narrow(whole()?, kind)?),
		OpcUaType::UInt32 => Variant::UInt32(narrow(whole()?, kind)?),
		OpcUaType::Int64 => Variant::Int64(narrow(whole()?, kind)?),
		OpcUaType::UInt64 => Variant::UInt64(narrow(whole()?, kind)?),
		OpcUaType::Float => Variant::Float(real()? as f32),
		OpcUaType::Double => Variant::Double(real()?),
		OpcUaType::String => Variant::from(value.to_string()),
	})
}

/// `number` as the smaller integer type of `kind`.
fn narrow<T: TryFrom<i128>>(number: i128, kind: OpcUaType) -> Result<T, String> {
	T::try_from(number).map_err(|_| format!("{number} does not fit an OPC UA {kind:?}"))
}

/// The outputs of a method as the call's outcome text.
fn outcome_text(outputs: Option<Vec<Variant>>) -> String {
	let parts: Vec<String> = outputs
		.unwrap_or_default()
		.into_iter()
		.map(|output| match output {
			Variant::String(text) => text.value().clone().unwrap_or_default(),
			other => decimal_text(Some(&other)).unwrap_or_else(|_| format!("{other:?}")),
		})
		.collect();
	if parts.is_empty() {
		"done".into()
	} else {
		parts.join(", ")
	}
}

/// Runs the connection until `shutdown`: finds the server's endpoints (retrying with backoff),
/// lets the stack keep the session, subscribes once, and closes the session at the end.
async fn run(
	shared: Arc<Shared>,
	mut client: Client,
	endpoint: (String, String, MessageSecurityMode),
	identity: IdentityToken,
	mut shutdown: watch::Receiver<bool>,
) {
	let mut backoff = Backoff::default();
	let (session, event_loop) = loop {
		let (url, policy, mode) = &endpoint;
		let attempt = client
			.connect_to_matching_endpoint((url.as_str(), policy.as_str(), *mode), identity.clone());
		let result = tokio::select! {
			result = attempt => result,
			_ = shutdown.wait_for(|stop| *stop) => return,
		};
		match result {
			Ok(connected) => break connected,
			Err(error) => {
				let status = error.status();
				// The stack's word for "none of the server's endpoints matches".
				let trouble = if is_one_of(status, &[StatusCode::BadTcpEndpointUrlInvalid]) {
					format!(
						"the OPC UA server at {url} offers no endpoint with security policy \
						 {policy} and mode {mode:?}: {error}"
					)
				} else {
					format!("{}: {error}", shared.describe(status))
				};
				shared.trouble(Some(trouble));
				if !pause(backoff.next_wait(), &mut shutdown).await {
					return;
				}
			},
		}
	};
	*shared.session.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(session.clone());
	let events = tokio::spawn(follow_session(shared.clone(), session.clone(), event_loop));
	let mut backoff = Backoff::default();
	loop {
		tokio::select! {
			_ = session.wait_for_connection() => {},
			_ = shutdown.wait_for(|stop| *stop) => break,
		}
		match subscribe(&shared, &session).await {
			Ok(()) => {
				let _ = shutdown.wait_for(|stop| *stop).await;
				break;
			},
			Err(error) => {
				log::error!(
					"cannot subscribe at the OPC UA server at {}: {error}",
					shared.endpoint
				);
				if !pause(backoff.next_wait(), &mut shutdown).await {
					break;
				}
			},
		}
	}
	let _ = session.disconnect().await;
	let _ = events.await;
}

/// Follows the session's events: connected, lost, refused.
async fn follow_session(
	shared: Arc<Shared>,
	session: Arc<Session>,
	event_loop: SessionEventLoop<opcua::client::transport::TcpConnector>,
) {
	let events = event_loop.enter();
	tokio::pin!(events);
	while let Some(event) = events.next().await {
		match event {
			Ok(SessionPollResult::Reconnected(_)) => {
				shared.trouble(None);
				// async-opcua 0.19 re-creates the subscription while it reconnects, but the
				// publishing loop it starts afterwards waits for a trigger it has missed: without
				// this, no value would arrive after a reconnection.
				session.trigger_publish_now();
			},
			Ok(SessionPollResult::ConnectionLost(status)) => shared.trouble(Some(format!(
				"lost the connection to the OPC UA server at {} ({status})",
				shared.endpoint
			))),
			Ok(SessionPollResult::ReconnectFailed(status)) => {
				shared.trouble(Some(shared.describe(status)))
			},
			Ok(_) => {},
			Err(status) => {
				shared.trouble(Some(format!(
					"gave up on the OPC UA server at {} ({status})",
					shared.endpoint
				)));
				break;
			},
		}
	}
}

/// Creates the subscription and a monitored item per node the device file names; the stack
/// moves or re-creates them after a reconnection.
async fn subscribe(shared: &Arc<Shared>, session: &Session) -> Result<(), String> {
	let receiver = shared.clone();
	let subscription = session
		.create_subscription(
			shared.publishing_interval,
			LIFETIME_COUNT,
			KEEP_ALIVE_COUNT,
			NOTIFICATIONS_PER_PUBLISH,
			0,
			true,
			DataChangeCallback::new(move |value, item| {
				receiver.on_value(&item.item_to_monitor().node_id, value)
			}),
		)
		.await
		.map_err(|error| error.to_string())?;
	let every_value = ExtensionObject::from_message(DataChangeFilter {
		trigger: DataChangeTrigger::StatusValueTimestamp,
		deadband_type: 0,
		deadband_value: 0.0,
	});
	let requests: Vec<MonitoredItemCreateRequest> = shared
		.watched
		.iter()
		.map(|(node, watched)| {
			let sampling = match watched {
				Watched::Sensor(index) => match &shared.sensors[*index].source {
					ReadingSource::Node(readings) => readings.sampling,
					ReadingSource::Topic(_) => shared.publishing_interval,
				},
				Watched::Identity(_) => shared.publishing_interval,
			};
			MonitoredItemCreateRequest {
				item_to_monitor: ReadValueId {
					node_id: node.clone(),
					attribute_id: AttributeId::Value as u32,
					..Default::default()
				},
				monitoring_mode: MonitoringMode::Reporting,
				requested_parameters: MonitoringParameters {
					client_handle: 0,
					sampling_interval: sampling.as_secs_f64() * 1000.0,
					filter: every_value.clone(),
					queue_size: QUEUE_SIZE,
					discard_oldest: true,
				},
			}
		})
		.collect();
	let created = session
		.create_monitored_items(subscription, TimestampsToReturn::Both, requests)
		.await
		.map_err(|error| error.to_string())?;
	let mut refused = BTreeSet::new();
	for (item, (node, watched)) in created.iter().zip(&shared.watched) {
		let status = item.result.status_code;
		if status.is_bad() {
			refused.insert(node.to_string());
			let what = match watched {
				Watched::Sensor(index) => {
					format!("sensor {}", shared.sensors[*index].sensor.element)
				},
				Watched::Identity(index) => {
					format!("the sensor identity of {}", shared.exchanges[*index].station)
				},
			};
			let mut state = shared.state();
			shared.missing_node(&mut state, node, &what, status);
		}
	}
	log::info!(
		"monitoring {} of {} nodes at {}",
		shared.watched.len() - refused.len(),
		shared.watched.len(),
		shared.endpoint
	);
	Ok(())
}

#[async_trait::async_trait]
impl Device for OpcUaDevice {
	async fn run_program(&self, call: &ProgramCall) -> Result<String, String> {
		let shared = &self.shared;
		let Some((mapping, target)) = shared
			.programs
			.iter()
			.filter(|p| p.element == call.element && p.program == call.program)
			.find_map(|p| match &p.target {
				ProgramTarget::Method(target) => Some((p, target)),
				ProgramTarget::Topic { .. } => None,
			})
		else {
			return Err(format!(
				"the device file maps no program {} of {} to the device",
				call.program, call.element
			));
		};
		let inputs = method_inputs(call, target)?;
		// How the connection is, for a call that got no outcome.
		let connection = || match shared.state().trouble.clone() {
			Some(trouble) => trouble,
			None => format!("the OPC UA server at {} is reachable", shared.endpoint),
		};
		let Some(session) = shared.session() else {
			return Err(format!("cannot call {}: {}", target.method, connection()));
		};
		let request = (parse_node(&target.object), parse_node(&target.method), Some(inputs));
		match tokio::time::timeout(mapping.timeout, session.call_one(request)).await {
			Err(_) => Err(format!(
				"no outcome of {} within {:?}: {}",
				target.method,
				mapping.timeout,
				connection()
			)),
			// The stack's own words for a lost connection are misleading ("the client shutting
			// down"): its status code and the connection's state say it better.
			Ok(Err(error)) => {
				Err(format!("cannot call {} ({}): {}", target.method, error.status(), connection()))
			},
			Ok(Ok(result)) if result.status_code.is_bad() => {
				let inputs: Vec<String> = result
					.input_argument_results
					.unwrap_or_default()
					.iter()
					.zip(&target.arguments)
					.filter(|(status, _)| status.is_bad())
					.map(|(status, argument)| format!("{}: {status}", argument.name))
					.collect();
				let detail = if inputs.is_empty() {
					String::new()
				} else {
					format!(" ({})", inputs.join(", "))
				};
				Err(format!("the method {} answered {}{detail}", target.method, result.status_code))
			},
			Ok(Ok(result)) => Ok(outcome_text(result.output_arguments)),
		}
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
		let problem = state.trouble.clone().or_else(|| {
			(!state.missing_nodes.is_empty())
				.then(|| state.missing_nodes.values().cloned().collect::<Vec<_>>().join("; "))
		});
		DeviceHealth {
			problem,
			unreadable: state.intake.unreadable,
			dropped_by_device: state.overflows,
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::config::MethodArgument;

	#[test]
	fn readings_are_numbers_or_decimal_text() {
		assert_eq!(decimal_text(Some(&Variant::Double(250.3))), Ok("250.3".into()));
		assert_eq!(decimal_text(Some(&Variant::Float(250.3))), Ok("250.3".into()));
		assert_eq!(decimal_text(Some(&Variant::Int32(-7))), Ok("-7".into()));
		assert_eq!(decimal_text(Some(&Variant::from(" 250.30 "))), Ok("250.30".into()));
		for bad in [
			Variant::Double(f64::NAN),
			Variant::Double(f64::INFINITY),
			Variant::from("E42 overflow"),
			Variant::Boolean(true),
		] {
			assert!(decimal_text(Some(&bad)).is_err(), "{bad:?}");
		}
		assert!(decimal_text(None).is_err());
	}

	#[test]
	fn arguments_become_the_methods_inputs_in_order_and_type() {
		let argument = |name: &str, kind| MethodArgument { name: name.into(), kind };
		let decimal = ArgumentValue::Decimal { units: 3305, decimals: 1 };
		assert_eq!(variant_of(&decimal, None), Ok(Variant::Double(330.5)));
		assert_eq!(variant_of(&decimal, Some(OpcUaType::Float)), Ok(Variant::Float(330.5)));
		assert_eq!(variant_of(&decimal, Some(OpcUaType::String)), Ok(Variant::from("330.5")));
		assert!(variant_of(&decimal, Some(OpcUaType::Int32))
			.unwrap_err()
			.contains("not a whole"));
		let speed = ArgumentValue::Integer(70_000);
		assert_eq!(variant_of(&speed, None), Ok(Variant::Int64(70_000)));
		assert_eq!(variant_of(&speed, Some(OpcUaType::Int32)), Ok(Variant::Int32(70_000)));
		let too_big = variant_of(&speed, Some(OpcUaType::Int16)).unwrap_err();
		assert!(too_big.contains("70000 does not fit an OPC UA Int16"), "{too_big}");
		assert!(variant_of(&ArgumentValue::Text("x".into()), Some(OpcUaType::Boolean)).is_err());
		let target = MethodTarget {
			object: "ns=2;s=filler".into(),
			method: "ns=2;s=filler.SetFillVolume".into(),
			arguments: vec![argument("volume", None)],
		};
		let call = |arguments: Vec<dt_primitives::program::Argument>| ProgramCall {
			element: "filler".into(),
			program: "SetFillVolume".into(),
			arguments,
			declared: vec![dt_primitives::program::ParameterDeclaration {
				name: b"volume".to_vec().try_into().unwrap(),
				kind: dt_primitives::program::ParameterType::Decimal { decimals: 1 },
				min: None,
				max: None,
				allowed: Default::default(),
				unit: Default::default(),
			}],
		};
		let named = |name: &str, value| dt_primitives::program::Argument {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			value,
		};
		use dt_primitives::program::ParameterValue;
		assert_eq!(
			method_inputs(&call(vec![named("volume", ParameterValue::Decimal(3305))]), &target),
			Ok(vec![Variant::Double(330.5)])
		);
		let missing = method_inputs(&call(vec![]), &target).unwrap_err();
		assert!(missing.contains("no argument volume"), "{missing}");
		let extra = method_inputs(
			&call(vec![
				named("volume", ParameterValue::Decimal(3305)),
				named("speed", ParameterValue::Integer(3)),
			]),
			&target,
		)
		.unwrap_err();
		assert!(extra.contains("speed is not among the inputs"), "{extra}");
	}

	#[test]
	fn outputs_become_the_outcome() {
		assert_eq!(outcome_text(None), "done");
		assert_eq!(
			outcome_text(Some(vec![Variant::from("fill volume set"), Variant::Double(330.5)])),
			"fill volume set, 330.5"
		);
	}
}
