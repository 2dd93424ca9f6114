//! Waiting to reconnect: each of the agent's loops that needs the node waits longer after
//! every failure in a row (1 s, doubling up to 30 s), so a node that is down is not
//! hammered and one that comes back is found again soon; a wait ends early when the agent
//! stops.

use std::time::Duration;
use tokio::sync::watch;

/// First wait after a failure.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// Longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The growing wait between attempts.
#[derive(Debug)]
pub struct Backoff {
	next: Duration,
}

impl Default for Backoff {
	fn default() -> Self {
		Backoff { next: FIRST_BACKOFF }
	}
}

impl Backoff {
	/// How long to wait now; the wait after it is twice as long, up to [`MAX_BACKOFF`].
	pub fn next_wait(&mut self) -> Duration {
		let wait = self.next;
		self.next = (self.next * 2).min(MAX_BACKOFF);
		wait
	}

	/// Starts over from [`FIRST_BACKOFF`] (after a connection that worked).
	pub fn reset(&mut self) {
		self.next = FIRST_BACKOFF;
	}
}

/// Sleeps for `duration`; `false` if the agent is stopping.
pub async fn pause(duration: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
	let slept = tokio::select! {
		_ = tokio::time::sleep(duration) => true,
		_ = shutdown.wait_for(|stop| *stop) => false,
	};
	slept && !*shutdown.borrow()
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn waits_double_up_to_the_longest_and_start_over_after_a_reset() {
		let mut backoff = Backoff::default();
		let waits: Vec<u64> = (0..7).map(|_| backoff.next_wait().as_secs()).collect();
		assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
		backoff.reset();
		assert_eq!(backoff.next_wait(), FIRST_BACKOFF);
	}

	#[tokio::test]
	async fn a_pause_ends_early_when_the_agent_stops() {
		let (stop, mut shutdown) = watch::channel(false);
		stop.send(true).unwrap();
		assert!(!pause(Duration::from_secs(3600), &mut shutdown).await);
	}
}
