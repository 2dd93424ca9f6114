//! How one batch is framed in a segment file, and how a torn or damaged record is told
//! from a good one.
//!
//! A record is `checksum (u64 LE) ++ length (u32 LE) ++ body`, where the body is the SCALE
//! encoding of a [`super::SignedBatch`] and the checksum is XXH64 (seed 0) of the length
//! and the body together, so a damaged length is caught as surely as a damaged body. XXH64
//! is there to catch torn writes and bit rot, not forgery: the entries' hashes and the
//! owner's signature cover that.

use std::io::{self, Read};

use sp_crypto_hashing::twox_64;

use super::{entry::MAX_BATCH_BYTES, error::CorruptReason};

/// Bytes before a record's body: checksum and length.
pub const HEADER_LEN: usize = 12;

/// Longest body a record may have: one batch at its largest.
pub const MAX_BODY: usize = MAX_BATCH_BYTES;

/// Frames `body` as a record, or says why it cannot be one.
pub fn frame(body: &[u8]) -> Result<Vec<u8>, CorruptReason> {
	let len = u32::try_from(body.len())
		.ok()
		.filter(|len| *len as usize <= MAX_BODY)
		.ok_or(CorruptReason::TooLong { len: body.len() as u64 })?;
	let mut record = Vec::with_capacity(HEADER_LEN + body.len());
	record.extend_from_slice(&[0; 8]);
	record.extend_from_slice(&len.to_le_bytes());
	record.extend_from_slice(body);
	let checksum = twox_64(&record[8..]);
	record[..8].copy_from_slice(&checksum);
	Ok(record)
}

/// The next record read from a segment.
#[derive(Debug)]
pub enum Next {
	/// A whole record with a good checksum: its body.
	Record(Vec<u8>),
	/// The file ends cleanly here.
	End,
	/// What follows is not a whole, good record. At the end of the newest segment this is
	/// the torn write of a crash; anywhere else it is damage.
	Bad(CorruptReason),
}

/// Reads the record that starts at the reader's position.
pub fn read_next(reader: &mut impl Read) -> io::Result<Next> {
	let mut header = [0u8; HEADER_LEN];
	match read_full(reader, &mut header)? {
		0 => return Ok(Next::End),
		HEADER_LEN => {},
		_ => return Ok(Next::Bad(CorruptReason::TruncatedHeader)),
	}
	let (checksum, len) = split_header(&header);
	if len as usize > MAX_BODY {
		// Never allocate what a damaged length claims.
		return Ok(Next::Bad(CorruptReason::TooLong { len: u64::from(len) }));
	}
	let mut body = vec![0u8; len as usize];
	if read_full(reader, &mut body)? < body.len() {
		return Ok(Next::Bad(CorruptReason::TruncatedRecord { len }));
	}
	if checksum_of(&header[8..], &body) != checksum {
		return Ok(Next::Bad(CorruptReason::Checksum));
	}
	Ok(Next::Record(body))
}

/// Checks a whole record read back from a known position and returns its body.
pub fn open(record: &[u8]) -> Result<&[u8], CorruptReason> {
	let Some((header, body)) = record.split_first_chunk::<HEADER_LEN>() else {
		return Err(CorruptReason::TruncatedHeader);
	};
	let (checksum, len) = split_header(header);
	if len as usize != body.len() {
		return Err(CorruptReason::TruncatedRecord { len });
	}
	if checksum_of(&header[8..], body) != checksum {
		return Err(CorruptReason::Checksum);
	}
	Ok(body)
}

fn split_header(header: &[u8; HEADER_LEN]) -> ([u8; 8], u32) {
	let mut checksum = [0u8; 8];
	checksum.copy_from_slice(&header[..8]);
	let mut len = [0u8; 4];
	len.copy_from_slice(&header[8..]);
	(checksum, u32::from_le_bytes(len))
}

fn checksum_of(len: &[u8], body: &[u8]) -> [u8; 8] {
	// twox_64 has no incremental form; records are read whole anyway, so one copy is cheap
	// next to the read.
	let mut covered = Vec::with_capacity(len.len() + body.len());
	covered.extend_from_slice(len);
	covered.extend_from_slice(body);
	twox_64(&covered)
}

/// Reads until `buf` is full or the input ends; returns how much it read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
	let mut filled = 0;
	while filled < buf.len() {
		match reader.read(&mut buf[filled..]) {
			Ok(0) => break,
			Ok(n) => filled += n,
			Err(error) if error.kind() == io::ErrorKind::Interrupted => {},
			Err(error) => return Err(error),
		}
	}
	Ok(filled)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn records_round_trip_and_damage_is_caught() {
		let record = frame(b"hello feed").unwrap();
		assert_eq!(open(&record).unwrap(), b"hello feed");
		let mut reader = &record[..];
		assert!(
			matches!(read_next(&mut reader).unwrap(), Next::Record(body) if body == b"hello feed")
		);
		assert!(matches!(read_next(&mut reader).unwrap(), Next::End));

		let mut flipped = record.clone();
		flipped[HEADER_LEN + 3] ^= 1;
		assert!(matches!(
			read_next(&mut &flipped[..]).unwrap(),
			Next::Bad(CorruptReason::Checksum)
		));
		assert_eq!(open(&flipped), Err(CorruptReason::Checksum));

		let half = &record[..record.len() - 4];
		assert!(matches!(
			read_next(&mut &half[..]).unwrap(),
			Next::Bad(CorruptReason::TruncatedRecord { len: 10 })
		));
		assert!(matches!(
			read_next(&mut &record[..5]).unwrap(),
			Next::Bad(CorruptReason::TruncatedHeader)
		));

		let mut huge = record;
		huge[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
		assert!(matches!(
			read_next(&mut &huge[..]).unwrap(),
			Next::Bad(CorruptReason::TooLong { len }) if len == u64::from(u32::MAX)
		));
	}
}
