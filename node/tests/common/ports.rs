//! Ports of 127.0.0.1 for the processes a test starts.
//!
//! A port the kernel hands out for port 0 lies in its ephemeral range (32768-60999 on
//! Linux), the range every outgoing connection also takes its local port from: between the
//! probe and the child's own bind, a connection among the nodes of this or another test
//! may take it, and the child then fails to start with "address in use". So ports come
//! from below that range, each handed out once per test process, starting at an offset
//! drawn from the process id (test binaries running side by side start far apart), and
//! each is probed free before it is given.

use std::{
	net::TcpListener,
	sync::atomic::{AtomicU32, Ordering},
};

/// The first port handed out.
const LOWEST: u32 = 10_000;
/// How many ports lie between `LOWEST` and the ephemeral range.
const SPAN: u32 = 32_768 - LOWEST;

/// A port of 127.0.0.1 outside the ephemeral range that nobody listens on right now and
/// that this process has not handed out before.
pub fn free_port() -> u16 {
	static HANDED_OUT: AtomicU32 = AtomicU32::new(0);
	// Spread by a multiple of the process id: consecutive pids start 997 ports apart.
	let start = std::process::id().wrapping_mul(997) % SPAN;
	for _ in 0..SPAN {
		let n = HANDED_OUT.fetch_add(1, Ordering::Relaxed);
		let port = (LOWEST + (start + n) % SPAN) as u16;
		if TcpListener::bind(("127.0.0.1", port)).is_ok() {
			return port;
		}
	}
	panic!("no free port of 127.0.0.1 between {LOWEST} and 32767");
}
