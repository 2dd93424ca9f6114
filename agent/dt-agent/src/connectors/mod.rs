//! Device connectors: the agent's side of a real device, behind [`crate::device::Device`].
//!
//! - [`mqtt`]: a controller that publishes its readings to an MQTT broker, takes program
//!   calls on a topic and answers on another, and keeps its sensors' identities retained;
//! - [`opcua`]: a PLC that serves its sensors as OPC UA variables (monitored), its programs
//!   as methods and its sensors' serial numbers as variables;
//! - the simulator ([`crate::simulator::SharedPlant`]) is the connector of tests and demos.
//!
//! Devices that push their readings hand them to an [`Intake`], which checks each payload
//! (a reading that is not a decimal number is counted and logged, never sent), drops a
//! reading the device delivered twice (same sensor, device time and value: an MQTT QoS 1
//! redelivery after a reconnection), keeps each sensor's timestamps from going back, and
//! holds the readings until the sampler takes them.

pub mod mqtt;
pub mod opcua;

use crate::{
	config::{DeviceConfig, ExchangeMapping},
	device::{DeviceEvent, Reading, SensorInfo, SensorReplacement},
};
use dt_client::reading::decode_reading;
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Readings held for the sampler at most; beyond, new ones are dropped and counted (the
/// sampler takes them every sample interval, so only a stuck agent gets here).
pub const MAX_WAITING_READINGS: usize = 100_000;
/// How many of each sensor's latest readings a redelivery is recognised among.
const RECENT_READINGS: usize = 256;
/// How many unreadable payloads are logged one by one; after them, one in this many.
const UNREADABLE_LOGGED: u64 = 10;

/// Readings and sensor exchanges a device pushed, in order, until the sampler takes them.
#[derive(Debug, Default)]
pub struct Intake {
	waiting: VecDeque<DeviceEvent>,
	last_timestamp: HashMap<String, u64>,
	/// Each sensor's latest readings as the device timed them, for recognising redeliveries.
	recent: HashMap<String, VecDeque<(u64, String)>>,
	/// Readings delivered twice and taken once.
	pub repeated: u64,
	/// Payloads that were no reading, ever.
	pub unreadable: u64,
	/// Readings dropped because too many were waiting.
	pub dropped: u64,
}

/// Why a payload is no reading.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

impl Intake {
	/// Takes `value` (decimal text) of sensor `element`, timed by the device at `device_time`
	/// (ms since the Unix epoch) or, without it, now. A reading the device timed and
	/// delivered before is dropped. A timestamp before the sensor's previous one is moved up
	/// to it: the feed refuses time going back, and the reading is worth more than its clock.
	pub fn push(
		&mut self,
		element: &str,
		device_time: Option<u64>,
		value: &str,
	) -> Result<(), Unreadable> {
		if let Err(error) = decode_reading(value.as_bytes()) {
			self.unreadable += 1;
			return Err(Unreadable(error.to_string()));
		}
		if self.waiting.len() >= MAX_WAITING_READINGS {
			self.dropped += 1;
			return Err(Unreadable(format!(
				"{MAX_WAITING_READINGS} readings are waiting for the agent already"
			)));
		}
		// Only readings taken are remembered: a dropped one delivered again is taken then.
		if let Some(time) = device_time {
			let recent = self.recent.entry(element.to_owned()).or_default();
			if recent.iter().any(|(seen, seen_value)| *seen == time && seen_value == value) {
				self.repeated += 1;
				return Ok(());
			}
			if recent.len() == RECENT_READINGS {
				recent.pop_front();
			}
			recent.push_back((time, value.to_owned()));
		}
		let timestamp = device_time.unwrap_or_else(now_ms);
		let last = self.last_timestamp.entry(element.to_owned()).or_default();
		*last = (*last).max(timestamp);
		self.waiting.push_back(DeviceEvent::Reading(Reading {
			element: element.to_owned(),
			timestamp: *last,
			value: value.to_owned(),
		}));
		Ok(())
	}

	/// Takes a sensor exchange: readings pushed after it are the new sensor's.
	pub fn exchanged(&mut self, replacement: SensorReplacement) {
		self.waiting.push_back(DeviceEvent::Exchanged(replacement));
	}

	/// Takes a sensor exchange the device timed at `time` (ms since the Unix epoch): readings
	/// of the old sensor still waiting and timed at or after it were taken by the new one
	/// (a device that reports readings and identity separately may deliver some of the new
	/// sensor's readings first), so they follow the exchange under the new element.
	pub fn exchanged_at(&mut self, replacement: SensorReplacement, time: u64) {
		let old = replacement.old_element.clone();
		let new = replacement.new_sensor.element.clone();
		let (later, earlier): (Vec<DeviceEvent>, Vec<DeviceEvent>) =
			self.waiting.drain(..).partition(
				|event| matches!(event, DeviceEvent::Reading(r) if r.element == old && r.timestamp >= time),
			);
		self.waiting.extend(earlier);
		self.waiting.push_back(DeviceEvent::Exchanged(replacement));
		let mut last = None;
		for event in later {
			if let DeviceEvent::Reading(mut reading) = event {
				reading.element = new.clone();
				last = Some(reading.timestamp);
				self.waiting.push_back(DeviceEvent::Reading(reading));
			}
		}
		if let Some(last) = last {
			let known = self.last_timestamp.entry(new).or_default();
			*known = (*known).max(last);
		}
	}

	/// Logs a payload of sensor `element` from `source` that was no reading, for `reason`:
	/// the first few one by one, then one in many, so a broken sensor does not flood the log.
	pub fn log_unreadable(&self, element: &str, source: &str, reason: &str) {
		let count = self.unreadable + self.dropped;
		if count <= UNREADABLE_LOGGED || count % (UNREADABLE_LOGGED * 10) == 0 {
			log::warn!(
				"sensor {element}: a payload on {source} is no reading ({reason}); {count} so far, \
				 none sent"
			);
		}
	}

	/// Everything waiting, oldest first.
	pub fn take(&mut self) -> Vec<DeviceEvent> {
		self.waiting.drain(..).collect()
	}
}

/// A station's sensor as a connector knows it now.
#[derive(Clone, Debug)]
pub(crate) struct CurrentSensor {
	pub info: SensorInfo,
	/// Its serial number, once known.
	pub serial: Option<String>,
}

/// Each station's sensor at the start: the device file's, except a station whose sensor the
/// agent recorded as exchanged, `recorded` (station, element), as
/// [`crate::feeds::recorded_sensors`] reads it.
pub(crate) fn current_sensors(
	config: &DeviceConfig,
	recorded: &[(String, String)],
) -> BTreeMap<String, CurrentSensor> {
	config
		.sensors
		.iter()
		.map(|mapping| {
			let mut info = mapping.sensor.clone();
			let mut serial = mapping.serial.clone();
			if let Some((_, element)) =
				recorded.iter().find(|(station, _)| *station == info.station)
			{
				if *element != info.element {
					info.element = element.clone();
					serial = None;
				}
			}
			(info.station.clone(), CurrentSensor { info, serial })
		})
		.collect()
}

/// The device reported `serial` as the identity of `exchange`'s station, whose sensor is
/// `current`: the replacement if that is another sensor (and `current` becomes it).
pub(crate) fn identity_reported(
	current: &mut CurrentSensor,
	exchange: &ExchangeMapping,
	serial: String,
) -> Option<SensorReplacement> {
	let same = match &current.serial {
		Some(known) => *known == serial,
		// The sensor of an element the agent made itself: its serial is in the element.
		None => exchange.element_of(&serial) == current.info.element,
	};
	if same {
		current.serial = Some(serial);
		return None;
	}
	let new_sensor = SensorInfo { element: exchange.element_of(&serial), ..current.info.clone() };
	let replacement = SensorReplacement {
		station: exchange.station.clone(),
		old_element: current.info.element.clone(),
		new_sensor: new_sensor.clone(),
		serial: serial.clone(),
		fragment: exchange.fragment_of(&serial),
	};
	log::info!(
		"station {}: sensor {} (serial {}) exchanged for serial {serial}, element {}",
		exchange.station,
		current.info.element,
		current.serial.as_deref().unwrap_or("unknown"),
		new_sensor.element
	);
	*current = CurrentSensor { info: new_sensor, serial: Some(serial) };
	Some(replacement)
}

/// 16 random bytes in hex; the clock if the system has no random source.
pub(crate) fn random_prefix() -> String {
	let mut bytes = [0u8; 16];
	match getrandom::fill(&mut bytes) {
		Ok(()) => hex::encode(bytes),
		Err(_) => format!("{:x}", now_ms()),
	}
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map_or(0, |since| since.as_millis() as u64)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_decimal_readings_get_in_and_time_never_goes_back() {
		let mut intake = Intake::default();
		intake.push("level", Some(1_000), "250.3").unwrap();
		intake.push("level", Some(900), "250.4").unwrap();
		intake.push("other", Some(500), "7").unwrap();
		assert!(intake.push("level", Some(1_100), "high").is_err());
		assert!(intake.push("level", Some(1_100), "2.5e2").is_err());
		assert_eq!(intake.unreadable, 2);
		// Delivered again: taken once.
		intake.push("level", Some(1_000), "250.3").unwrap();
		assert_eq!(intake.repeated, 1);
		let taken = intake.take();
		let seen: Vec<(&str, u64, &str)> = taken
			.iter()
			.map(|event| match event {
				DeviceEvent::Reading(r) => (r.element.as_str(), r.timestamp, r.value.as_str()),
				other => panic!("{other:?}"),
			})
			.collect();
		assert_eq!(
			seen,
			[("level", 1_000, "250.3"), ("level", 1_000, "250.4"), ("other", 500, "7")]
		);
		assert!(intake.take().is_empty());
		// Without the device's time, the agent's; no reading is taken for a repetition.
		intake.push("level", None, "250.3").unwrap();
		intake.push("level", None, "250.3").unwrap();
		assert_eq!(intake.take().len(), 2);
	}
}
