//! `dt-plc`: the bottling plant's PLC as an OPC UA server, for dt-agent's OPC UA connector in
//! tests and the demo. It runs the simulated plant of [`dt_agent::simulator`] and serves it
//! the way a real controller would, in the namespace [`NAMESPACE`] (index 2):
//!
//! - an object `ns=2;s=STATION` per filling station, with the variables
//!   `STATION.FillLevel` (Double, mm; a new reading every `--sample-interval`, timed at the
//!   source) and `STATION.SensorSerial` (String: the fill-level sensor's serial number), and
//!   the methods `STATION.SetFillVolume(volume: Double, ml)`, `STATION.OpenValve()` and
//!   `STATION.CloseValve()`, each answering a `Result` text;
//! - an object `ns=2;s=conveyor` with the method `conveyor.SetConveyorSpeed(speed: Int64,
//!   bottles per minute)`.
//!
//! A method refuses what the plant cannot do with a status code: a fill volume above
//! [`MAX_FILL_VOLUME_ML`] is `BadOutOfRange`, an argument of the wrong type
//! `BadTypeMismatch`.
//!
//! Endpoints: no security, and Basic256Sha256 with Sign or SignAndEncrypt; with `--user` and
//! `--password-file`, or `--user-certificate`, only those users may open a session, without
//! them anyone. `dt-plc --issue-user-certificate DIR` makes a user certificate (`DIR/user.der`)
//! and its key (`DIR/user.pem`), as the PLC's operator would for the agent. The server's
//! certificate is made in `--pki` at the first start and kept there (`own/cert.der`), so a
//! restarted PLC is the same server to its clients; it trusts every client's certificate (a
//! test fixture: a real PLC's operator decides whom it trusts).
//!
//! The operator's console is standard input, one command per line:
//! `exchange STATION` exchanges the station's fill-level sensor (a new serial number),
//! `fault STATION` makes the next reading a text the sensor cannot mean (`E42 overflow`).
//! Standard output says `listening on URL` once the server runs, and answers each command.
//! `--readings-log FILE` appends every reading served, `STATION TIMESTAMP_MS VALUE`.

use clap::Parser;
use dt_agent::simulator::BottlingPlant;
use dt_primitives::program::{Argument, ParameterValue};
use opcua::{
	crypto::{CertificateStore, SecurityPolicy, X509Data},
	server::{
		address_space::{MethodBuilder, ObjectBuilder, VariableBuilder},
		diagnostics::NamespaceMetadata,
		node_manager::memory::{simple_node_manager, SimpleNodeManager},
		ServerBuilder, ServerUserToken, SubscriptionCache, ANONYMOUS_USER_TOKEN_ID,
	},
	types::{
		DataTypeId, DataValue, DateTime, MessageSecurityMode, NodeId, ObjectId, StatusCode, Variant,
	},
};
use std::{
	collections::BTreeSet,
	io::Write,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::io::AsyncBufReadExt;

/// The PLC's namespace; the server gives it index 2.
pub const NAMESPACE: &str = "urn:dt-ledger:bottling-plant";
/// The largest fill volume the filler's pump takes, in ml.
pub const MAX_FILL_VOLUME_ML: f64 = 950.0;
/// The id of the user token `--user` configures.
const USER_TOKEN: &str = "plant-user";
/// The id of the user token `--user-certificate` configures.
const CERTIFICATE_TOKEN: &str = "plant-x509";
/// Ticks (100 ns) from 1601-01-01, OPC UA's epoch, to 1970-01-01.
const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;

/// The bottling plant's PLC, served over OPC UA.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
	/// The port to listen on (127.0.0.1).
	#[arg(long, required_unless_present = "issue_user_certificate")]
	port: Option<u16>,
	/// The PLC's certificate store: its own certificate and key (made at the first start)
	/// and the clients it met.
	#[arg(long, required_unless_present = "issue_user_certificate")]
	pki: Option<PathBuf>,
	/// A user certificate (DER) whose holder may open a session.
	#[arg(long)]
	user_certificate: Option<PathBuf>,
	/// Only write a new user certificate and its key into this directory, and exit.
	#[arg(long, value_name = "DIR")]
	issue_user_certificate: Option<PathBuf>,
	/// The one user allowed to open a session (with `--password-file`); without it,
	/// anonymous sessions.
	#[arg(long, requires = "password_file")]
	user: Option<String>,
	/// A file holding the user's password.
	#[arg(long, requires = "user")]
	password_file: Option<PathBuf>,
	/// The plant's filling stations.
	#[arg(long = "station", default_value = "filler")]
	stations: Vec<String>,
	/// How often each fill-level sensor takes a reading.
	#[arg(long, default_value = "100", value_name = "MS")]
	sample_interval_ms: u64,
	/// Append every reading served to this file: `STATION TIMESTAMP_MS VALUE` per line.
	#[arg(long)]
	readings_log: Option<PathBuf>,
}

/// The plant and what the PLC serves of it.
struct Plc {
	plant: Mutex<BottlingPlant>,
	nodes: Arc<SimpleNodeManager>,
	subscriptions: Arc<SubscriptionCache>,
	namespace: u16,
	/// Stations whose next reading is a fault text.
	faulty: Mutex<BTreeSet<String>>,
}

impl Plc {
	fn node(&self, name: &str) -> NodeId {
		NodeId::new(self.namespace, name)
	}

	fn plant(&self) -> std::sync::MutexGuard<'_, BottlingPlant> {
		self.plant.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	/// Builds the address space: each station's object, variables and methods, and the
	/// conveyor's.
	fn build_address_space(self: &Arc<Plc>) {
		let stations: Vec<(String, String)> = self
			.plant()
			.stations
			.iter()
			.map(|(id, station)| (id.clone(), station.sensor.clone()))
			.collect();
		{
			let address_space = self.nodes.address_space();
			let mut space = address_space.write();
			for (station, serial) in &stations {
				let object = self.node(station);
				ObjectBuilder::new(&object, station.as_str(), station.as_str())
					.organized_by(ObjectId::ObjectsFolder)
					.insert(&mut *space);
				VariableBuilder::new(
					&self.node(&format!("{station}.FillLevel")),
					"FillLevel",
					"FillLevel",
				)
				.data_type(DataTypeId::Double)
				.value(0.0f64)
				.component_of(object.clone())
				.insert(&mut *space);
				VariableBuilder::new(
					&self.node(&format!("{station}.SensorSerial")),
					"SensorSerial",
					"SensorSerial",
				)
				.data_type(DataTypeId::String)
				.value(serial.clone())
				.component_of(object.clone())
				.insert(&mut *space);
				let with_volume: &[(&str, DataTypeId)] = &[("volume", DataTypeId::Double)];
				for (program, inputs) in
					[("SetFillVolume", with_volume), ("OpenValve", &[]), ("CloseValve", &[])]
				{
					self.add_method(&mut space, &object, station, program, inputs);
				}
			}
			let conveyor = self.node("conveyor");
			ObjectBuilder::new(&conveyor, "conveyor", "conveyor")
				.organized_by(ObjectId::ObjectsFolder)
				.insert(&mut *space);
			self.add_method(
				&mut space,
				&conveyor,
				"conveyor",
				"SetConveyorSpeed",
				&[("speed", DataTypeId::Int64)],
			);
		}
		for (station, _) in stations {
			for program in ["SetFillVolume", "OpenValve", "CloseValve"] {
				self.on_call(&station, program);
			}
		}
		self.on_call("conveyor", "SetConveyorSpeed");
	}

	fn add_method(
		&self,
		space: &mut opcua::server::address_space::AddressSpace,
		object: &NodeId,
		element: &str,
		program: &str,
		inputs: &[(&str, DataTypeId)],
	) {
		let method = self.node(&format!("{element}.{program}"));
		let mut builder =
			MethodBuilder::new(&method, program, program).component_of(object.clone());
		if !inputs.is_empty() {
			let arguments: Vec<_> =
				inputs.iter().map(|(name, kind)| (*name, *kind).into()).collect();
			builder = builder.input_args(
				space,
				&self.node(&format!("{element}.{program}.InputArguments")),
				&arguments,
			);
		}
		builder
			.output_args(
				space,
				&self.node(&format!("{element}.{program}.OutputArguments")),
				&[("Result", DataTypeId::String).into()],
			)
			.insert(space);
	}

	/// Runs `element`'s `program` on the plant when a client calls its method.
	fn on_call(self: &Arc<Plc>, element: &str, program: &str) {
		let plc = self.clone();
		let (element, program) = (element.to_owned(), program.to_owned());
		let method = self.node(&format!("{element}.{program}"));
		self.nodes.inner().add_method_callback(method, move |inputs: &[Variant]| {
			let arguments = plant_arguments(&program, inputs)?;
			let outcome = plc.plant().run_program(&element, &program, &arguments);
			match outcome {
				Ok(result) => {
					println!("called {element}.{program}: {result}");
					Ok(vec![Variant::from(result)])
				},
				Err(error) => {
					println!("refused {element}.{program}: {error}");
					Err(StatusCode::BadInvalidArgument)
				},
			}
		});
	}

	/// Takes a reading of every station's sensor and serves it.
	fn sample(&self, log: &mut Option<std::fs::File>) {
		let readings: Vec<(String, u64, String)> = {
			let mut plant = self.plant();
			let stations: Vec<(String, String)> = plant
				.stations
				.iter()
				.map(|(id, station)| (id.clone(), station.sensor_element.clone()))
				.collect();
			stations
				.into_iter()
				.filter_map(|(station, element)| {
					plant.read_sensor(&element).map(|r| (station, r.timestamp, r.value))
				})
				.collect()
		};
		let mut faulty = self.faulty.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		for (station, timestamp, value) in readings {
			let node = self.node(&format!("{station}.FillLevel"));
			let time = date_time(timestamp);
			let served = if faulty.remove(&station) {
				DataValue::new_at(Variant::from("E42 overflow"), time)
			} else {
				let Ok(number) = value.parse::<f64>() else { continue };
				if let Some(log) = log.as_mut() {
					let _ = writeln!(log, "{station} {timestamp} {value}");
				}
				DataValue::new_at(number, time)
			};
			if let Err(status) = self.nodes.set_value(&self.subscriptions, &node, None, served) {
				eprintln!("dt-plc: cannot serve {station}'s reading: {status}");
			}
		}
	}

	/// Runs one console command; the answer for standard output.
	fn command(&self, line: &str) -> String {
		let words: Vec<&str> = line.split_whitespace().collect();
		match words.as_slice() {
			["exchange", station] => {
				let exchanged = self.plant().replace_sensor(station);
				match exchanged {
					Ok(replacement) => {
						let node = self.node(&format!("{station}.SensorSerial"));
						let value = DataValue::new_now(Variant::from(replacement.serial.clone()));
						match self.nodes.set_value(&self.subscriptions, &node, None, value) {
							Ok(()) => format!("exchanged {station} {}", replacement.serial),
							Err(status) => format!("error: {station}: {status}"),
						}
					},
					Err(error) => format!("error: {error}"),
				}
			},
			["fault", station] if self.plant().stations.contains_key(*station) => {
				self.faulty
					.lock()
					.unwrap_or_else(|poisoned| poisoned.into_inner())
					.insert((*station).to_owned());
				format!("fault {station}")
			},
			_ => format!("error: {line:?} is not `exchange STATION` or `fault STATION`"),
		}
	}
}

/// The plant's arguments for `program` from a method call's inputs.
fn plant_arguments(program: &str, inputs: &[Variant]) -> Result<Vec<Argument>, StatusCode> {
	let argument = |name: &str, value: ParameterValue| Argument {
		name: name.as_bytes().to_vec().try_into().expect("a short name"),
		value,
	};
	match (program, inputs) {
		("SetFillVolume", [volume]) => {
			let millilitres = match volume {
				Variant::Double(value) => *value,
				Variant::Float(value) => f64::from(*value),
				_ => return Err(StatusCode::BadTypeMismatch),
			};
			if !(0.0..=MAX_FILL_VOLUME_ML).contains(&millilitres) {
				return Err(StatusCode::BadOutOfRange);
			}
			let tenths = (millilitres * 10.0).round() as i128;
			Ok(vec![argument("volume", ParameterValue::Decimal(tenths))])
		},
		("SetConveyorSpeed", [speed]) => {
			let speed = match speed {
				Variant::Int64(value) => i128::from(*value),
				Variant::Int32(value) => i128::from(*value),
				Variant::UInt32(value) => i128::from(*value),
				Variant::Int16(value) => i128::from(*value),
				Variant::UInt16(value) => i128::from(*value),
				_ => return Err(StatusCode::BadTypeMismatch),
			};
			Ok(vec![argument("speed", ParameterValue::Integer(speed))])
		},
		("OpenValve" | "CloseValve", []) => Ok(Vec::new()),
		_ => Err(StatusCode::BadArgumentsMissing),
	}
}

/// An OPC UA time from milliseconds since the Unix epoch.
fn date_time(unix_ms: u64) -> DateTime {
	DateTime::from(UNIX_EPOCH_TICKS + (unix_ms as i64).saturating_mul(10_000))
}

/// Writes a new user certificate (`dir/user.der`) and its private key (`dir/user.pem`).
fn issue_user_certificate(dir: &std::path::Path) {
	let identity = X509Data {
		key_size: 2048,
		common_name: "dt-agent user".into(),
		organization: "dt-ledger".into(),
		organizational_unit: "bottling plant".into(),
		country: "DE".into(),
		state: "".into(),
		alt_host_names: vec!["urn:dt-ledger:dt-agent-user".to_owned()].into(),
		certificate_duration_days: 365,
	};
	let (certificate, key) = (dir.join("user.der"), dir.join("user.pem"));
	match CertificateStore::create_certificate_and_key(&identity, false, &certificate, &key) {
		Ok(_) => println!("issued {} and {}", certificate.display(), key.display()),
		Err(error) => {
			fail(format!("cannot issue a user certificate in {}: {error}", dir.display()))
		},
	}
}

fn fail(message: String) -> ! {
	eprintln!("dt-plc: {message}");
	std::process::exit(2);
}

#[tokio::main]
async fn main() {
	let options = Options::parse();
	if let Some(dir) = &options.issue_user_certificate {
		issue_user_certificate(dir);
		return;
	}
	let (Some(port), Some(pki)) = (options.port, options.pki.clone()) else {
		fail("--port and --pki are needed".into())
	};
	let mut tokens: Vec<String> = Vec::new();
	if options.user.is_some() {
		tokens.push(USER_TOKEN.to_owned());
	}
	if options.user_certificate.is_some() {
		tokens.push(CERTIFICATE_TOKEN.to_owned());
	}
	if tokens.is_empty() {
		tokens.push(ANONYMOUS_USER_TOKEN_ID.to_owned());
	}
	let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
	let mut builder = ServerBuilder::new()
		.application_name("dt-ledger bottling plant PLC")
		.application_uri("urn:dt-ledger:bottling-plant-plc")
		.product_uri("urn:dt-ledger:bottling-plant-plc")
		.host("127.0.0.1")
		.port(port)
		.pki_dir(&pki)
		.create_sample_keypair(true)
		.trust_client_certs(true)
		.diagnostics_enabled(false)
		.discovery_urls(vec!["/".to_owned()])
		.with_node_manager(simple_node_manager(
			NamespaceMetadata { namespace_uri: NAMESPACE.to_owned(), ..Default::default() },
			"bottling-plant",
		));
	for (id, policy, mode) in [
		("none", SecurityPolicy::None, MessageSecurityMode::None),
		("basic256sha256_sign", SecurityPolicy::Basic256Sha256, MessageSecurityMode::Sign),
		(
			"basic256sha256_sign_encrypt",
			SecurityPolicy::Basic256Sha256,
			MessageSecurityMode::SignAndEncrypt,
		),
	] {
		builder = builder.add_endpoint(id, ("/", policy, mode, tokens.as_slice()));
	}
	if let (Some(user), Some(file)) = (&options.user, &options.password_file) {
		let password = std::fs::read_to_string(file)
			.unwrap_or_else(|e| fail(format!("cannot read {}: {e}", file.display())));
		builder = builder.add_user_token(
			USER_TOKEN,
			ServerUserToken::user_pass(user.clone(), password.trim_end().to_owned()),
		);
	}
	if let Some(certificate) = &options.user_certificate {
		builder = builder
			.add_user_token(CERTIFICATE_TOKEN, ServerUserToken::x509("plant-x509", certificate));
	}
	// Every reading a client subscribes to is kept until it is published, however fast; a
	// client may ask for every value (sampling interval 0) or sample at any rate.
	let limits = &mut builder.limits_mut().subscriptions;
	limits.max_monitored_item_queue_size = 10_000;
	limits.min_sampling_interval_ms = 0.0;
	let (server, handle) = builder.build().unwrap_or_else(|e| fail(format!("the server: {e}")));
	let nodes = handle
		.node_managers()
		.get_of_type::<SimpleNodeManager>()
		.unwrap_or_else(|| fail("no node manager for the plant".into()));
	let namespace = handle
		.get_namespace_index(NAMESPACE)
		.unwrap_or_else(|| fail(format!("no namespace {NAMESPACE}")));
	let plc = Arc::new(Plc {
		plant: Mutex::new(BottlingPlant::new(options.stations.iter().map(String::as_str))),
		nodes,
		subscriptions: handle.subscriptions().clone(),
		namespace,
		faulty: Mutex::new(BTreeSet::new()),
	});
	plc.build_address_space();

	let mut log = options.readings_log.as_ref().map(|path| {
		std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(path)
			.unwrap_or_else(|e| fail(format!("cannot open {}: {e}", path.display())))
	});
	// The variables hold a real reading from the start: a client never sees a made-up one.
	plc.sample(&mut log);
	let sampler = plc.clone();
	let interval = Duration::from_millis(options.sample_interval_ms.max(1));
	tokio::spawn(async move {
		let mut ticks = tokio::time::interval(interval);
		loop {
			ticks.tick().await;
			sampler.sample(&mut log);
		}
	});
	let console = plc.clone();
	tokio::spawn(async move {
		let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
		while let Ok(Some(line)) = lines.next_line().await {
			if !line.trim().is_empty() {
				println!("{}", console.command(&line));
			}
		}
	});
	let stopper = handle.clone();
	tokio::spawn(async move {
		let mut terminate =
			tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
				.unwrap_or_else(|e| fail(format!("cannot watch for SIGTERM: {e}")));
		tokio::select! {
			_ = tokio::signal::ctrl_c() => {},
			_ = terminate.recv() => {},
		}
		stopper.cancel();
	});
	println!("listening on opc.tcp://127.0.0.1:{port}/ (namespace {NAMESPACE} is ns={namespace})");
	if let Err(error) = server.run().await {
		fail(format!("the server stopped: {error}"));
	}
}
