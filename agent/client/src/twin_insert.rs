//! An AML snippet (an element with the elements nested in it) as the `insert_elements` calls
//! that add it below an element of a twin.
//!
//! One call inserts its elements all or none, below one parent: each element's parent is the
//! call's parent or an element inserted before it by the same call. A snippet of up to
//! [`ELEMENTS_PER_CALL`] elements is one call. A larger one is split in document order, and
//! a call that cannot take the next element (it is full, or the element's parent was
//! inserted by an earlier call) ends there; the next call takes that element's parent,
//! which the earlier call put on chain.

use crate::{
	error::ClientError,
	twin_import::{bounded, element_id},
	ELEMENTS_PER_CALL,
};
use dt_primitives::access::TwinId;
use dt_runtime::{Runtime, RuntimeCall};
use pallet_dt_twin_spec::{Call as TwinSpecCall, Config, NewElement};
use sp_runtime::BoundedVec;
use std::collections::HashSet;

/// One `insert_elements` call and the ids of the elements it inserts, in order.
#[derive(Debug)]
pub struct Insertion {
	pub call: RuntimeCall,
	pub elements: Vec<String>,
}

/// The calls that insert `records` (from [`dt_aml::parse_snippet`] with `parent`) into
/// `twin`, in the order they must be submitted.
pub fn insertion_calls(
	twin: TwinId,
	parent: &str,
	records: &[dt_aml::NodeRecord],
) -> Result<Vec<Insertion>, ClientError> {
	let mut calls = Vec::new();
	let mut current: Option<Batch> = None;
	for record in records {
		let record_parent = record.parent.as_deref().unwrap_or(parent);
		let fits = current.as_ref().is_some_and(|batch| {
			batch.ids.len() < ELEMENTS_PER_CALL
				&& (batch.parent == record_parent || batch.ids.contains(record_parent))
		});
		if !fits {
			calls.extend(current.take().map(|batch| batch.into_call(twin)).transpose()?);
			current = Some(Batch::below(record_parent));
		}
		let batch = current.as_mut().expect("a batch was just started");
		batch.elements.push(NewElement {
			id: element_id(&record.id)?,
			parent: Some(element_id(record_parent)?),
			previous_sibling: record.previous_sibling.as_deref().map(element_id).transpose()?,
			fragment: bounded(record.fragment.as_str().as_bytes(), "the element's XML")
				.map_err(|e| ClientError::Aml(format!("element {}: {e}", record.id)))?,
		});
		batch.ids.insert(record.id.clone());
	}
	calls.extend(current.map(|batch| batch.into_call(twin)).transpose()?);
	Ok(calls)
}

/// The elements of one call being gathered.
struct Batch {
	parent: String,
	elements: Vec<NewElement<<Runtime as Config>::MaxFragmentLength>>,
	ids: HashSet<String>,
}

impl Batch {
	fn below(parent: &str) -> Self {
		Batch { parent: parent.to_string(), elements: Vec::new(), ids: HashSet::new() }
	}

	fn into_call(self, twin: TwinId) -> Result<Insertion, ClientError> {
		let ids = self
			.elements
			.iter()
			.map(|element| String::from_utf8_lossy(&element.id).into_owned());
		let order = ids.collect();
		let elements: BoundedVec<_, <Runtime as Config>::MaxElementsPerCall> =
			self.elements.try_into().expect("ELEMENTS_PER_CALL is below the bound");
		Ok(Insertion {
			call: RuntimeCall::TwinSpec(TwinSpecCall::insert_elements {
				twin,
				parent: element_id(&self.parent)?,
				elements,
			}),
			elements: order,
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn calls_of(snippet: &str) -> Vec<(String, Vec<String>)> {
		let records = dt_aml::parse_snippet(snippet.as_bytes(), Some("filler"), None).unwrap();
		insertion_calls(7, "filler", &records)
			.unwrap()
			.into_iter()
			.map(|insertion| {
				let RuntimeCall::TwinSpec(TwinSpecCall::insert_elements {
					twin: 7,
					parent,
					elements,
				}) = insertion.call
				else {
					panic!("not an insert_elements call")
				};
				let ids: Vec<String> =
					elements.iter().map(|e| String::from_utf8(e.id.to_vec()).unwrap()).collect();
				assert_eq!(ids, insertion.elements);
				(String::from_utf8(parent.to_vec()).unwrap(), ids)
			})
			.collect()
	}

	#[test]
	fn a_nested_snippet_is_one_call_below_the_parent() {
		let snippet = r#"<InternalElement Name="Sensor" ID="sensor"><InternalElement Name="Probe" ID="probe"><ExternalInterface Name="Out" ID="out"/></InternalElement><ExternalInterface Name="Alarm" ID="alarm"/></InternalElement>"#;
		assert_eq!(
			calls_of(snippet),
			[(
				"filler".to_string(),
				vec!["sensor", "probe", "out", "alarm"].into_iter().map(String::from).collect()
			)]
		);
	}

	#[test]
	fn a_large_snippet_is_split_where_each_call_has_its_parent_on_chain() {
		// A station with 150 sensors, each with an output: 301 elements.
		let sensors: String = (0..150)
			.map(|i| format!(r#"<InternalElement Name="S" ID="s{i}"><ExternalInterface Name="Out" ID="o{i}"/></InternalElement>"#))
			.collect();
		let snippet =
			format!(r#"<InternalElement Name="Station" ID="station">{sensors}</InternalElement>"#);
		let calls = calls_of(&snippet);
		assert_eq!(calls.iter().map(|(_, ids)| ids.len()).sum::<usize>(), 301);
		assert!(calls.iter().all(|(_, ids)| ids.len() <= ELEMENTS_PER_CALL), "{calls:?}");
		// The first below the given parent; every later one below an element an earlier call
		// inserted, and each element's parent is its call's parent or in its call before it.
		assert_eq!(calls[0].0, "filler");
		let records = dt_aml::parse_snippet(snippet.as_bytes(), Some("filler"), None).unwrap();
		let parent_of: std::collections::HashMap<_, _> =
			records.iter().map(|r| (r.id.clone(), r.parent.clone().unwrap())).collect();
		let mut on_chain: HashSet<String> = HashSet::from(["filler".to_string()]);
		for (parent, ids) in &calls {
			assert!(on_chain.contains(parent), "{parent} is on chain before its call");
			let mut in_call = HashSet::new();
			for id in ids {
				let element_parent = &parent_of[id];
				assert!(element_parent == parent || in_call.contains(element_parent), "{id}");
				in_call.insert(id.clone());
			}
			on_chain.extend(in_call);
		}
	}
}
