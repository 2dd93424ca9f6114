//! A simulated bottling plant: filling stations, each with a fill-level sensor and a valve,
//! and a conveyor. It runs the plant's programs the way the real controller would, reports
//! fill levels, and can have a sensor exchanged ([`BottlingPlant::replace_sensor`]), so the
//! agent can be tested and demonstrated without hardware.

use crate::device::{
	argument, Device, DeviceEvent, ProgramCall, Reading, SensorInfo, SensorReplacement,
};
use dt_primitives::{
	feed::ValueRange,
	program::{Argument, ParameterValue},
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Fill volume a station starts with, in tenths of a millilitre.
const DEFAULT_FILL_VOLUME: i128 = 5_000;
/// Conveyor speed the plant starts with, in bottles per minute.
const DEFAULT_CONVEYOR_SPEED: i128 = 120;
/// Fill level a bottle should reach, in tenths of a millimetre; readings scatter around it.
const NOMINAL_FILL_LEVEL: u64 = 2_500;
/// How far a reading may stray from the nominal level, in tenths of a millimetre.
const FILL_LEVEL_SCATTER: u64 = 30;
/// The range a fill-level reading is expected in: 240.0 to 260.0 mm.
pub const FILL_LEVEL_RANGE: ValueRange = ValueRange { min: 2_400, max: 2_600, decimals: 1 };
/// The unit of fill-level readings.
pub const FILL_LEVEL_UNIT: &str = "mm";

/// One filling station.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillingStation {
	/// Target fill volume, in tenths of a millilitre.
	pub fill_volume: i128,
	/// Whether its valve is open.
	pub valve_open: bool,
	/// The serial number of its fill-level sensor.
	pub sensor: String,
	/// The fill-level sensor's element id in the twin's specification.
	pub sensor_element: String,
	/// How many sensors the station has had (1 until the first replacement).
	pub sensor_generation: u32,
	/// The sensor's element id before any replacement, from which new ids are made.
	original_element: String,
	/// The last reading's timestamp, so readings never go back in time.
	last_timestamp: u64,
}

/// The simulated plant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BottlingPlant {
	/// The filling stations by their element id in the twin's specification.
	pub stations: BTreeMap<String, FillingStation>,
	/// Conveyor speed, in bottles per minute.
	pub conveyor_speed: i128,
	/// Every program the plant ran, in order: (element, program).
	pub log: Vec<(String, String)>,
	/// Sensors exchanged and not yet reported to the agent.
	replacements: Vec<SensorReplacement>,
	/// State of the generator the readings scatter with (xorshift).
	noise: u64,
	/// Serial numbers handed out so far.
	serials: u32,
}

impl BottlingPlant {
	/// A plant with these filling stations (element ids), all at their defaults; the
	/// fill-level sensor of station `s` is the element `s-fill-sensor` until
	/// [`BottlingPlant::set_sensor_element`] says otherwise.
	pub fn new<'a>(stations: impl IntoIterator<Item = &'a str>) -> BottlingPlant {
		let stations: BTreeMap<String, FillingStation> = stations
			.into_iter()
			.enumerate()
			.map(|(index, id)| {
				let element = format!("{id}-fill-sensor");
				let station = FillingStation {
					fill_volume: DEFAULT_FILL_VOLUME,
					valve_open: false,
					sensor: serial(index as u32 + 1),
					sensor_element: element.clone(),
					sensor_generation: 1,
					original_element: element,
					last_timestamp: 0,
				};
				(id.to_owned(), station)
			})
			.collect();
		let serials = stations.len() as u32;
		BottlingPlant {
			stations,
			conveyor_speed: DEFAULT_CONVEYOR_SPEED,
			log: Vec::new(),
			replacements: Vec::new(),
			noise: 0x9e37_79b9_7f4a_7c15,
			serials,
		}
	}

	/// Names the element of `station`'s fill-level sensor in the twin's specification.
	pub fn set_sensor_element(&mut self, station: &str, element: &str) -> Result<(), String> {
		let station = self.station(station)?;
		station.sensor_element = element.to_owned();
		station.original_element = element.to_owned();
		Ok(())
	}

	/// Exchanges the fill-level sensor of `station`: the new one has a new serial number and
	/// a new element id (`<original element>-<generation>`), and the agent learns of it
	/// through [`Device::take_events`].
	pub fn replace_sensor(&mut self, station_id: &str) -> Result<SensorReplacement, String> {
		self.serials += 1;
		let serial_number = serial(self.serials);
		let station = self.station(station_id)?;
		station.sensor_generation += 1;
		let old_element = std::mem::replace(
			&mut station.sensor_element,
			format!("{}-{}", station.original_element, station.sensor_generation),
		);
		station.sensor = serial_number.clone();
		let new_sensor = fill_level_sensor(station_id, &station.sensor_element);
		let fragment = format!(
			r#"<InternalElement Name="FillLevelSensor" ID="{}"><Attribute Name="SerialNumber"><Value>{}</Value></Attribute><Attribute Name="FillLevel" Unit="{FILL_LEVEL_UNIT}"/></InternalElement>"#,
			station.sensor_element, serial_number
		);
		let replacement = SensorReplacement {
			station: station_id.to_owned(),
			old_element,
			new_sensor,
			serial: serial_number,
			fragment,
		};
		self.replacements.push(replacement.clone());
		Ok(replacement)
	}

	/// The next pseudo-random number: readings need scatter, not unpredictability.
	fn next_noise(&mut self) -> u64 {
		self.noise ^= self.noise << 13;
		self.noise ^= self.noise >> 7;
		self.noise ^= self.noise << 17;
		self.noise
	}

	fn station(&mut self, element: &str) -> Result<&mut FillingStation, String> {
		self.stations
			.get_mut(element)
			.ok_or_else(|| format!("{element} is not a filling station"))
	}
}

impl BottlingPlant {
	/// Runs `program` on `element`: what the plant's controller would answer.
	pub fn run_program(
		&mut self,
		element: &str,
		program: &str,
		arguments: &[Argument],
	) -> Result<String, String> {
		self.log.push((element.to_owned(), program.to_owned()));
		match program {
			"SetFillVolume" => {
				let Some(ParameterValue::Decimal(volume)) = argument(arguments, "volume") else {
					return Err("SetFillVolume needs a decimal `volume`".into());
				};
				let volume = *volume;
				self.station(element)?.fill_volume = volume;
				Ok(format!("fill volume set to {}.{} ml", volume / 10, volume % 10))
			},
			"OpenValve" | "CloseValve" => {
				let open = program == "OpenValve";
				self.station(element)?.valve_open = open;
				Ok(format!("valve {}", if open { "open" } else { "closed" }))
			},
			"SetConveyorSpeed" => {
				let Some(ParameterValue::Integer(speed)) = argument(arguments, "speed") else {
					return Err("SetConveyorSpeed needs an integer `speed`".into());
				};
				self.conveyor_speed = *speed;
				Ok(format!("conveyor at {speed} bottles/min"))
			},
			other => Err(format!("the plant has no program {other}")),
		}
	}

	/// The fill-level sensor of every station.
	pub fn sensors(&self) -> Vec<SensorInfo> {
		self.stations
			.iter()
			.map(|(id, station)| fill_level_sensor(id, &station.sensor_element))
			.collect()
	}

	/// A reading of the sensor `element` now, `None` if the plant has no such sensor.
	pub fn read_sensor(&mut self, element: &str) -> Option<Reading> {
		let scatter = self.next_noise() % (2 * FILL_LEVEL_SCATTER + 1);
		let station = self.stations.values_mut().find(|s| s.sensor_element == element)?;
		let now = crate::connectors::now_ms();
		// A clock stepping back must not make the feed refuse every later reading.
		station.last_timestamp = station.last_timestamp.max(now);
		let tenths = NOMINAL_FILL_LEVEL - FILL_LEVEL_SCATTER + scatter;
		Some(Reading {
			element: element.to_owned(),
			timestamp: station.last_timestamp,
			value: format!("{}.{}", tenths / 10, tenths % 10),
		})
	}

	/// The sensors exchanged since the last call, oldest first.
	pub fn take_replacements(&mut self) -> Vec<SensorReplacement> {
		std::mem::take(&mut self.replacements)
	}
}

/// The simulated plant as the agent's device, shared with whoever watches or changes it (the
/// agent's sensor-exchange timer, a test): the agent polls its sensors.
pub type SharedPlant = Arc<Mutex<BottlingPlant>>;

fn locked(plant: &SharedPlant) -> std::sync::MutexGuard<'_, BottlingPlant> {
	// The plant's state is plain data, consistent after any panic.
	plant.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait::async_trait]
impl Device for SharedPlant {
	async fn run_program(&self, call: &ProgramCall) -> Result<String, String> {
		locked(self).run_program(&call.element, &call.program, &call.arguments)
	}

	fn sensors(&self) -> Vec<SensorInfo> {
		locked(self).sensors()
	}

	/// The exchanges since the last call, then a reading of every sensor now.
	fn take_events(&self) -> Vec<DeviceEvent> {
		let mut plant = locked(self);
		let mut events: Vec<DeviceEvent> =
			plant.take_replacements().into_iter().map(DeviceEvent::Exchanged).collect();
		for sensor in plant.sensors() {
			events.extend(plant.read_sensor(&sensor.element).map(DeviceEvent::Reading));
		}
		events
	}
}

fn serial(number: u32) -> String {
	format!("FLS-{number:04}")
}

fn fill_level_sensor(station: &str, element: &str) -> SensorInfo {
	SensorInfo {
		station: station.to_owned(),
		element: element.to_owned(),
		unit: FILL_LEVEL_UNIT.to_owned(),
		expected_range: Some(FILL_LEVEL_RANGE),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn volume(tenths: i128) -> Vec<Argument> {
		vec![Argument {
			name: b"volume".to_vec().try_into().unwrap(),
			value: ParameterValue::Decimal(tenths),
		}]
	}

	#[test]
	fn runs_the_plants_programs_and_logs_them() {
		let mut plant = BottlingPlant::new(["filler-1", "filler-2"]);
		assert_eq!(
			plant.run_program("filler-2", "SetFillVolume", &volume(3305)),
			Ok("fill volume set to 330.5 ml".into())
		);
		assert_eq!(plant.stations["filler-2"].fill_volume, 3305);
		assert_eq!(plant.stations["filler-1"].fill_volume, DEFAULT_FILL_VOLUME);
		assert_eq!(plant.run_program("filler-1", "OpenValve", &[]), Ok("valve open".into()));
		assert!(plant.stations["filler-1"].valve_open);
		assert_eq!(plant.log.len(), 2);
	}

	#[test]
	fn fill_levels_are_decimal_readings_in_the_expected_range_and_never_go_back() {
		let mut plant = BottlingPlant::new(["filler"]);
		plant.set_sensor_element("filler", "fill-sensor").unwrap();
		assert!(plant.read_sensor("filler-fill-sensor").is_none());
		let mut last = 0;
		for _ in 0..200 {
			let reading = plant.read_sensor("fill-sensor").unwrap();
			assert!(reading.timestamp >= last);
			last = reading.timestamp;
			assert_eq!(
				dt_client::reading::outside(&FILL_LEVEL_RANGE, &reading.value),
				Ok(false),
				"{}",
				reading.value
			);
		}
	}

	#[test]
	fn a_replaced_sensor_gets_a_new_serial_and_element_and_is_reported_once() {
		let mut plant = BottlingPlant::new(["filler"]);
		plant.set_sensor_element("filler", "fill-sensor").unwrap();
		let old_serial = plant.stations["filler"].sensor.clone();
		let replacement = plant.replace_sensor("filler").unwrap();
		assert_eq!(replacement.old_element, "fill-sensor");
		assert_eq!(replacement.new_sensor.element, "fill-sensor-2");
		assert_ne!(replacement.serial, old_serial);
		assert!(replacement.fragment.contains(r#"ID="fill-sensor-2""#));
		assert!(replacement.fragment.contains(&replacement.serial));
		assert!(plant.read_sensor("fill-sensor").is_none(), "the old sensor is gone");
		assert!(plant.read_sensor("fill-sensor-2").is_some());
		assert_eq!(plant.take_replacements(), vec![replacement]);
		assert!(plant.take_replacements().is_empty());
		assert_eq!(plant.replace_sensor("filler").unwrap().new_sensor.element, "fill-sensor-3");
		assert!(plant.replace_sensor("conveyor").is_err());
	}

	#[test]
	fn refuses_what_it_cannot_do() {
		let mut plant = BottlingPlant::new(["filler-1"]);
		assert!(plant.run_program("conveyor", "SetFillVolume", &volume(3305)).is_err());
		assert!(plant.run_program("filler-1", "SetFillVolume", &[]).is_err());
		assert!(plant.run_program("filler-1", "SelfDestruct", &[]).is_err());
		assert_eq!(plant.stations["filler-1"].fill_volume, DEFAULT_FILL_VOLUME);
	}
}
