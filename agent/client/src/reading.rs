//! The payload of a sensor reading in a feed entry, as the device agent writes it and `dt`
//! reads it: the reading as a decimal number in UTF-8 (`"251.5"`), in the feed's unit.
//!
//! Decimal text keeps the value exact: comparing it with the expected range from the
//! specification (fixed point, `10^-decimals` units) needs no floating point.

use dt_primitives::feed::ValueRange;

/// The schema a feed of decimal readings declares on chain.
pub const DECIMAL_READING_SCHEMA: &str = "text/vnd.dt.decimal-reading";

/// Why a payload is not a decimal reading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadingError {
	/// Not UTF-8 text of an optionally signed decimal number.
	#[error("the payload {0:?} is not a decimal number")]
	NotDecimal(String),
	/// More decimal places than the range's fixed point keeps.
	#[error("the reading {reading} has more than {decimals} decimal places")]
	TooPrecise { reading: String, decimals: u8 },
	/// Too large for 128-bit fixed point.
	#[error("the reading {0} is out of the representable range")]
	Overflow(String),
}

/// The payload for `value` (e.g. `"251.5"`).
pub fn encode_reading(value: &str) -> Result<Vec<u8>, ReadingError> {
	parse_decimal(value)?;
	Ok(value.as_bytes().to_vec())
}

/// The reading's text, checked to be a decimal number.
pub fn decode_reading(payload: &[u8]) -> Result<&str, ReadingError> {
	let text = std::str::from_utf8(payload)
		.map_err(|_| ReadingError::NotDecimal(String::from_utf8_lossy(payload).into_owned()))?;
	parse_decimal(text)?;
	Ok(text)
}

/// The reading in units of `10^-decimals` (`"251.5"`, 2 -> 25150).
pub fn to_fixed_point(reading: &str, decimals: u8) -> Result<i128, ReadingError> {
	let (negative, whole, fraction) = parse_decimal(reading)?;
	if fraction.len() > decimals as usize {
		// Trailing zeros beyond the precision change nothing.
		if fraction[decimals as usize..].bytes().any(|digit| digit != b'0') {
			return Err(ReadingError::TooPrecise { reading: reading.into(), decimals });
		}
	}
	let overflow = || ReadingError::Overflow(reading.into());
	let mut value: i128 = 0;
	let digits = whole
		.bytes()
		.chain(fraction.bytes().chain(std::iter::repeat(b'0')).take(decimals as usize));
	for digit in digits {
		value = value
			.checked_mul(10)
			.and_then(|v| v.checked_add((digit - b'0') as i128))
			.ok_or_else(overflow)?;
	}
	Ok(if negative { -value } else { value })
}

/// Whether a reading lies outside the expected range; a reading finer than the range's
/// precision is compared after scaling both up, so it is never misjudged.
pub fn outside(range: &ValueRange, reading: &str) -> Result<bool, ReadingError> {
	let (_, _, fraction) = parse_decimal(reading)?;
	let decimals = (fraction.len() as u8).max(range.decimals);
	let scale = 10i128
		.checked_pow((decimals - range.decimals) as u32)
		.ok_or_else(|| ReadingError::Overflow(reading.into()))?;
	let value = to_fixed_point(reading, decimals)?;
	let (min, max) = range
		.min
		.checked_mul(scale)
		.zip(range.max.checked_mul(scale))
		.ok_or_else(|| ReadingError::Overflow(reading.into()))?;
	Ok(value < min || value > max)
}

/// A fixed-point value as decimal text (25150, 2 -> `"251.50"`).
pub fn format_fixed_point(value: i128, decimals: u8) -> String {
	let digits = value.unsigned_abs().to_string();
	let decimals = decimals as usize;
	let padded = format!("{digits:0>width$}", width = decimals + 1);
	let (whole, fraction) = padded.split_at(padded.len() - decimals);
	let sign = if value < 0 { "-" } else { "" };
	if decimals == 0 {
		format!("{sign}{whole}")
	} else {
		format!("{sign}{whole}.{fraction}")
	}
}

/// (negative, whole digits, fraction digits) of `-?[0-9]+(\.[0-9]+)?`.
fn parse_decimal(text: &str) -> Result<(bool, &str, &str), ReadingError> {
	let not_decimal = || ReadingError::NotDecimal(text.into());
	let (negative, unsigned) = match text.strip_prefix('-') {
		Some(rest) => (true, rest),
		None => (false, text),
	};
	let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
	let all_digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
	if whole.is_empty()
		|| !all_digits(whole)
		|| !all_digits(fraction)
		|| (unsigned.contains('.') && fraction.is_empty())
	{
		return Err(not_decimal());
	}
	Ok((negative, whole, fraction))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn range(min: i128, max: i128, decimals: u8) -> ValueRange {
		ValueRange { min, max, decimals }
	}

	#[test]
	fn readings_round_trip_through_payloads() {
		for text in ["0", "251.5", "-3.25", "1000"] {
			assert_eq!(decode_reading(&encode_reading(text).unwrap()).unwrap(), text);
		}
		for bad in ["", "abc", "1.", ".5", "1e3", "+1", "1.2.3", " 1"] {
			assert!(encode_reading(bad).is_err(), "{bad:?}");
			assert!(decode_reading(bad.as_bytes()).is_err(), "{bad:?}");
		}
		assert!(decode_reading(&[0xff, 0x31]).is_err());
	}

	#[test]
	fn fixed_point_is_exact() {
		assert_eq!(to_fixed_point("251.5", 2), Ok(25150));
		assert_eq!(to_fixed_point("-0.05", 2), Ok(-5));
		assert_eq!(to_fixed_point("7", 0), Ok(7));
		assert_eq!(to_fixed_point("1.500", 1), Ok(15));
		assert!(matches!(to_fixed_point("1.55", 1), Err(ReadingError::TooPrecise { .. })));
		assert!(matches!(
			to_fixed_point("999999999999999999999999999999999999999999", 0),
			Err(ReadingError::Overflow(_))
		));
		assert_eq!(format_fixed_point(25150, 2), "251.50");
		assert_eq!(format_fixed_point(-5, 2), "-0.05");
		assert_eq!(format_fixed_point(7, 0), "7");
	}

	#[test]
	fn readings_outside_the_expected_range_are_flagged() {
		let fill_level = range(24000, 26000, 2); // 240.00 ..= 260.00 mm
		assert_eq!(outside(&fill_level, "251.5"), Ok(false));
		assert_eq!(outside(&fill_level, "240"), Ok(false));
		assert_eq!(outside(&fill_level, "260.00"), Ok(false));
		assert_eq!(outside(&fill_level, "260.001"), Ok(true));
		assert_eq!(outside(&fill_level, "239.999"), Ok(true));
		assert_eq!(outside(&fill_level, "-1"), Ok(true));
		assert!(outside(&fill_level, "lots").is_err());
	}
}
