//! The device agent over OPC UA, on real processes: the bottling plant's PLC (`dt-plc`, an
//! OPC UA server on the same stack), the `dt-agent` binary with a device file, and a `--dev`
//! dt-node.
//!
//! - The session is Basic256Sha256 with SignAndEncrypt, the PLC's certificate trusted through
//!   the device file, a user with a password (or, for one more agent, a user certificate the
//!   PLC's operator issued).
//! - Readings the PLC serves stream into the fill-level feed, each once, with the PLC's value
//!   and source time; a value that is no number is logged and never sent.
//! - Program calls become method calls: the PLC's result completes the call, its status code
//!   (`BadOutOfRange`) fails it; a call outside the device file's envelope never reaches it.
//! - The PLC is killed and started again mid-stream: a call meanwhile fails after its timeout
//!   saying the server is unreachable; every reading the PLC served well before the kill and
//!   after the restart reaches the feed, none twice.
//! - The PLC exchanges the sensor (a new serial number in its variable): the agent replaces
//!   the sensor on chain, and the readings go on into the new sensor's feed.
//! - Wrong credentials (a wrong password, a user certificate the PLC does not know), a server
//!   certificate not trusted, a node the server does not have: the agent says so in its log
//!   (and its status file).

mod common;

use common::{agent::*, plant::*, *};
use dt_client::Client;
use dt_primitives::access::TwinId;
use std::{
	collections::BTreeSet,
	io::{BufRead, Write},
	path::{Path, PathBuf},
	process::{Child, ChildStdin, Command, Stdio},
	sync::{Arc, Mutex},
	time::Duration,
};

const USER: &str = "plant";
const PASSWORD: &str = "filler-2026";

/// The PLC as a process: its console on standard input, what it printed kept.
struct Plc {
	child: Option<(Child, ChildStdin)>,
	dir: PathBuf,
	port: u16,
	printed: Arc<Mutex<String>>,
}

impl Plc {
	fn start(dir: &Path) -> Plc {
		std::fs::create_dir_all(dir).unwrap();
		std::fs::write(dir.join("password"), PASSWORD).unwrap();
		// The operator issues the agent's user certificate; a stranger makes its own.
		for holder in ["user", "stranger"] {
			let issued = Command::new(workspace_binary("dt-plc"))
				.arg("--issue-user-certificate")
				.arg(dir.join(holder))
				.status()
				.unwrap();
			assert!(issued.success(), "dt-plc issues a user certificate");
		}
		let mut plc =
			Plc { child: None, dir: dir.to_owned(), port: free_port(), printed: Arc::default() };
		plc.run();
		plc
	}

	/// Starts the PLC (again), with the same certificate, port and readings log.
	fn run(&mut self) {
		let mut child = Command::new(workspace_binary("dt-plc"))
			.args(["--port", &self.port.to_string(), "--user", USER])
			.arg("--password-file")
			.arg(self.dir.join("password"))
			.arg("--pki")
			.arg(self.dir.join("pki"))
			.arg("--readings-log")
			.arg(self.readings_log())
			.arg("--user-certificate")
			.arg(self.dir.join("user/user.der"))
			.args(["--sample-interval-ms", "100"])
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.stderr(Stdio::inherit())
			.spawn()
			.expect("dt-plc starts");
		let stdin = child.stdin.take().unwrap();
		let stdout = child.stdout.take().unwrap();
		let printed = self.printed.clone();
		std::thread::spawn(move || {
			for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
				let mut printed = printed.lock().unwrap();
				printed.push_str(&line);
				printed.push('\n');
			}
		});
		self.child = Some((child, stdin));
		let deadline = std::time::Instant::now() + Duration::from_secs(30);
		while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
			assert!(std::time::Instant::now() < deadline, "dt-plc never listened");
			std::thread::sleep(Duration::from_millis(100));
		}
	}

	fn readings_log(&self) -> PathBuf {
		self.dir.join("readings.log")
	}

	fn certificate(&self) -> PathBuf {
		self.dir.join("pki/own/cert.der")
	}

	/// Types `line` on the PLC's console and waits for it to print `answer`.
	async fn command(&mut self, line: &str, answer: &str) {
		let (_, stdin) = self.child.as_mut().expect("the PLC runs");
		writeln!(stdin, "{line}").unwrap();
		stdin.flush().unwrap();
		let printed = self.printed.clone();
		wait_for(&format!("the PLC to say {answer:?}"), Duration::from_secs(20), || async {
			printed.lock().unwrap().contains(answer).then_some(())
		})
		.await;
	}

	/// Kills it at once, as a power cut would.
	fn kill(&mut self) {
		if let Some((mut child, _)) = self.child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Every reading it served: (station, timestamp, value).
	fn served(&self) -> Vec<(u64, String)> {
		std::fs::read_to_string(self.readings_log())
			.unwrap_or_default()
			.lines()
			.filter_map(|line| {
				let mut words = line.split(' ');
				let (_, time, value) = (words.next()?, words.next()?, words.next()?);
				Some((time.parse().ok()?, same_number(value)))
			})
			.collect()
	}
}

impl Drop for Plc {
	fn drop(&mut self) {
		self.kill();
	}
}

/// A decimal as one text per number: the PLC serves `250.0` as the Double 250.
fn same_number(text: &str) -> String {
	text.parse::<f64>()
		.map(|number| number.to_string())
		.unwrap_or_else(|_| text.to_owned())
}

/// A device file for the PLC: the filler's sensor `(element, serial)` at `level_node`,
/// SetFillVolume, the exchange and the envelope; `trusted` names the server certificate to
/// trust.
fn device_file(
	dir: &Path,
	name: &str,
	port: u16,
	trusted: Option<&Path>,
	level_node: &str,
	(element, serial): (&str, &str),
	user: &str,
) -> PathBuf {
	let trust = trusted
		.map(|path| format!("server_certificate = \"{}\"", path.display()))
		.unwrap_or_default();
	let path = dir.join(format!("{name}.toml"));
	std::fs::write(
		&path,
		format!(
			r#"
[opcua]
endpoint = "opc.tcp://127.0.0.1:{port}/"
security_policy = "Basic256Sha256"
security_mode = "SignAndEncrypt"
pki_dir = "{name}-pki"
{trust}
{user}
publishing_interval = "100ms"

[[sensor]]
station = "{FILLER}"
element = "{element}"
serial = "{serial}"
unit = "mm"
min = 240.0
max = 260.0
node = "{level_node}"
sampling = "50ms"

[[program]]
element = "{FILLER}"
name = "{SET_FILL_VOLUME}"
object = "ns=2;s={FILLER}"
method = "ns=2;s={FILLER}.SetFillVolume"
arguments = ["volume:Double"]
timeout = "5s"

[[exchange]]
station = "{FILLER}"
node = "ns=2;s={FILLER}.SensorSerial"
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

/// The device file's user: the name and the password from the environment.
fn password_user() -> String {
	format!("username = \"{USER}\"\npassword = {{ env = \"PLANT_OPCUA_PASSWORD\" }}")
}

/// The device file's user: the certificate and key `dt-plc --issue-user-certificate` wrote.
fn certificate_user(dir: &Path) -> String {
	format!(
		"user_certificate = \"{}\"\nuser_private_key = \"{}\"",
		dir.join("user.der").display(),
		dir.join("user.pem").display()
	)
}

fn start_agent(
	node: &Node,
	twin: TwinId,
	dir: &Path,
	device: &Path,
	password: &str,
	name: &str,
) -> AgentProcess {
	start_device_agent(node, twin, dir, device, &[("PLANT_OPCUA_PASSWORD", password)], name)
}

fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.unwrap()
		.as_millis() as u64
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_drives_the_plc_over_opc_ua() {
	let _turn = common::one_at_a_time();
	let dir = tempfile::tempdir().unwrap();
	let dir = dir.path();
	let node = Node::start_dev("opcua-node", &dir.join("node"), &[]);
	node.rpc().await;
	let client = Client::connect(&node.ws_url()).await.unwrap();
	let twin = set_up_with_sensor(&client).await;
	allow_sensor_replacement(&client, twin).await;
	let old_feed = register_fill_level_feed(&client, twin).await;

	let mut plc = Plc::start(&dir.join("plc"));
	let certificate = plc.certificate();
	let filler_level = format!("ns=2;s={FILLER}.FillLevel");
	let first_sensor = (FILL_SENSOR, "FLS-0001");
	let device = device_file(
		dir,
		"device",
		plc.port,
		Some(&certificate),
		&filler_level,
		first_sensor,
		&password_user(),
	);
	let mut agent = start_agent(&node, twin, dir, &device, PASSWORD, "agent");
	wait_logged(
		dir,
		"agent",
		&format!("monitoring 2 of 2 nodes at opc.tcp://127.0.0.1:{}/", plc.port),
	)
	.await;
	let monitoring_since = now_ms();
	wait_stored(&client, old_feed, 20).await;

	// Program calls: done by the PLC, refused by it, refused by the envelope.
	let answered = queue(&client, twin, 3_305).await;
	assert_eq!(call_ended(&client, answered).await, Ok("fill volume set to 330.5 ml".into()));
	let too_much = queue(&client, twin, 9_600).await;
	let refused = call_ended(&client, too_much).await.unwrap_err();
	assert!(
		refused.contains("the method ns=2;s=filler.SetFillVolume answered BadOutOfRange"),
		"{refused}"
	);
	let beyond = queue(&client, twin, 13_000).await;
	let outside = call_ended(&client, beyond).await.unwrap_err();
	assert!(outside.starts_with(dt_agent::programs::REFUSED), "{outside}");
	let printed = plc.printed.lock().unwrap().clone();
	assert_eq!(printed.matches("called filler.SetFillVolume").count(), 1, "{printed}");

	// A value that is no number: logged, never sent.
	plc.command("fault filler", "fault filler").await;
	wait_logged(dir, "agent", "\"E42 overflow\"").await;
	wait_status(dir, "agent", "the unreadable value counted", |status| {
		status["device"]["unreadable"] == 1
	})
	.await;

	// The PLC goes away mid-stream (killed) and comes back.
	let killed_at = now_ms();
	plc.kill();
	wait_status(dir, "agent", "the PLC's absence", |status| {
		status["device"]["problem"]
			.as_str()
			.is_some_and(|problem| problem.contains("OPC UA server"))
	})
	.await;
	// A call while the PLC is away fails after the device file's timeout, saying why.
	let unreachable = queue(&client, twin, 4_000).await;
	let failed = call_ended(&client, unreachable).await.unwrap_err();
	assert!(
		failed.contains("ns=2;s=filler.SetFillVolume") && failed.contains("OPC UA server"),
		"{failed}"
	);
	plc.run();
	wait_status(dir, "agent", "the PLC back", |status| status["device"]["problem"].is_null()).await;
	let back_at = now_ms();
	let stored_before = stored_count(&client, old_feed).await;
	wait_stored(&client, old_feed, stored_before + 20).await;

	// The PLC's sensor is exchanged: a new serial number.
	plc.command(&format!("exchange {FILLER}"), "exchanged filler FLS-0002").await;
	let new_element = "fill-sensor-FLS-0002";
	let new_feed = active_feed(&client, twin, new_element).await.id;
	let aml: String = client.request("twin_getAml", jsonrpsee::rpc_params![twin]).await.unwrap();
	assert!(aml.contains(&format!("ID=\"{new_element}\"")) && aml.contains("FLS-0002"), "{aml}");
	assert!(!aml.contains(&format!("ID=\"{FILL_SENSOR}\"")), "{aml}");
	wait_stored(&client, new_feed, 10).await;
	let until = now_ms();

	// Every reading the PLC served while the agent was subscribed, well away from the kill and
	// the restart, is in the feeds; none twice; none the PLC did not serve.
	let served = plc.served();
	let expected: Vec<&(u64, String)> = served
		.iter()
		.filter(|(time, _)| {
			(monitoring_since + 1_000..killed_at.saturating_sub(1_000)).contains(time)
				|| (back_at + 2_000..until.saturating_sub(2_000)).contains(time)
		})
		.collect();
	assert!(expected.len() > 50, "{} readings served in the windows", expected.len());
	let expected: Vec<(u64, String)> = expected.into_iter().cloned().collect();
	let stored =
		wait_readings_stored(&client, &[old_feed, new_feed], &expected, same_number, || {
			log_of(dir, "agent")
		})
		.await;
	let all_served: BTreeSet<&(u64, String)> = served.iter().collect();
	let invented: Vec<&(u64, String)> =
		stored.iter().filter(|reading| !all_served.contains(reading)).collect();
	assert!(invented.is_empty(), "readings the PLC never served: {invented:?}");
	assert!(agent.terminate(), "{}", log_of(dir, "agent"));

	// Wrong credentials, a server certificate the agent does not trust, a node the PLC does
	// not have: each agent says what is wrong.
	let sensor = (new_element, "FLS-0002");
	let user = password_user();
	let wrong = device_file(
		dir,
		"wrong-password",
		plc.port,
		Some(&certificate),
		&filler_level,
		sensor,
		&user,
	);
	let mut refused = start_agent(&node, twin, dir, &wrong, "not-the-password", "refused");
	let untrusted = device_file(dir, "untrusted", plc.port, None, &filler_level, sensor, &user);
	let mut distrusting = start_agent(&node, twin, dir, &untrusted, PASSWORD, "untrusted");
	let misspelt = device_file(
		dir,
		"misspelt",
		plc.port,
		Some(&certificate),
		"ns=2;s=filler.FillLevle",
		sensor,
		&user,
	);
	let mut lost = start_agent(&node, twin, dir, &misspelt, PASSWORD, "misspelt");
	let issued = certificate_user(&plc.dir.join("user"));
	let holder =
		device_file(dir, "holder", plc.port, Some(&certificate), &filler_level, sensor, &issued);
	let mut by_certificate = start_agent(&node, twin, dir, &holder, "", "holder");
	let made_up = certificate_user(&plc.dir.join("stranger"));
	let stranger =
		device_file(dir, "stranger", plc.port, Some(&certificate), &filler_level, sensor, &made_up);
	let mut strange = start_agent(&node, twin, dir, &stranger, "", "stranger");
	wait_logged(dir, "refused", "refused the agent's credentials").await;
	wait_logged(dir, "untrusted", "do not trust each other's certificates").await;
	wait_logged(dir, "misspelt", "has no node ns=2;s=filler.FillLevle").await;
	wait_logged(dir, "holder", "monitoring 2 of 2 nodes").await;
	wait_logged(dir, "stranger", "refused the agent's credentials").await;
	wait_status(dir, "misspelt", "the missing node", |status| {
		status["device"]["problem"]
			.as_str()
			.is_some_and(|p| p.contains("filler.FillLevle"))
	})
	.await;
	for agent in [&mut refused, &mut distrusting, &mut lost, &mut by_certificate, &mut strange] {
		agent.kill();
	}
	assert!(!log_of(dir, "refused").contains("monitoring 2 of 2"));
	assert!(!log_of(dir, "untrusted").contains("monitoring 2 of 2"));
	assert!(!log_of(dir, "stranger").contains("monitoring 2 of 2"));
	assert!(!log_of(dir, "misspelt").contains("exchanged"), "the sensor as the device file says");
	assert!(
		std::fs::read_dir(dir.join("untrusted-pki/rejected")).unwrap().count() == 1,
		"the PLC's certificate waits in rejected/ for the operator"
	);
}
