//! What the agent needs from a device.

use dt_primitives::program::{Argument, ParameterValue};

/// A device that runs programs. Implementations talk to the real hardware (a PLC over
/// OPC UA, a controller's REST interface, ...) or simulate it.
pub trait Device: Send {
	/// Runs `program`, offered by the twin's element `element`, with arguments the chain has
	/// already checked against their declared types and bounds. `Ok` carries what the device
	/// reports back (e.g. a measurement), `Err` why the program failed on the device.
	fn run_program(
		&mut self,
		element: &str,
		program: &str,
		arguments: &[Argument],
	) -> Result<String, String>;
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
}
