//! The declaration a program call was checked against when it was queued, and the agent's own
//! check of the call against it.
//!
//! The chain records with each call the hash of the program's declared parameters it checked
//! the arguments against ([`pallet_dt_programs::declaration_hash`]). Before it runs a call, the
//! agent finds that declaration again: the program's declaration now, at the block that
//! queued the call, or at the block before that one (in case the program was declared anew
//! later in the queuing block), whichever hash is the recorded one. A program declared anew
//! after the call was queued (bounds widened, decimals changed) therefore changes nothing
//! for the calls already queued. If no declaration matches (it changed, and the node no
//! longer has the queuing block's state, or never had it), the call is refused rather than
//! judged by a declaration it was not checked against.

use dt_client::{reading::format_fixed_point, Client, ClientError};
use dt_primitives::{
	access::{ElementId, ProgramName, TwinId},
	program::{
		check_arguments, Argument, ArgumentError, ParameterDeclaration, ParameterType,
		ParameterValue, ProgramParameters,
	},
};
use dt_runtime::{AccountId, BlockNumber};
use pallet_dt_programs::{declaration_hash, CallRecord};
use pallet_dt_twin_spec::ProgramRecord;

/// Where the agent reads programs' declarations: the node's `TwinSpecApi`.
pub(crate) trait Declarations {
	/// The parameters `twin`'s specification declares for `program` on `element` at block
	/// number `at` (the best block for `None`); `Ok(None)` if it declares no such program
	/// there, `Err` if the node cannot read that block's state (pruned, or unknown to it).
	async fn parameters(
		&self,
		twin: TwinId,
		element: &ElementId,
		program: &ProgramName,
		at: Option<BlockNumber>,
	) -> Result<Option<ProgramParameters>, ClientError>;

	/// Succeeds if the node answers: tells a lost connection from a block it cannot read.
	async fn reachable(&self) -> Result<(), ClientError>;
}

impl Declarations for Client {
	async fn parameters(
		&self,
		twin: TwinId,
		element: &ElementId,
		program: &ProgramName,
		at: Option<BlockNumber>,
	) -> Result<Option<ProgramParameters>, ClientError> {
		let hash = match at {
			None => None,
			Some(number) => {
				Some(self.block_hash(number).await?.ok_or_else(|| ClientError::Rpc {
					method: "chain_getBlockHash",
					reason: format!("the node has no block {number}"),
				})?)
			},
		};
		let programs: Vec<ProgramRecord<AccountId>> =
			self.runtime_api("TwinSpecApi_programs", twin, hash).await?;
		Ok(programs
			.into_iter()
			.find(|record| record.element == *element && record.name == *program)
			.map(|record| record.parameters))
	}

	async fn reachable(&self) -> Result<(), ClientError> {
		self.finalized_head().await.map(|_| ())
	}
}

/// The parameters `record`'s call was checked against when it was queued. `Ok(Err(reason))`
/// if the agent cannot know them; `Err` if the node does not answer (try again later).
pub(crate) async fn at_queue_time(
	declarations: &impl Declarations,
	record: &CallRecord<AccountId, BlockNumber>,
) -> Result<Result<ProgramParameters, String>, ClientError> {
	let call = &record.call;
	let checked =
		|parameters: &ProgramParameters| declaration_hash(parameters) == call.declaration_hash;
	let now = declarations.parameters(call.twin, &call.element, &call.program, None).await?;
	if let Some(parameters) = now.filter(checked) {
		return Ok(Ok(parameters));
	}
	let mut unreadable = None;
	for block in std::iter::once(call.queued_at).chain(call.queued_at.checked_sub(1)) {
		match declarations
			.parameters(call.twin, &call.element, &call.program, Some(block))
			.await
		{
			Ok(Some(parameters)) if checked(&parameters) => return Ok(Ok(parameters)),
			Ok(_) => {},
			Err(reason) => {
				unreadable.get_or_insert((block, reason));
			},
		}
	}
	let program = String::from_utf8_lossy(&call.program);
	Ok(Err(match unreadable {
		Some((block, reason)) => {
			// A lost connection is no reason to refuse the call: it is tried again later.
			declarations.reachable().await?;
			format!(
				"{program} was declared anew after the call was queued in block {}, and the node \
				 cannot read the declaration it was checked against (block {block}: {reason})",
				call.queued_at
			)
		},
		None => format!(
			"no declaration of {program}, now or at block {}, is the one the call was checked \
			 against",
			call.queued_at
		),
	}))
}

/// Checks `arguments` against the `declared` parameters, as the chain does before it queues
/// a call: `Err` names the argument and the bound it breaks.
pub fn check(declared: &[ParameterDeclaration], arguments: &[Argument]) -> Result<(), String> {
	let Err(error) = check_arguments(declared, arguments) else { return Ok(()) };
	let given = |index: u8| {
		arguments
			.get(usize::from(index))
			.map_or_else(|| format!("#{index}"), |argument| name(&argument.name))
	};
	let parameter = |index: u8| {
		arguments
			.get(usize::from(index))
			.and_then(|argument| declared.iter().find(|parameter| parameter.name == argument.name))
	};
	let value = |index: u8| {
		let argument = arguments.get(usize::from(index))?;
		let declaration = parameter(index)?;
		let unit = String::from_utf8_lossy(&declaration.unit).into_owned();
		let number = match (&argument.value, declaration.kind) {
			(ParameterValue::Integer(value), _) => value.to_string(),
			(ParameterValue::Decimal(value), ParameterType::Decimal { decimals }) => {
				format_fixed_point(*value, decimals)
			},
			_ => return None,
		};
		Some((number, declaration, unit))
	};
	let bound = |bound: Option<i128>, declaration: &ParameterDeclaration| {
		let bound = bound.unwrap_or_default();
		match declaration.kind {
			ParameterType::Decimal { decimals } => format_fixed_point(bound, decimals),
			_ => bound.to_string(),
		}
	};
	Err(match error {
		ArgumentError::MissingArgument(index) => format!(
			"no argument for the declared parameter {}",
			declared.get(usize::from(index)).map_or_else(|| "?".into(), |p| name(&p.name))
		),
		ArgumentError::UnknownArgument(index) => {
			format!("{} is not a declared parameter", given(index))
		},
		ArgumentError::DuplicateArgument(index) => format!("{} is given twice", given(index)),
		ArgumentError::WrongType(index) => format!("{} is not of its declared type", given(index)),
		ArgumentError::BelowMinimum(index) => match value(index) {
			Some((number, declaration, unit)) => format!(
				"{} = {number} {unit} is below the declared minimum {} {unit}",
				given(index),
				bound(declaration.min, declaration)
			),
			None => format!("{} is below its declared minimum", given(index)),
		},
		ArgumentError::AboveMaximum(index) => match value(index) {
			Some((number, declaration, unit)) => format!(
				"{} = {number} {unit} is above the declared maximum {} {unit}",
				given(index),
				bound(declaration.max, declaration)
			),
			None => format!("{} is above its declared maximum", given(index)),
		},
		ArgumentError::NotAllowed(index) => {
			format!("{} is not among its declared allowed values", given(index))
		},
	})
}

fn name(bytes: &[u8]) -> String {
	String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
	use super::*;
	use dt_primitives::program::ParameterName;
	use pallet_dt_programs::{CallStatus, ProgramCall};
	use std::collections::BTreeMap;

	fn bounded<S: sp_runtime::traits::Get<u32>>(text: &str) -> sp_runtime::BoundedVec<u8, S> {
		text.as_bytes().to_vec().try_into().unwrap()
	}

	/// `SetFillVolume`'s volume: `decimals` places, from `min` to `max` in those units, ml.
	fn fill_volume(decimals: u8, min: i128, max: i128) -> ProgramParameters {
		vec![ParameterDeclaration {
			name: bounded("volume"),
			kind: ParameterType::Decimal { decimals },
			min: Some(min),
			max: Some(max),
			allowed: Default::default(),
			unit: bounded("ml"),
		}]
		.try_into()
		.unwrap()
	}

	fn volume(value: i128) -> Vec<Argument> {
		vec![Argument {
			name: ParameterName::try_from(b"volume".to_vec()).unwrap(),
			value: ParameterValue::Decimal(value),
		}]
	}

	/// A node's view of the program's declarations: by block number (the best block is
	/// `None`); a block missing from `states` has been pruned.
	struct Chain {
		states: BTreeMap<Option<BlockNumber>, Option<ProgramParameters>>,
		reachable: bool,
	}

	impl Declarations for Chain {
		async fn parameters(
			&self,
			_twin: TwinId,
			_element: &ElementId,
			_program: &ProgramName,
			at: Option<BlockNumber>,
		) -> Result<Option<ProgramParameters>, ClientError> {
			if !self.reachable {
				return Err(ClientError::Rpc { method: "state_call", reason: "gone".into() });
			}
			self.states.get(&at).cloned().ok_or_else(|| ClientError::Rpc {
				method: "state_call",
				reason: "State already discarded".into(),
			})
		}

		async fn reachable(&self) -> Result<(), ClientError> {
			match self.reachable {
				true => Ok(()),
				false => Err(ClientError::Rpc {
					method: "chain_getFinalizedHead",
					reason: "gone".into(),
				}),
			}
		}
	}

	/// A call queued in block 10, checked against `declared`.
	fn queued(
		declared: &ProgramParameters,
		arguments: Vec<Argument>,
	) -> CallRecord<AccountId, BlockNumber> {
		CallRecord {
			id: 7,
			call: ProgramCall {
				twin: 0,
				element: bounded("filler"),
				program: bounded("SetFillVolume"),
				arguments: arguments.try_into().unwrap(),
				declaration_hash: declaration_hash(declared),
				caller: AccountId::new([1; 32]),
				queued_at: 10,
				expires_at: 610,
				status: CallStatus::Pending,
			},
		}
	}

	fn chain(states: &[(Option<BlockNumber>, Option<&ProgramParameters>)]) -> Chain {
		Chain { states: states.iter().map(|(at, p)| (*at, p.cloned())).collect(), reachable: true }
	}

	fn block_on<F: std::future::Future>(future: F) -> F::Output {
		tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
	}

	#[test]
	fn an_unchanged_declaration_is_read_now_even_when_history_is_pruned() {
		let declared = fill_volume(1, 2500, 15005);
		let call = queued(&declared, volume(11_000));
		let found = block_on(at_queue_time(&chain(&[(None, Some(&declared))]), &call)).unwrap();
		assert_eq!(found, Ok(declared));
	}

	#[test]
	fn a_declaration_widened_after_queueing_is_not_the_one_the_call_is_judged_by() {
		// Checked against 250.0..1500.5 ml at one decimal; since declared anew with whole
		// millilitres up to 5000: by that declaration the queued 11000 would mean 11000 ml.
		let old = fill_volume(1, 2500, 15005);
		let widened = fill_volume(0, 250, 5000);
		let call = queued(&old, volume(11_000));
		let node = chain(&[(None, Some(&widened)), (Some(10), Some(&old))]);
		let found = block_on(at_queue_time(&node, &call)).unwrap().unwrap();
		assert_eq!(found, old);
		assert_eq!(check(&found, &call.call.arguments), Ok(()));
		assert!(check(&widened, &call.call.arguments).is_err());
		// Declared anew later in the queuing block itself: the block before holds it.
		let node =
			chain(&[(None, Some(&widened)), (Some(10), Some(&widened)), (Some(9), Some(&old))]);
		assert_eq!(block_on(at_queue_time(&node, &call)).unwrap(), Ok(old));
	}

	#[test]
	fn a_changed_declaration_whose_queue_time_state_is_pruned_is_refused_not_guessed() {
		let old = fill_volume(1, 2500, 15005);
		let widened = fill_volume(1, 2500, 50000);
		let call = queued(&old, volume(11_000));
		let pruned = chain(&[(None, Some(&widened))]);
		let refused = block_on(at_queue_time(&pruned, &call)).unwrap().unwrap_err();
		assert!(refused.contains("declared anew"), "{refused}");
		assert!(refused.contains("State already discarded"), "{refused}");
		// Removed since, and the history is there but does not match either.
		let removed = chain(&[(None, None), (Some(10), Some(&widened)), (Some(9), Some(&widened))]);
		assert!(block_on(at_queue_time(&removed, &call)).unwrap().is_err());
		// A node that stopped answering is not a reason to refuse: the agent tries again.
		let mut gone = chain(&[(None, Some(&widened))]);
		gone.reachable = false;
		assert!(block_on(at_queue_time(&gone, &call)).is_err());
	}

	#[test]
	fn the_agents_own_check_names_the_argument_and_the_bound() {
		let declared = fill_volume(1, 2500, 15005);
		assert_eq!(check(&declared, &volume(15005)), Ok(()));
		assert_eq!(
			check(&declared, &volume(40_000)),
			Err("volume = 4000.0 ml is above the declared maximum 1500.5 ml".into())
		);
		assert_eq!(
			check(&declared, &volume(100)),
			Err("volume = 10.0 ml is below the declared minimum 250.0 ml".into())
		);
		assert_eq!(
			check(&declared, &[]),
			Err("no argument for the declared parameter volume".into())
		);
		let integer =
			vec![Argument { name: bounded("volume"), value: ParameterValue::Integer(500) }];
		assert_eq!(check(&declared, &integer), Err("volume is not of its declared type".into()));
	}
}
