//! What the agent needs from a device.

use dt_primitives::{
	feed::ValueRange,
	program::{Argument, ParameterValue},
};

/// A sensor of the device, as the twin's specification knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorInfo {
	/// The element of the device the sensor belongs to (e.g. a filling station).
	pub station: String,
	/// The sensor's own element id in the twin's specification.
	pub element: String,
	/// The unit of its readings (e.g. `mm`).
	pub unit: String,
	/// The range its readings are expected to stay in, fixed point.
	pub expected_range: Option<ValueRange>,
}

/// One reading of a sensor: a decimal number in the sensor's unit (see
/// [`dt_client::reading`]) and when it was taken.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reading {
	/// The sensor's element id.
	pub element: String,
	/// Milliseconds since the Unix epoch.
	pub timestamp: u64,
	/// The value as decimal text, e.g. `"251.3"`.
	pub value: String,
}

/// A sensor the device reports as exchanged: the old one is gone, the new one reports from
/// now on under a new element of the specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SensorReplacement {
	/// The station both sensors belong to.
	pub station: String,
	/// The old sensor's element id.
	pub old_element: String,
	/// The new sensor.
	pub new_sensor: SensorInfo,
	/// The new sensor's serial number.
	pub serial: String,
	/// The AML `InternalElement` describing the new sensor, whose root carries
	/// `ID="<new element>"`; it takes the old element's place in the specification.
	pub fragment: String,
}

/// A device that runs programs and reports sensor readings. Implementations talk to the real
/// hardware (a PLC over OPC UA, a controller's REST interface, ...) or simulate it.
pub trait Device: Send {
	/// Runs `program`, offered by the twin's element `element`, with arguments the chain and
	/// the agent have checked against their declared types and bounds and the agent against
	/// the device's safety envelope. `Ok` carries what the device reports back (e.g. a
	/// measurement), `Err` why the program failed on the device.
	fn run_program(
		&mut self,
		element: &str,
		program: &str,
		arguments: &[Argument],
	) -> Result<String, String>;

	/// The sensors the device has now.
	fn sensors(&self) -> Vec<SensorInfo> {
		Vec::new()
	}

	/// Takes a reading of the sensor `element`, `None` if the device has no such sensor.
	fn read_sensor(&mut self, _element: &str) -> Option<Reading> {
		None
	}

	/// The sensors exchanged since the last call, oldest first.
	fn take_replacements(&mut self) -> Vec<SensorReplacement> {
		Vec::new()
	}
}

/// The value of the argument `name`, if given.
pub fn argument<'a>(arguments: &'a [Argument], name: &str) -> Option<&'a ParameterValue> {
	arguments
		.iter()
		.find(|argument| argument.name.as_slice() == name.as_bytes())
		.map(|argument| &argument.value)
}

/// A device shared with whoever watches it (a dashboard, a test).
impl<D: Device> Device for std::sync::Arc<std::sync::Mutex<D>> {
	fn run_program(
		&mut self,
		element: &str,
		program: &str,
		arguments: &[Argument],
	) -> Result<String, String> {
		let mut device = self.lock().map_err(|_| "the device's state is poisoned".to_owned())?;
		device.run_program(element, program, arguments)
	}

	fn sensors(&self) -> Vec<SensorInfo> {
		self.lock().map(|device| device.sensors()).unwrap_or_default()
	}

	fn read_sensor(&mut self, element: &str) -> Option<Reading> {
		self.lock().ok()?.read_sensor(element)
	}

	fn take_replacements(&mut self) -> Vec<SensorReplacement> {
		self.lock().map(|mut device| device.take_replacements()).unwrap_or_default()
	}
}
