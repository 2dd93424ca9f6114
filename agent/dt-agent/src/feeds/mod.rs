//! Sensor feeds: the device's readings go through the persistent [`SensorBuffer`]s into the
//! node's off-chain store as signed, hash-chained entries; their heads are anchored on chain
//! now and then; an exchanged sensor is replaced on chain in one transaction.
//!
//! Tasks sharing the buffers:
//!
//! - the sampler takes what the device reported every sample interval, in order: appends
//!   each reading to its sensor's buffer, and turns a sensor replacement into a retired
//!   buffer (the old sensor) and a new one that remembers the replacement still to be sent;
//!   it fsyncs the buffers every flush interval;
//! - the sender binds buffers to their feeds (the active feed the device account owns on the
//!   sensor's element, registering one if allowed), brings them in line with the node's logs
//!   (`feed_latest`, and the entries the node has beyond the acknowledged head, checked to
//!   be the device's), sends what is durable and unacknowledged every batch interval
//!   (encrypted under the feed's current key epoch for a feed above Public, see
//!   [`crate::epochs`]), and sends pending replacements once the old sensor's readings are
//!   all stored; entries built once are kept until acknowledged and re-sent unchanged, never
//!   built again;
//! - the anchorer anchors each active feed's acknowledged head every checkpoint interval;
//! - the access watcher counts the finalized blocks that may change who may read the
//!   twin's feeds, so the sender starts a new epoch when the readers changed;
//! - the reporter rewrites the status file ([`crate::status`]) every few seconds.
//!
//! The sender and the anchorer reconnect with backoff when the node goes away; the sampler
//! needs no node, so readings keep accumulating in the buffers meanwhile.

mod anchorer;
mod sampler;
mod sender;

use crate::{
	buffer::{BufferError, SensorBuffer},
	chain::Submitter,
	device::Device,
	epochs::{self, EpochError, FeedEpochs},
	reconnect::pause,
	status,
};
use dt_client::{dispatch_error_name, ClientError};
use dt_primitives::{
	access::{Confidentiality, ElementId, TwinId},
	feed::FeedId,
};
use sender::Sender;
use std::{
	collections::BTreeMap,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::sync::{watch, Notify};

/// How the agent streams its sensors.
#[derive(Clone, Debug)]
pub struct FeedConfig {
	/// WebSocket RPC endpoint of the owner's dt-node.
	pub node: String,
	/// The twin the device belongs to.
	pub twin: TwinId,
	/// Where the buffers live.
	pub data_dir: PathBuf,
	/// How often each sensor is read.
	pub sample_interval: Duration,
	/// How often new readings are fsynced (and so become sendable).
	pub flush_interval: Duration,
	/// How often durable readings are sent.
	pub batch_interval: Duration,
	/// Most entries in one `feed_append`.
	pub max_batch: usize,
	/// How often each feed's head is anchored on chain.
	pub checkpoint_interval: Duration,
	/// Whether the agent registers a feed for a sensor that has none.
	pub register_missing: bool,
	/// The confidentiality of feeds the agent registers.
	pub confidentiality: Confidentiality,
	/// A file every reading is also appended to as a line `element timestamp value`, for
	/// audits and tests.
	pub readings_log: Option<PathBuf>,
}

/// Why the feed side of the agent cannot go on (for now).
#[derive(Debug, thiserror::Error)]
pub enum FeedAgentError {
	#[error(transparent)]
	Client(#[from] ClientError),
	#[error(transparent)]
	Buffer(#[from] BufferError),
	#[error("the chain refused to {action}: {reason}")]
	Refused { action: String, reason: String },
	#[error(
		"no active feed owned by this device account is registered on element {element}; \
		 register one (or start the agent with --register-feeds)"
	)]
	NoFeed { element: String },
	#[error("{0}")]
	Inconsistent(String),
	#[error("feed {feed}: the node serves entries the agent cannot take as its own: {reason}")]
	NotOwnEntries { feed: FeedId, reason: String },
	#[error(transparent)]
	Epoch(#[from] EpochError),
}

type Buffers = Arc<Mutex<BTreeMap<String, SensorBuffer>>>;

/// The sensor each station had when the agent last ran, as its buffers under `data_dir`
/// record it: (station, element). A device that cannot tell its sensors' identities itself
/// (the simulator) is set up from it, so a sensor replaced before a restart stays replaced.
pub fn recorded_sensors(data_dir: &std::path::Path) -> Result<Vec<(String, String)>, BufferError> {
	let mut sensors: BTreeMap<String, String> = BTreeMap::new();
	for dir in SensorBuffer::existing(data_dir)? {
		let buffer = SensorBuffer::open(&dir)?;
		let state = buffer.state();
		// A pending replacement or a bound feed marks the current sensor; a buffer made for
		// a sensor the chain does not know yet counts only if there is nothing else.
		let current = state.replaces.is_some() || state.feed.is_some();
		if !state.retired && (current || !sensors.contains_key(&state.station)) {
			sensors.insert(state.station.clone(), state.element.clone());
		}
	}
	Ok(sensors.into_iter().collect())
}

/// Streams a device's sensors into feeds.
pub struct FeedStreamer<D> {
	config: FeedConfig,
	submitter: Submitter,
	device: D,
	buffers: Buffers,
	/// Wakes the sender when a replacement is waiting.
	wake: Arc<Notify>,
}

impl<D: Device> FeedStreamer<D> {
	/// Opens the buffers under the data directory (those left by an earlier run and one for
	/// each sensor the device has).
	pub fn open(
		config: FeedConfig,
		submitter: Submitter,
		device: D,
	) -> Result<FeedStreamer<D>, FeedAgentError> {
		std::fs::create_dir_all(&config.data_dir).map_err(|source| BufferError::Io {
			action: "cannot create",
			path: config.data_dir.clone(),
			source,
		})?;
		let mut buffers = BTreeMap::new();
		for dir in SensorBuffer::existing(&config.data_dir)? {
			let buffer = SensorBuffer::open(&dir)?;
			buffers.insert(buffer.element().to_owned(), buffer);
		}
		for sensor in device.sensors() {
			if !buffers.contains_key(&sensor.element) {
				let buffer = SensorBuffer::create(&config.data_dir, &sensor, None)?;
				buffers.insert(sensor.element.clone(), buffer);
			}
		}
		Ok(FeedStreamer {
			config,
			submitter,
			device,
			buffers: Arc::new(Mutex::new(buffers)),
			wake: Arc::new(Notify::new()),
		})
	}

	/// Runs until `shutdown` turns true, then makes every reading durable and tries for a
	/// short while to deliver what is left.
	pub async fn run(self, shutdown: watch::Receiver<bool>) {
		let sampler = tokio::spawn(sampler::sample(
			self.config.clone(),
			self.device.clone(),
			self.buffers.clone(),
			self.wake.clone(),
			shutdown.clone(),
		));
		let anchorer = tokio::spawn(anchorer::anchor_checkpoints(
			self.config.clone(),
			self.submitter.clone(),
			self.buffers.clone(),
			shutdown.clone(),
		));
		let reporter = tokio::spawn(report_status(
			self.config.data_dir.clone(),
			self.device.clone(),
			self.buffers.clone(),
			shutdown.clone(),
		));
		let (access_changes, access_seen) = watch::channel(0);
		let access_watcher = tokio::spawn(epochs::watch_access(
			self.config.node.clone(),
			access_changes,
			shutdown.clone(),
		));
		let sender = Sender::new(
			self.config,
			self.submitter,
			self.buffers,
			self.wake,
			FeedEpochs::new(access_seen),
		);
		sender.run(shutdown).await;
		let _ = sampler.await;
		let _ = anchorer.await;
		let _ = access_watcher.await;
		let _ = reporter.await;
	}
}

/// Rewrites the status file every [`status::STATUS_INTERVAL`], and once more when the agent
/// stops.
async fn report_status<D: Device>(
	dir: PathBuf,
	device: D,
	buffers: Buffers,
	mut shutdown: watch::Receiver<bool>,
) {
	loop {
		let stopping = !pause(status::STATUS_INTERVAL, &mut shutdown).await;
		let sensors = lock(&buffers)
			.values()
			.map(|buffer| {
				let state = buffer.state();
				status::SensorStatus {
					element: state.element.clone(),
					station: state.station.clone(),
					feed: state.feed,
					retired: state.retired,
					waiting: buffer.unacknowledged(),
					acknowledged_up_to: state.head.map(|head| head.sequence),
				}
			})
			.collect();
		let now = crate::connectors::now_ms();
		let report = status::Status { updated_ms: now, device: device.health(), sensors };
		if let Err(e) = status::write(&dir, &report) {
			log::warn!("cannot write the status file in {}: {e}", dir.display());
		}
		if stopping {
			return;
		}
	}
}

fn lock(buffers: &Buffers) -> std::sync::MutexGuard<'_, BTreeMap<String, SensorBuffer>> {
	// A panic while holding the lock leaves the buffers as consistent as their files.
	buffers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn element_id(element: &str) -> Result<ElementId, FeedAgentError> {
	element.as_bytes().to_vec().try_into().map_err(|_| {
		FeedAgentError::Inconsistent(format!(
			"element id {element} is longer than the chain allows"
		))
	})
}

fn refused(
	finalized: &dt_client::Finalized,
	action: impl FnOnce() -> String,
) -> Result<(), FeedAgentError> {
	finalized.result().map_err(|reason| FeedAgentError::Refused {
		action: action(),
		reason: dispatch_error_name(&reason),
	})
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{buffer::PendingReplacement, device::SensorInfo};

	fn sensor(element: &str) -> SensorInfo {
		SensorInfo {
			station: "filler".into(),
			element: element.into(),
			unit: "mm".into(),
			expected_range: None,
		}
	}

	#[test]
	fn a_sensor_replaced_before_a_restart_stays_replaced() {
		let dir = tempfile::tempdir().unwrap();
		assert!(recorded_sensors(dir.path()).unwrap().is_empty());
		let mut old = SensorBuffer::create(dir.path(), &sensor("fill-sensor"), None).unwrap();
		old.bind(0, None).unwrap();
		assert_eq!(
			recorded_sensors(dir.path()).unwrap(),
			[("filler".to_owned(), "fill-sensor".to_owned())]
		);
		// Exchanged, and the replacement not on chain yet.
		old.retire().unwrap();
		let pending = PendingReplacement {
			old_element: "fill-sensor".into(),
			fragment: r#"<InternalElement ID="fill-sensor-2"/>"#.into(),
			serial: "FLS-0002".into(),
		};
		SensorBuffer::create(dir.path(), &sensor("fill-sensor-2"), Some(pending.clone())).unwrap();
		// A buffer the sampler made for a sensor nobody registered does not win over it.
		SensorBuffer::create(dir.path(), &sensor("filler-fill-sensor"), None).unwrap();
		assert_eq!(
			recorded_sensors(dir.path()).unwrap(),
			[("filler".to_owned(), "fill-sensor-2".to_owned())]
		);
		let reopened =
			SensorBuffer::open(&SensorBuffer::dir_of(dir.path(), "fill-sensor-2")).unwrap();
		assert_eq!(reopened.state().replaces, Some(pending));
	}
}
