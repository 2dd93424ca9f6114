//! Validation: every rule, each with the exact error it must give.

use codec::Encode;

use super::*;

/// A replica's view of a feed in memory: the accepted entries.
#[derive(Default)]
struct Model {
	log: Vec<Entry>,
}

impl Model {
	fn head(&self) -> Option<Checkpoint> {
		self.log.last().map(Entry::checkpoint)
	}

	fn check(&self, batch: SignedBatch) -> Result<Verdict, FeedError> {
		self.check_as(&key(), batch)
	}

	fn check_as(&self, key: &FeedKey, batch: SignedBatch) -> Result<Verdict, FeedError> {
		let head = self.head();
		validate(key, FEED, head.as_ref(), batch, |sequence| {
			self.log.get(sequence as usize).map(Entry::hash)
		})
	}

	/// Checks and applies `batch`, which must be accepted.
	fn accept(&mut self, batch: SignedBatch) {
		match self.check(batch.clone()).expect("the batch is valid") {
			Verdict::Append { skip, head } => {
				self.log.extend(batch.entries.into_iter().skip(skip));
				assert_eq!(self.head(), Some(head));
			},
			Verdict::AlreadyStored => {},
		}
	}
}

/// A model holding entries 0..=4, and a writer positioned after them.
fn five() -> (Model, FeedWriter) {
	let mut model = Model::default();
	let mut writer = FeedWriter::new(FEED, None);
	model.accept(signed(&mut writer, 5, T0));
	(model, writer)
}

#[test]
fn feed_entries_sign_and_verify_round_trip() {
	let mut writer = FeedWriter::new(FEED, None);
	let entry = writer.next_entry(T0, None, b"21.5 C".to_vec());
	assert_eq!((entry.sequence, entry.previous), (FIRST_SEQUENCE, GENESIS_PREVIOUS));
	let signed_entry = SignedEntry::sign(entry.clone(), &device(), &GENESIS);
	assert!(sr25519::Pair::verify(
		&signed_entry.signature,
		batch_message(&GENESIS, &[entry.hash()]),
		&device().public()
	));
	// Domain separation: the signature is not one over the bare hash.
	assert!(!sr25519::Pair::verify(&signed_entry.signature, entry.hash(), &device().public()));

	let batch = SignedBatch::from(signed_entry);
	let decoded = SignedBatch::decode_bounded(&batch.encode()).unwrap();
	assert_eq!(decoded, batch);
	let mut trailing = batch.encode();
	trailing.push(0);
	assert!(SignedBatch::decode_bounded(&trailing).is_err());

	assert_eq!(
		Model::default().check(decoded),
		Ok(Verdict::Append { skip: 0, head: entry.checkpoint() })
	);
	// The checkpoint's hash is BLAKE2-256 of the SCALE encoding.
	assert_eq!(entry.checkpoint().entry_hash, sp_crypto_hashing::blake2_256(&entry.encode()));
}

#[test]
fn feed_batch_of_1000_is_accepted_with_one_signature() {
	let mut model = Model::default();
	let mut writer = FeedWriter::new(FEED, None);
	let batch = signed(&mut writer, 1000, T0);
	let last = batch.entries[999].checkpoint();
	let verified = verify(&key(), FEED, batch.clone()).unwrap();
	assert_eq!(verified.hashes().len(), 1000);
	assert_eq!(model.check(batch.clone()), Ok(Verdict::Append { skip: 0, head: last }));
	model.accept(batch);
	assert_eq!(model.head().map(|head| head.sequence), Some(999));
	// And the next batch continues the chain.
	model.accept(signed(&mut writer, 1000, T0 + 1000));
	assert_eq!(model.log.len(), 2000);
}

#[test]
fn feed_refuses_a_wrong_signer() {
	let (model, mut writer) = five();
	let batch = SignedBatch::sign(entries(&mut writer, 1, T0 + 10), &stranger(), &GENESIS);
	assert_eq!(
		model.check(batch),
		Err(FeedError::WrongSigner {
			feed: FEED,
			expected: device().public(),
			got: stranger().public()
		})
	);
}

/// The owner's own signature, made for another chain (a test network): refused, though
/// the entries are the same and the owner is right.
#[test]
fn feed_refuses_a_batch_signed_for_another_chain() {
	let (model, mut writer) = five();
	let next = entries(&mut writer, 2, T0 + 10);
	let test_chain = SignedBatch::sign(next.clone(), &device(), &[9; 32]);
	assert_eq!(model.check(test_chain), Err(FeedError::BadSignature { feed: FEED, sequence: 6 }));
	assert!(model.check(SignedBatch::sign(next, &device(), &GENESIS)).is_ok());
}

#[test]
fn feed_refuses_a_bad_signature() {
	let (model, mut writer) = five();
	// Claims the owner but is signed by someone else.
	let mut forged =
		SignedBatch::sign(entries(&mut writer.clone(), 2, T0 + 10), &stranger(), &GENESIS);
	forged.signer = device().public();
	assert_eq!(model.check(forged), Err(FeedError::BadSignature { feed: FEED, sequence: 6 }));
	// Signed by the owner, then an entry was changed: the chain no longer ends in the
	// signed hash.
	let mut tampered = signed(&mut writer, 2, T0 + 10);
	tampered.entries[1].payload = b"tampered".to_vec();
	assert_eq!(model.check(tampered), Err(FeedError::BadSignature { feed: FEED, sequence: 6 }));
}

#[test]
fn feed_refuses_a_gap() {
	let (model, mut writer) = five();
	writer.next_entry(T0 + 10, None, vec![]); // entry 5, never sent
	assert_eq!(
		model.check(signed(&mut writer, 1, T0 + 11)),
		Err(FeedError::Gap { expected: 5, got: 6 })
	);
	// An empty log starts at 0.
	let mut late = FeedWriter::new(FEED, None);
	late.next_entry(T0, None, vec![]);
	assert_eq!(
		Model::default().check(signed(&mut late, 1, T0)),
		Err(FeedError::Gap { expected: 0, got: 1 })
	);
	// Inside a batch too.
	let mut inner = entries(&mut FeedWriter::new(FEED, None), 3, T0);
	inner.remove(1);
	assert_eq!(
		Model::default().check(SignedBatch::sign(inner, &device(), &GENESIS)),
		Err(FeedError::Gap { expected: 1, got: 2 })
	);
}

#[test]
fn feed_acknowledges_an_identical_replay_without_change() {
	let (mut model, mut writer) = five();
	let batch = signed(&mut writer, 3, T0 + 10); // entries 5..=7
	model.accept(batch.clone());
	assert_eq!(model.check(batch.clone()), Ok(Verdict::AlreadyStored));
	// A re-signature of the same entries is the same history.
	let resigned = SignedBatch::sign(batch.entries.clone(), &device(), &GENESIS);
	assert_eq!(model.check(resigned), Ok(Verdict::AlreadyStored));
	// A single old entry, re-sent on its own, signed for itself.
	let old = SignedEntry::sign(model.log[2].clone(), &device(), &GENESIS);
	assert_eq!(model.check(old.into()), Ok(Verdict::AlreadyStored));
	// A re-send that overlaps the head and goes on: only the new part is appended.
	let mut overlapping = batch.entries[1..].to_vec(); // entries 6, 7
	overlapping.extend(entries(&mut writer, 2, T0 + 20)); // entries 8, 9
	let last = overlapping[3].checkpoint();
	assert_eq!(
		model.check(SignedBatch::sign(overlapping, &device(), &GENESIS)),
		Ok(Verdict::Append { skip: 2, head: last })
	);
}

#[test]
fn feed_refuses_a_fork() {
	let (model, _) = five();
	// The owner signs a different entry 3 (first write wins, even against the owner).
	let mut rewrite = model.log[3].clone();
	rewrite.payload = b"rewritten".to_vec();
	assert_eq!(
		model.check(SignedEntry::sign(rewrite, &device(), &GENESIS).into()),
		Err(FeedError::Fork { sequence: 3 })
	);
	// A different history from 2 on, reaching past the head: the fork shows at the head.
	let mut other = FeedWriter::new(FEED, Some(&model.log[1].checkpoint()));
	assert_eq!(model.check(signed(&mut other, 5, T0 + 100)), Err(FeedError::Fork { sequence: 4 }));
	// A replica that cannot tell what it stored refuses rather than forks.
	let verified =
		verify(&key(), FEED, SignedEntry::sign(model.log[3].clone(), &device(), &GENESIS).into())
			.unwrap();
	assert_eq!(verified.overlap(model.head().as_ref()), Some(3));
	assert_eq!(verified.place(model.head().as_ref(), None), Err(FeedError::Fork { sequence: 3 }));
}

#[test]
fn feed_refuses_a_broken_link() {
	let (model, mut writer) = five();
	let mut entry = writer.next_entry(T0 + 10, None, vec![1]);
	entry.previous = [9; 32];
	assert_eq!(
		model.check(SignedEntry::sign(entry, &device(), &GENESIS).into()),
		Err(FeedError::BrokenLink { sequence: 5 })
	);
	// The first entry links to nothing.
	let mut first = FeedWriter::new(FEED, None).next_entry(T0, None, vec![]);
	first.previous = [1; 32];
	assert_eq!(
		Model::default().check(SignedEntry::sign(first, &device(), &GENESIS).into()),
		Err(FeedError::BrokenLink { sequence: 0 })
	);
	// Inside a batch.
	let mut inner = entries(&mut writer, 3, T0 + 20);
	inner[2].previous = [3; 32];
	assert_eq!(
		model.check(SignedBatch::sign(inner, &device(), &GENESIS)),
		Err(FeedError::BrokenLink { sequence: 8 })
	);
}

#[test]
fn feed_refuses_a_timestamp_going_back() {
	let (model, mut writer) = five(); // entry 4 at T0 + 4
	assert_eq!(
		model.check(signed(&mut writer.clone(), 1, T0 + 3)),
		Err(FeedError::TimestampWentBack { sequence: 5, previous: T0 + 4, timestamp: T0 + 3 })
	);
	// The same millisecond is fine.
	assert!(model.check(signed(&mut writer.clone(), 1, T0 + 4)).is_ok());
	// Inside a batch.
	let inner =
		vec![writer.next_entry(T0 + 10, None, vec![]), writer.next_entry(T0 + 9, None, vec![])];
	assert_eq!(
		model.check(SignedBatch::sign(inner, &device(), &GENESIS)),
		Err(FeedError::TimestampWentBack { sequence: 6, previous: T0 + 10, timestamp: T0 + 9 })
	);
}

#[test]
fn feed_refuses_malformed_batches() {
	let model = Model::default();
	let mut writer = FeedWriter::new(FEED, None);

	assert_eq!(
		model.check(SignedBatch::sign(Vec::new(), &device(), &GENESIS)),
		Err(FeedError::EmptyBatch)
	);

	let mut other_feed = FeedWriter::new(FEED + 1, None);
	assert_eq!(
		model.check(signed(&mut other_feed, 1, T0)),
		Err(FeedError::WrongFeed { expected: FEED, got: FEED + 1, sequence: 0 })
	);

	let big = writer.clone().next_entry(T0, None, vec![0; MAX_PAYLOAD + 1]);
	assert_eq!(
		model.check(SignedEntry::sign(big, &device(), &GENESIS).into()),
		Err(FeedError::PayloadTooLarge { sequence: 0, size: MAX_PAYLOAD + 1, max: MAX_PAYLOAD })
	);
	let largest = writer.clone().next_entry(T0, Some(3), vec![0; MAX_PAYLOAD]);
	assert!(model.check(SignedEntry::sign(largest, &device(), &GENESIS).into()).is_ok());

	let many = signed(&mut writer.clone(), MAX_BATCH_ENTRIES + 1, T0);
	assert_eq!(
		model.check(many),
		Err(FeedError::TooManyEntries { entries: MAX_BATCH_ENTRIES + 1, max: MAX_BATCH_ENTRIES })
	);

	let heavy: Vec<Entry> = (0..MAX_BATCH_BYTES / MAX_PAYLOAD + 1)
		.map(|i| writer.next_entry(T0 + i as u64, None, vec![0; MAX_PAYLOAD]))
		.collect();
	let heavy = SignedBatch::sign(heavy, &device(), &GENESIS);
	let bytes = heavy.encoded_size();
	assert!(bytes > MAX_BATCH_BYTES);
	assert_eq!(model.check(heavy), Err(FeedError::BatchTooLarge { bytes, max: MAX_BATCH_BYTES }));
}

#[test]
fn feed_errors_name_the_bad_input() {
	let error = FeedError::Gap { expected: 5, got: 9 };
	assert_eq!(
		error.to_string(),
		"expected entry 5 next, got entry 9; send the entries in between first"
	);
	let error = FeedError::WrongSigner {
		feed: FEED,
		expected: device().public(),
		got: stranger().public(),
	};
	let text = error.to_string();
	assert!(text.contains(&device().public().to_string()));
	assert!(text.contains(&stranger().public().to_string()));
}

#[test]
fn feed_entries_may_be_encrypted_payloads() {
	// The store treats an epoch's ciphertext as opaque bytes: it validates like any other.
	let mut model = Model::default();
	let mut writer = FeedWriter::new(FEED, None);
	let sealed = writer.next_entry(T0, Some(0), vec![0xAA; 12 + 8 + 16]);
	let rotated = writer.next_entry(T0 + 1, Some(1), vec![0xBB; 12 + 8 + 16]);
	model.accept(SignedBatch::sign(vec![sealed, rotated], &device(), &GENESIS));
	assert_eq!(model.log[1].epoch, Some(1));
	// The epoch is covered by the hash, so it cannot be swapped after signing.
	let mut relabelled = model.log[1].clone();
	relabelled.epoch = Some(0);
	assert_ne!(relabelled.hash(), model.log[1].hash());
}
