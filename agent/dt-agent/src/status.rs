//! The agent's status, for operators and monitoring: `<data-dir>/status.json`, rewritten
//! every [`STATUS_INTERVAL`] while the agent runs (a new file renamed over the old, so a
//! reader sees one whole status or the one before). It says what is wrong with the device's
//! connection, how many payloads were no reading, and for each sensor its feed and how many
//! readings wait in its buffer for the node:
//!
//! ```json
//! { "updated_ms": 1765000000000,
//!   "device": { "problem": "cannot reach the MQTT broker at 127.0.0.1:1883: ...", "unreadable": 3,
//!               "dropped_by_device": 0 },
//!   "sensors": [ { "element": "filler-fill-sensor", "station": "filler", "feed": 0,
//!                  "retired": false, "waiting": 12, "acknowledged_up_to": 4711 } ] }
//! ```

use serde::Serialize;
use std::{io::Write, path::Path, time::Duration};

/// How often the status file is rewritten.
pub const STATUS_INTERVAL: Duration = Duration::from_secs(2);
/// Its name in the data directory.
pub const STATUS_FILE: &str = "status.json";

/// How the device's connection is doing, as its connector sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceHealth {
	/// What is wrong, `None` while the connection works.
	pub problem: Option<String>,
	/// Payloads that were no reading since the agent started (never sent).
	pub unreadable: u64,
	/// Readings the device says it dropped before the agent took them (an OPC UA server
	/// marks the value after each one its full queue dropped): the agent takes readings
	/// slower than the device makes them.
	pub dropped_by_device: u64,
}

/// One sensor's buffer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SensorStatus {
	pub element: String,
	pub station: String,
	/// The feed its readings go to, once bound.
	pub feed: Option<u64>,
	/// An exchanged sensor whose last readings are still being delivered.
	pub retired: bool,
	/// Readings in the buffer the node has not acknowledged.
	pub waiting: u64,
	/// The last entry the node acknowledged.
	pub acknowledged_up_to: Option<u64>,
}

/// The whole status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
	/// When it was written, ms since the Unix epoch.
	pub updated_ms: u64,
	pub device: DeviceHealth,
	pub sensors: Vec<SensorStatus>,
}

/// Writes `status` to `dir`/[`STATUS_FILE`], replacing the previous one whole.
pub fn write(dir: &Path, status: &Status) -> std::io::Result<()> {
	let path = dir.join(STATUS_FILE);
	let partial = dir.join(format!("{STATUS_FILE}.new"));
	let mut file = std::fs::File::create(&partial)?;
	serde_json::to_writer_pretty(&mut file, status)?;
	file.write_all(b"\n")?;
	std::fs::rename(&partial, &path)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn the_status_file_is_replaced_whole() {
		let dir = tempfile::tempdir().unwrap();
		let mut status = Status {
			updated_ms: 1,
			device: DeviceHealth {
				problem: Some("the broker is away".into()),
				unreadable: 3,
				..Default::default()
			},
			sensors: vec![SensorStatus {
				element: "fill-sensor".into(),
				station: "filler".into(),
				feed: Some(0),
				retired: false,
				waiting: 12,
				acknowledged_up_to: Some(41),
			}],
		};
		write(dir.path(), &status).unwrap();
		status.device.problem = None;
		write(dir.path(), &status).unwrap();
		let read: serde_json::Value =
			serde_json::from_slice(&std::fs::read(dir.path().join(STATUS_FILE)).unwrap()).unwrap();
		assert_eq!(read["device"]["problem"], serde_json::Value::Null);
		assert_eq!(read["device"]["unreadable"], 3);
		assert_eq!(read["sensors"][0]["waiting"], 12);
		assert!(!dir.path().join("status.json.new").exists());
	}
}
