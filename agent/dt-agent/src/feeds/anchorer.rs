//! The anchorer: every checkpoint interval, anchors on chain the acknowledged head of each
//! active feed that moved since its last checkpoint, so a node cannot later rewrite what
//! was anchored unnoticed.

use super::{lock, refused, Buffers, FeedAgentError, FeedConfig};
use crate::{
	chain::{self, Submitter},
	reconnect::pause,
};
use dt_client::Client;
use dt_primitives::feed::{Checkpoint, FeedId};
use dt_runtime::RuntimeCall;
use pallet_dt_feeds::FeedStatus;
use tokio::sync::watch;

pub(super) async fn anchor_checkpoints(
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
