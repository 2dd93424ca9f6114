//! # dt-twin-index
//!
//! The database of dt-node's twin index: an embedded SQLite file under the node's base path
//! (a crate of its own so that its benchmark builds without the node).
//!
//! Three tables hold what the index answers from: `changes` (every event of a finalized
//! block that concerns a twin, told as `dt_client::ledger` tells it), `twins` and `elements`
//! (the current twins and elements of every specification, for search). `meta` keeps the
//! last indexed block and the block from which the trails are complete. A block is written
//! in one transaction together with the new 'last indexed block', so a crash leaves either
//! the whole block or none of it, and the follower resumes right after what is stored.
//!
//! The store knows nothing of the chain: the node's follower (`node/src/twin_index/follow.rs`)
//! hands it blocks, its RPC methods (`node/src/twin_index/rpc.rs`) ask it queries, and the
//! unit tests and the benchmark ([`bench`]) drive it directly.

pub mod bench;

use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};
use std::{
	path::{Path, PathBuf},
	sync::{Mutex, MutexGuard, PoisonError},
};

const LOG_TARGET: &str = "dt-node";

/// The longest element id the chain accepts (`dt_primitives::access::MAX_ELEMENT_ID_LEN`).
const MAX_ELEMENT_ID_LEN: usize = 256;

/// Bumped when the tables change shape; an index of another version is rebuilt.
const SCHEMA_VERSION: i64 = 1;

/// The most rows one query returns.
pub const MAX_LIMIT: u32 = 1000;
/// The longest search text, in bytes.
pub const MAX_QUERY_LEN: usize = 256;
/// The most event names one trail query filters by.
pub const MAX_EVENT_FILTERS: usize = 64;

/// Why the index could not be opened, written or read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
	#[error(
		"the twin index {path} cannot be read ({reason}). Stop the node, move or delete the \
		 file (and its -wal and -shm files); the node rebuilds the index from the chain at its \
		 next start"
	)]
	Unreadable { path: PathBuf, reason: String },
	#[error("the twin index {path} belongs to chain {found}, not to this node's chain {expected}")]
	OtherChain { path: PathBuf, found: String, expected: String },
	#[error("twin index database error: {0}")]
	Sqlite(#[from] rusqlite::Error),
	#[error("block #{number} does not follow the last indexed block #{last}")]
	OutOfOrder { number: u32, last: u32 },
	#[error("invalid {parameter}: {reason}")]
	InvalidParameter { parameter: &'static str, reason: String },
}

/// One event of a block that concerns a twin, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
	pub twin: u32,
	/// The event's position among the block's events.
	pub event_index: u32,
	pub time_ms: Option<u64>,
	/// SS58 address of the signer; `None` for the runtime itself.
	pub who: Option<String>,
	/// `pallet.Event`.
	pub event: String,
	pub summary: String,
	/// The event's fields, JSON.
	pub detail: String,
}

/// A stored change with its block, as a trail page gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChange {
	pub block: u32,
	pub hash: [u8; 32],
	pub row: ChangeRow,
}

/// A twin, as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinRow {
	pub id: u32,
	pub creator: String,
	pub created_block: u32,
}

/// An element of a twin's specification, as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ElementRow {
	pub twin: u32,
	pub id: String,
	pub parent: Option<String>,
	/// The element's XML name, e.g. `InternalElement`.
	pub tag: String,
	/// Its `Name` attribute, if any.
	pub name: Option<String>,
	/// Its own confidentiality level (0 public .. 3 secret).
	pub confidentiality: u8,
	/// The block of its last change.
	pub changed_block: u32,
}

/// A found element with the level a reader needs to see it: the highest of its own and its
/// ancestors' (the runtime leaves an element out with its subtree for a reader not cleared
/// for it).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundElement {
	pub element: ElementRow,
	pub path_level: u8,
}

/// A change of the element tables, applied in order within a block.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementOp {
	/// A twin was created (or first seen).
	Twin(TwinRow),
	/// Forget every element of the twin (before it is read again whole).
	ClearTwin(u32),
	/// Insert or update one element.
	Put(ElementRow),
	/// Remove an element with its subtree.
	RemoveSubtree { twin: u32, id: String },
}

/// What one finalized block adds to the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BlockWrite {
	pub number: u32,
	pub hash: [u8; 32],
	pub changes: Vec<ChangeRow>,
	pub element_ops: Vec<ElementOp>,
}

/// Where the index stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
	/// The last block written; `None` for an empty index.
	pub last: Option<(u32, [u8; 32])>,
	/// Trails are complete from this block on; earlier events may be missing (the node
	/// lacked their state when it built the index).
	pub complete_from: u32,
}

/// A page position: the (block, event index) or (twin, element) of the last row returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
	Change { block: u32, event_index: u32 },
	Twin(u32),
	Element { twin: u32, id: String },
}

impl Cursor {
	/// As clients pass it back: `c:BLOCK:INDEX`, `t:TWIN`, `e:TWIN:ELEMENT`.
	pub fn encode(&self) -> String {
		match self {
			Cursor::Change { block, event_index } => format!("c:{block}:{event_index}"),
			Cursor::Twin(twin) => format!("t:{twin}"),
			Cursor::Element { twin, id } => format!("e:{twin}:{id}"),
		}
	}

	/// Reads a cursor of the `kind` ('c', 't' or 'e') a method pages with.
	pub fn decode(text: &str, kind: char) -> Result<Cursor, IndexError> {
		let bad = |reason: &str| IndexError::InvalidParameter {
			parameter: "cursor",
			reason: format!(
				"{reason}: pass back the nextCursor of the previous page unchanged ({:?})",
				text.chars().take(40).collect::<String>()
			),
		};
		if text.len() > 16 + MAX_ELEMENT_ID_LEN {
			return Err(bad("too long"));
		}
		let mut parts = text.splitn(3, ':');
		let (Some(tag), first) = (parts.next(), parts.next()) else { return Err(bad("empty")) };
		let number = |part: Option<&str>| -> Result<u32, IndexError> {
			part.and_then(|p| p.parse().ok()).ok_or_else(|| bad("not a cursor"))
		};
		let cursor = match (tag, kind) {
			("c", 'c') => {
				Cursor::Change { block: number(first)?, event_index: number(parts.next())? }
			},
			("t", 't') => {
				let twin = number(first)?;
				if parts.next().is_some() {
					return Err(bad("not a cursor"));
				}
				Cursor::Twin(twin)
			},
			("e", 'e') => Cursor::Element {
				twin: number(first)?,
				id: parts.next().ok_or_else(|| bad("not a cursor"))?.to_string(),
			},
			_ => return Err(bad("not a cursor of this method")),
		};
		Ok(cursor)
	}
}

/// Which changes of a twin a trail page holds.
#[derive(Debug, Clone, Default)]
pub struct TrailQuery {
	pub twin: u32,
	pub from_block: Option<u32>,
	pub to_block: Option<u32>,
	/// `pallet.Event` names; empty for all.
	pub events: Vec<String>,
	/// SS58 address of the signer.
	pub who: Option<String>,
	pub after: Option<(u32, u32)>,
	pub limit: u32,
}

/// The index database. Writes go through one connection (the follower's), reads through
/// another, so that RPC answers never wait for a block being written (WAL mode).
pub struct IndexStore {
	path: PathBuf,
	writer: Mutex<Connection>,
	reader: Mutex<Connection>,
}

fn lock(connection: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
	connection.lock().unwrap_or_else(PoisonError::into_inner)
}

const SCHEMA: &str = "
	CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
	CREATE TABLE IF NOT EXISTS changes (
		twin INTEGER NOT NULL,
		block INTEGER NOT NULL,
		event_index INTEGER NOT NULL,
		hash BLOB NOT NULL,
		time_ms INTEGER,
		who TEXT,
		event TEXT NOT NULL,
		summary TEXT NOT NULL,
		detail TEXT NOT NULL,
		PRIMARY KEY (twin, block, event_index)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS changes_by_event ON changes (twin, event, block, event_index);
	CREATE INDEX IF NOT EXISTS changes_by_who ON changes (twin, who, block, event_index);
	CREATE TABLE IF NOT EXISTS twins (
		id INTEGER PRIMARY KEY,
		creator TEXT NOT NULL,
		created_block INTEGER NOT NULL
	);
	CREATE TABLE IF NOT EXISTS elements (
		twin INTEGER NOT NULL,
		id TEXT NOT NULL,
		parent TEXT,
		tag TEXT NOT NULL,
		name TEXT,
		confidentiality INTEGER NOT NULL,
		path_level INTEGER NOT NULL DEFAULT 0,
		changed_block INTEGER NOT NULL,
		search TEXT NOT NULL,
		PRIMARY KEY (twin, id)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS elements_by_parent ON elements (twin, parent);
";

impl IndexStore {
	/// Opens (or creates) the index at `path` for the chain with `genesis`. An index of
	/// another schema version is emptied (and so rebuilt); one of another chain, or a file
	/// that is not a readable SQLite database, is an error naming the file.
	pub fn open(path: &Path, genesis: [u8; 32]) -> Result<IndexStore, IndexError> {
		let unreadable = |e: rusqlite::Error| IndexError::Unreadable {
			path: path.into(),
			reason: e.to_string(),
		};
		if let Some(dir) = path.parent() {
			std::fs::create_dir_all(dir).map_err(|e| IndexError::Unreadable {
				path: path.into(),
				reason: format!("cannot create {}: {e}", dir.display()),
			})?;
		}
		let writer = Connection::open(path).map_err(unreadable)?;
		writer
			.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
			.and_then(|()| writer.execute_batch(SCHEMA))
			.map_err(unreadable)?;
		let version: Option<i64> = meta(&writer, "schema_version").map_err(unreadable)?;
		let stored_genesis: Option<Vec<u8>> = meta(&writer, "genesis").map_err(unreadable)?;
		match stored_genesis {
			Some(stored) if stored != genesis => {
				return Err(IndexError::OtherChain {
					path: path.into(),
					found: format!("0x{}", hex::encode(stored)),
					expected: format!("0x{}", hex::encode(genesis)),
				})
			},
			_ => {},
		}
		if version.is_some_and(|version| version != SCHEMA_VERSION) {
			log::warn!(
				target: LOG_TARGET,
				"the twin index {} has schema version {version:?}, this node writes {SCHEMA_VERSION}: rebuilding it",
				path.display()
			);
			writer
				.execute_batch("DELETE FROM changes; DELETE FROM twins; DELETE FROM elements; DELETE FROM meta;")
				.map_err(unreadable)?;
		}
		set_meta(&writer, "schema_version", SCHEMA_VERSION).map_err(unreadable)?;
		set_meta(&writer, "genesis", genesis.to_vec()).map_err(unreadable)?;
		let reader = Connection::open_with_flags(
			path,
			OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
		)
		.map_err(unreadable)?;
		// Integrity of the tables the answers come from; a damaged file is caught at start,
		// not in the middle of an answer.
		let check: String = reader
			.query_row("PRAGMA quick_check", [], |row| row.get(0))
			.map_err(unreadable)?;
		if check != "ok" {
			return Err(IndexError::Unreadable { path: path.into(), reason: check });
		}
		Ok(IndexStore { path: path.into(), writer: Mutex::new(writer), reader: Mutex::new(reader) })
	}

	pub fn path(&self) -> &Path {
		&self.path
	}

	/// The last indexed block and where trails are complete from.
	pub fn progress(&self) -> Result<Progress, IndexError> {
		progress(&lock(&self.reader))
	}

	/// Starts the index at block `number` (an empty index, or one whose next block's state
	/// is gone): everything is cleared, trails count as complete from `number` on, and
	/// `seed` (the twins and elements in the state of that block) is written with it as the
	/// last indexed block. The block's own events are then written by
	/// [`IndexStore::write_block`] as `seed.changes`.
	pub fn start_at(&self, seed: &BlockWrite) -> Result<(), IndexError> {
		let mut connection = lock(&self.writer);
		let tx = connection.transaction()?;
		tx.execute_batch("DELETE FROM changes; DELETE FROM twins; DELETE FROM elements;")?;
		set_meta(&tx, "complete_from", i64::from(seed.number))?;
		write(&tx, seed)?;
		tx.commit()?;
		Ok(())
	}

	/// Adds block `block.number`, which must follow the last indexed block, in one
	/// transaction; on any error nothing of it is stored.
	pub fn write_block(&self, block: &BlockWrite) -> Result<(), IndexError> {
		let mut connection = lock(&self.writer);
		let tx = connection.transaction()?;
		if let Some((last, _)) = progress(&tx)?.last {
			if block.number != last + 1 {
				return Err(IndexError::OutOfOrder { number: block.number, last });
			}
		}
		write(&tx, block)?;
		tx.commit()?;
		Ok(())
	}

	/// A page of a twin's trail, oldest first, and whether more follow.
	pub fn trail(&self, query: &TrailQuery) -> Result<(Vec<StoredChange>, bool), IndexError> {
		check_limit(query.limit)?;
		if query.events.len() > MAX_EVENT_FILTERS {
			return Err(IndexError::InvalidParameter {
				parameter: "events",
				reason: format!("{} event names, at most {MAX_EVENT_FILTERS}", query.events.len()),
			});
		}
		let mut sql = String::from(
			"SELECT block, event_index, hash, time_ms, who, event, summary, detail FROM changes \
			 WHERE twin = ?",
		);
		let mut values: Vec<rusqlite::types::Value> = vec![i64::from(query.twin).into()];
		if let Some(from) = query.from_block {
			sql.push_str(" AND block >= ?");
			values.push(i64::from(from).into());
		}
		if let Some(to) = query.to_block {
			sql.push_str(" AND block <= ?");
			values.push(i64::from(to).into());
		}
		if let Some((block, index)) = query.after {
			sql.push_str(" AND (block, event_index) > (?, ?)");
			values.push(i64::from(block).into());
			values.push(i64::from(index).into());
		}
		if !query.events.is_empty() {
			sql.push_str(" AND event IN (");
			sql.push_str(&vec!["?"; query.events.len()].join(", "));
			sql.push(')');
			values.extend(query.events.iter().map(|event| event.clone().into()));
		}
		if let Some(who) = &query.who {
			sql.push_str(" AND who = ?");
			values.push(who.clone().into());
		}
		sql.push_str(" ORDER BY block, event_index LIMIT ?");
		values.push(i64::from(query.limit + 1).into());
		let connection = lock(&self.reader);
		let mut statement = connection.prepare_cached(&sql)?;
		let mut rows = statement
			.query_map(params_from_iter(values), |row| {
				let hash: Vec<u8> = row.get(2)?;
				Ok(StoredChange {
					block: row.get(0)?,
					hash: hash.try_into().unwrap_or_default(),
					row: ChangeRow {
						twin: query.twin,
						event_index: row.get(1)?,
						time_ms: row.get::<_, Option<i64>>(3)?.map(|t| t as u64),
						who: row.get(4)?,
						event: row.get(5)?,
						summary: row.get(6)?,
						detail: row.get(7)?,
					},
				})
			})?
			.collect::<Result<Vec<_>, _>>()?;
		let more = rows.len() > query.limit as usize;
		rows.truncate(query.limit as usize);
		Ok((rows, more))
	}

	/// A twin as the index knows it.
	pub fn twin(&self, twin: u32) -> Result<Option<TwinRow>, IndexError> {
		Ok(lock(&self.reader)
			.query_row("SELECT id, creator, created_block FROM twins WHERE id = ?", [twin], |row| {
				Ok(TwinRow { id: row.get(0)?, creator: row.get(1)?, created_block: row.get(2)? })
			})
			.optional()?)
	}

	/// Twins whose id, creator or root element (id or name) contains `query`
	/// (case-insensitive; an empty query matches every twin), by id, after `after`; with the
	/// root's id and name, and whether more follow.
	#[allow(clippy::type_complexity)]
	pub fn search_twins(
		&self,
		query: &str,
		after: Option<u32>,
		limit: u32,
	) -> Result<(Vec<(TwinRow, Option<String>, Option<String>)>, bool), IndexError> {
		check_limit(limit)?;
		let needle = needle(query)?;
		let connection = lock(&self.reader);
		let mut statement = connection.prepare_cached(
			"SELECT t.id, t.creator, t.created_block, r.id, r.name FROM twins t \
			 LEFT JOIN elements r INDEXED BY elements_by_parent ON r.twin = t.id AND r.parent IS NULL \
			 WHERE t.id > ?1 AND (?2 = '' OR instr(CAST(t.id AS TEXT), ?2) > 0 \
			   OR instr(lower(t.creator), ?2) > 0 OR instr(r.search, ?2) > 0) \
			 ORDER BY t.id LIMIT ?3",
		)?;
		let mut rows = statement
			.query_map(params![after.map_or(-1, i64::from), needle, i64::from(limit) + 1], |row| {
				Ok((
					TwinRow { id: row.get(0)?, creator: row.get(1)?, created_block: row.get(2)? },
					row.get(3)?,
					row.get(4)?,
				))
			})?
			.collect::<Result<Vec<_>, _>>()?;
		let more = rows.len() > limit as usize;
		rows.truncate(limit as usize);
		Ok((rows, more))
	}

	/// Elements whose id or name contains `query` (case-insensitive, at least one
	/// character), of `twin` or of every twin, ordered by (twin, id), after `after`. With
	/// `clearance`, a twin's elements are found only up to the level the reader is cleared
	/// for (by the twin: `None` for a twin it may not read at all).
	pub fn search_elements(
		&self,
		query: &str,
		twin: Option<u32>,
		clearance: Option<&dyn Fn(u32) -> Option<u8>>,
		after: Option<(u32, String)>,
		limit: u32,
	) -> Result<(Vec<FoundElement>, bool), IndexError> {
		check_limit(limit)?;
		let needle = needle(query)?;
		if needle.is_empty() {
			return Err(IndexError::InvalidParameter {
				parameter: "query",
				reason: "empty: give at least one character of an element's id or name".into(),
			});
		}
		let connection = lock(&self.reader);
		let (after_twin, after_id) = after.unwrap_or((0, String::new()));
		let mut sql = String::from(
			"SELECT twin, id, parent, tag, name, confidentiality, changed_block, path_level \
			 FROM elements WHERE (twin, id) > (?1, ?2) AND instr(search, ?3) > 0",
		);
		let mut values: Vec<rusqlite::types::Value> =
			vec![i64::from(after_twin).into(), after_id.into(), needle.into()];
		if let Some(twin) = twin {
			sql.push_str(" AND twin = ?4");
			values.push(i64::from(twin).into());
		}
		if let Some(clearance) = clearance {
			// One condition per twin the reader may read; the levels are numbers this node
			// computed, never client text.
			let twins: Vec<u32> = match twin {
				Some(twin) => vec![twin],
				None => connection
					.prepare_cached("SELECT id FROM twins ORDER BY id")?
					.query_map([], |row| row.get(0))?
					.collect::<Result<_, _>>()?,
			};
			let allowed: Vec<String> = twins
				.into_iter()
				.filter_map(|twin| {
					clearance(twin)
						.map(|level| format!("(twin = {twin} AND path_level <= {level})"))
				})
				.collect();
			if allowed.is_empty() {
				return Ok((Vec::new(), false));
			}
			sql.push_str(&format!(" AND ({})", allowed.join(" OR ")));
		}
		sql.push_str(&format!(" ORDER BY twin, id LIMIT {}", limit + 1));
		let mut statement = connection.prepare(&sql)?;
		let mut rows = statement
			.query_map(params_from_iter(values), |row| {
				Ok(FoundElement {
					element: ElementRow {
						twin: row.get(0)?,
						id: row.get(1)?,
						parent: row.get(2)?,
						tag: row.get(3)?,
						name: row.get(4)?,
						confidentiality: row.get(5)?,
						changed_block: row.get(6)?,
					},
					path_level: row.get(7)?,
				})
			})?
			.collect::<Result<Vec<_>, _>>()?;
		let more = rows.len() > limit as usize;
		rows.truncate(limit as usize);
		Ok((rows, more))
	}

	/// How many elements the index holds (for logs and the benchmark).
	pub fn element_count(&self) -> Result<u64, IndexError> {
		let count: i64 =
			lock(&self.reader).query_row("SELECT count(*) FROM elements", [], |row| row.get(0))?;
		Ok(count as u64)
	}
}

fn check_limit(limit: u32) -> Result<(), IndexError> {
	if limit == 0 || limit > MAX_LIMIT {
		return Err(IndexError::InvalidParameter {
			parameter: "limit",
			reason: format!("{limit}: give 1 to {MAX_LIMIT}"),
		});
	}
	Ok(())
}

/// The search text, lower-cased, checked for length.
fn needle(query: &str) -> Result<String, IndexError> {
	if query.len() > MAX_QUERY_LEN {
		return Err(IndexError::InvalidParameter {
			parameter: "query",
			reason: format!("{} bytes long, at most {MAX_QUERY_LEN}", query.len()),
		});
	}
	Ok(query.to_lowercase())
}

fn meta<T: rusqlite::types::FromSql>(
	connection: &Connection,
	key: &str,
) -> rusqlite::Result<Option<T>> {
	connection
		.query_row("SELECT value FROM meta WHERE key = ?", [key], |row| row.get(0))
		.optional()
}

fn set_meta<T: rusqlite::ToSql>(
	connection: &Connection,
	key: &str,
	value: T,
) -> rusqlite::Result<()> {
	connection
		.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", params![key, value])
		.map(drop)
}

fn progress(connection: &Connection) -> Result<Progress, IndexError> {
	let number: Option<u32> = meta(connection, "last_number")?;
	let hash: Option<Vec<u8>> = meta(connection, "last_hash")?;
	let last = match (number, hash) {
		(Some(number), Some(hash)) => Some((number, hash.try_into().unwrap_or_default())),
		_ => None,
	};
	Ok(Progress { last, complete_from: meta(connection, "complete_from")?.unwrap_or(0) })
}

/// The text an element is searched by: its id and name, lower-cased.
fn search_text(element: &ElementRow) -> String {
	format!("{}\n{}", element.id, element.name.as_deref().unwrap_or("")).to_lowercase()
}

fn write(tx: &rusqlite::Transaction, block: &BlockWrite) -> Result<(), IndexError> {
	{
		let mut insert = tx.prepare_cached(
			"INSERT INTO changes (twin, block, event_index, hash, time_ms, who, event, summary, \
			 detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		)?;
		for change in &block.changes {
			insert.execute(params![
				change.twin,
				block.number,
				change.event_index,
				&block.hash[..],
				change.time_ms.map(|t| t as i64),
				change.who,
				change.event,
				change.summary,
				change.detail,
			])?;
		}
	}
	let mut touched = std::collections::BTreeSet::new();
	for op in &block.element_ops {
		match op {
			ElementOp::Twin(twin) => {
				tx.prepare_cached(
					"INSERT OR REPLACE INTO twins (id, creator, created_block) VALUES (?, ?, ?)",
				)?
				.execute(params![twin.id, twin.creator, twin.created_block])?;
			},
			ElementOp::ClearTwin(twin) => {
				tx.prepare_cached("DELETE FROM elements WHERE twin = ?")?.execute([twin])?;
				touched.insert(*twin);
			},
			ElementOp::Put(element) => {
				tx.prepare_cached(
					"INSERT OR REPLACE INTO elements (twin, id, parent, tag, name, \
					 confidentiality, changed_block, search) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				)?
				.execute(params![
					element.twin,
					element.id,
					element.parent,
					element.tag,
					element.name,
					element.confidentiality,
					element.changed_block,
					search_text(element),
				])?;
				touched.insert(element.twin);
			},
			ElementOp::RemoveSubtree { twin, id } => {
				tx.prepare_cached(
					"WITH RECURSIVE subtree(id) AS (SELECT ?2 UNION ALL SELECT e.id FROM \
					 elements e JOIN subtree s ON e.twin = ?1 AND e.parent = s.id) \
					 DELETE FROM elements WHERE twin = ?1 AND id IN (SELECT id FROM subtree)",
				)?
				.execute(params![twin, id])?;
				touched.insert(*twin);
			},
		}
	}
	for twin in touched {
		update_path_levels(tx, twin)?;
	}
	set_meta(tx, "last_number", block.number)?;
	set_meta(tx, "last_hash", block.hash.to_vec())?;
	Ok(())
}

/// Recomputes the level a reader needs for each element of `twin` (the highest along its
/// path from the root), writing only those that changed.
fn update_path_levels(tx: &rusqlite::Transaction, twin: u32) -> Result<(), IndexError> {
	use std::collections::HashMap;
	let mut elements: HashMap<String, (Option<String>, u8, u8)> = HashMap::new();
	{
		let mut select = tx.prepare_cached(
			"SELECT id, parent, confidentiality, path_level FROM elements WHERE twin = ?",
		)?;
		let rows = select.query_map([twin], |row| {
			Ok((row.get::<_, String>(0)?, (row.get(1)?, row.get(2)?, row.get(3)?)))
		})?;
		for row in rows {
			let (id, value) = row?;
			elements.insert(id, value);
		}
	}
	let mut computed: HashMap<&str, u8> = HashMap::with_capacity(elements.len());
	let mut update =
		tx.prepare_cached("UPDATE elements SET path_level = ? WHERE twin = ? AND id = ?")?;
	for id in elements.keys() {
		// Walk up to the first ancestor already computed (or the root), then back down.
		let mut path = vec![id.as_str()];
		let mut base = 0u8;
		while let Some(current) = path.last().copied() {
			if let Some(level) = computed.get(current) {
				base = *level;
				path.pop();
				break;
			}
			match elements.get(current).and_then(|(parent, ..)| parent.as_deref()) {
				// A cycle cannot happen in a tree; stop anyway rather than loop.
				Some(parent) if elements.contains_key(parent) && path.len() <= elements.len() => {
					path.push(parent)
				},
				_ => break,
			}
		}
		for current in path.into_iter().rev() {
			let (_, own, _) = elements[current];
			base = base.max(own);
			computed.insert(current, base);
		}
	}
	for (id, (_, _, stored)) in &elements {
		let level = computed[id.as_str()];
		if level != *stored {
			update.execute(params![level, twin, id])?;
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn store(dir: &tempfile::TempDir) -> IndexStore {
		IndexStore::open(&dir.path().join("chains/dev/twin-index.sqlite"), [7; 32]).unwrap()
	}

	fn change(twin: u32, event_index: u32, event: &str, who: Option<&str>) -> ChangeRow {
		ChangeRow {
			twin,
			event_index,
			time_ms: Some(1000),
			who: who.map(Into::into),
			event: event.into(),
			summary: format!("{event} {event_index}"),
			detail: "{}".into(),
		}
	}

	fn element(twin: u32, id: &str, parent: Option<&str>, name: &str, level: u8) -> ElementOp {
		ElementOp::Put(ElementRow {
			twin,
			id: id.into(),
			parent: parent.map(Into::into),
			tag: "InternalElement".into(),
			name: Some(name.into()),
			confidentiality: level,
			changed_block: 1,
		})
	}

	fn block(number: u32, changes: Vec<ChangeRow>, element_ops: Vec<ElementOp>) -> BlockWrite {
		BlockWrite { number, hash: [number as u8; 32], changes, element_ops }
	}

	fn trail(store: &IndexStore, query: TrailQuery) -> Vec<(u32, u32)> {
		store
			.trail(&query)
			.unwrap()
			.0
			.iter()
			.map(|c| (c.block, c.row.event_index))
			.collect()
	}

	/// A twin 1 with a root, a station and a secret sensor under it, created in block 1.
	fn plant(store: &IndexStore) {
		store.start_at(&block(0, vec![], vec![])).unwrap();
		store
			.write_block(&block(
				1,
				vec![change(1, 0, "twinSpec.TwinCreated", Some("5Alice"))],
				vec![
					ElementOp::Twin(TwinRow { id: 1, creator: "5Alice".into(), created_block: 1 }),
					element(1, "root", None, "Bottling Plant", 0),
					element(1, "station", Some("root"), "Filling Station", 3),
					element(1, "sensor", Some("station"), "Fill Level Sensor", 0),
				],
			))
			.unwrap();
	}

	#[test]
	fn blocks_are_written_in_order_and_resumed_after_a_restart() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("chains/dev/twin-index.sqlite");
		{
			let store = IndexStore::open(&path, [7; 32]).unwrap();
			assert_eq!(store.progress().unwrap(), Progress { last: None, complete_from: 0 });
			plant(&store);
			store.write_block(&block(2, vec![], vec![])).unwrap();
			// A gap or a repeated block is refused and changes nothing.
			assert!(matches!(
				store.write_block(&block(4, vec![], vec![])),
				Err(IndexError::OutOfOrder { number: 4, last: 2 })
			));
			assert!(store.write_block(&block(2, vec![], vec![])).is_err());
		}
		let store = IndexStore::open(&path, [7; 32]).unwrap();
		assert_eq!(store.progress().unwrap().last, Some((2, [2; 32])));
		assert_eq!(store.element_count().unwrap(), 3);
		store.write_block(&block(3, vec![], vec![])).unwrap();
		// An index of another chain is not used.
		drop(store);
		assert!(matches!(IndexStore::open(&path, [8; 32]), Err(IndexError::OtherChain { .. })));
	}

	#[test]
	fn a_failed_block_leaves_nothing_and_the_last_block_unchanged() {
		let dir = tempfile::tempdir().unwrap();
		let store = store(&dir);
		plant(&store);
		// The same (twin, block, event index) twice violates the key in the middle of the
		// block, after its first change and element were written.
		let failing = block(
			2,
			vec![
				change(1, 0, "access.RoleGranted", None),
				change(1, 0, "access.RoleGranted", None),
			],
			vec![element(1, "new", Some("root"), "New", 0)],
		);
		assert!(matches!(store.write_block(&failing), Err(IndexError::Sqlite(_))));
		assert_eq!(store.progress().unwrap().last, Some((1, [1; 32])));
		assert_eq!(
			trail(&store, TrailQuery { twin: 1, limit: 10, ..Default::default() }),
			vec![(1, 0)]
		);
		assert_eq!(store.element_count().unwrap(), 3);
		// The block written right afterwards is taken.
		store
			.write_block(&block(2, vec![change(1, 0, "access.RoleGranted", None)], vec![]))
			.unwrap();
		assert_eq!(store.progress().unwrap().last, Some((2, [2; 32])));
	}

	#[test]
	fn a_rebuild_starts_over_and_records_where_trails_are_complete_from() {
		let dir = tempfile::tempdir().unwrap();
		let store = store(&dir);
		plant(&store);
		store
			.start_at(&block(
				40,
				vec![change(1, 2, "feeds.FeedRegistered", None)],
				vec![
					ElementOp::Twin(TwinRow { id: 1, creator: "5Alice".into(), created_block: 1 }),
					element(1, "root", None, "Bottling Plant", 0),
				],
			))
			.unwrap();
		assert_eq!(
			store.progress().unwrap(),
			Progress { last: Some((40, [40; 32])), complete_from: 40 }
		);
		assert_eq!(
			trail(&store, TrailQuery { twin: 1, limit: 10, ..Default::default() }),
			vec![(40, 2)]
		);
		assert_eq!(store.element_count().unwrap(), 1);
		assert_eq!(store.twin(1).unwrap().unwrap().created_block, 1);
		store.write_block(&block(41, vec![], vec![])).unwrap();
	}

	#[test]
	fn trails_page_with_a_cursor_and_filter() {
		let dir = tempfile::tempdir().unwrap();
		let store = store(&dir);
		plant(&store);
		for number in 2..=11 {
			store
				.write_block(&block(
					number,
					vec![
						change(1, 0, "twinSpec.ElementInserted", Some("5Bob")),
						change(2, 1, "access.RoleGranted", Some("5Alice")),
						change(1, 3, "access.RoleGranted", Some("5Alice")),
					],
					vec![],
				))
				.unwrap();
		}
		// 1 + 2 × 10 changes of twin 1, read in pages of 7.
		let mut all = Vec::new();
		let mut after = None;
		loop {
			let (page, more) = store
				.trail(&TrailQuery { twin: 1, after, limit: 7, ..Default::default() })
				.unwrap();
			assert!(page.len() <= 7);
			all.extend(page.iter().map(|c| (c.block, c.row.event_index)));
			after = page.last().map(|c| (c.block, c.row.event_index));
			if !more {
				break;
			}
		}
		assert_eq!(all.len(), 21);
		assert!(all.windows(2).all(|pair| pair[0] < pair[1]), "ordered without repeats: {all:?}");
		let only = |query: TrailQuery| trail(&store, TrailQuery { twin: 1, limit: 100, ..query });
		assert_eq!(
			only(TrailQuery { from_block: Some(5), to_block: Some(6), ..Default::default() }).len(),
			4
		);
		let inserted = only(TrailQuery {
			events: vec!["twinSpec.ElementInserted".into()],
			..Default::default()
		});
		assert_eq!(inserted.len(), 10);
		assert_eq!(only(TrailQuery { who: Some("5Alice".into()), ..Default::default() }).len(), 11);
		assert_eq!(only(TrailQuery { who: Some("5Nobody".into()), ..Default::default() }).len(), 0);
		assert_eq!(
			trail(&store, TrailQuery { twin: 2, limit: 100, ..Default::default() }).len(),
			10
		);
	}

	#[test]
	fn limits_queries_and_cursors_are_checked() {
		let dir = tempfile::tempdir().unwrap();
		let store = store(&dir);
		plant(&store);
		let limit = |limit| store.trail(&TrailQuery { twin: 1, limit, ..Default::default() });
		for bad in [0, MAX_LIMIT + 1] {
			assert!(matches!(
				limit(bad),
				Err(IndexError::InvalidParameter { parameter: "limit", .. })
			));
		}
		assert!(limit(MAX_LIMIT).is_ok());
		let huge = "x".repeat(MAX_QUERY_LEN + 1);
		assert!(matches!(
			store.search_elements(&huge, None, None, None, 10),
			Err(IndexError::InvalidParameter { parameter: "query", .. })
		));
		assert!(matches!(
			store.search_twins(&huge, None, 10),
			Err(IndexError::InvalidParameter { parameter: "query", .. })
		));
		assert!(store.search_elements("", None, None, None, 10).is_err());
		let events = vec!["x".to_string(); MAX_EVENT_FILTERS + 1];
		assert!(matches!(
			store.trail(&TrailQuery { twin: 1, events, limit: 10, ..Default::default() }),
			Err(IndexError::InvalidParameter { parameter: "events", .. })
		));
		for (cursor, kind) in [
			(Cursor::Change { block: 5, event_index: 2 }, 'c'),
			(Cursor::Twin(3), 't'),
			(Cursor::Element { twin: 1, id: "a:b".into() }, 'e'),
		] {
			assert_eq!(Cursor::decode(&cursor.encode(), kind).unwrap(), cursor);
		}
		for (bad, kind) in [
			("", 'c'),
			("c:1", 'c'),
			("c:x:1", 'c'),
			("t:1", 'c'),
			("c:1:2", 'e'),
			("t:1:2", 't'),
			("c:99999999999:1", 'c'),
		] {
			assert!(
				matches!(
					Cursor::decode(bad, kind),
					Err(IndexError::InvalidParameter { parameter: "cursor", .. })
				),
				"{bad:?}"
			);
		}
		assert!(Cursor::decode(&format!("e:1:{}", "x".repeat(400)), 'e').is_err());
	}

	#[test]
	fn search_finds_ids_and_names_case_insensitively_and_honours_clearance() {
		let dir = tempfile::tempdir().unwrap();
		let store = store(&dir);
		plant(&store);
		let ids =
			|query: &str, twin, clearance: Option<&dyn Fn(u32) -> Option<u8>>| -> Vec<String> {
				store
					.search_elements(query, twin, clearance, None, 10)
					.unwrap()
					.0
					.into_iter()
					.map(|found| found.element.id)
					.collect()
			};
		assert_eq!(ids("FILL", None, None), vec!["sensor", "station"]);
		assert_eq!(ids("stat", Some(1), None), vec!["station"]);
		assert_eq!(ids("stat", Some(2), None), Vec::<String>::new());
		// The sensor is public but sits under a secret station: a reader cleared for
		// internal data sees neither, as twin_getAml leaves a subtree out.
		let internal = |_: u32| Some(1u8);
		assert_eq!(ids("l", None, Some(&internal)), vec!["root"]);
		let secret = |_: u32| Some(3u8);
		assert_eq!(ids("l", None, Some(&secret)), vec!["root", "sensor", "station"]);
		let none = |_: u32| None;
		assert_eq!(ids("l", None, Some(&none)), Vec::<String>::new());
		// Lowering the station's level opens its subtree; removing it removes the sensor too.
		store
			.write_block(&block(
				2,
				vec![],
				vec![element(1, "station", Some("root"), "Filling Station", 1)],
			))
			.unwrap();
		assert_eq!(ids("l", None, Some(&internal)), vec!["root", "sensor", "station"]);
		store
			.write_block(&block(
				3,
				vec![],
				vec![ElementOp::RemoveSubtree { twin: 1, id: "station".into() }],
			))
			.unwrap();
		assert_eq!(ids("l", None, None), vec!["root"]);
		// Twins by id, creator or root name; pages by cursor.
		let twins = |query: &str| -> Vec<u32> {
			store
				.search_twins(query, None, 10)
				.unwrap()
				.0
				.iter()
				.map(|(t, ..)| t.id)
				.collect()
		};
		assert_eq!(twins("bottling"), vec![1]);
		assert_eq!(twins("5alice"), vec![1]);
		assert_eq!(twins(""), vec![1]);
		assert_eq!(twins("pump"), Vec::<u32>::new());
		let (page, more) = store.search_elements("o", None, None, None, 1).unwrap();
		assert!(!more && page.len() == 1, "only the root is left");
	}

	#[test]
	fn an_unreadable_file_is_named_with_what_to_do() {
		let dir = tempfile::tempdir().unwrap();
		let path = dir.path().join("twin-index.sqlite");
		std::fs::write(&path, vec![0x55u8; 8192]).unwrap();
		let error = IndexStore::open(&path, [7; 32]).err().expect("a broken file is refused");
		let message = error.to_string();
		assert!(matches!(error, IndexError::Unreadable { .. }), "{message}");
		assert!(
			message.contains(&path.display().to_string()) && message.contains("delete"),
			"{message}"
		);
	}

	#[test]
	fn the_benchmark_harness_runs() {
		let dir = tempfile::tempdir().unwrap();
		let report = bench::run(dir.path(), 2, 500, 5).unwrap();
		assert_eq!(report.elements, 1000);
		assert_eq!(report.latencies.len(), 7);
	}
}
