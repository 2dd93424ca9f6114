//! The sampler: reads the device's sensors every sample interval into their buffers, makes
//! the buffers durable every flush interval, and turns a sensor replacement the device
//! reports into a retired buffer (the old sensor) and a new one that remembers the
//! replacement still to be sent. It needs no node, so readings accumulate while the node
//! is away.

use super::{lock, Buffers, FeedConfig};
use crate::{
	buffer::{BufferError, PendingReplacement, SensorBuffer},
	device::{Device, DeviceEvent, Reading, SensorInfo, SensorReplacement},
};
use std::{collections::btree_map::Entry, io::Write, sync::Arc};
use tokio::{
	sync::{watch, Notify},
	time::{Instant, MissedTickBehavior},
};

pub(super) async fn sample<D: Device>(
	config: FeedConfig,
	device: D,
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
		let events = device.take_events();
		let sensors = device.sensors();
		for event in events {
			let reading = match event {
				DeviceEvent::Exchanged(replacement) => {
					match record_replacement(&config, &buffers, &replacement) {
						Ok(()) => wake.notify_one(),
						Err(e) => log::error!(
							"sensor {} replaced by {}, but the agent cannot record it: {e}",
							replacement.old_element,
							replacement.new_sensor.element
						),
					}
					continue;
				},
				DeviceEvent::Reading(reading) => reading,
			};
			match take_reading(&config, &buffers, &sensors, &reading) {
				Ok(true) => {},
				Ok(false) => {
					log::error!(
						"a reading of {}, which the device does not list as a sensor, is dropped",
						reading.element
					);
					continue;
				},
				Err(e) => {
					log::error!("reading of {} lost: {e}", reading.element);
					continue;
				},
			}
			if let Some(file) = readings_log.as_mut() {
				let line = format!("{} {} {}\n", reading.element, reading.timestamp, reading.value);
				if let Err(e) = file.write_all(line.as_bytes()) {
					log::warn!("cannot write the readings log: {e}");
				}
			}
		}
		if last_sync.elapsed() >= config.flush_interval {
			sync_all(&buffers);
			last_sync = Instant::now();
		}
	}
	sync_all(&buffers);
}

/// Appends `reading` to its sensor's buffer, which is made if the device lists the sensor
/// and it has none yet; `false` if the device does not list it.
fn take_reading(
	config: &FeedConfig,
	buffers: &Buffers,
	sensors: &[SensorInfo],
	reading: &Reading,
) -> Result<bool, BufferError> {
	let mut buffers = lock(buffers);
	let buffer = match buffers.entry(reading.element.clone()) {
		Entry::Occupied(buffer) => buffer.into_mut(),
		Entry::Vacant(place) => {
			let Some(sensor) = sensors.iter().find(|sensor| sensor.element == reading.element)
			else {
				return Ok(false);
			};
			place.insert(SensorBuffer::create(&config.data_dir, sensor, None)?)
		},
	};
	buffer.push(reading.timestamp, reading.value.clone().into_bytes())?;
	Ok(true)
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
