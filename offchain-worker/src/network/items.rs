//! The items the store keeps reader lists and key envelopes for, and how their ids name
//! what the chain registered.
//!
//! An item id is 32 bytes: a fixed prefix per kind, then the chain's ids, so a replica
//! reads back from the id alone which document or feed to ask the chain about (who may
//! manage the item), and ids of different kinds never meet.
//!
//! - A document, across its versions: the first 24 bytes of BLAKE2-256("dt-document"),
//!   then the document id (u64 LE).
//! - One epoch of an encrypted feed: the first 20 bytes of BLAKE2-256("dt-feed-epoch"),
//!   then the feed id (u64 LE) and the epoch (u32 LE). Each epoch is its own item, so its
//!   reader list is the one its key was sealed for and stays so: a reader removed later
//!   still reads the epochs it was cleared for, and nothing after.

use dt_primitives::{document::DocumentId, feed::FeedId};

use super::ItemId;

fn prefix<const N: usize>(name: &[u8]) -> [u8; N] {
	let hash = sp_crypto_hashing::blake2_256(name);
	let mut prefix = [0; N];
	prefix.copy_from_slice(&hash[..N]);
	prefix
}

/// The item of a document's reader list and key envelopes.
pub fn document_item(document: DocumentId) -> ItemId {
	let mut item = [0; 32];
	item[..24].copy_from_slice(&prefix::<24>(b"dt-document"));
	item[24..].copy_from_slice(&document.to_le_bytes());
	ItemId(item)
}

/// The document an item id names, if it names one.
pub fn document_of_item(item: &ItemId) -> Option<DocumentId> {
	if item.0[..24] != prefix::<24>(b"dt-document") {
		return None;
	}
	let mut id = [0; 8];
	id.copy_from_slice(&item.0[24..]);
	Some(DocumentId::from_le_bytes(id))
}

/// The item of one epoch of a feed: the readers its key was sealed for, and its envelope.
pub fn feed_epoch_item(feed: FeedId, epoch: u32) -> ItemId {
	let mut item = [0; 32];
	item[..20].copy_from_slice(&prefix::<20>(b"dt-feed-epoch"));
	item[20..28].copy_from_slice(&feed.to_le_bytes());
	item[28..].copy_from_slice(&epoch.to_le_bytes());
	ItemId(item)
}

/// The feed and epoch an item id names, if it names one.
pub fn feed_epoch_of_item(item: &ItemId) -> Option<(FeedId, u32)> {
	if item.0[..20] != prefix::<20>(b"dt-feed-epoch") {
		return None;
	}
	let mut feed = [0; 8];
	feed.copy_from_slice(&item.0[20..28]);
	let mut epoch = [0; 4];
	epoch.copy_from_slice(&item.0[28..]);
	Some((FeedId::from_le_bytes(feed), u32::from_le_bytes(epoch)))
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn items_name_their_document_or_feed_epoch_and_never_each_other() {
		assert_ne!(document_item(1), document_item(2));
		for document in [0, 7, u64::MAX] {
			assert_eq!(document_of_item(&document_item(document)), Some(document));
			assert_eq!(feed_epoch_of_item(&document_item(document)), None);
		}
		assert_ne!(feed_epoch_item(1, 0), feed_epoch_item(1, 1));
		assert_ne!(feed_epoch_item(1, 0), feed_epoch_item(2, 0));
		for (feed, epoch) in [(0, 0), (7, 3), (u64::MAX, u32::MAX)] {
			let item = feed_epoch_item(feed, epoch);
			assert_eq!(feed_epoch_of_item(&item), Some((feed, epoch)));
			assert_eq!(document_of_item(&item), None);
		}
		let named = ItemId::from_name(b"twin 1 / document 1");
		assert_eq!((document_of_item(&named), feed_epoch_of_item(&named)), (None, None));
	}
}
