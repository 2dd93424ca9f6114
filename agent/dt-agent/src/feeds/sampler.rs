//! The sampler: reads the device's sensors every sample interval into their buffers, makes
//! the buffers durable every flush interval, and turns a sensor replacement the device
//! reports into a retired buffer (the old sensor) and a new one that remembers the
//! replacement still to be sent. It needs no node, so readings accumulate while the node
//! is away.

use super::{lock, Buffers, FeedConfig};
use crate::{
	buffer::{BufferError, PendingReplacement, SensorBuffer},
	device::{Device, SensorReplacement},
};
use std::{io::Write, sync::Arc};
use tokio::{
	sync::{watch, Notify},
	time::{Instant, MissedTickBehavior},
};

pub(super) async fn sample<D: Device>(
	config: FeedConfig,
	mut device: D,
	buffers: Buffers,
	wake: Arc<Notify>,
	mut shutdown: watch::Receiver<bool>,
) {
	let mut readings_log = config.readings_log.as_ref().and_then(|path| {
		std::fs::OpenOptions::new()
			.create(true)
			.append(true)
			.open(path)
			.map_err(|e| log::error!("cannot open the readings log {}: {e}", path.display()))
			.ok()
	});
	let mut ticks = tokio::time::interval(config.sample_interval);
	ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
	let mut last_sync = Instant::now();
	loop {
		tokio::select! {
			_ = ticks.tick() => {},
			_ = shutdown.wait_for(|stop| *stop) => break,
		}
		for replacement in device.take_replacements() {
			match record_replacement(&config, &buffers, &replacement) {
				Ok(()) => wake.notify_one(),
				Err(e) => log::error!(
					"sensor {} replaced by {}, but the agent cannot record it: {e}",
					replacement.old_element,
					replacement.new_sensor.element
				),
			}
		}
		for sensor in device.sensors() {
			let Some(reading) = device.read_sensor(&sensor.element) else { continue };
			let pushed = {
				let mut buffers = lock(&buffers);
				if !buffers.contains_key(&sensor.element) {
					match SensorBuffer::create(&config.data_dir, &sensor, None) {
						Ok(buffer) => {
							buffers.insert(sensor.element.clone(), buffer);
						},
						Err(e) => log::error!("no buffer for sensor {}: {e}", sensor.element),
					}
				}
				buffers.get_mut(&sensor.element).map(|buffer| {
					buffer.push(reading.timestamp, reading.value.clone().into_bytes())
				})
			};
			match pushed {
				Some(Ok(_)) => {
					if let Some(file) = readings_log.as_mut() {
						let line = format!(
							"{} {} {}\n",
							reading.element, reading.timestamp, reading.value
						);
						if let Err(e) = file.write_all(line.as_bytes()) {
							log::warn!("cannot write the readings log: {e}");
						}
					}
				},
				Some(Err(e)) => log::error!("reading of {} lost: {e}", sensor.element),
				None => {},
			}
		}
		if last_sync.elapsed() >= config.flush_interval {
			sync_all(&buffers);
			last_sync = Instant::now();
		}
	}
	sync_all(&buffers);
}

pub(super) fn sync_all(buffers: &Buffers) {
	for buffer in lock(buffers).values_mut() {
		if let Err(e) = buffer.sync() {
			log::error!("readings of {} not durable: {e}", buffer.element());
		}
	}
}

/// Retires the old sensor's buffer and creates the new sensor's, which remembers the
/// replacement until the chain has it.
fn record_replacement(
	config: &FeedConfig,
	buffers: &Buffers,
	replacement: &SensorReplacement,
) -> Result<(), BufferError> {
	let mut buffers = lock(buffers);
	if let Some(old) = buffers.get_mut(&replacement.old_element) {
		old.retire()?;
	}
	let pending = PendingReplacement {
		old_element: replacement.old_element.clone(),
		fragment: replacement.fragment.clone(),
		serial: replacement.serial.clone(),
	};
	let mut new =
		SensorBuffer::create(&config.data_dir, &replacement.new_sensor, Some(pending.clone()))?;
	// The sampler may have met the new sensor before it learnt of the replacement.
	if new.state().replaces.as_ref() != Some(&pending) {
		new.expect_replacement(pending)?;
	}
	log::info!(
		"sensor {} of {} replaced by {} (serial {}); sending the replacement to the chain",
		replacement.old_element,
		replacement.station,
		replacement.new_sensor.element,
		replacement.serial
	);
	buffers.insert(replacement.new_sensor.element.clone(), new);
	Ok(())
}
