//! The sender: binds buffers to their feeds, brings them in line with the node's logs,
//! sends what is durable and unacknowledged every batch interval (sealed under the feed's
//! current key epoch for a feed above Public), and sends pending sensor replacements once
//! the old sensor's readings are all stored.

use super::{element_id, lock, refused, sampler::sync_all, Buffers, FeedAgentError, FeedConfig};
use crate::{
	buffer::{BufferError, PendingReplacement},
	chain::{self, ChainFeed, FeedReads, LogEnd, Submitter},
	device::SensorInfo,
	epochs::{EpochError, EpochFeed, FeedEpochs},
	reconnect::{pause, Backoff, MAX_BACKOFF},
};
use dt_client::{reading::DECIMAL_READING_SCHEMA, Client, ClientError};
use dt_offchain::feed::{Entry, SignedBatch};
use dt_primitives::{access::Confidentiality, feed::FeedId};
use dt_runtime::{Runtime, RuntimeCall, RuntimeEvent};
use pallet_dt_feeds::{FeedRegistration, FeedRegistrationOf, FeedStatus};
use std::{
	collections::{HashMap, HashSet},
	sync::Arc,
	time::Duration,
};
use tokio::{
	sync::{watch, Notify},
	time::{Instant, MissedTickBehavior},
};

/// How long the sender tries to deliver what is left when the agent stops.
const FINAL_SEND_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) struct Sender {
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
	pub(super) fn new(
		config: FeedConfig,
		submitter: Submitter,
		buffers: Buffers,
		wake: Arc<Notify>,
		epochs: FeedEpochs,
	) -> Sender {
		Sender {
			config,
			submitter,
			buffers,
			wake,
			retry_at: HashMap::new(),
			stalled: HashSet::new(),
			reads: None,
			levels: HashMap::new(),
			built: HashMap::new(),
			epochs,
		}
	}

	/// Sends until `shutdown` turns true, reconnecting with backoff when the node goes away.
	pub(super) async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
		let mut backoff = Backoff::default();
		loop {
			let Err(error) = self.follow(&mut shutdown).await else { return };
			let wait = backoff.next_wait();
			log::warn!("feeds of twin {}: {error}; retrying in {wait:?}", self.config.twin);
			if !pause(wait, &mut shutdown).await {
				return;
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
