//! `dt feed`: sensor feeds, registered on chain, their readings read from the node's
//! off-chain store, each flagged when it lies outside the range the chain expects.

use crate::feed_read::EntryView;
use crate::{
	chain, clock,
	feed_reader::{FeedReader, Party, Shown},
	keystore::Keystore,
	parse_account, unlock, Output, Signer,
};
use anyhow::{anyhow, bail, Result};
use clap::{ArgGroup, Args, Subcommand};
use dt_client::{reading, Client};
use dt_primitives::{
	access::{Confidentiality, TwinId},
	feed::{FeedId, ValueRange},
};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_dt_feeds::{FeedRecord, FeedRegistration, FeedStatus};
use serde_json::{json, Value};
use std::io::Write;

/// What `dt feed register` adds for a feed above Public: who encrypts it, and what that
/// needs from the writing device's node.
const ENCRYPTED_FEED_NOTE: &str = "\nits readings are encrypted by the device agent for the \
	accounts cleared to read them: the device's node must run the store network \
	(--store-listen), and readers pass --as to read it";

#[derive(Subcommand, Debug)]
pub enum FeedCommand {
	/// Registers a feed of decimal readings on an element of a twin.
	Register {
		twin: TwinId,
		/// The element of the sensor.
		element: String,
		/// The device account that writes the feed (SS58, key name or //Bob).
		#[arg(long)]
		owner: String,
		/// The unit of the readings, e.g. mm.
		#[arg(long, default_value = "")]
		unit: String,
		/// How often the sensor reports, in milliseconds.
		#[arg(long, value_name = "MS")]
		interval_ms: u32,
		/// The smallest expected reading (e.g. 240.00); needs --max.
		#[arg(long, requires = "max", allow_hyphen_values = true)]
		min: Option<String>,
		/// The largest expected reading (e.g. 260.00); needs --min.
		#[arg(long, requires = "min", allow_hyphen_values = true)]
		max: Option<String>,
		/// Decimal places of the readings (default: as many as --min and --max show).
		#[arg(long)]
		decimals: Option<u8>,
		/// public, internal, confidential or secret.
		#[arg(long, default_value = "internal")]
		confidentiality: String,
		#[command(flatten)]
		signer: Signer,
	},
	/// A twin's feeds, closed ones included.
	List { twin: TwinId },
	/// A feed's latest reading.
	Latest {
		feed: FeedId,
		#[command(flatten)]
		reader: FeedReaderArgs,
	},
	/// A feed's readings by sequence number (--from, --to exclusive) or by time (--since,
	/// --until exclusive: milliseconds, RFC 3339 UTC or `now`).
	#[command(group(ArgGroup::new("span").required(true).args(["from", "since"])))]
	Range {
		feed: FeedId,
		/// The first entry's sequence number.
		#[arg(long, value_name = "SEQ", requires = "to", conflicts_with_all = ["since", "until"])]
		from: Option<u64>,
		/// The sequence number after the last entry.
		#[arg(long, value_name = "SEQ", requires = "from")]
		to: Option<u64>,
		/// From this time on (ms since the Unix epoch, RFC 3339 UTC or `now`).
		#[arg(long, value_name = "TIME", requires = "until")]
		since: Option<String>,
		/// Up to this time, excluded.
		#[arg(long, value_name = "TIME", requires = "since")]
		until: Option<String>,
		#[command(flatten)]
		reader: FeedReaderArgs,
	},
	/// Prints a feed's new readings as they are stored, until Ctrl-C or --count readings.
	Follow {
		feed: FeedId,
		/// Stop after this many readings.
		#[arg(long)]
		count: Option<u64>,
		#[command(flatten)]
		reader: FeedReaderArgs,
	},
}

/// Where and as whom a feed's readings are read.
#[derive(Args, Debug)]
pub struct FeedReaderArgs {
	#[command(flatten)]
	pub store: StoreNode,
	/// The key (by name) to read as: needed for a feed above Public, whose reads the party
	/// signs and whose readings it decrypts.
	#[arg(long = "as", value_name = "KEY")]
	pub reader: Option<String>,
}

/// The node whose off-chain store holds the data, when it is not `--node`: the chain is
/// the same on every node, the store (until it replicates) only on the node written to.
#[derive(Args, Debug)]
pub struct StoreNode {
	/// The node whose off-chain store holds the entries and blocks (default: --node).
	#[arg(long, value_name = "URL", env = "DT_STORE")]
	pub store: Option<String>,
}

impl FeedReaderArgs {
	/// The party given with `--as`, unlocked.
	pub fn party(&self, keystore: &Keystore) -> Result<Option<Party>> {
		self.reader.as_deref().map(|name| Party::unlock(keystore, name)).transpose()
	}
}

impl StoreNode {
	/// Connects to the store's node, `node` by default.
	pub async fn connect(&self, node: &str) -> Result<Client> {
		match &self.store {
			None => chain::connect(node).await,
			Some(url) => Client::connect(url).await.map_err(|e| {
				anyhow!(
					"{e}
--store (or DT_STORE) names the node whose off-chain store to read"
				)
			}),
		}
	}
}

pub type Feed = FeedRecord<AccountId, BlockNumber>;

pub async fn feed_command(
	keystore: &Keystore,
	node: &str,
	command: FeedCommand,
	json: bool,
) -> Result<Output> {
	match command {
		FeedCommand::Register {
			twin,
			element,
			owner,
			unit,
			interval_ms,
			min,
			max,
			decimals,
			confidentiality,
			signer,
		} => {
			let owner = parse_account(keystore, &owner)?;
			let expected_range = match (min, max) {
				(Some(min), Some(max)) => Some(parse_range(&min, &max, decimals)?),
				_ => None,
			};
			let confidentiality = parse_level(&confidentiality)?;
			if interval_ms == 0 {
				bail!("--interval-ms must be at least 1");
			}
			let registration = FeedRegistration {
				owner: owner.clone(),
				schema: reading::DECIMAL_READING_SCHEMA.as_bytes().to_vec().try_into().map_err(
					|_| anyhow!("the chain takes no schema name as long as the decimal one"),
				)?,
				unit: unit
					.as_bytes()
					.to_vec()
					.try_into()
					.map_err(|_| anyhow!("the unit {unit:?} is longer than the chain allows"))?,
				nominal_interval_ms: interval_ms,
				expected_range,
				confidentiality,
			};
			let element_id = element
				.as_bytes()
				.to_vec()
				.try_into()
				.map_err(|_| anyhow!("the element id {element:?} is too long"))?;
			let pair = unlock(keystore, &signer)?;
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let call = RuntimeCall::Feeds(pallet_dt_feeds::Call::register_feed {
				twin,
				element: element_id,
				registration,
			});
			let finalized = chain::submit(&client, &pair, call, "register the feed").await?;
			let feed = finalized
				.events
				.iter()
				.find_map(|event| match event {
					RuntimeEvent::Feeds(pallet_dt_feeds::Event::FeedRegistered {
						feed, ..
					}) => Some(*feed),
					_ => None,
				})
				.ok_or_else(|| anyhow!("the chain did not report the new feed"))?;
			let encrypted = confidentiality != Confidentiality::Public;
			Ok(Output {
				text: format!(
					"registered feed {feed} on {element} of twin {twin}, written by {owner}{}{}",
					expected_range
						.map(|range| format!(", expected {}", range_text(&range, &unit)))
						.unwrap_or_default(),
					if encrypted { ENCRYPTED_FEED_NOTE } else { "" }
				),
				json: json!({ "feed": feed, "twin": twin, "element": element, "owner": owner.to_string(), "block": finalized.block, "encrypted": encrypted }),
			})
		},
		FeedCommand::List { twin } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let feeds: Vec<Feed> = client
				.runtime_api("FeedsApi_feeds_of_twin", (twin, None::<AccountId>), None)
				.await?;
			let text = if feeds.is_empty() {
				format!("twin {twin} has no feeds (register one with `dt feed register`)")
			} else {
				feeds.iter().map(feed_text).collect::<Vec<_>>().join("\n")
			};
			Ok(Output {
				text,
				json: json!({ "twin": twin, "feeds": feeds.iter().map(feed_json).collect::<Vec<_>>() }),
			})
		},
		FeedCommand::Latest { feed, reader } => {
			let client = chain::connect(node).await?;
			let record = feed_record(&client, feed).await?;
			let party = reader.party(keystore)?;
			let store = reader.store.connect(node).await?;
			let mut reader =
				FeedReader::new(&client, &store, &record, party.as_ref(), false).await?;
			Ok(match reader.latest().await? {
				None => Output {
					text: format!("feed {feed} has no readings yet"),
					json: json!({ "feed": feed, "entry": null }),
				},
				Some(shown) => {
					let reading = Reading::of(&shown, &record);
					Output { text: reading.line(), json: reading.json() }
				},
			})
		},
		FeedCommand::Range { feed, from, to, since, until, reader } => {
			let client = chain::connect(node).await?;
			let record = feed_record(&client, feed).await?;
			let party = reader.party(keystore)?;
			let store = reader.store.connect(node).await?;
			let mut reader =
				FeedReader::new(&client, &store, &record, party.as_ref(), true).await?;
			let entries = match (from, to, since, until) {
				(Some(from), Some(to), _, _) => reader.range(from, to).await?,
				(_, _, Some(since), Some(until)) => {
					let (since, until) = (clock::parse_time(&since)?, clock::parse_time(&until)?);
					reader.range_by_time(since, until).await?
				},
				_ => bail!("give --from SEQ --to SEQ or --since TIME --until TIME"),
			};
			let readings: Vec<Reading> =
				entries.iter().map(|shown| Reading::of(shown, &record)).collect();
			let outside = readings.iter().filter(|r| r.outside == Some(true)).count();
			let mut text = readings.iter().map(Reading::line).collect::<Vec<_>>().join("\n");
			if readings.is_empty() {
				text = format!("feed {feed} has no readings in that span");
			} else if outside > 0 {
				text.push_str(&format!(
					"\n{outside} of {} readings outside the expected range",
					readings.len()
				));
			}
			Ok(Output {
				text,
				json: json!({
					"feed": feed,
					"expected_range": record.expected_range.map(|r| range_json(&r)),
					"entries": readings.iter().map(Reading::json).collect::<Vec<_>>(),
					"outside_range": outside,
				}),
			})
		},
		FeedCommand::Follow { feed, count, reader } => {
			let client = chain::connect(node).await?;
			let record = feed_record(&client, feed).await?;
			let party = reader.party(keystore)?;
			let store = reader.store.connect(node).await?;
			let mut reader =
				FeedReader::new(&client, &store, &record, party.as_ref(), false).await?;
			let mut subscription = reader.subscribe().await?;
			// On standard error, so that it never mixes with the readings.
			eprintln!("following feed {feed} (Ctrl-C to stop)");
			let mut seen = 0u64;
			while count.is_none_or(|count| seen < count) {
				let item = subscription
					.next()
					.await
					.ok_or_else(|| anyhow!("the node closed the subscription to feed {feed}"))?
					.map_err(|e| anyhow!("the subscription to feed {feed} failed: {e}"))?;
				if let Some(lag) = item.get("lagged") {
					bail!(
						"fell behind feed {feed}: read the missed readings with `dt feed range {feed} \
						 --from {} --to {}`, then follow again",
						lag["resumeFrom"],
						lag["liveFrom"]
					);
				}
				let entry: EntryView = serde_json::from_value(item)
					.map_err(|e| anyhow!("the node sent a feed entry that does not decode: {e}"))?;
				let shown = reader.follow_item(entry).await?;
				let reading = Reading::of(&shown, &record);
				let mut stdout = std::io::stdout().lock();
				if json {
					writeln!(stdout, "{}", reading.json())?;
				} else {
					writeln!(stdout, "{}", reading.line())?;
				}
				stdout.flush()?;
				seen += 1;
			}
			Ok(Output { text: String::new(), json: Value::Null })
		},
	}
}

/// The feed's record on chain, or an error saying how to find feeds.
pub async fn feed_record(client: &Client, feed: FeedId) -> Result<Feed> {
	client
		.runtime_api::<Option<Feed>>("FeedsApi_feed", feed, None)
		.await?
		.ok_or_else(|| {
			anyhow!("feed {feed} does not exist (`dt feed list TWIN` shows a twin's feeds)")
		})
}

/// A reading as shown: the decoded payload and whether it lies outside the expected range.
pub struct Reading<'a> {
	entry: &'a EntryView,
	/// The reading's text, or why it has none.
	value: Result<String, String>,
	unit: String,
	range: Option<ValueRange>,
	pub outside: Option<bool>,
}

impl<'a> Reading<'a> {
	pub fn of(shown: &'a Shown, feed: &Feed) -> Reading<'a> {
		let entry = &shown.entry;
		let unit = String::from_utf8_lossy(&feed.unit).into_owned();
		let value = shown.reading.clone().and_then(|bytes| {
			reading::decode_reading(&bytes)
				.map(str::to_owned)
				.map_err(|_| format!("payload 0x{}", hex::encode(&bytes)))
		});
		let outside = match (&value, &feed.expected_range) {
			(Ok(text), Some(range)) => reading::outside(range, text).ok(),
			_ => None,
		};
		Reading { entry, value, unit, range: feed.expected_range, outside }
	}

	pub fn line(&self) -> String {
		let value = match &self.value {
			Ok(text) if self.unit.is_empty() => text.clone(),
			Ok(text) => format!("{text} {}", self.unit),
			Err(reason) => format!("({reason})"),
		};
		let flag = match (self.outside, &self.range) {
			(Some(true), Some(range)) => {
				format!("  ! outside {}", range_text(range, &self.unit))
			},
			_ => String::new(),
		};
		format!(
			"{} {:>8}  {}  {value}{flag}",
			if self.outside == Some(true) { "!" } else { " " },
			self.entry.sequence,
			clock::format_ms(self.entry.timestamp)
		)
	}

	pub fn json(&self) -> Value {
		json!({
			"feed": self.entry.feed,
			"sequence": self.entry.sequence,
			"timestamp": self.entry.timestamp,
			"time": clock::format_ms(self.entry.timestamp),
			"hash": self.entry.hash,
			"value": self.value.as_ref().ok(),
			"unit": self.unit,
			"outside_range": self.outside,
		})
	}
}

/// `--min`/`--max` as the chain's fixed point, with as many decimals as either shows.
fn parse_range(min: &str, max: &str, decimals: Option<u8>) -> Result<ValueRange> {
	let places = |text: &str| text.split_once('.').map_or(0, |(_, fraction)| fraction.len());
	let decimals = match decimals {
		Some(decimals) => decimals,
		None => u8::try_from(places(min).max(places(max)))
			.map_err(|_| anyhow!("--min and --max have too many decimal places"))?,
	};
	let fixed = |flag: &str, text: &str| {
		reading::to_fixed_point(text, decimals).map_err(|e| anyhow!("{flag} {text}: {e}"))
	};
	let range = ValueRange { min: fixed("--min", min)?, max: fixed("--max", max)?, decimals };
	range.check().map_err(|e| match e {
		dt_primitives::feed::ValueRangeError::MinAboveMax => {
			anyhow!("--min {min} is above --max {max}")
		},
		dt_primitives::feed::ValueRangeError::TooManyDecimals => {
			anyhow!("more than {} decimal places", dt_primitives::program::MAX_DECIMALS)
		},
	})?;
	Ok(range)
}

pub fn parse_level(text: &str) -> Result<Confidentiality> {
	Ok(match text.to_ascii_lowercase().as_str() {
		"public" => Confidentiality::Public,
		"internal" => Confidentiality::Internal,
		"confidential" => Confidentiality::Confidential,
		"secret" => Confidentiality::Secret,
		_ => {
			bail!("unknown confidentiality {text:?}: use public, internal, confidential or secret")
		},
	})
}

/// `240.00..260.00 mm`.
pub fn range_text(range: &ValueRange, unit: &str) -> String {
	let text = format!(
		"{}..{}",
		reading::format_fixed_point(range.min, range.decimals),
		reading::format_fixed_point(range.max, range.decimals)
	);
	if unit.is_empty() {
		text
	} else {
		format!("{text} {unit}")
	}
}

fn range_json(range: &ValueRange) -> Value {
	json!({
		"min": reading::format_fixed_point(range.min, range.decimals),
		"max": reading::format_fixed_point(range.max, range.decimals),
	})
}

fn status_text(status: &FeedStatus<AccountId, BlockNumber>) -> String {
	match status {
		FeedStatus::Active => "active".into(),
		FeedStatus::Closed { at, replaced_by: Some(next), .. } => {
			format!("closed in block {at}, replaced by feed {next}")
		},
		FeedStatus::Closed { at, .. } => format!("closed in block {at}"),
	}
}

fn feed_text(feed: &Feed) -> String {
	let unit = String::from_utf8_lossy(&feed.unit);
	format!(
		"feed {} on {}: {}, every {} ms{}, {}, owner {}, {} checkpoints{}",
		feed.id,
		String::from_utf8_lossy(&feed.element),
		if unit.is_empty() { "no unit".into() } else { unit.to_string() },
		feed.nominal_interval_ms,
		feed.expected_range
			.map(|range| format!(", expected {}", range_text(&range, &unit)))
			.unwrap_or_default(),
		status_text(&feed.status),
		feed.owner,
		feed.checkpoint_count,
		feed.latest_checkpoint
			.as_ref()
			.map(|c| format!(" (latest at entry {})", c.checkpoint.sequence))
			.unwrap_or_default()
	)
}

fn feed_json(feed: &Feed) -> Value {
	json!({
		"feed": feed.id,
		"twin": feed.twin,
		"element": String::from_utf8_lossy(&feed.element),
		"owner": feed.owner.to_string(),
		"schema": String::from_utf8_lossy(&feed.schema),
		"unit": String::from_utf8_lossy(&feed.unit),
		"interval_ms": feed.nominal_interval_ms,
		"expected_range": feed.expected_range.map(|r| range_json(&r)),
		"confidentiality": format!("{:?}", feed.confidentiality).to_lowercase(),
		"registered_by": feed.registered_by.to_string(),
		"registered_at": feed.registered_at,
		"active": matches!(feed.status, FeedStatus::Active),
		"status": status_text(&feed.status),
		"checkpoints": feed.checkpoint_count,
		"latest_checkpoint": feed.latest_checkpoint.as_ref().map(|c| json!({
			"sequence": c.checkpoint.sequence,
			"entry_hash": dt_client::hex_string(&c.checkpoint.entry_hash),
			"timestamp": c.checkpoint.timestamp,
			"anchored_at": c.anchored_at,
		})),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn ranges_take_the_decimals_they_show() {
		let range = parse_range("240.00", "260", None).unwrap();
		assert_eq!(range, ValueRange { min: 24000, max: 26000, decimals: 2 });
		assert_eq!(range_text(&range, "mm"), "240.00..260.00 mm");
		assert_eq!(parse_range("-5", "5", Some(1)).unwrap().min, -50);
		assert!(parse_range("260", "240", None).unwrap_err().to_string().contains("above --max"));
		assert!(parse_range("1.25", "2", Some(1))
			.unwrap_err()
			.to_string()
			.contains("--min 1.25"));
		assert!(parse_range("x", "2", None).is_err());
		assert!(parse_level("Secret").is_ok() && parse_level("top").is_err());
	}
}
