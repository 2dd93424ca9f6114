//! A live, in-order stream of a feed's new entries.
//!
//! Appends broadcast each stored batch to a bounded buffer. A subscriber that keeps up gets
//! every entry, in order; one that falls behind by more than the buffer is never handed a
//! silent gap: it gets [`SubscriptionError::Lagged`], naming the entries it missed, which it
//! reads with a range query while the subscription carries on after them.

use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast;

use super::entry::StoredEntry;

/// Why a subscription did not yield the next entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscriptionError {
	/// The subscriber fell behind and entries `[resume_from, live_from)` were dropped from
	/// its buffer. Read them with a range query; the subscription continues at `live_from`.
	#[error(
		"the subscriber fell behind: read entries {resume_from}..{live_from} with a range \
		 query; the subscription continues at {live_from}"
	)]
	Lagged { resume_from: u64, live_from: u64 },
	/// The feed's log was closed (the store shut down); nothing more will come.
	#[error("the feed's log was closed")]
	Closed,
}

/// New entries of one feed, in order, from [`Subscription::next_sequence`] on.
#[derive(Debug)]
pub struct Subscription {
	receiver: broadcast::Receiver<Arc<[StoredEntry]>>,
	/// The batch being handed out, and how much of it has been.
	pending: Option<(Arc<[StoredEntry]>, usize)>,
	/// The sequence number the subscriber expects next.
	next: u64,
}

impl Subscription {
	pub(crate) fn new(receiver: broadcast::Receiver<Arc<[StoredEntry]>>, next: u64) -> Self {
		Self { receiver, pending: None, next }
	}

	/// The sequence number of the next entry this subscription yields. At subscription it is
	/// the log's length: read older entries with a range query up to it.
	pub fn next_sequence(&self) -> u64 {
		self.next
	}

	/// The next new entry. Cancel-safe: dropping the future loses nothing.
	pub async fn recv(&mut self) -> Result<StoredEntry, SubscriptionError> {
		loop {
			if let Some(entry) = self.take_pending()? {
				return Ok(entry);
			}
			match self.receiver.recv().await {
				Ok(batch) => self.pending = Some((batch, 0)),
				// The receiver now points at the oldest batch still buffered; the gap check
				// in `take_pending` reports exactly what was missed.
				Err(broadcast::error::RecvError::Lagged(_)) => {},
				Err(broadcast::error::RecvError::Closed) => return Err(SubscriptionError::Closed),
			}
		}
	}

	/// The subscription as a [`Stream`], ending when the log closes.
	pub fn into_stream(self) -> impl Stream<Item = Result<StoredEntry, SubscriptionError>> {
		futures::stream::unfold(self, |mut subscription| async move {
			match subscription.recv().await {
				Err(SubscriptionError::Closed) => None,
				item => Some((item, subscription)),
			}
		})
	}

	/// The next entry of the pending batch, or an error if it skips ahead of what the
	/// subscriber has seen.
	fn take_pending(&mut self) -> Result<Option<StoredEntry>, SubscriptionError> {
		let Some((batch, position)) = &mut self.pending else { return Ok(None) };
		while let Some(stored) = batch.get(*position) {
			let sequence = stored.entry.sequence;
			if sequence < self.next {
				// Already seen (cannot happen with the log's locking; harmless to skip).
				*position += 1;
				continue;
			}
			if sequence > self.next {
				let resume_from = self.next;
				// Reported once: from here on the subscription continues at `sequence`.
				self.next = sequence;
				return Err(SubscriptionError::Lagged { resume_from, live_from: sequence });
			}
			*position += 1;
			self.next = sequence.saturating_add(1);
			return Ok(Some(stored.clone()));
		}
		self.pending = None;
		Ok(None)
	}
}
