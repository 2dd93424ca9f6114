//! Times as the chain and the feeds keep them (milliseconds since the Unix epoch) and as
//! people write them (RFC 3339 in UTC, `2026-11-26T09:30:00Z`).

use anyhow::{bail, Result};

const MS_PER_DAY: i64 = 86_400_000;

pub use dt_client::ledger::format_ms;

/// A time given on the command line: milliseconds since the Unix epoch (`1764149400000`),
/// RFC 3339 in UTC (`2026-11-26T09:30:00Z`, fractions of a second allowed) or `now`.
pub fn parse_time(text: &str) -> Result<u64> {
	if text == "now" {
		return Ok(now_ms());
	}
	if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
		return text.parse().map_err(|_| anyhow::anyhow!("the time {text} is too large"));
	}
	let bad = || {
		anyhow::anyhow!(
			"{text:?} is not a time: write milliseconds since the Unix epoch, `now`, or RFC 3339 \
			 in UTC such as 2026-11-26T09:30:00Z"
		)
	};
	let body = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')).ok_or_else(bad)?;
	let (date, time) = body.split_once(['T', 't', ' ']).ok_or_else(bad)?;
	let number = |part: &str, len: usize| -> Result<i64> {
		if part.len() != len || !part.bytes().all(|b| b.is_ascii_digit()) {
			return Err(bad());
		}
		Ok(part.parse().map_err(|_| bad())?)
	};
	let date: Vec<&str> = date.split('-').collect();
	let [year, month, day] = date[..] else { return Err(bad()) };
	let (year, month, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
	let (clock, fraction) = time.split_once('.').unwrap_or((time, ""));
	let clock: Vec<&str> = clock.split(':').collect();
	let [hour, minute, second] = clock[..] else { return Err(bad()) };
	let (hour, minute, second) = (number(hour, 2)?, number(minute, 2)?, number(second, 2)?);
	if !(1..=12).contains(&month)
		|| !(1..=31).contains(&day)
		|| hour > 23
		|| minute > 59
		|| second > 60
	{
		return Err(bad());
	}
	let millis = if fraction.is_empty() {
		0
	} else {
		if !fraction.bytes().all(|b| b.is_ascii_digit()) {
			return Err(bad());
		}
		format!("{fraction:0<3}")[..3].parse::<i64>().map_err(|_| bad())?
	};
	let ms = days_from_civil(year, month, day) * MS_PER_DAY
		+ ((hour * 60 + minute) * 60 + second) * 1000
		+ millis;
	if ms < 0 {
		bail!("{text} is before 1970; feeds hold no earlier readings");
	}
	Ok(ms as u64)
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
	std::time::SystemTime::now()
		.duration_since(std::time::UNIX_EPOCH)
		.map(|elapsed| elapsed.as_millis() as u64)
		.unwrap_or(0)
}

// Howard Hinnant's days <-> civil date algorithms (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
	let year = if month <= 2 { year - 1 } else { year };
	let era = year.div_euclid(400);
	let year_of_era = year - era * 400;
	let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
	let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
	era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn times_round_trip() {
		assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
		assert_eq!(parse_time("2026-11-26T09:30:00Z").unwrap(), 1_795_685_400_000);
		assert_eq!(format_ms(1_795_685_400_250), "2026-11-26T09:30:00.250Z");
		assert_eq!(parse_time("2026-11-26T09:30:00.25Z").unwrap(), 1_795_685_400_250);
		assert_eq!(parse_time("2024-02-29T23:59:59.999Z").unwrap(), 1_709_251_199_999);
		assert_eq!(format_ms(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
		assert_eq!(parse_time("1795685400000").unwrap(), 1_795_685_400_000);
		assert!(parse_time("now").unwrap() > 1_700_000_000_000);
		for bad in ["", "yesterday", "2026-11-26", "2026-13-01T00:00:00Z", "2026-11-26T09:30:00"] {
			let error = parse_time(bad).unwrap_err().to_string();
			assert!(error.contains("RFC 3339") || error.contains("1970"), "{bad}: {error}");
		}
	}
}
