//! Feed entries as JSON: what the node's `feed_*` methods serve and what clients read back
//! into [`StoredEntry`] to check. Bytes are `0x` hex, the signer SS58.

use serde::{Deserialize, Serialize};
use sp_core::{crypto::Ss58Codec, sr25519};

use super::{batch_tree::EntryProof, entry::Entry, FeedId, StoredEntry};

/// One stored entry as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntryView {
	pub feed: FeedId,
	pub sequence: u64,
	/// Milliseconds since the Unix epoch.
	pub timestamp: u64,
	/// BLAKE2-256 of the entry's SCALE encoding.
	pub hash: String,
	/// The previous entry's hash (all zero for entry 0).
	pub previous: String,
	/// The key epoch of an encrypted payload, `null` for plaintext.
	pub epoch: Option<u32>,
	/// The payload: AES-256-GCM output for an encrypted feed.
	pub payload: String,
	/// What makes the entry verifiable without trusting the node that served it.
	pub proof: ProofView,
}

/// An entry's [`EntryProof`] as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofView {
	/// The account that signed the batch: the feed's owner, if genuine.
	pub signer: String,
	/// Its sr25519 signature over the batch's size and root.
	pub signature: String,
	/// How many entries the signed batch holds.
	pub leaves: u32,
	/// The entry's index in it.
	pub index: u32,
	/// The siblings from the entry up to the root, lowest first.
	pub path: Vec<String>,
}

fn hex0x(bytes: &[u8]) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn unhex(text: &str) -> Result<Vec<u8>, String> {
	hex::decode(text.strip_prefix("0x").unwrap_or(text))
		.map_err(|e| format!("{text:?} is not hex: {e}"))
}

fn hash32(text: &str) -> Result<[u8; 32], String> {
	unhex(text)?.try_into().map_err(|_| format!("{text} is not 32 bytes"))
}

impl From<StoredEntry> for EntryView {
	fn from(stored: StoredEntry) -> Self {
		let StoredEntry { entry, hash, proof } = stored;
		EntryView {
			feed: entry.feed,
			sequence: entry.sequence,
			timestamp: entry.timestamp,
			hash: hex0x(&hash),
			previous: hex0x(&entry.previous),
			epoch: entry.epoch,
			payload: hex0x(&entry.payload),
			proof: ProofView {
				signer: proof.signer.to_ss58check(),
				signature: hex0x(&proof.signature.0),
				leaves: proof.leaves,
				index: proof.index,
				path: proof.path.iter().map(|node| hex0x(node)).collect(),
			},
		}
	}
}

impl EntryView {
	/// The entry, its served hash and its proof, or what about them is not well formed.
	/// Nothing is checked here: [`StoredEntry::verify`] does that.
	pub fn to_stored(&self) -> Result<StoredEntry, String> {
		let signer = sr25519::Public::from_ss58check(&self.proof.signer)
			.map_err(|e| format!("the signer {} is not an account: {e:?}", self.proof.signer))?;
		let signature: [u8; 64] = unhex(&self.proof.signature)?
			.try_into()
			.map_err(|_| "the signature is not 64 bytes".to_owned())?;
		let path = self.proof.path.iter().map(|node| hash32(node)).collect::<Result<_, _>>()?;
		Ok(StoredEntry {
			entry: Entry {
				feed: self.feed,
				sequence: self.sequence,
				timestamp: self.timestamp,
				previous: hash32(&self.previous)?,
				epoch: self.epoch,
				payload: unhex(&self.payload)?,
			},
			hash: hash32(&self.hash)?,
			proof: EntryProof {
				signer,
				signature: sr25519::Signature::from_raw(signature),
				leaves: self.proof.leaves,
				index: self.proof.index,
				path,
			},
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::feed::{FeedWriter, SignedBatch};
	use sp_core::Pair as _;

	#[test]
	fn entries_round_trip_through_json_and_garbage_is_named() {
		let mut writer = FeedWriter::new(3, None);
		let entries =
			(0..5).map(|i| writer.next_entry(10 + i, Some(2), vec![i as u8; 3])).collect();
		let device = sr25519::Pair::from_seed(&[5; 32]);
		for stored in StoredEntry::all_of(SignedBatch::sign(entries, &device, &[1; 32])) {
			let view = EntryView::from(stored.clone());
			let json = serde_json::to_value(&view).unwrap();
			assert!(json["proof"]["signer"].as_str().unwrap().starts_with('5'));
			let back: EntryView = serde_json::from_value(json).unwrap();
			assert_eq!(back.to_stored().unwrap(), stored);
		}
		let mut view = EntryView::from(
			StoredEntry::all_of(SignedBatch::sign(
				vec![FeedWriter::new(3, None).next_entry(1, None, vec![1])],
				&device,
				&[1; 32],
			))
			.remove(0),
		);
		let mut short = view.clone();
		short.proof.signature = "0x1234".into();
		assert!(short.to_stored().unwrap_err().contains("64 bytes"));
		view.previous = "0xzz".into();
		assert!(view.to_stored().unwrap_err().contains("not hex"));
	}
}
