//! Line and column numbers for byte offsets of a streamed input.
//!
//! quick-xml reports errors as byte offsets. Turning an offset into a line and column needs
//! the bytes before it, but a streamed document of tens of MB must not be kept in memory.
//! [`TrackedReader`] therefore keeps only a window of recently consumed bytes (at least the
//! current event, which is where every error points) and the line/column at the window's
//! start. The window is trimmed in large steps so each byte is scanned a bounded number of
//! times.

use std::io::{self, BufRead, Read};

use crate::error::Position;

/// How many bytes before the current event stay in the window (errors never point further back).
const KEEP_BEHIND: u64 = 4 * 1024;
/// The window is trimmed only once it exceeds this, so trimming costs O(1) per byte.
const TRIM_THRESHOLD: usize = 256 * 1024;

/// A `BufRead` adaptor that can tell the line and column of recent byte offsets.
pub(crate) struct TrackedReader<R> {
	inner: R,
	/// Bytes consumed since `window_start`.
	window: Vec<u8>,
	/// Offset of `window[0]` in the stream.
	window_start: u64,
	/// Line and column of `window[0]`.
	window_start_at: Position,
}

impl<R: BufRead> TrackedReader<R> {
	pub(crate) fn new(inner: R) -> Self {
		TrackedReader {
			inner,
			window: Vec::new(),
			window_start: 0,
			window_start_at: Position { line: 1, column: 1 },
		}
	}

	/// Declares that no position before `offset - KEEP_BEHIND` will be asked for again.
	pub(crate) fn forget_before(&mut self, offset: u64) {
		if self.window.len() < TRIM_THRESHOLD {
			return;
		}
		let drop_until = offset.saturating_sub(KEEP_BEHIND);
		if drop_until <= self.window_start {
			return;
		}
		let n = usize::try_from(drop_until - self.window_start)
			.unwrap_or(usize::MAX)
			.min(self.window.len());
		self.window_start_at = advance(self.window_start_at, &self.window[..n]);
		self.window.drain(..n);
		self.window_start += n as u64;
	}

	/// Line and column of a byte offset; offsets already forgotten map to the oldest known one.
	pub(crate) fn position_of(&self, offset: u64) -> Position {
		let n = usize::try_from(offset.saturating_sub(self.window_start))
			.unwrap_or(usize::MAX)
			.min(self.window.len());
		advance(self.window_start_at, &self.window[..n])
	}
}

/// Line and column after reading `bytes` starting at `from`.
pub(crate) fn advance(from: Position, bytes: &[u8]) -> Position {
	let mut at = from;
	for &b in bytes {
		if b == b'\n' {
			at.line += 1;
			at.column = 1;
		} else if b & 0xC0 != 0x80 {
			// Count characters, not bytes: UTF-8 continuation bytes do not start a column.
			at.column += 1;
		}
	}
	at
}

/// Line and column of a byte offset in a text held entirely in memory.
pub(crate) fn position_in(text: &str, offset: usize) -> Position {
	let end = offset.min(text.len());
	advance(Position { line: 1, column: 1 }, &text.as_bytes()[..end])
}

impl<R: BufRead> Read for TrackedReader<R> {
	fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
		let available = self.fill_buf()?;
		let n = available.len().min(out.len());
		out[..n].copy_from_slice(&available[..n]);
		self.consume(n);
		Ok(n)
	}
}

impl<R: BufRead> BufRead for TrackedReader<R> {
	fn fill_buf(&mut self) -> io::Result<&[u8]> {
		self.inner.fill_buf()
	}

	fn consume(&mut self, amount: usize) {
		if let Ok(buffered) = self.inner.fill_buf() {
			let n = amount.min(buffered.len());
			self.window.extend_from_slice(&buffered[..n]);
		}
		self.inner.consume(amount);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn counts_lines_and_characters() {
		let text = "ab\ncäd\nx";
		assert_eq!(position_in(text, 0), Position { line: 1, column: 1 });
		assert_eq!(position_in(text, 3), Position { line: 2, column: 1 });
		// "cä" is three bytes but two characters.
		assert_eq!(position_in(text, 6), Position { line: 2, column: 3 });
		assert_eq!(position_in(text, text.len()), Position { line: 3, column: 2 });
	}

	#[test]
	fn window_survives_trimming() {
		let line = "0123456789\n";
		let text = line.repeat(100_000);
		let mut reader = TrackedReader::new(text.as_bytes());
		let mut sink = Vec::new();
		let mut consumed = 0u64;
		loop {
			let chunk = reader.fill_buf().unwrap().len().min(1000);
			if chunk == 0 {
				break;
			}
			sink.extend_from_slice(&reader.fill_buf().unwrap()[..chunk]);
			reader.consume(chunk);
			consumed += chunk as u64;
			reader.forget_before(consumed);
		}
		let offset = (line.len() * 99_990 + 4) as u64;
		assert_eq!(reader.position_of(offset), Position { line: 99_991, column: 5 });
		assert!(reader.window.len() < 2 * TRIM_THRESHOLD);
	}
}
