//! An AML document as the calls that create a twin from it.

use crate::error::ClientError;
use dt_primitives::access::{ElementId, TwinId};
use dt_runtime::{Runtime, RuntimeCall};
use pallet_dt_twin_spec::{Call as TwinSpecCall, Config, DocumentHeader, NewElement};
use sp_runtime::{traits::Get, BoundedVec};

/// Elements per call: well below the runtime's 500, so every call fits in a block even with
/// large fragments.
pub const ELEMENTS_PER_CALL: usize = 120;

type Fragment = NewElement<<Runtime as Config>::MaxFragmentLength>;
type Chunk = BoundedVec<Fragment, <Runtime as Config>::MaxElementsPerCall>;

/// The calls that create a twin from an AML document: `create_twin` with the first chunk of
/// elements, then `import_elements` with the others, in document order.
pub struct TwinImport {
	header: DocumentHeader<<Runtime as Config>::MaxHeaderLength>,
	chunks: Vec<Chunk>,
	elements: usize,
}

/// The calls that create a twin from `tree`, a document read with [`dt_aml::AmlTree::parse`].
pub fn twin_import(tree: &dt_aml::AmlTree) -> Result<TwinImport, ClientError> {
	let header = DocumentHeader {
		prolog: bounded(tree.header().prolog.as_bytes(), "the text before the root element")?,
		epilog: bounded(tree.header().epilog.as_bytes(), "the text after the root element")?,
	};
	let elements = tree
		.records()
		.map(|record| {
			Ok(NewElement {
				id: element_id(&record.id)?,
				parent: record.parent.as_deref().map(element_id).transpose()?,
				previous_sibling: record.previous_sibling.as_deref().map(element_id).transpose()?,
				fragment: bounded(
					record.fragment.as_str().as_bytes(),
					"the XML of an element without its children",
				)
				.map_err(|e| ClientError::Aml(format!("element {}: {e}", record.id)))?,
			})
		})
		.collect::<Result<Vec<_>, ClientError>>()?;
	let count = elements.len();
	let chunks = elements
		.chunks(ELEMENTS_PER_CALL)
		.map(|chunk| chunk.to_vec().try_into().expect("ELEMENTS_PER_CALL is below the bound"))
		.collect();
	Ok(TwinImport { header, chunks, elements: count })
}

impl TwinImport {
	/// How many elements the document has.
	pub fn element_count(&self) -> usize {
		self.elements
	}

	/// How many calls the import takes.
	pub fn call_count(&self) -> usize {
		self.chunks.len().max(1)
	}

	/// The call that creates the twin, with the first elements; it completes the import if
	/// the document fits in one call.
	pub fn create_call(&self) -> RuntimeCall {
		RuntimeCall::TwinSpec(TwinSpecCall::create_twin {
			header: self.header.clone(),
			elements: self.chunks.first().cloned().unwrap_or_default(),
			complete: self.chunks.len() <= 1,
		})
	}

	/// The calls that import the remaining elements into `twin`, the last one completing it.
	pub fn import_calls(&self, twin: TwinId) -> Vec<RuntimeCall> {
		let rest = self.chunks.len().saturating_sub(1);
		self.chunks
			.iter()
			.skip(1)
			.enumerate()
			.map(|(index, chunk)| {
				RuntimeCall::TwinSpec(TwinSpecCall::import_elements {
					twin,
					elements: chunk.clone(),
					complete: index + 1 == rest,
				})
			})
			.collect()
	}
}

pub(crate) fn element_id(id: &str) -> Result<ElementId, ClientError> {
	bounded(id.as_bytes(), "an element id").map_err(|e| ClientError::Aml(format!("{id}: {e}")))
}

pub(crate) fn bounded<S: Get<u32>>(
	bytes: &[u8],
	what: &str,
) -> Result<BoundedVec<u8, S>, ClientError> {
	bytes.to_vec().try_into().map_err(|_| {
		ClientError::Aml(format!(
			"{what} is {} bytes, more than the chain's {}",
			bytes.len(),
			S::get()
		))
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	const PLANT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<CAEXFile FileName="plant.aml" SchemaVersion="3.0">
  <InstanceHierarchy Name="Plant" ID="plant">
    <InternalElement Name="Filler" ID="filler" />
  </InstanceHierarchy>
</CAEXFile>
"#;

	#[test]
	fn a_small_document_is_one_complete_create_call() {
		let import = twin_import(&dt_aml::AmlTree::parse_str(PLANT).unwrap()).unwrap();
		assert_eq!((import.element_count(), import.call_count()), (3, 1));
		let RuntimeCall::TwinSpec(TwinSpecCall::create_twin { elements, complete, header }) =
			import.create_call()
		else {
			panic!("not a create_twin call")
		};
		assert!(complete);
		assert_eq!(elements[2].parent.as_ref().map(|p| p.as_slice()), Some(&b"plant"[..]));
		assert!(header.prolog.starts_with(b"<?xml"));
		assert!(import.import_calls(7).is_empty());
	}

	#[test]
	fn a_large_document_is_split_and_the_last_call_completes_it() {
		let aml = dt_aml::generated::plant(10, 10, false);
		let import = twin_import(&dt_aml::AmlTree::parse_str(&aml).unwrap()).unwrap();
		let calls = import.import_calls(7);
		assert_eq!(calls.len() + 1, import.element_count().div_ceil(ELEMENTS_PER_CALL));
		let completes: Vec<bool> = calls
			.iter()
			.map(|call| match call {
				RuntimeCall::TwinSpec(TwinSpecCall::import_elements {
					twin: 7, complete, ..
				}) => *complete,
				other => panic!("unexpected {other:?}"),
			})
			.collect();
		assert_eq!(completes.last(), Some(&true));
		assert!(completes[..completes.len() - 1].iter().all(|complete| !complete));
	}

	#[test]
	fn an_element_id_longer_than_the_chain_allows_is_refused_naming_it() {
		let long_id = "x".repeat(1000);
		let aml = format!(r#"<CAEXFile><InternalElement ID="{long_id}"/></CAEXFile>"#);
		let error = twin_import(&dt_aml::AmlTree::parse_str(&aml).unwrap()).err().unwrap();
		assert!(
			matches!(&error, ClientError::Aml(reason) if reason.starts_with(&long_id[..10])),
			"{error}"
		);
	}
}
