//! Repairing a document whose element IDs repeat.
//!
//! Engineering tools write the same `ID` twice when an instance is copied with its
//! subtree, and the chain needs every ID once. [`repair_duplicate_ids`] keeps the first
//! element with an ID as it is and gives every later element with the same ID a fresh one,
//! as the AutomationML Editor's validator offers to do. References to a renamed element
//! follow it where they are unambiguous:
//!
//! - an `InternalLink`'s `RefPartnerSideA`/`RefPartnerSideB` naming the ID (CAEX 3.0: the
//!   interface's ID) or the ID followed by `:` and an interface name (CAEX 2.15);
//! - a mirror object's `RefBaseSystemUnitPath` or `RefBaseClassPath` holding the ID.
//!
//! Such a reference means the element with that ID nearest to it in the tree: the one
//! whose common ancestor with the reference is deepest. A link copied together with the
//! elements it joins therefore follows the copies. When two elements with the ID are
//! equally near, the reference is ambiguous: it stays as it is (so it names the first
//! element, which kept the ID) and is reported as such.
//!
//! The repair works on the text: it rewrites only the attribute values it names, so
//! everything else in the file stays byte for byte, and every change is reported with its
//! line. It holds the whole document in memory, which real engineering files allow.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{AmlError, Result};
use crate::position::position_in;
use crate::xml_checks::unescaped_attribute_value;

/// What the repair changed, each with the line of the attribute it rewrote or left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdRepair {
	/// A later element carrying an ID already taken got a fresh one.
	Renamed { line: u64, element: String, old: String, new: String },
	/// A reference to a renamed element now names its new ID.
	ReferenceFollowed { line: u64, attribute: String, old: String, new: String },
	/// A reference to a repeated ID is as near to two of its elements; it was left naming
	/// the first one.
	ReferenceAmbiguous { line: u64, attribute: String, value: String },
}

impl fmt::Display for IdRepair {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			IdRepair::Renamed { line, element, old, new } => {
				write!(
					f,
					"line {line}: <{element}> ID \"{old}\" repeats an earlier ID; now \"{new}\""
				)
			},
			IdRepair::ReferenceFollowed { line, attribute, old, new } => {
				write!(
					f,
					"line {line}: {attribute} \"{old}\" follows the renamed element: \"{new}\""
				)
			},
			IdRepair::ReferenceAmbiguous { line, attribute, value } => write!(
				f,
				"line {line}: {attribute} \"{value}\" is as near to two elements with that ID; \
				 left naming the first one, check it by hand"
			),
		}
	}
}

/// A repaired document and what was changed in it.
#[derive(Clone, Debug)]
pub struct RepairedDocument {
	pub text: String,
	pub repairs: Vec<IdRepair>,
}

/// Gives every later element carrying an already used `ID` a fresh one and lets the
/// references to it follow (see the module docs). `fresh_guid` is asked for a new GUID
/// whenever the repeated ID is itself a GUID (as tools write them); other IDs get a
/// numbered suffix (`pump-1` becomes `pump-1_2`). A new ID is never one the document uses.
///
/// A document without repeated IDs comes back unchanged with no repairs. Malformed XML is
/// refused with its position, as [`crate::AmlTree::parse`] would.
pub fn repair_duplicate_ids(
	text: &str,
	mut fresh_guid: impl FnMut() -> String,
) -> Result<RepairedDocument> {
	let scan = Scan::of(text)?;
	let mut occurrences: HashMap<&str, Vec<usize>> = HashMap::new();
	for (index, id) in scan.ids.iter().enumerate() {
		occurrences.entry(id.value.as_str()).or_default().push(index);
	}
	let mut taken: BTreeSet<String> = occurrences.keys().map(|id| id.to_string()).collect();

	// Fresh IDs for every occurrence after the first, in document order.
	let mut new_ids: HashMap<usize, String> = HashMap::new();
	let mut edits: Vec<(Range<usize>, String)> = Vec::new();
	let mut repairs = Vec::new();
	for (index, id) in scan.ids.iter().enumerate() {
		if occurrences[id.value.as_str()][0] == index {
			continue;
		}
		let new = fresh_id(&id.value, &taken, &mut fresh_guid);
		taken.insert(new.clone());
		edits.push((id.span.clone(), escape_attribute(&new)));
		repairs.push(IdRepair::Renamed {
			line: position_in(text, id.span.start).line,
			element: id.element.clone(),
			old: id.value.clone(),
			new: new.clone(),
		});
		new_ids.insert(index, new);
	}

	for reference in &scan.references {
		let Some((target, suffix)) = reference.target(|id| occurrences.contains_key(id)) else {
			continue;
		};
		let candidates = &occurrences[target];
		if candidates.len() < 2 {
			continue;
		}
		let line = position_in(text, reference.span.start).line;
		match nearest(&scan.ids, candidates, &reference.path) {
			Nearest::One(index) => {
				let Some(new_id) = new_ids.get(&index) else { continue };
				let new = format!("{new_id}{suffix}");
				edits.push((reference.span.clone(), escape_attribute(&new)));
				repairs.push(IdRepair::ReferenceFollowed {
					line,
					attribute: reference.attribute.clone(),
					old: reference.value.clone(),
					new,
				});
			},
			Nearest::Tie => repairs.push(IdRepair::ReferenceAmbiguous {
				line,
				attribute: reference.attribute.clone(),
				value: reference.value.clone(),
			}),
		}
	}

	edits.sort_by_key(|(span, _)| span.start);
	repairs.sort_by_key(IdRepair::line);
	let mut repaired = String::with_capacity(text.len() + edits.len() * 8);
	let mut copied = 0;
	for (span, replacement) in edits {
		repaired.push_str(&text[copied..span.start]);
		repaired.push_str(&replacement);
		copied = span.end;
	}
	repaired.push_str(&text[copied..]);
	Ok(RepairedDocument { text: repaired, repairs })
}

impl IdRepair {
	/// The line of the attribute this repair is about.
	pub fn line(&self) -> u64 {
		match self {
			IdRepair::Renamed { line, .. }
			| IdRepair::ReferenceFollowed { line, .. }
			| IdRepair::ReferenceAmbiguous { line, .. } => *line,
		}
	}
}

/// An element's `ID` attribute.
struct IdAttribute {
	value: String,
	/// The raw value's bytes in the text.
	span: Range<usize>,
	element: String,
	/// The element's path from the root as element numbers, itself last.
	path: Vec<usize>,
}

/// An attribute that may refer to an element by its ID.
struct Reference {
	attribute: String,
	value: String,
	/// An `InternalLink` side: CAEX 2.15 writes `ID:InterfaceName`, CAEX 3.0 the ID alone.
	link_side: bool,
	span: Range<usize>,
	/// The referring element's path from the root, itself last.
	path: Vec<usize>,
}

impl Reference {
	/// The ID this reference names (one `is_id` knows), and what follows it in the value.
	fn target(&self, is_id: impl Fn(&str) -> bool) -> Option<(&str, &str)> {
		if is_id(&self.value) {
			return Some((&self.value, ""));
		}
		let colon = self.value.find(':').filter(|_| self.link_side)?;
		let (id, suffix) = self.value.split_at(colon);
		is_id(id).then_some((id, suffix))
	}
}

/// One pass over the document: every ID and every reference that may name one.
struct Scan {
	ids: Vec<IdAttribute>,
	references: Vec<Reference>,
}

impl Scan {
	fn of(text: &str) -> Result<Scan> {
		let mut reader = Reader::from_str(text);
		reader.config_mut().check_end_names = true;
		let mut scan = Scan { ids: Vec::new(), references: Vec::new() };
		let mut path: Vec<usize> = Vec::new();
		let mut elements = 0usize;
		loop {
			let start = reader.buffer_position() as usize;
			let event = reader.read_event().map_err(|e| AmlError::Malformed {
				at: position_in(text, reader.error_position() as usize),
				message: e.to_string(),
			})?;
			match event {
				Event::Start(tag) => {
					path.push(elements);
					elements += 1;
					scan.note(text, &tag, &path, start)?;
				},
				Event::Empty(tag) => {
					path.push(elements);
					elements += 1;
					scan.note(text, &tag, &path, start)?;
					path.pop();
				},
				Event::End(_) => {
					path.pop();
				},
				Event::Eof => break,
				_ => {},
			}
		}
		Ok(scan)
	}

	fn note(
		&mut self,
		text: &str,
		tag: &BytesStart<'_>,
		path: &[usize],
		start: usize,
	) -> Result<()> {
		let malformed =
			|message: String| AmlError::Malformed { at: position_in(text, start), message };
		let element = tag.name().0.to_string();
		let local = element.rsplit(':').next().unwrap_or(&element);
		for attribute in tag.attributes() {
			let attribute =
				attribute.map_err(|e| malformed(format!("bad attribute in <{element}>: {e}")))?;
			let key = attribute.key.0;
			let link_side = match key {
				"ID" => None,
				"RefPartnerSideA" | "RefPartnerSideB" if local == "InternalLink" => Some(true),
				"RefBaseSystemUnitPath" | "RefBaseClassPath" => Some(false),
				_ => continue,
			};
			let value = unescaped_attribute_value(&attribute).map_err(&malformed)?;
			let span = span_in(text, &attribute.value).ok_or_else(|| {
				malformed(format!("attribute {key} of <{element}> is not where it was read"))
			})?;
			let path = path.to_vec();
			match link_side {
				None => self.ids.push(IdAttribute { value, span, element: element.clone(), path }),
				Some(link_side) => self.references.push(Reference {
					attribute: key.to_string(),
					value,
					link_side,
					span,
					path,
				}),
			}
		}
		Ok(())
	}
}

/// Where a borrowed attribute value lies in `text`.
fn span_in(text: &str, value: &Cow<'_, str>) -> Option<Range<usize>> {
	let Cow::Borrowed(value) = value else { return None };
	let at = (value.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
	(at + value.len() <= text.len()).then(|| at..at + value.len())
}

enum Nearest {
	One(usize),
	Tie,
}

/// The occurrence (an index into `ids`) whose common ancestor with `from` is deepest.
fn nearest(ids: &[IdAttribute], occurrences: &[usize], from: &[usize]) -> Nearest {
	let shared =
		|index: usize| ids[index].path.iter().zip(from).take_while(|(a, b)| a == b).count();
	let best = occurrences.iter().map(|&index| shared(index)).max().unwrap_or(0);
	let mut nearest = occurrences.iter().filter(|&&index| shared(index) == best);
	match (nearest.next(), nearest.next()) {
		(Some(&index), None) => Nearest::One(index),
		_ => Nearest::Tie,
	}
}

/// A fresh ID in the form of `old`: a GUID for a GUID, a numbered suffix otherwise.
fn fresh_id(
	old: &str,
	taken: &BTreeSet<String>,
	fresh_guid: &mut impl FnMut() -> String,
) -> String {
	if is_guid(old) {
		for _ in 0..16 {
			let guid = fresh_guid();
			let guid = if old.starts_with('{') { format!("{{{guid}}}") } else { guid };
			if !taken.contains(&guid) {
				return guid;
			}
		}
	}
	(2u64..)
		.map(|n| format!("{old}_{n}"))
		.find(|candidate| !taken.contains(candidate))
		.expect("some suffix is free")
}

/// `8-4-4-4-12` hexadecimal digits, optionally in braces.
fn is_guid(id: &str) -> bool {
	let inner = id.strip_prefix('{').and_then(|s| s.strip_suffix('}')).unwrap_or(id);
	let groups: Vec<&str> = inner.split('-').collect();
	groups.len() == 5
		&& groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
			group.len() == length && group.bytes().all(|b| b.is_ascii_hexdigit())
		})
}

fn escape_attribute(value: &str) -> String {
	quick_xml::escape::escape(value).into_owned()
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::AmlTree;

	/// A line whose second station was copied from the first with all its IDs, plus a link
	/// outside both stations that cannot tell which copy it means.
	const COPIED_STATION: &str = r#"<CAEXFile FileName="line.aml" SchemaVersion="2.15">
  <InstanceHierarchy Name="Line">
    <InternalElement Name="Station1" ID="station">
      <InternalElement Name="Sensor" ID="sensor"><ExternalInterface Name="Out" ID="sensor-out"/></InternalElement>
      <InternalElement Name="Valve" ID="valve"/>
      <InternalLink Name="L" RefPartnerSideA="sensor:Out" RefPartnerSideB="valve:In"/>
    </InternalElement>
    <InternalElement Name="Station2" ID="station">
      <InternalElement Name="Sensor" ID="sensor"><ExternalInterface Name="Out" ID="sensor-out"/></InternalElement>
      <InternalElement Name="Valve" ID="valve"/>
      <InternalLink Name="L" RefPartnerSideA="sensor-out" RefPartnerSideB="valve:In"/>
    </InternalElement>
    <InternalElement Name="Mirror" ID="mirror" RefBaseSystemUnitPath="valve"/>
  </InstanceHierarchy>
</CAEXFile>
"#;

	fn no_guids() -> String {
		panic!("no GUID is repeated here")
	}

	#[test]
	fn a_document_without_repeated_ids_comes_back_unchanged() {
		let text = r#"<CAEXFile><InternalElement ID="a"/><InternalElement ID="b"/></CAEXFile>"#;
		let repaired = repair_duplicate_ids(text, no_guids).unwrap();
		assert_eq!(repaired.text, text);
		assert!(repaired.repairs.is_empty());
	}

	#[test]
	fn later_copies_get_fresh_ids_and_their_own_links_follow_them() {
		assert!(matches!(
			AmlTree::parse_str(COPIED_STATION),
			Err(AmlError::DuplicateIdInDocument { ref id, .. }) if id == "station"
		));
		let repaired = repair_duplicate_ids(COPIED_STATION, no_guids).unwrap();
		let tree = AmlTree::parse_str(&repaired.text).expect("the repaired document reads");
		for id in [
			"station",
			"sensor",
			"sensor-out",
			"valve",
			"station_2",
			"sensor_2",
			"sensor-out_2",
			"valve_2",
		] {
			assert!(tree.get(id).is_some(), "{id} is in the repaired tree");
		}
		// The first station is untouched; the copy's link names the copy's elements.
		assert!(repaired.text.contains(
			r#"<InternalLink Name="L" RefPartnerSideA="sensor:Out" RefPartnerSideB="valve:In"/>"#
		));
		assert!(repaired.text.contains(
			r#"<InternalLink Name="L" RefPartnerSideA="sensor-out_2" RefPartnerSideB="valve_2:In"/>"#
		));
		assert_eq!(
			repaired.repairs[..2],
			[
				IdRepair::Renamed {
					line: 8,
					element: "InternalElement".into(),
					old: "station".into(),
					new: "station_2".into()
				},
				IdRepair::Renamed {
					line: 9,
					element: "InternalElement".into(),
					old: "sensor".into(),
					new: "sensor_2".into()
				},
			]
		);
		assert!(repaired.repairs.contains(&IdRepair::ReferenceFollowed {
			line: 11,
			attribute: "RefPartnerSideB".into(),
			old: "valve:In".into(),
			new: "valve_2:In".into(),
		}));
	}

	#[test]
	fn a_reference_as_near_to_two_copies_is_left_and_reported() {
		let repaired = repair_duplicate_ids(COPIED_STATION, no_guids).unwrap();
		assert!(repaired.text.contains(r#"ID="mirror" RefBaseSystemUnitPath="valve"/>"#));
		assert!(repaired.repairs.contains(&IdRepair::ReferenceAmbiguous {
			line: 13,
			attribute: "RefBaseSystemUnitPath".into(),
			value: "valve".into(),
		}));
		let shown = repaired.repairs.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
		assert!(
			shown.contains("line 13: RefBaseSystemUnitPath \"valve\" is as near to two elements"),
			"{shown}"
		);
	}

	#[test]
	fn repeated_guids_get_fresh_guids_in_the_same_form() {
		let guid = "0a1b2c3d-0000-4000-8000-00000000000a";
		let text = format!(
			r#"<CAEXFile><InternalElement ID="{guid}"/><InternalElement ID="{{{guid}}}"/><InternalElement ID="{guid}"/><InternalElement ID="{{{guid}}}"/></CAEXFile>"#
		);
		let mut next = 0;
		let repaired = repair_duplicate_ids(&text, || {
			next += 1;
			format!("ffffffff-0000-4000-8000-{next:012}")
		})
		.unwrap();
		assert_eq!(
			repaired.text,
			format!(
				r#"<CAEXFile><InternalElement ID="{guid}"/><InternalElement ID="{{{guid}}}"/><InternalElement ID="ffffffff-0000-4000-8000-000000000001"/><InternalElement ID="{{ffffffff-0000-4000-8000-000000000002}}"/></CAEXFile>"#
			)
		);
	}

	#[test]
	fn a_fresh_id_is_never_one_the_document_uses() {
		let text = r#"<CAEXFile><InternalElement ID="p"/><InternalElement ID="p"/><InternalElement ID="p_2"/></CAEXFile>"#;
		let repaired = repair_duplicate_ids(text, no_guids).unwrap();
		assert_eq!(
			repaired.text,
			r#"<CAEXFile><InternalElement ID="p"/><InternalElement ID="p_3"/><InternalElement ID="p_2"/></CAEXFile>"#
		);
		AmlTree::parse_str(&repaired.text).unwrap();
	}

	#[test]
	fn escaped_ids_are_compared_unescaped_and_written_escaped() {
		let text = r#"<CAEXFile><InternalElement ID="a&amp;b"/><InternalElement ID="a&#38;b"/></CAEXFile>"#;
		let repaired = repair_duplicate_ids(text, no_guids).unwrap();
		assert_eq!(
			repaired.text,
			r#"<CAEXFile><InternalElement ID="a&amp;b"/><InternalElement ID="a&amp;b_2"/></CAEXFile>"#
		);
	}

	#[test]
	fn malformed_xml_is_refused_with_its_position() {
		let error =
			repair_duplicate_ids("<CAEXFile>\n<a ID=\"x\"></b></CAEXFile>", no_guids).unwrap_err();
		assert!(matches!(error, AmlError::Malformed { at, .. } if at.line == 2), "{error}");
	}
}
