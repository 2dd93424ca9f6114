//! Streaming import: splits an AML document into nodes while reading it once.
//!
//! quick-xml's pull reader walks the document; one frame per open element says whether the
//! element is a node (it owns a fragment buffer) or lies inside a node (its text goes into
//! the nearest node's buffer). Memory is therefore the finished fragments (which the tree
//! keeps anyway) plus the fragments of the elements still open: no DOM, no second copy.
//!
//! Whether an element without ID is a node is known only later: it becomes a structural node
//! when an ID-carrying element appears inside it (then it and all its open ID-less
//! ancestors are *promoted*: their text is moved out of the enclosing node's buffer), or
//! when it sits between two child nodes of the same parent (then it becomes a *filler*
//! node, so that a parent's child nodes form one run at one place in its fragment). Both
//! rules are explained in the crate docs.

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{AmlError, Position, Result};
use crate::fragment::{read_attributes_with, Fragment, CHILDREN_MARKER_TARGET};
use crate::namespaces::{split_qname, NamespaceScopes};
use crate::position::TrackedReader;
use crate::synthetic_id::SyntheticIds;
use crate::tree::{AmlTree, DocumentHeader, NodeRecord};
use crate::xml_checks::check_entity_reference;

/// Deepest element nesting accepted; real AML stays far below, hostile input is cut off.
pub const MAX_DEPTH: usize = 4096;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl AmlTree {
	/// Reads a whole AML document (CAEX 2.15 or 3.0, any namespace use, UTF-8 with or without
	/// BOM) into a tree. Streams: pass a `BufReader<File>` for large files.
	pub fn parse<R: BufRead>(input: R) -> Result<AmlTree> {
		Splitter::new(input, None)?.run()
	}

	/// [`AmlTree::parse`] for a document held in memory.
	pub fn parse_str(input: &str) -> Result<AmlTree> {
		AmlTree::parse(input.as_bytes())
	}
}

/// Splits an AML snippet (one element, possibly with nested ID-carrying elements) into the
/// node records to insert under `parent` after `previous_sibling`, parents first.
///
/// This is what `dt` does when a user inserts an element from an AML snippet. An XML
/// declaration or comments around the element are accepted and dropped. Elements without
/// ID get structural IDs derived from `parent` (see the crate docs); fragments get their
/// children marker at the CAEX place.
pub fn parse_snippet<R: BufRead>(
	input: R,
	parent: Option<&str>,
	previous_sibling: Option<&str>,
) -> Result<Vec<NodeRecord>> {
	let tree = Splitter::new(input, parent)?.run()?;
	let mut records: Vec<NodeRecord> = tree.records().collect();
	if let Some(top) = records.first_mut() {
		top.parent = parent.map(str::to_string);
		top.previous_sibling = previous_sibling.map(str::to_string);
	}
	Ok(records)
}

/// The reading state; see the module docs.
struct Splitter<'p, R: BufRead> {
	reader: Reader<TrackedReader<R>>,
	tree: AmlTree,
	ids: SyntheticIds,
	scopes: NamespaceScopes,
	frames: Vec<Frame>,
	/// Indices into `frames` of the frames that are nodes, innermost last.
	node_frames: Vec<usize>,
	header: DocumentHeader,
	root_closed: bool,
	/// Parent node of the root when reading a snippet; used for the root's structural ID.
	snippet_parent: Option<&'p str>,
}

struct Frame {
	qname: String,
	/// CAEX `Name` attribute, for structural IDs.
	name: Option<String>,
	role: Role,
}

enum Role {
	Node(NodeBuffer),
	/// Not (yet) a node: its text starts at `start` in the nearest node's buffer.
	Inside {
		start: usize,
	},
}

struct NodeBuffer {
	index: u32,
	/// The element's text so far, without child nodes.
	xml: String,
	/// Where the child nodes go, once the first one was seen.
	slot: Option<usize>,
	/// Child elements closed after the last child node (fillers if another child node follows).
	tail: Vec<TailElement>,
	/// Non-whitespace text seen after the last child node.
	tail_text: Option<String>,
}

struct TailElement {
	start: usize,
	end: usize,
	qname: String,
	name: Option<String>,
}

impl<'p, R: BufRead> Splitter<'p, R> {
	fn new(mut input: R, snippet_parent: Option<&'p str>) -> Result<Self> {
		let head = input.fill_buf()?;
		if head.starts_with(b"\xFE\xFF") || head.starts_with(b"\xFF\xFE") {
			return Err(AmlError::UnsupportedEncoding { encoding: "UTF-16".into() });
		}
		let mut header = DocumentHeader::default();
		if head.starts_with(UTF8_BOM) {
			input.consume(UTF8_BOM.len());
			header.prolog.push('\u{FEFF}');
		}
		let mut reader = Reader::from_reader(TrackedReader::new(input));
		reader.config_mut().check_comments = true;
		Ok(Splitter {
			reader,
			tree: AmlTree::default(),
			ids: SyntheticIds::default(),
			scopes: NamespaceScopes::default(),
			frames: Vec::new(),
			node_frames: Vec::new(),
			header,
			root_closed: false,
			snippet_parent,
		})
	}

	fn run(mut self) -> Result<AmlTree> {
		let mut buf = Vec::new();
		loop {
			buf.clear();
			let start = self.reader.buffer_position();
			self.reader.get_mut().forget_before(start);
			let event = match self.reader.read_event_into(&mut buf) {
				Ok(event) => event,
				Err(e) => {
					let at = self.reader.error_position().max(start);
					return Err(AmlError::Malformed {
						at: self.position(at),
						message: e.to_string(),
					});
				},
			};
			match event {
				Event::Eof => break,
				Event::Start(tag) => self.start_element(&tag, false, start)?,
				Event::Empty(tag) => {
					self.start_element(&tag, true, start)?;
					self.close_element(None, start)?;
				},
				Event::End(tag) => {
					let end_tag = format!("</{}>", &*tag);
					self.close_element(Some(end_tag), start)?;
				},
				Event::Text(text) => {
					let is_blank = text.trim().is_empty();
					self.content(&text, !is_blank, start)?;
				},
				Event::CData(cdata) => {
					let is_blank = cdata.trim().is_empty();
					self.content(&format!("<![CDATA[{}]]>", &*cdata), !is_blank, start)?;
				},
				Event::GeneralRef(reference) => {
					if let Err(name) = check_entity_reference(&reference) {
						return Err(AmlError::UnknownEntity { at: self.position(start), name });
					}
					self.content(&format!("&{};", &*reference), true, start)?;
				},
				Event::Comment(comment) => self.markup(&format!("<!--{}-->", &*comment), start)?,
				Event::PI(pi) => {
					if pi.target() == CHILDREN_MARKER_TARGET {
						return Err(AmlError::ReservedProcessingInstruction {
							at: self.position(start),
							target: pi.target().to_string(),
						});
					}
					if self.frames.is_empty() {
						return Err(AmlError::NotAllowedAroundRoot {
							at: self.position(start),
							what: format!("the processing instruction <?{}?>", pi.target()),
						});
					}
					self.markup(&format!("<?{}?>", &*pi), start)?;
				},
				Event::Decl(decl) => {
					if !self.frames.is_empty() || self.root_closed {
						return Err(self.malformed(
							start,
							"an XML declaration is only allowed at the very start",
						));
					}
					if let Some(Ok(encoding)) = decl.encoding() {
						if !is_utf8_label(&encoding) {
							return Err(AmlError::UnsupportedEncoding {
								encoding: encoding.into_owned(),
							});
						}
					}
					self.header.prolog.push_str(&format!("<?{}?>", &*decl));
				},
				Event::DocType(_) => {
					return Err(AmlError::NotAllowedAroundRoot {
						at: self.position(start),
						what: "a DOCTYPE declaration".into(),
					});
				},
			}
		}
		let end = self.reader.buffer_position();
		if let Some(open) = self.frames.last() {
			let message = format!("the document ends before <{}> is closed", open.qname);
			return Err(self.malformed(end, &message));
		}
		if !self.root_closed {
			return Err(AmlError::NoRootElement);
		}
		let mut tree = self.tree;
		tree.set_header(self.header);
		Ok(tree)
	}

	// ---- events ----------------------------------------------------------------------------

	fn start_element(&mut self, tag: &BytesStart<'_>, is_empty: bool, start: u64) -> Result<()> {
		if self.root_closed {
			return Err(self.malformed(start, "a document has only one root element"));
		}
		if self.frames.len() >= MAX_DEPTH {
			return Err(AmlError::TooDeep { at: self.position(start), limit: MAX_DEPTH });
		}
		let attributes = read_attributes_with(tag, |message| AmlError::Malformed {
			at: self.position(start),
			message,
		})?;
		let qname = tag.name().0.to_string();
		if attributes.id.as_deref() == Some("") {
			return Err(AmlError::EmptyId { at: self.position(start), element: qname });
		}
		let text = if is_empty { format!("<{}/>", &**tag) } else { format!("<{}>", &**tag) };
		let role = if self.frames.is_empty() {
			let id = match attributes.id {
				Some(id) => id,
				None => self.ids.allocate(
					self.snippet_parent,
					&qname,
					attributes.name.as_deref(),
					|_| false,
				),
			};
			let index = self.open_node(id, None, start)?;
			Role::Node(NodeBuffer::new(index, text))
		} else if let Some(id) = attributes.id {
			self.promote_open_ancestors(start)?;
			let parent = self.frames.len() - 1;
			let child_offset = self.node_buffer(parent).xml.len();
			self.begin_child_node(parent, child_offset, start)?;
			let parent_index = self.node_buffer(parent).index;
			let index = self.open_node(id, Some(parent_index), start)?;
			Role::Node(NodeBuffer::new(index, text))
		} else {
			let owner = self.nearest_node_buffer();
			let offset = owner.xml.len();
			owner.xml.push_str(&text);
			Role::Inside { start: offset }
		};
		if matches!(role, Role::Node(_)) {
			self.node_frames.push(self.frames.len());
		}
		// Every prefix must be bound where it is used: the runtime refuses fragments whose
		// prefixes no declaration binds, and fragments only carry what the document declared.
		let element_prefix = split_qname(&qname).0.to_string();
		self.frames.push(Frame { qname, name: attributes.name, role });
		self.scopes.push(attributes.declarations);
		let used = std::iter::once(&element_prefix).chain(attributes.attribute_prefixes.iter());
		for prefix in used {
			if !prefix.is_empty() && prefix != "xml" && self.scopes.resolve(prefix).is_none() {
				return Err(AmlError::UnboundPrefix {
					at: self.position(start),
					prefix: prefix.clone(),
				});
			}
		}
		Ok(())
	}

	/// Closes the innermost element; `end_tag` is `None` for an empty-element tag.
	fn close_element(&mut self, end_tag: Option<String>, start: u64) -> Result<()> {
		let depth = self.frames.len().saturating_sub(1);
		let outside = self.scopes.len_outside(depth);
		let Some(frame) = self.frames.pop() else {
			return Err(self.malformed(start, "end tag without a start tag"));
		};
		let end_tag = end_tag.unwrap_or_default();
		match frame.role {
			Role::Node(mut node) => {
				self.node_frames.pop();
				node.xml.push_str(&end_tag);
				let fragment =
					Fragment::from_extracted(node.xml, node.slot, self.scopes.visible(outside))?;
				self.tree.set_fragment(node.index, fragment);
				if self.frames.is_empty() {
					self.root_closed = true;
				}
			},
			Role::Inside { start: element_start } => {
				let owner = self.nearest_node_buffer();
				owner.xml.push_str(&end_tag);
				let end = owner.xml.len();
				if let Some(Frame { role: Role::Node(parent), .. }) = self.frames.last_mut() {
					if parent.slot.is_some() {
						parent.tail.push(TailElement {
							start: element_start,
							end,
							qname: frame.qname,
							name: frame.name,
						});
					}
				}
			},
		}
		self.scopes.pop();
		Ok(())
	}

	/// Text, CDATA or an entity reference.
	fn content(&mut self, text: &str, is_significant: bool, start: u64) -> Result<()> {
		if self.frames.is_empty() {
			if is_significant {
				return Err(self.malformed(start, "text outside the root element"));
			}
			self.header_part().push_str(text);
			return Ok(());
		}
		if is_significant {
			if let Some(Frame { role: Role::Node(node), .. }) = self.frames.last_mut() {
				if node.slot.is_some() && node.tail_text.is_none() {
					node.tail_text = Some(text.trim().chars().take(40).collect());
				}
			}
		}
		self.nearest_node_buffer().xml.push_str(text);
		Ok(())
	}

	/// A comment or processing instruction.
	fn markup(&mut self, text: &str, _start: u64) -> Result<()> {
		if self.frames.is_empty() {
			self.header_part().push_str(text);
		} else {
			self.nearest_node_buffer().xml.push_str(text);
		}
		Ok(())
	}

	// ---- promotion to nodes ----------------------------------------------------------------

	/// Makes every open element above the innermost node a structural node: an ID-carrying
	/// element is about to start inside them.
	fn promote_open_ancestors(&mut self, start: u64) -> Result<()> {
		let Some(&innermost_node) = self.node_frames.last() else {
			return Ok(());
		};
		// Each promoted element's text begins at its `start` in the original buffer of the
		// innermost node; after its parent was promoted, that buffer begins at the parent's
		// own `start`, hence the subtraction.
		let mut parent_start = 0usize;
		for depth in innermost_node + 1..self.frames.len() {
			let Role::Inside { start: element_start } = self.frames[depth].role else {
				continue;
			};
			let parent = depth - 1;
			let offset = self.begin_child_node(parent, element_start - parent_start, start)?;
			let parent_buffer = self.node_buffer(parent);
			let parent_index = parent_buffer.index;
			let xml = parent_buffer.xml.split_off(offset);
			let (qname, name) = (self.frames[depth].qname.clone(), self.frames[depth].name.clone());
			let id = self.structural_id(parent_index, &qname, name.as_deref());
			let index = self.open_node(id, Some(parent_index), start)?;
			self.frames[depth].role = Role::Node(NodeBuffer::new(index, xml));
			self.node_frames.push(depth);
			parent_start = element_start;
		}
		Ok(())
	}

	/// Called when a child node starts at `child_offset` in the buffer of the node at frame
	/// `parent`. Sets the parent's slot, or, if child nodes came before, turns the elements
	/// between them into filler nodes and drops the whitespace and comments between them.
	/// Returns where the child's text now starts in the parent's buffer.
	fn begin_child_node(
		&mut self,
		parent: usize,
		child_offset: usize,
		start: u64,
	) -> Result<usize> {
		let inside_parent = self.scopes.len_outside(parent + 1);
		let (slot, fillers, parent_index, mixed_text) = {
			let node = self.node_buffer(parent);
			let Some(slot) = node.slot else {
				node.slot = Some(child_offset);
				return Ok(child_offset);
			};
			(slot, std::mem::take(&mut node.tail), node.index, node.tail_text.take())
		};
		if let Some(text) = mixed_text {
			return Err(AmlError::MixedContent { at: self.position(start), text });
		}
		for filler in fillers {
			let xml = self.node_buffer(parent).xml[filler.start..filler.end].to_string();
			let id = self.structural_id(parent_index, &filler.qname, filler.name.as_deref());
			let index = self.open_node(id, Some(parent_index), start)?;
			let fragment = Fragment::from_extracted(xml, None, self.scopes.visible(inside_parent))?;
			self.tree.set_fragment(index, fragment);
		}
		self.node_buffer(parent).xml.drain(slot..child_offset);
		Ok(slot)
	}

	// ---- helpers ---------------------------------------------------------------------------

	fn structural_id(&mut self, parent_index: u32, qname: &str, name: Option<&str>) -> String {
		let tree = &self.tree;
		self.ids
			.allocate(Some(tree.id_of(parent_index)), qname, name, |id| tree.contains(id))
	}

	fn open_node(&mut self, id: String, parent: Option<u32>, start: u64) -> Result<u32> {
		match self.tree.open_node(id.clone(), parent)? {
			Some(index) => Ok(index),
			None => Err(AmlError::DuplicateIdInDocument { at: self.position(start), id }),
		}
	}

	fn node_buffer(&mut self, frame: usize) -> &mut NodeBuffer {
		match &mut self.frames[frame].role {
			Role::Node(node) => node,
			Role::Inside { .. } => unreachable!("frame {frame} is a node by construction"),
		}
	}

	fn nearest_node_buffer(&mut self) -> &mut NodeBuffer {
		let frame = *self.node_frames.last().expect("the root element is always a node");
		self.node_buffer(frame)
	}

	fn header_part(&mut self) -> &mut String {
		if self.root_closed {
			&mut self.header.epilog
		} else {
			&mut self.header.prolog
		}
	}

	fn position(&self, offset: u64) -> Position {
		self.reader.get_ref().position_of(offset)
	}

	fn malformed(&self, offset: u64, message: &str) -> AmlError {
		AmlError::Malformed { at: self.position(offset), message: message.to_string() }
	}
}

impl NodeBuffer {
	fn new(index: u32, xml: String) -> NodeBuffer {
		NodeBuffer { index, xml, slot: None, tail: Vec::new(), tail_text: None }
	}
}

fn is_utf8_label(encoding: &str) -> bool {
	["utf-8", "utf8", "us-ascii", "ascii"]
		.iter()
		.any(|label| encoding.eq_ignore_ascii_case(label))
}
