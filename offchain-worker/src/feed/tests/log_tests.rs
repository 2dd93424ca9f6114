//! The persistent log: appends, reads, reopening, torn tails, subscriptions.

use std::{
	fs::{self, OpenOptions},
	io::Write,
	path::{Path, PathBuf},
};

use codec::Encode;

use super::*;

fn owner() -> FeedKey {
	key()
}

fn store(dir: &Path) -> FeedStore {
	FeedStore::open(dir).unwrap()
}

/// Segment files of `FEED`, oldest first.
fn segments(root: &Path) -> Vec<PathBuf> {
	let mut files: Vec<PathBuf> = fs::read_dir(root.join(FEED.to_string()))
		.unwrap()
		.map(|item| item.unwrap().path())
		.collect();
	files.sort();
	files
}

fn sequences(entries: &[StoredEntry]) -> Vec<u64> {
	entries.iter().map(|stored| stored.entry.sequence).collect()
}

fn stored(sequence: u64, head: &Checkpoint) -> Appended {
	Appended::Stored { entries: (head.sequence - sequence + 1) as usize, head: *head }
}

#[test]
fn feed_log_appends_and_reads() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path());
	assert_eq!(store.head(FEED).unwrap(), None);
	assert_eq!(store.latest(FEED).unwrap(), None);
	assert!(store.feeds().unwrap().is_empty(), "reads create nothing");

	let mut writer = FeedWriter::new(FEED, None);
	let single =
		SignedEntry::sign(writer.next_entry(T0, None, b"first".to_vec()), &device(), &GENESIS);
	let first_head = single.entry.checkpoint();
	assert_eq!(store.append(FEED, &owner(), single).unwrap(), stored(0, &first_head));
	let batch = signed(&mut writer, 99, T0 + 1);
	let head = batch.entries[98].checkpoint();
	assert_eq!(store.append(FEED, &owner(), batch).unwrap(), stored(1, &head));

	assert_eq!(store.head(FEED).unwrap(), Some(head));
	assert_eq!(store.feeds().unwrap(), vec![FEED]);
	let latest = store.latest(FEED).unwrap().unwrap();
	assert_eq!((latest.entry.sequence, latest.hash), (99, head.entry_hash));

	let all = store.range(FEED, 0, u64::MAX, usize::MAX).unwrap();
	assert_eq!(sequences(&all), (0..100).collect::<Vec<_>>());
	assert!(all.iter().all(|stored| stored.hash == stored.entry.hash()));
	assert!(all.windows(2).all(|pair| pair[1].entry.previous == pair[0].hash));
	assert_eq!(all[0].entry.payload, b"first");

	let log = store.log(FEED).unwrap();
	assert_eq!(log.len(), 100);
	assert_eq!(log.hash_at(42).unwrap(), Some(all[42].hash));
	assert_eq!(log.hash_at(100).unwrap(), None);
}

#[test]
fn feed_log_ranges_by_sequence_and_time() {
	let dir = tempfile::tempdir().unwrap();
	// Small segments, so ranges cross files.
	let config = FeedLogConfig { segment_bytes: 2048, ..FeedLogConfig::default() };
	let store = FeedStore::open_with(dir.path(), config).unwrap();
	let mut writer = FeedWriter::new(FEED, None);
	// Ten batches of ten; entry n is timestamped T0 + 10 * (n / 2), so pairs share a time.
	for _ in 0..10 {
		let batch: Vec<Entry> = (0..10)
			.map(|_| {
				let n = writer.next_sequence();
				writer.next_entry(T0 + 10 * (n / 2), None, n.to_le_bytes().to_vec())
			})
			.collect();
		store
			.append(FEED, &owner(), SignedBatch::sign(batch, &device(), &GENESIS))
			.unwrap();
	}
	assert!(segments(dir.path()).len() > 2, "segments rolled over");

	let by_sequence = |from, to, limit| sequences(&store.range(FEED, from, to, limit).unwrap());
	assert_eq!(by_sequence(15, 25, 100), (15..25).collect::<Vec<_>>());
	assert_eq!(by_sequence(15, 25, 3), vec![15, 16, 17]);
	assert_eq!(by_sequence(95, 200, 100), (95..100).collect::<Vec<_>>());
	assert_eq!(by_sequence(0, 1, 100), vec![0]);
	assert!(by_sequence(100, 200, 100).is_empty());
	assert!(by_sequence(20, 20, 100).is_empty());
	assert!(by_sequence(30, 10, 100).is_empty());
	assert!(by_sequence(10, 20, 0).is_empty());

	let by_time = |from, to, limit| sequences(&store.range_by_time(FEED, from, to, limit).unwrap());
	// [T0 + 50, T0 + 70) holds entries 10..=13; T0 + 50 is also in the middle of a batch.
	assert_eq!(by_time(T0 + 50, T0 + 70, 100), vec![10, 11, 12, 13]);
	assert_eq!(by_time(T0 + 45, T0 + 61, 100), vec![10, 11, 12, 13]);
	assert_eq!(by_time(T0 + 50, T0 + 70, 3), vec![10, 11, 12]);
	assert_eq!(by_time(0, T0 + 1, 100), vec![0, 1]);
	assert_eq!(by_time(T0 + 490, u64::MAX, 100), vec![98, 99]);
	assert!(by_time(T0 + 500, u64::MAX, 100).is_empty());
	assert!(by_time(0, T0, 100).is_empty());
	// A batch boundary: entries 19 (T0 + 90) and 20 (T0 + 100) sit in different records.
	assert_eq!(by_time(T0 + 90, T0 + 101, 100), vec![18, 19, 20, 21]);
}

#[test]
fn feed_log_survives_reopening() {
	let dir = tempfile::tempdir().unwrap();
	let config = FeedLogConfig { segment_bytes: 1024, ..FeedLogConfig::default() };
	let mut writer = FeedWriter::new(FEED, None);
	let head = {
		let store = FeedStore::open_with(dir.path(), config).unwrap();
		for i in 0..20 {
			store
				.append(FEED, &owner(), signed(&mut writer, 1 + i % 7, T0 + 100 * i as u64))
				.unwrap();
		}
		store.head(FEED).unwrap().unwrap()
	};
	let store = FeedStore::open_with(dir.path(), config).unwrap();
	assert_eq!(store.head(FEED).unwrap(), Some(head));
	assert_eq!(store.log(FEED).unwrap().recovery(), &Recovery::default());
	let all = store.range(FEED, 0, u64::MAX, usize::MAX).unwrap();
	assert_eq!(sequences(&all), (0..=head.sequence).collect::<Vec<_>>());
	// The log goes on where it stopped.
	let next = signed(&mut writer, 3, T0 + 10_000);
	let next_head = next.entries[2].checkpoint();
	assert_eq!(store.append(FEED, &owner(), next).unwrap(), stored(head.sequence + 1, &next_head));
	drop(store);
	assert_eq!(store_with(dir.path(), config).head(FEED).unwrap(), Some(next_head));
}

fn store_with(dir: &Path, config: FeedLogConfig) -> FeedStore {
	FeedStore::open_with(dir, config).unwrap()
}

/// Appends entries 0..=4 (five records) and returns the writer and the head.
fn five_records(dir: &Path) -> (FeedWriter, Checkpoint) {
	let store = store(dir);
	let mut writer = FeedWriter::new(FEED, None);
	for i in 0..5 {
		store.append(FEED, &owner(), signed(&mut writer, 1, T0 + i)).unwrap();
	}
	(writer, store.head(FEED).unwrap().unwrap())
}

fn append_raw(path: &Path, bytes: &[u8]) {
	let mut file = OpenOptions::new().append(true).open(path).unwrap();
	file.write_all(bytes).unwrap();
}

#[test]
fn feed_log_cuts_a_torn_tail_and_goes_on() {
	// Half of a real record (a crash mid-write), random garbage, and zeros (a file extended
	// by the crash but never written).
	let next_record = {
		let mut writer = FeedWriter::new(FEED, None);
		let batch = signed(&mut writer, 3, T0);
		record::frame(&batch.encode()).unwrap()
	};
	let tails: Vec<Vec<u8>> = vec![
		next_record[..next_record.len() / 2].to_vec(),
		next_record[..5].to_vec(),
		vec![0xde, 0xad, 0xbe, 0xef, 0x13, 0x37, 0x42, 0x00, 0x10, 0x00, 0x00, 0x00, 0xff, 0xfe],
		vec![0; 4096],
	];
	for tail in tails {
		let dir = tempfile::tempdir().unwrap();
		let (mut writer, head) = five_records(dir.path());
		let segment = segments(dir.path()).pop().unwrap();
		let good_len = fs::metadata(&segment).unwrap().len();
		append_raw(&segment, &tail);

		let store = store(dir.path());
		let log = store.log(FEED).unwrap();
		assert_eq!(log.head(), Some(head));
		assert_eq!(log.recovery().truncated_bytes, tail.len() as u64);
		assert!(log.recovery().torn.is_some());
		assert_eq!(fs::metadata(&segment).unwrap().len(), good_len);

		let next = signed(&mut writer, 2, T0 + 100);
		let next_head = next.entries[1].checkpoint();
		assert_eq!(log.append(&owner(), next).unwrap(), stored(5, &next_head));
		drop((log, store));
		let reopened = store_with(dir.path(), FeedLogConfig::default());
		let log = reopened.log(FEED).unwrap();
		assert_eq!(log.recovery(), &Recovery::default());
		assert_eq!(sequences(&log.range(0, 100, 100).unwrap()), (0..7).collect::<Vec<_>>());
	}
}

#[test]
fn feed_log_refuses_damage_before_the_tail() {
	let dir = tempfile::tempdir().unwrap();
	let config = FeedLogConfig { segment_bytes: 300, ..FeedLogConfig::default() };
	{
		let store = store_with(dir.path(), config);
		let mut writer = FeedWriter::new(FEED, None);
		for i in 0..6 {
			store.append(FEED, &owner(), signed(&mut writer, 2, T0 + 10 * i)).unwrap();
		}
	}
	let files = segments(dir.path());
	assert!(files.len() >= 2);
	// Flip one bit in the oldest segment's first record: that is not a crash, it is damage.
	let mut bytes = fs::read(&files[0]).unwrap();
	bytes[record::HEADER_LEN + 4] ^= 0x01;
	fs::write(&files[0], &bytes).unwrap();
	match FeedStore::open_with(dir.path(), config).unwrap().log(FEED) {
		Err(StoreError::Corrupt { path, offset: 0, reason: CorruptReason::Checksum }) => {
			assert_eq!(path, files[0]);
		},
		other => panic!("expected a checksum error in the first segment, got {other:?}"),
	}
	// A missing segment breaks the chain of sequence numbers.
	bytes[record::HEADER_LEN + 4] ^= 0x01;
	fs::write(&files[0], &bytes).unwrap();
	fs::remove_file(&files[1]).unwrap();
	assert!(matches!(
		FeedStore::open_with(dir.path(), config).unwrap().log(FEED),
		Err(StoreError::Corrupt { reason: CorruptReason::SegmentStart { .. }, .. })
	));
}

#[test]
fn feed_log_acknowledges_replays_and_refuses_forks() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path());
	let mut writer = FeedWriter::new(FEED, None);
	let batch = signed(&mut writer, 10, T0);
	let head = batch.entries[9].checkpoint();
	store.append(FEED, &owner(), batch.clone()).unwrap();
	assert_eq!(
		store.append(FEED, &owner(), batch.clone()).unwrap(),
		Appended::AlreadyStored { head }
	);

	let mut fork = batch.entries[..4].to_vec();
	fork[3].payload = b"other".to_vec();
	match store.append(FEED, &owner(), SignedBatch::sign(fork, &device(), &GENESIS)) {
		Err(StoreError::Rejected { feed: FEED, reason: FeedError::Fork { sequence: 3 } }) => {},
		other => panic!("expected a fork at 3, got {other:?}"),
	}

	// A re-send overlapping the head adds only its new entries, but is stored whole, as its
	// owner signed it: each entry read from it is served once and verifies by itself, when
	// the log is reopened too, and a replica copies it from the signed batch.
	let mut overlapping = batch.entries[6..].to_vec();
	overlapping.extend(entries(&mut writer, 5, T0 + 100));
	let new_head = overlapping[8].checkpoint();
	assert_eq!(
		store
			.append(FEED, &owner(), SignedBatch::sign(overlapping, &device(), &GENESIS))
			.unwrap(),
		stored(10, &new_head)
	);
	let check = |store: &FeedStore| {
		let log = store.log(FEED).unwrap();
		let batches = log.signed_batches(0, 10).unwrap();
		assert_eq!(batches.len(), 2);
		assert_eq!(batches[1].first_sequence(), Some(6), "stored whole");
		assert_eq!(store.head(FEED).unwrap(), Some(new_head));
		assert_eq!(log.signed_batches(12, 10).unwrap(), batches[1..].to_vec());
		assert!(log.signed_batches(15, 10).unwrap().is_empty());
		let read = store.range(FEED, 0, 100, 100).unwrap();
		assert_eq!(sequences(&read), (0..15).collect::<Vec<_>>());
		for entry in &read {
			entry.verify(&owner()).unwrap();
		}
		assert_eq!(read[12].proof.leaves, 9, "entry 12 is proven within the whole re-send");
		assert_eq!(sequences(&store.range(FEED, 8, 12, 100).unwrap()), vec![8, 9, 10, 11]);
		assert_eq!(store.latest(FEED).unwrap().unwrap().entry.sequence, 14);
		batches
	};
	let batches = check(&store);
	drop(store);
	check(&FeedStore::open(dir.path()).unwrap());

	let copy_dir = tempfile::tempdir().unwrap();
	let copy = FeedStore::open(copy_dir.path()).unwrap();
	for batch in batches {
		copy.append(FEED, &owner(), batch).unwrap();
	}
	assert_eq!(copy.head(FEED).unwrap(), Some(new_head));
}

#[test]
fn every_entry_read_carries_a_proof_that_fails_when_anything_is_altered() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path());
	let mut writer = FeedWriter::new(FEED, None);
	for (count, start) in [(1, T0), (7, T0 + 10), (1000, T0 + 100)] {
		store.append(FEED, &owner(), signed(&mut writer, count, start)).unwrap();
	}
	let read = store.range(FEED, 0, 2000, 2000).unwrap();
	assert_eq!(read.len(), 1008);
	for entry in &read {
		entry.verify(&owner()).unwrap();
	}
	// The entries of a subscription carry proofs as well.
	let mut subscription = store.subscribe(FEED).unwrap();
	store.append(FEED, &owner(), signed(&mut writer, 3, T0 + 5000)).unwrap();
	let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
	let live = runtime.block_on(subscription.recv()).unwrap();
	assert_eq!(live.entry.sequence, 1008);
	live.verify(&owner()).unwrap();

	let entry = &read[500];
	let mut payload = entry.clone();
	payload.entry.payload[0] ^= 1;
	payload.hash = payload.entry.hash();
	assert_eq!(payload.verify(&owner()), Err(ProofError::BadSignature), "altered payload");
	let mut hash = entry.clone();
	hash.entry.timestamp += 1;
	assert_eq!(hash.verify(&owner()), Err(ProofError::HashMismatch), "stale hash");
	let mut moved = entry.clone();
	moved.proof.index += 1;
	assert!(moved.verify(&owner()).is_err(), "another place in the batch");
	let mut resized = entry.clone();
	resized.proof.leaves += 1;
	assert_eq!(resized.verify(&owner()), Err(ProofError::BadSignature), "another batch size");
	let mut short = entry.clone();
	short.proof.path.pop();
	assert!(matches!(short.verify(&owner()), Err(ProofError::MalformedPath { .. })));
	let foreign = FeedKey { owner: stranger().public(), genesis: GENESIS };
	assert!(matches!(entry.verify(&foreign), Err(ProofError::WrongSigner { .. })));
	let other_chain = FeedKey { owner: device().public(), genesis: [4; 32] };
	assert_eq!(entry.verify(&other_chain), Err(ProofError::BadSignature), "another chain");
	// An entry of another batch with this entry's proof.
	let mut swapped = read[3].clone();
	swapped.proof = read[2].proof.clone();
	assert!(swapped.verify(&owner()).is_err());
}

#[test]
fn feed_replicas_copy_each_other_from_signed_batches() {
	let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
	let origin = store(first.path());
	let mut writer = FeedWriter::new(FEED, None);
	for i in 0..5 {
		origin.append(FEED, &owner(), signed(&mut writer, 3, T0 + 10 * i)).unwrap();
	}
	let replica = store(second.path());
	for batch in origin.log(FEED).unwrap().signed_batches(0, 100).unwrap() {
		replica.append(FEED, &owner(), batch).unwrap();
	}
	assert_eq!(replica.head(FEED).unwrap(), origin.head(FEED).unwrap());
	assert_eq!(replica.range(FEED, 0, 100, 100).unwrap(), origin.range(FEED, 0, 100, 100).unwrap());
}

#[test]
fn feed_first_write_wins_between_racing_writers() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path());
	let (head, _) = {
		let mut writer = FeedWriter::new(FEED, None);
		store.append(FEED, &owner(), signed(&mut writer, 1, T0)).unwrap();
		(store.head(FEED).unwrap().unwrap(), ())
	};
	// Two different entries 1 race; exactly one is stored, the other is a fork.
	let contenders: Vec<SignedBatch> = (0..2u8)
		.map(|i| {
			let entry = FeedWriter::new(FEED, Some(&head)).next_entry(T0 + 1, None, vec![i]);
			SignedEntry::sign(entry, &device(), &GENESIS).into()
		})
		.collect();
	let results: Vec<_> = std::thread::scope(|scope| {
		let handles: Vec<_> = contenders
			.iter()
			.map(|batch| scope.spawn(|| store.append(FEED, &owner(), batch.clone())))
			.collect();
		handles.into_iter().map(|handle| handle.join().unwrap()).collect()
	});
	let stored_count = results.iter().filter(|result| result.is_ok()).count();
	let forks = results
		.iter()
		.filter(|result| {
			matches!(
				result,
				Err(StoreError::Rejected { reason: FeedError::Fork { sequence: 1 }, .. })
			)
		})
		.count();
	assert_eq!((stored_count, forks), (1, 1), "{results:?}");
}

#[test]
fn feed_store_is_locked_against_a_second_process() {
	let dir = tempfile::tempdir().unwrap();
	let _store = store(dir.path());
	assert!(matches!(FeedStore::open(dir.path()), Err(StoreError::Locked { .. })));
}

#[tokio::test]
async fn feed_subscription_yields_appended_entries_in_order() {
	let dir = tempfile::tempdir().unwrap();
	let store = store(dir.path());
	let mut writer = FeedWriter::new(FEED, None);
	store.append(FEED, &owner(), signed(&mut writer, 3, T0)).unwrap();

	let mut subscription = store.subscribe(FEED).unwrap();
	assert_eq!(subscription.next_sequence(), 3);
	store.append(FEED, &owner(), signed(&mut writer, 4, T0 + 10)).unwrap();
	let single = SignedEntry::sign(writer.next_entry(T0 + 20, None, vec![]), &device(), &GENESIS);
	store.append(FEED, &owner(), single.clone()).unwrap();
	// A replay notifies nobody.
	store.append(FEED, &owner(), single).unwrap();

	for expected in 3..8 {
		let stored = subscription.recv().await.unwrap();
		assert_eq!(stored.entry.sequence, expected);
		assert_eq!(stored.hash, stored.entry.hash());
	}
	assert_eq!(subscription.next_sequence(), 8);
	let nothing =
		tokio::time::timeout(std::time::Duration::from_millis(50), subscription.recv()).await;
	assert!(nothing.is_err(), "no more entries: {nothing:?}");

	// Closing the store ends the stream.
	let stream = store.subscribe(FEED).unwrap().into_stream();
	drop(store);
	let items: Vec<_> = futures::StreamExt::collect(stream).await;
	assert!(items.is_empty());
}

#[tokio::test]
async fn feed_lagging_subscriber_is_told_where_to_reread() {
	let dir = tempfile::tempdir().unwrap();
	let config = FeedLogConfig { subscription_buffer: 2, ..FeedLogConfig::default() };
	let store = store_with(dir.path(), config);
	let mut writer = FeedWriter::new(FEED, None);
	let mut subscription = store.subscribe(FEED).unwrap();
	// Five batches into a buffer of two: the first three are lost to this subscriber.
	for i in 0..5 {
		store.append(FEED, &owner(), signed(&mut writer, 2, T0 + 10 * i)).unwrap();
	}
	assert_eq!(
		subscription.recv().await,
		Err(SubscriptionError::Lagged { resume_from: 0, live_from: 6 })
	);
	// It re-reads what it missed, and the subscription goes on from there.
	let missed = store.range(FEED, 0, 6, 100).unwrap();
	assert_eq!(sequences(&missed), (0..6).collect::<Vec<_>>());
	for expected in 6..10 {
		assert_eq!(subscription.recv().await.unwrap().entry.sequence, expected);
	}
}
