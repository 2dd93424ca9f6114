//! A simulated bottling plant: filling stations, each with a fill-level sensor and a valve,
//! and a conveyor. It runs the plant's programs the way the real controller would, so the
//! agent can be tested and demonstrated without hardware.

use crate::device::{argument, Device};
use dt_primitives::program::{Argument, ParameterValue};
use std::collections::BTreeMap;

/// Fill volume a station starts with, in tenths of a millilitre.
const DEFAULT_FILL_VOLUME: i128 = 5_000;
/// Conveyor speed the plant starts with, in bottles per minute.
const DEFAULT_CONVEYOR_SPEED: i128 = 120;

/// One filling station.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillingStation {
	/// Target fill volume, in tenths of a millilitre.
	pub fill_volume: i128,
	/// Whether its valve is open.
	pub valve_open: bool,
	/// The serial number of its fill-level sensor.
	pub sensor: String,
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
}

impl BottlingPlant {
	/// A plant with these filling stations (element ids), all at their defaults.
	pub fn new<'a>(stations: impl IntoIterator<Item = &'a str>) -> BottlingPlant {
		let stations = stations
			.into_iter()
			.enumerate()
			.map(|(index, id)| {
				let station = FillingStation {
					fill_volume: DEFAULT_FILL_VOLUME,
					valve_open: false,
					sensor: format!("FLS-{:04}", index + 1),
				};
				(id.to_owned(), station)
			})
			.collect();
		BottlingPlant { stations, conveyor_speed: DEFAULT_CONVEYOR_SPEED, log: Vec::new() }
	}

	fn station(&mut self, element: &str) -> Result<&mut FillingStation, String> {
		self.stations
			.get_mut(element)
			.ok_or_else(|| format!("{element} is not a filling station"))
	}
}

impl Device for BottlingPlant {
	fn run_program(
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
	fn refuses_what_it_cannot_do() {
		let mut plant = BottlingPlant::new(["filler-1"]);
		assert!(plant.run_program("conveyor", "SetFillVolume", &volume(3305)).is_err());
		assert!(plant.run_program("filler-1", "SetFillVolume", &[]).is_err());
		assert!(plant.run_program("filler-1", "SelfDestruct", &[]).is_err());
		assert_eq!(plant.stations["filler-1"].fill_volume, DEFAULT_FILL_VOLUME);
	}
}
