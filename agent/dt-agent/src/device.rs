//! What the agent needs from a device.

use crate::status::DeviceHealth;
use dt_primitives::{
	feed::ValueRange,
	program::{Argument, ParameterDeclaration, ParameterType, ParameterValue},
};
use std::fmt;

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

/// A device that runs programs and reports sensor readings, as the agent sees it through a
/// connector: the simulator ([`crate::simulator`]), a PLC over OPC UA or a controller over
/// MQTT. A `Device` is a handle: clones talk to the same device, so the program-call loop
/// and the sampler share it.
#[async_trait::async_trait]
pub trait Device: Clone + Send + Sync + 'static {
	/// Runs `call`'s program, whose arguments the chain and the agent have checked against
	/// their declared types and bounds and the agent against the device's safety envelope.
	/// `Ok` carries what the device reports back (e.g. a measurement), `Err` why the
	/// program failed on the device or could not reach it.
	async fn run_program(&self, call: &ProgramCall) -> Result<String, String>;

	/// The sensors the device has now.
	fn sensors(&self) -> Vec<SensorInfo>;

	/// What happened since the last call, in the order it happened: readings (a device the
	/// agent polls is read now, one that pushes its readings hands over what arrived
	/// meanwhile) and sensor exchanges, so each reading goes to the sensor that took it.
	fn take_events(&self) -> Vec<DeviceEvent>;

	/// How the connection to the device is doing (for the status file).
	fn health(&self) -> DeviceHealth {
		DeviceHealth::default()
	}
}

/// Something the device reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceEvent {
	/// A sensor's reading.
	Reading(Reading),
	/// A sensor was exchanged: readings after this come from the new one.
	Exchanged(SensorReplacement),
}

/// The value of the argument `name`, if given.
pub fn argument<'a>(arguments: &'a [Argument], name: &str) -> Option<&'a ParameterValue> {
	arguments
		.iter()
		.find(|argument| argument.name.as_slice() == name.as_bytes())
		.map(|argument| &argument.value)
}

/// A program call the agent hands to the device: what the chain queued, with the parameters
/// it was checked against (which give each decimal its places).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramCall {
	/// The element of the twin's specification that offers the program.
	pub element: String,
	/// The program's name.
	pub program: String,
	/// The arguments as the chain holds them.
	pub arguments: Vec<Argument>,
	/// The program's parameters as declared when the call was queued.
	pub declared: Vec<ParameterDeclaration>,
}

impl ProgramCall {
	/// Each argument by name with its value as the device should see it, in the order given.
	pub fn values(&self) -> Vec<(String, ArgumentValue)> {
		self.arguments
			.iter()
			.map(|argument| {
				let name = String::from_utf8_lossy(&argument.name).into_owned();
				let decimals = self
					.declared
					.iter()
					.find(|declared| declared.name == argument.name)
					.and_then(|declared| match declared.kind {
						ParameterType::Decimal { decimals } => Some(decimals),
						_ => None,
					})
					.unwrap_or(0);
				let value = match &argument.value {
					ParameterValue::Boolean(value) => ArgumentValue::Boolean(*value),
					ParameterValue::Integer(value) => ArgumentValue::Integer(*value),
					ParameterValue::Decimal(units) => {
						ArgumentValue::Decimal { units: *units, decimals }
					},
					ParameterValue::Text(text) => {
						ArgumentValue::Text(String::from_utf8_lossy(text).into_owned())
					},
				};
				(name, value)
			})
			.collect()
	}
}

/// The value of one argument, decimals resolved from the declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgumentValue {
	Boolean(bool),
	Integer(i128),
	/// `units` of `10^-decimals`: `330.5` is `{ units: 3305, decimals: 1 }`.
	Decimal {
		units: i128,
		decimals: u8,
	},
	Text(String),
}

impl ArgumentValue {
	/// The value as JSON: a decimal as its exact text (`"330.5"`), so no device sees it
	/// rounded through a float.
	pub fn to_json(&self) -> serde_json::Value {
		match self {
			ArgumentValue::Boolean(value) => (*value).into(),
			ArgumentValue::Integer(value) => match i64::try_from(*value) {
				Ok(small) => small.into(),
				Err(_) => value.to_string().into(),
			},
			ArgumentValue::Decimal { .. } | ArgumentValue::Text(_) => self.to_string().into(),
		}
	}
}

impl fmt::Display for ArgumentValue {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			ArgumentValue::Boolean(value) => write!(f, "{value}"),
			ArgumentValue::Integer(value) => write!(f, "{value}"),
			ArgumentValue::Decimal { units, decimals: 0 } => write!(f, "{units}"),
			ArgumentValue::Decimal { units, decimals } => {
				let scale = 10u128.pow(u32::from(*decimals));
				let magnitude = units.unsigned_abs();
				let sign = if *units < 0 { "-" } else { "" };
				let width = usize::from(*decimals);
				write!(f, "{sign}{}.{:0width$}", magnitude / scale, magnitude % scale)
			},
			ArgumentValue::Text(text) => f.write_str(text),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn declared(name: &str, kind: ParameterType) -> ParameterDeclaration {
		ParameterDeclaration {
			name: name.as_bytes().to_vec().try_into().unwrap(),
			kind,
			min: None,
			max: None,
			allowed: Default::default(),
			unit: Default::default(),
		}
	}

	fn argument(name: &str, value: ParameterValue) -> Argument {
		Argument { name: name.as_bytes().to_vec().try_into().unwrap(), value }
	}

	#[test]
	fn decimals_take_their_places_from_the_declaration() {
		let call = ProgramCall {
			element: "filler".into(),
			program: "SetFillVolume".into(),
			arguments: vec![
				argument("volume", ParameterValue::Decimal(3305)),
				argument("offset", ParameterValue::Decimal(-5)),
				argument("speed", ParameterValue::Integer(120)),
				argument("label", ParameterValue::Text(b"cola".to_vec().try_into().unwrap())),
			],
			declared: vec![
				declared("volume", ParameterType::Decimal { decimals: 1 }),
				declared("offset", ParameterType::Decimal { decimals: 2 }),
				declared("speed", ParameterType::Integer),
			],
		};
		let values = call.values();
		let text: Vec<String> = values.iter().map(|(_, value)| value.to_string()).collect();
		assert_eq!(text, ["330.5", "-0.05", "120", "cola"]);
		assert_eq!(values[0].1.to_json(), serde_json::json!("330.5"));
		assert_eq!(values[2].1.to_json(), serde_json::json!(120));
		assert_eq!(
			ArgumentValue::Integer(i128::MAX).to_json(),
			serde_json::json!(i128::MAX.to_string())
		);
	}
}
