//! Sensor feeds: the device's readings go through the persistent [`SensorBuffer`]s into the
//! node's off-chain store as signed, hash-chained entries; their heads are anchored on chain
//! now and then; an exchanged sensor is replaced on chain in one transaction.
//!
//! Three tasks share the buffers:
//!
//! - the sampler reads the device's sensors every sample interval, appends each reading to
//!   its sensor's buffer, fsyncs the buffers every flush interval, and turns a sensor
//!   replacement the device reports into a retired buffer (the old sensor) and a new one
//!   that remembers the replacement still to be sent;
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
//!   twin's feeds, so the sender starts a new epoch when the readers changed.
//!
//! The sender and the anchorer reconnect with backoff when the node goes away; the sampler
//! needs no node, so readings keep accumulating in the buffers meanwhile.

use crate::{
	buffer::{BufferError, PendingReplacement, SensorBuffer},
	chain::{self, ChainFeed, FeedReads, LogEnd, Submitter},
	device::{Device, SensorInfo, SensorReplacement},
	epochs::{self, EpochError, EpochFeed, FeedEpochs},
};
use dt_client::{dispatch_error_name, reading::DECIMAL_READING_SCHEMA, Client, ClientError};
use dt_offchain::feed::{Entry, SignedBatch};
use dt_primitives::{
	access::{Confidentiality, ElementId, TwinId},
	feed::{Checkpoint, FeedId},
};
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use pallet_dt_feeds::{FeedRegistration, FeedRegistrationOf, FeedStatus};
use std::{
	collections::{BTreeMap, HashMap, HashSet},
	io::Write,
	path::PathBuf,
	sync::{Arc, Mutex},
	time::Duration,
};
use tokio::{
	sync::{watch, Notify},
	time::{Instant, MissedTickBehavior},
};

/// First wait before reconnecting to the node; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long the sender tries to deliver what is left when the agent stops.
const FINAL_SEND_TIMEOUT: Duration = Duration::from_secs(10);

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

impl<D: Device + Clone + 'static> FeedStreamer<D> {
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
		let sampler = tokio::spawn(sample(
			self.config.clone(),
			self.device.clone(),
			self.buffers.clone(),
			self.wake.clone(),
			shutdown.clone(),
		));
		let anchorer = tokio::spawn(anchor_checkpoints(
			self.config.clone(),
			self.submitter.clone(),
			self.buffers.clone(),
			shutdown.clone(),
		));
		let (access_changes, access_seen) = watch::channel(0);
		let access_watcher = tokio::spawn(epochs::watch_access(
			self.config.node.clone(),
			access_changes,
			shutdown.clone(),
		));
		let sender = Sender {
			config: self.config,
			submitter: self.submitter,
			buffers: self.buffers,
			wake: self.wake,
			retry_at: HashMap::new(),
			stalled: HashSet::new(),
			reads: None,
			levels: HashMap::new(),
			built: HashMap::new(),
			epochs: FeedEpochs::new(access_seen),
		};
		sender.run(shutdown).await;
		let _ = sampler.await;
		let _ = anchorer.await;
		let _ = access_watcher.await;
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

/// Sleeps for `duration`; `false` if the agent is stopping.
async fn pause(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
	let slept = tokio::select! {
		_ = tokio::time::sleep(duration) => true,
		_ = shutdown.wait_for(|stop| *stop) => false,
	};
	slept && !*shutdown.borrow()
}

// ---------------------------------------------------------------------------------------
// Sampling

async fn sample<D: Device>(
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

fn sync_all(buffers: &Buffers) {
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

// ---------------------------------------------------------------------------------------
// Sending

struct Sender {
	config: FeedConfig,
	submitter: Submitter,
	buffers: Buffers,
	wake: Arc<Notify>,
	/// When a failed replacement (by new element) may be tried again.
	retry_at: HashMap<String, Instant>,
	/// Sensors whose buffer disagrees with the node's log, left alone until reconnecting.
	stalled: HashSet<String>,
	/// The device's signed reads of its feeds on this connection's chain.
	reads: Option<FeedReads>,
	/// Each bound feed's confidentiality level, as registered.
	levels: HashMap<FeedId, Confidentiality>,
	/// Entries built (sealed, linked) and not acknowledged yet, by sensor: re-sent as they
	/// are, so no payload is ever sealed twice under one key and nonce.
	built: HashMap<String, Vec<Entry>>,
	/// The key epochs of the encrypted feeds.
	epochs: FeedEpochs,
}

impl Sender {
	async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
		let mut backoff = FIRST_BACKOFF;
		loop {
			match self.follow(&mut shutdown).await {
				Ok(()) => return,
				Err(error) => {
					log::warn!(
						"feeds of twin {}: {error}; retrying in {backoff:?}",
						self.config.twin
					);
					if !pause(backoff, &mut shutdown).await {
						return;
					}
					backoff = (backoff * 2).min(MAX_BACKOFF);
				},
			}
		}
	}

	/// One connection's worth of work; `Ok` when the agent stops.
	async fn follow(&mut self, shutdown: &mut watch::Receiver<bool>) -> Result<(), FeedAgentError> {
		let client = Client::connect(&self.config.node).await?;
		let genesis = chain::genesis(&client).await?;
		self.reads = Some(FeedReads::new(self.submitter.key().clone(), genesis));
		self.prepare(&client).await?;
		let mut ticks = tokio::time::interval(self.config.batch_interval);
		ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
		loop {
			let mut stopping = tokio::select! {
				_ = ticks.tick() => false,
				_ = self.wake.notified() => false,
				_ = shutdown.wait_for(|stop| *stop) => true,
			};
			if !stopping {
				// Work may be cut short anywhere: what the node got is counted as acknowledged
				// when the agent next reconciles, and a replacement sent is found on chain.
				let work = async {
					self.send_all(&client).await?;
					self.settle(&client).await
				};
				stopping = tokio::select! {
					outcome = work => {
						outcome?;
						false
					},
					_ = shutdown.wait_for(|stop| *stop) => true,
				};
			}
			if stopping {
				// The sampler's last sync comes first, so everything is sendable.
				tokio::time::sleep(Duration::from_millis(50)).await;
				sync_all(&self.buffers);
				let _ = tokio::time::timeout(FINAL_SEND_TIMEOUT, self.send_all(&client)).await;
				return Ok(());
			}
		}
	}

	/// Binds unbound buffers to their feeds and reconciles bound ones with the node.
	async fn prepare(&mut self, client: &Client) -> Result<(), FeedAgentError> {
		let elements: Vec<String> = lock(&self.buffers).keys().cloned().collect();
		for element in elements {
			self.stalled.remove(&element);
			// Unbound buffers are bound (or replaced) in `settle`, one sensor's trouble not
			// stopping the others.
			let feed = lock(&self.buffers).get(&element).and_then(|buffer| buffer.state().feed);
			let Some(feed) = feed else { continue };
			let end = chain::latest(client, feed, self.reads()?).await?;
			self.reconcile(client, &element, feed, end).await?;
		}
		Ok(())
	}

	/// Brings `element`'s buffer in line with its feed's log on the node, which ends with
	/// `end`: entries the node has beyond the acknowledged head are the ones this agent built
	/// and sent (if it still has them) or, after a restart, those the node serves, checked
	/// to be signed by the device.
	async fn reconcile(
		&mut self,
		client: &Client,
		element: &str,
		feed: FeedId,
		end: Option<LogEnd>,
	) -> Result<(), FeedAgentError> {
		let next = match lock(&self.buffers).get(element) {
			Some(buffer) => buffer.next_unacknowledged(),
			None => return Ok(()),
		};
		let beyond = end.map(|end| end.head.sequence).filter(|&last| last >= next);
		let built = self.built.get(element).filter(|built| {
			built.first().map(|e| e.sequence) == Some(next)
				&& built.last().map(|e| e.sequence) >= beyond
		});
		let entries = match (beyond, built) {
			(None, _) => Vec::new(),
			(Some(_), Some(built)) => built.clone(),
			(Some(last), None) => {
				match chain::own_entries(client, feed, next, last + 1, self.reads()?).await {
					Ok(entries) => entries,
					Err(ClientError::Decode { reason, .. }) => {
						let error = FeedAgentError::NotOwnEntries { feed, reason };
						log::error!("sensor {element}: {error}; its readings stay in the buffer");
						self.stalled.insert(element.to_owned());
						return Ok(());
					},
					Err(error) => return Err(error.into()),
				}
			},
		};
		let reconciled = match lock(&self.buffers).get_mut(element) {
			Some(buffer) => buffer.reconcile(end.map(|end| end.head), &entries),
			None => Ok(()),
		};
		self.forget_acknowledged(element);
		self.stall_on(element, reconciled);
		Ok(())
	}

	/// The device's signed reads for this connection.
	fn reads(&self) -> Result<&FeedReads, FeedAgentError> {
		self.reads.as_ref().ok_or_else(|| {
			FeedAgentError::Inconsistent("no connection to the node to read feeds through".into())
		})
	}

	/// Drops the built entries of `element` that the buffer has seen acknowledged.
	fn forget_acknowledged(&mut self, element: &str) {
		let next = lock(&self.buffers).get(element).map(|buffer| buffer.next_unacknowledged());
		if let Some(built) = self.built.get_mut(element) {
			built.retain(|entry| next.is_some_and(|next| entry.sequence >= next));
			if built.is_empty() {
				self.built.remove(element);
			}
		}
	}

	/// Stops sending `element`'s readings until the next connection if its buffer and the
	/// node's log disagree: sending more would only be refused, and the other sensors go on.
	fn stall_on(&mut self, element: &str, outcome: Result<(), BufferError>) {
		if let Err(error) = outcome {
			log::error!("sensor {element}: {error}; its readings stay in the buffer");
			self.stalled.insert(element.to_owned());
		}
	}

	/// Binds the buffer of `element` to the active feed the device owns there, registering
	/// one if allowed.
	async fn bind(&mut self, client: &Client, element: &str) -> Result<(), FeedAgentError> {
		let feed = match self.active_feed(client, element).await? {
			Some(feed) => feed.id,
			None if self.config.register_missing => self.register(client, element).await?,
			None => return Err(FeedAgentError::NoFeed { element: element.to_owned() }),
		};
		let end = chain::latest(client, feed, self.reads()?).await?;
		if let Some(buffer) = lock(&self.buffers).get_mut(element) {
			buffer.bind(feed, end.map(|end| end.head))?;
			if let Some(epoch) = end.and_then(|end| end.epoch) {
				buffer.record_epoch(epoch)?;
			}
		}
		log::info!("sensor {element} streams into feed {feed}");
		Ok(())
	}

	/// The active feed on `element` owned by the device account.
	async fn active_feed(
		&self,
		client: &Client,
		element: &str,
	) -> Result<Option<ChainFeed>, FeedAgentError> {
		let me = self.submitter.account();
		let feeds =
			chain::feeds_of_element(client, self.config.twin, &element_id(element)?).await?;
		Ok(feeds
			.into_iter()
			.find(|feed| feed.owner == me && matches!(feed.status, FeedStatus::Active)))
	}

	/// The registration of a feed for `sensor`, owned by the device account.
	fn registration(
		&self,
		sensor: &SensorInfo,
	) -> Result<FeedRegistrationOf<Runtime>, FeedAgentError> {
		let too_long = |what: &str| FeedAgentError::Inconsistent(format!("{what} is too long"));
		let interval = self.config.sample_interval.as_millis().clamp(1, u32::MAX as u128) as u32;
		Ok(FeedRegistration {
			owner: self.submitter.account(),
			schema: DECIMAL_READING_SCHEMA
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| too_long("the schema"))?,
			unit: sensor.unit.as_bytes().to_vec().try_into().map_err(|_| too_long("the unit"))?,
			nominal_interval_ms: interval,
			expected_range: sensor.expected_range,
			confidentiality: self.config.confidentiality,
		})
	}

	async fn register(&self, client: &Client, element: &str) -> Result<FeedId, FeedAgentError> {
		let sensor = {
			let buffers = lock(&self.buffers);
			let state = buffers.get(element).map(|buffer| buffer.state().clone());
			state.ok_or_else(|| FeedAgentError::Inconsistent(format!("no buffer for {element}")))?
		};
		let sensor = SensorInfo {
			station: sensor.station,
			element: sensor.element,
			unit: sensor.unit,
			expected_range: sensor.expected_range,
		};
		let call = RuntimeCall::Feeds(pallet_dt_feeds::Call::register_feed {
			twin: self.config.twin,
			element: element_id(element)?,
			registration: self.registration(&sensor)?,
		});
		let finalized = self.submitter.submit(client, call).await?;
		refused(&finalized, || format!("register a feed on {element}"))?;
		finalized
			.events
			.iter()
			.find_map(|event| match event {
				RuntimeEvent::Feeds(pallet_dt_feeds::Event::FeedRegistered { feed, .. }) => {
					Some(*feed)
				},
				_ => None,
			})
			.ok_or_else(|| {
				FeedAgentError::Inconsistent("register_feed emitted no FeedRegistered".into())
			})
	}

	/// Sends every durable, unacknowledged reading of every bound buffer.
	async fn send_all(&mut self, client: &Client) -> Result<(), FeedAgentError> {
		let elements: Vec<String> = lock(&self.buffers).keys().cloned().collect();
		for element in elements {
			if self.stalled.contains(&element) {
				continue;
			}
			while let Some((feed, entries)) = self.next_batch(client, &element).await? {
				let batch =
					SignedBatch::sign(entries, self.submitter.key(), self.reads()?.genesis());
				let head = chain::append(client, feed, &batch).await?;
				let acknowledged = match lock(&self.buffers).get_mut(&element) {
					Some(buffer) => buffer.acknowledge(head, &batch.entries),
					None => Ok(()),
				};
				self.forget_acknowledged(&element);
				if acknowledged.is_err() {
					self.stall_on(&element, acknowledged);
					break;
				}
				log::debug!("feed {feed}: stored up to entry {}", head.sequence);
			}
		}
		Ok(())
	}

	/// The entries to send next for `element`: those built before and not acknowledged, or
	/// else up to a batch of its durable readings, sealed under the feed's epoch key if the
	/// feed is above Public; `None` if there is nothing to send (or the epoch must wait).
	async fn next_batch(
		&mut self,
		client: &Client,
		element: &str,
	) -> Result<Option<(FeedId, Vec<Entry>)>, FeedAgentError> {
		let (feed, unsent) = {
			let buffers = lock(&self.buffers);
			let Some(buffer) = buffers.get(element) else { return Ok(None) };
			let Some(feed) = buffer.state().feed else { return Ok(None) };
			(feed, buffer.sendable())
		};
		if let Some(built) = self.built.get(element) {
			return Ok(Some((feed, built.clone())));
		}
		if unsent == 0 {
			return Ok(None);
		}
		let level = self.level(client, feed).await?;
		let max = self.config.max_batch;
		let entries = if level == Confidentiality::Public {
			lock(&self.buffers).get(element).map(|buffer| buffer.plaintext_entries(max))
		} else {
			let (after, first_sequence) = match lock(&self.buffers).get(element) {
				Some(buffer) => (buffer.state().last_epoch, buffer.next_unacknowledged()),
				None => return Ok(None),
			};
			let target = EpochFeed { feed, level, twin: self.config.twin };
			let genesis = *self.reads()?.genesis();
			let device = self.submitter.key();
			let current =
				self.epochs.current(client, device, &genesis, &target, after, first_sequence);
			let Some(epoch) = current.await? else { return Ok(None) };
			let number = epoch.encryptor.epoch();
			let sealed = lock(&self.buffers).get_mut(element).map(|buffer| {
				buffer.record_epoch(number)?;
				let entries = buffer.unsent_entries(max, |sequence, reading| {
					epoch.encryptor.seal(sequence, reading).map(|sealed| (Some(number), sealed))
				});
				Ok::<_, FeedAgentError>(entries)
			});
			match sealed.transpose()? {
				Some(Ok(entries)) => Some(entries),
				None => None,
				Some(Err(source)) => {
					// Only a sequence number sealed before: start afresh under a new key.
					self.epochs.end(feed);
					return Err(FeedAgentError::Epoch(EpochError::Crypto { feed, source }));
				},
			}
		};
		let Some(entries) = entries.filter(|entries| !entries.is_empty()) else { return Ok(None) };
		self.built.insert(element.to_owned(), entries.clone());
		Ok(Some((feed, entries)))
	}

	/// The confidentiality level `feed` was registered with.
	async fn level(
		&mut self,
		client: &Client,
		feed: FeedId,
	) -> Result<Confidentiality, FeedAgentError> {
		if let Some(level) = self.levels.get(&feed) {
			return Ok(*level);
		}
		let record = chain::feed(client, feed)
			.await?
			.ok_or_else(|| FeedAgentError::Inconsistent(format!("feed {feed} is not on chain")))?;
		self.levels.insert(feed, record.confidentiality);
		Ok(record.confidentiality)
	}

	/// Sends pending replacements whose old sensor is fully delivered, binds buffers still
	/// unbound, and removes the buffers of replaced sensors.
	async fn settle(&mut self, client: &Client) -> Result<(), FeedAgentError> {
		let states: Vec<_> =
			lock(&self.buffers).values().map(|buffer| buffer.state().clone()).collect();
		for state in states {
			if state.feed.is_some() {
				continue;
			}
			if let Some(retry_at) = self.retry_at.get(&state.element) {
				if Instant::now() < *retry_at {
					continue;
				}
			}
			let outcome = match &state.replaces {
				Some(pending) => self.replace(client, &state.element, pending).await,
				None if state.retired => Ok(()),
				None => self.bind(client, &state.element).await,
			};
			match outcome {
				Ok(()) => {
					self.retry_at.remove(&state.element);
				},
				// The connection is gone: reconnect.
				Err(error @ FeedAgentError::Client(_)) => return Err(error),
				// A refusal, a missing feed or a sensor the agent cannot place is no reason to
				// stop streaming the others.
				Err(error) => {
					log::warn!(
						"sensor {}: {error}; trying again in {MAX_BACKOFF:?}",
						state.element
					);
					self.retry_at.insert(state.element.clone(), Instant::now() + MAX_BACKOFF);
				},
			}
		}
		Ok(())
	}

	/// Sends the replacement of `pending.old_element` by `element` once the old sensor's
	/// readings are all stored: the old element's place in the specification goes to the new
	/// sensor, the old feed is closed after a final checkpoint of its last entry, and the new
	/// sensor's feed is registered, all in one transaction.
	async fn replace(
		&mut self,
		client: &Client,
		element: &str,
		pending: &PendingReplacement,
	) -> Result<(), FeedAgentError> {
		let old = {
			let buffers = lock(&self.buffers);
			buffers
				.get(&pending.old_element)
				.map(|old| (old.state().feed, old.state().head, old.unacknowledged()))
		};
		if let Some((_, _, unacknowledged)) = old {
			if unacknowledged > 0 {
				log::info!(
					"replacement of {}: {unacknowledged} readings of the old sensor to deliver first",
					pending.old_element
				);
				return Ok(());
			}
		}
		// Sent before the agent stopped, and on chain already?
		if self.active_feed(client, element).await?.is_some() {
			self.bind(client, element).await?;
			self.forget(&pending.old_element);
			return Ok(());
		}
		let Some((Some(old_feed), old_head, _)) = old else {
			return Err(FeedAgentError::Inconsistent(format!(
				"sensor {} was replaced, but this agent has no feed of it",
				pending.old_element
			)));
		};
		let record = chain::feed(client, old_feed).await?.ok_or_else(|| {
			FeedAgentError::Inconsistent(format!("feed {old_feed} is not on chain"))
		})?;
		let old_element = element_id(&pending.old_element)?;
		let max_removed = chain::subtree_size(client, self.config.twin, &old_element)
			.await?
			.ok_or_else(|| {
				FeedAgentError::Inconsistent(format!(
					"the twin has no element {}",
					pending.old_element
				))
			})?;
		let sensor = {
			let buffers = lock(&self.buffers);
			buffers.get(element).map(|buffer| buffer.state().clone())
		}
		.ok_or_else(|| FeedAgentError::Inconsistent(format!("no buffer for {element}")))?;
		let mut registration = self.registration(&SensorInfo {
			station: sensor.station,
			element: element.to_owned(),
			unit: sensor.unit,
			expected_range: sensor.expected_range,
		})?;
		// The new feed carries on where the old one left off.
		registration.schema = record.schema.clone().try_into().unwrap_or(registration.schema);
		registration.nominal_interval_ms = record.nominal_interval_ms;
		registration.confidentiality = record.confidentiality;
		let fragment = pending.fragment.as_bytes().to_vec().try_into().map_err(|_| {
			FeedAgentError::Inconsistent(format!("the AML element of {element} is too long"))
		})?;
		let turn = self.submitter.turn().await;
		// Read under the turn, so no checkpoint of this agent lands in between.
		let anchored = chain::feed(client, old_feed)
			.await?
			.and_then(|feed| feed.latest_checkpoint)
			.map(|anchored| anchored.checkpoint.sequence);
		let final_checkpoint = old_head.filter(|head| anchored.map_or(true, |a| head.sequence > a));
		let call = RuntimeCall::Feeds(pallet_dt_feeds::Call::replace_sensor {
			twin: self.config.twin,
			old_element,
			new_element: element_id(element)?,
			max_removed,
			new_element_fragment: fragment,
			old_feed,
			registration,
			final_checkpoint,
		});
		let finalized = self.submitter.submit_in_turn(&turn, client, call).await?;
		drop(turn);
		refused(&finalized, || format!("replace sensor {} by {element}", pending.old_element))?;
		let new_feed = finalized
			.events
			.iter()
			.find_map(|event| match event {
				RuntimeEvent::Feeds(pallet_dt_feeds::Event::SensorReplaced {
					new_feed, ..
				}) => Some(*new_feed),
				_ => None,
			})
			.ok_or_else(|| {
				FeedAgentError::Inconsistent("replace_sensor emitted no SensorReplaced".into())
			})?;
		let end = chain::latest(client, new_feed, self.reads()?).await?;
		if let Some(buffer) = lock(&self.buffers).get_mut(element) {
			buffer.bind(new_feed, end.map(|end| end.head))?;
		}
		self.forget(&pending.old_element);
		log::info!(
			"sensor {} replaced by {element} on chain: feed {old_feed} closed {}, the new sensor \
			 streams into feed {new_feed}",
			pending.old_element,
			match final_checkpoint.map(|c| c.sequence).or(anchored) {
				Some(sequence) => format!("at entry {sequence}"),
				None => "before its first entry".to_string(),
			}
		);
		Ok(())
	}

	/// Deletes the buffer of a replaced sensor, all of whose readings are stored.
	fn forget(&mut self, element: &str) {
		let removed = lock(&self.buffers).remove(element);
		if let Some(buffer) = removed {
			if let Err(e) = buffer.remove() {
				log::warn!("cannot delete the buffer of the replaced sensor {element}: {e}");
			}
		}
	}
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

// ---------------------------------------------------------------------------------------
// Checkpoints

async fn anchor_checkpoints(
	config: FeedConfig,
	submitter: Submitter,
	buffers: Buffers,
	mut shutdown: watch::Receiver<bool>,
) {
	let mut client: Option<Client> = None;
	while pause(config.checkpoint_interval, &mut shutdown).await {
		if client.is_none() {
			match Client::connect(&config.node).await {
				Ok(connected) => client = Some(connected),
				Err(e) => {
					log::warn!(
						"checkpoints: {e}; trying again in {:?}",
						config.checkpoint_interval
					);
					continue;
				},
			}
		}
		let Some(connected) = client.as_ref() else { continue };
		// A checkpoint cut short by the agent stopping is anchored next time.
		let anchored = tokio::select! {
			anchored = anchor_heads(connected, &submitter, &buffers) => anchored,
			_ = shutdown.wait_for(|stop| *stop) => return,
		};
		if let Err(e) = anchored {
			log::warn!("checkpoints: {e}");
			if matches!(e, FeedAgentError::Client(_)) {
				client = None;
			}
		}
	}
}

/// Anchors the acknowledged head of every active feed that moved since its last checkpoint.
async fn anchor_heads(
	client: &Client,
	submitter: &Submitter,
	buffers: &Buffers,
) -> Result<(), FeedAgentError> {
	let heads: Vec<(FeedId, Checkpoint)> = lock(buffers)
		.values()
		.filter(|buffer| !buffer.state().retired)
		.filter_map(|buffer| buffer.state().feed.zip(buffer.state().head))
		.collect();
	for (feed, head) in heads {
		let turn = submitter.turn().await;
		let Some(record) = chain::feed(client, feed).await? else { continue };
		let anchored = record.latest_checkpoint.map(|anchored| anchored.checkpoint);
		if !matches!(record.status, FeedStatus::Active)
			|| anchored.is_some_and(|a| a.sequence >= head.sequence)
		{
			continue;
		}
		let call =
			RuntimeCall::Feeds(pallet_dt_feeds::Call::anchor_checkpoint { feed, checkpoint: head });
		let finalized = submitter.submit_in_turn(&turn, client, call).await?;
		refused(&finalized, || format!("anchor entry {} of feed {feed}", head.sequence))?;
		log::info!("feed {feed}: checkpoint at entry {} anchored", head.sequence);
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

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
