//! The store's request-response protocol between partner nodes: its messages and their
//! encoding.
//!
//! One request and one response per stream, each the SCALE encoding of a [`Request`] or a
//! [`Response`], read to the end of the stream and refused past [`MAX_MESSAGE_BYTES`]. A
//! connection carries at most [`MAX_STREAMS_PER_CONNECTION`] streams at once (being read or
//! waiting for their answer), and a peer at most [`MAX_CONNECTIONS_PER_PEER`] connections,
//! so a hostile partner cannot make a node buffer more than
//! [`MAX_BUFFERED_BYTES_PER_CONNECTION`] per connection (288 MiB).

use std::io;

use async_trait::async_trait;
use codec::{Decode, DecodeAll, Encode};
use dt_primitives::feed::{Checkpoint, FeedId};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

use super::{acl::Acl, auth::SignedAction, ItemId};
use crate::{content_id::Cid, feed::SignedBatch};

/// The protocol name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/dt-ledger/offchain-store/1");

/// Largest request or response: a feed batch (8 MiB) or a block (4 MiB) with its signed
/// request, with room to spare.
pub const MAX_MESSAGE_BYTES: u64 = 9 * 1024 * 1024;

/// Most streams (requests in and out) one connection carries at once.
pub const MAX_STREAMS_PER_CONNECTION: usize = 32;

/// Most connections one peer keeps with this node (two partners dialling each other at
/// once make two).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;

/// Most bytes of requests one connection can make this node hold at once.
pub const MAX_BUFFERED_BYTES_PER_CONNECTION: u64 =
	MAX_STREAMS_PER_CONNECTION as u64 * MAX_MESSAGE_BYTES;

/// What one partner asks another.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Request {
	/// Are you there (and do you accept me)?
	Ping,
	/// Store this block durably, for the member who signed the put
	/// ([`super::auth::Action::PutBlock`]), charged to its organisation.
	PutBlock {
		/// The member's signed put, naming the block's content id.
		request: SignedAction,
		/// The block.
		bytes: Vec<u8>,
	},
	/// A good copy of a block whose copy on the receiving replica was found damaged; taken
	/// only by a replica that holds (or quarantined) that block already.
	RepairBlock(Vec<u8>),
	/// The block with this id, if you hold it.
	GetBlock(Cid),
	/// Store the key envelope `bytes` of `item`, published by a manager.
	PutEnvelope {
		/// Who publishes it ([`super::auth::Action::WriteEnvelope`]).
		request: SignedAction,
		/// The envelope.
		bytes: Vec<u8>,
	},
	/// The key envelope a reader asks for ([`super::auth::Action::ReadEnvelope`]).
	GetEnvelope(SignedAction),
	/// The committed reader list of an item.
	GetAcl(ItemId),
	/// Prepare an access-list change ([`super::auth::Action::ChangeAcl`]).
	PrepareAcl(SignedAction),
	/// Commit a change that a quorum prepared.
	CommitAcl(SignedAction),
	/// Drop a prepared change that did not reach a quorum.
	AbortAcl(SignedAction),
	/// Validate and store a batch of a feed you replicate.
	AppendFeed {
		/// The feed.
		feed: FeedId,
		/// The owner-signed batch.
		batch: SignedBatch,
	},
	/// The stored batches of a feed from the one holding entry `from`, at most `max`.
	FeedBatches {
		/// The feed.
		feed: FeedId,
		/// The first entry wanted.
		from: u64,
		/// Most batches.
		max: u32,
	},
	/// The head of a feed's log.
	FeedHead(FeedId),
	/// Push me the feed's new batches as they are stored.
	SubscribeFeed(FeedId),
	/// Stop pushing.
	UnsubscribeFeed(FeedId),
	/// A batch just stored by a replica of a feed you subscribed to.
	FeedNotify {
		/// The feed.
		feed: FeedId,
		/// The owner-signed batch.
		batch: SignedBatch,
	},
}

/// Why a partner refused a request.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Refusal {
	/// The requester is not a partner node.
	NotPartner,
	/// The signed request did not verify, or the ledger does not allow it (by this
	/// replica's committed list: one that missed a change may answer differently).
	Unauthorized,
	/// This replica already accepted this very signed request. Replay is refused per
	/// replica: a request replayed to another replica of the item gives a partner nothing
	/// its own copy does not hold already, and other peers cannot connect.
	Replayed,
	/// The request is malformed or breaks a rule (a bad batch, a foreign envelope...).
	Invalid,
	/// The replica does not hold what was asked for.
	NotFound,
	/// The replica's copy is damaged on disk (it has quarantined it).
	Corrupted,
	/// A conflicting change is pending, or the change applies to another version.
	Conflict,
	/// The feed's log lacks entries before the batch: send from entry `expected` on.
	FeedGap {
		/// The entry the replica expects next.
		expected: u64,
	},
	/// The replica failed (its disk, most likely).
	Internal,
	/// The signer's organisation has as many bytes pending on this replica as its quota
	/// allows (see [`crate::uploads`]).
	QuotaExceeded,
}

/// What a partner answers.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub enum Response {
	/// Done (stored durably, for a write).
	Ok,
	/// A block.
	Block(Vec<u8>),
	/// A key envelope.
	Envelope(Vec<u8>),
	/// A committed reader list.
	Acl(Acl),
	/// The feed's head after the append, or now.
	FeedHead(Option<Checkpoint>),
	/// Stored feed batches.
	FeedBatches(Vec<SignedBatch>),
	/// Refused, with a message for people.
	Refused {
		/// Why, for the requester to act on.
		reason: Refusal,
		/// The details.
		message: String,
	},
}

impl Response {
	/// A refusal.
	pub fn refused(reason: Refusal, message: impl ToString) -> Self {
		Self::Refused { reason, message: message.to_string() }
	}
}

/// The codec of [`PROTOCOL`] for libp2p's request-response behaviour.
#[derive(Clone, Copy, Debug, Default)]
pub struct StoreCodec;

async fn read_message<T, M>(io: &mut T) -> io::Result<M>
where
	T: AsyncRead + Unpin + Send,
	M: Decode,
{
	let mut bytes = Vec::new();
	io.take(MAX_MESSAGE_BYTES + 1).read_to_end(&mut bytes).await?;
	if bytes.len() as u64 > MAX_MESSAGE_BYTES {
		return Err(io::Error::new(
			io::ErrorKind::InvalidData,
			format!("message longer than {MAX_MESSAGE_BYTES} bytes"),
		));
	}
	M::decode_all(&mut &bytes[..]).map_err(|error| {
		io::Error::new(io::ErrorKind::InvalidData, format!("undecodable message: {error}"))
	})
}

async fn write_message<T, M>(io: &mut T, message: &M) -> io::Result<()>
where
	T: AsyncWrite + Unpin + Send,
	M: Encode,
{
	io.write_all(&message.encode()).await?;
	io.close().await
}

#[async_trait]
impl libp2p::request_response::Codec for StoreCodec {
	type Protocol = StreamProtocol;
	type Request = Request;
	type Response = Response;

	async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Request>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io).await
	}

	async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Response>
	where
		T: AsyncRead + Unpin + Send,
	{
		read_message(io).await
	}

	async fn write_request<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		request: Request,
	) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, &request).await
	}

	async fn write_response<T>(
		&mut self,
		_: &StreamProtocol,
		io: &mut T,
		response: Response,
	) -> io::Result<()>
	where
		T: AsyncWrite + Unpin + Send,
	{
		write_message(io, &response).await
	}
}

#[cfg(test)]
mod tests {
	use futures::io::Cursor;
	use libp2p::request_response::Codec;

	use super::*;

	#[tokio::test]
	async fn messages_round_trip_and_hostile_bytes_are_refused() {
		let mut codec = StoreCodec;
		let request = Request::GetBlock(Cid::of(b"x"));
		let mut wire = Cursor::new(Vec::new());
		codec.write_request(&PROTOCOL, &mut wire, request.clone()).await.unwrap();
		let mut read = Cursor::new(wire.into_inner());
		assert_eq!(codec.read_request(&PROTOCOL, &mut read).await.unwrap(), request);

		// Garbage, a valid message with trailing bytes, and an oversized message.
		let mut garbage = Cursor::new(vec![0xff; 40]);
		let error = codec.read_request(&PROTOCOL, &mut garbage).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::InvalidData);
		let mut trailing = Request::Ping.encode();
		trailing.push(0);
		let error = codec.read_request(&PROTOCOL, &mut Cursor::new(trailing)).await.unwrap_err();
		assert_eq!(error.kind(), io::ErrorKind::InvalidData);
		let huge = Cursor::new(vec![0u8; MAX_MESSAGE_BYTES as usize + 1]);
		let error = codec.read_response(&PROTOCOL, &mut { huge }).await.unwrap_err();
		assert!(error.to_string().contains("longer than"), "{error}");
	}
}
