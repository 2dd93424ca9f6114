//! `kill -9` in the middle of appending loses no acknowledged write.
//!
//! The test re-runs its own test binary as a child that appends as fast as it can and
//! prints each acknowledged head, kills it with SIGKILL mid-stream, then opens the store and
//! checks that everything acknowledged is there and the log still appends.

use std::{
	io::{BufRead, BufReader},
	process::{Command, Stdio},
};

use super::*;

const CHILD_DIR: &str = "DT_FEED_KILL_TEST_DIR";

#[test]
fn feed_log_keeps_acknowledged_writes_across_kill_9() {
	let dir = tempfile::tempdir().unwrap();
	let mut child = Command::new(std::env::current_exe().unwrap())
		.args(["--exact", "feed::tests::durability::appending_child", "--ignored", "--nocapture"])
		.args(["--test-threads", "1"])
		.env(CHILD_DIR, dir.path())
		.stdout(Stdio::piped())
		.stderr(Stdio::null())
		.spawn()
		.unwrap();
	let mut acknowledged = None;
	let lines = BufReader::new(child.stdout.take().unwrap()).lines();
	for line in lines {
		let line = line.unwrap();
		if let Some(sequence) = line.strip_prefix("acked ") {
			acknowledged = Some(sequence.parse::<u64>().unwrap());
			if acknowledged >= Some(300) {
				break;
			}
		}
	}
	// `Child::kill` is SIGKILL on Unix: no destructor, no flush, mid-append most likely.
	child.kill().unwrap();
	child.wait().unwrap();
	let acknowledged = acknowledged.expect("the child acknowledged writes");

	let store = FeedStore::open(dir.path()).unwrap();
	let head = store.head(FEED).unwrap().expect("the log is not empty");
	assert!(head.sequence >= acknowledged, "head {} < acknowledged {acknowledged}", head.sequence);
	let all = store.range(FEED, 0, u64::MAX, usize::MAX).unwrap();
	assert_eq!(all.len() as u64, head.sequence + 1);
	assert!(all.windows(2).all(|pair| pair[1].entry.previous == pair[0].hash));
	let mut writer = FeedWriter::new(FEED, Some(&head));
	store.append(FEED, &key(), signed(&mut writer, 5, u64::MAX / 2)).unwrap();
}

/// The child of the test above; does nothing when run on its own.
#[test]
#[ignore = "run by feed_log_keeps_acknowledged_writes_across_kill_9"]
fn appending_child() {
	let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
	let store = FeedStore::open(dir).unwrap();
	let mut writer = FeedWriter::new(FEED, None);
	for i in 0u64.. {
		// Alternate single entries and batches, so the kill may land in either.
		let count = if i % 2 == 0 { 1 } else { 50 };
		let batch = signed(&mut writer, count, T0 + 100 * i);
		let head = store.append(FEED, &key(), batch).unwrap().head();
		println!("acked {}", head.sequence);
	}
}
