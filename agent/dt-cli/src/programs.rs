//! `dt program`: the programs a twin's specification declares, calling them (arguments
//! checked against the declared types and bounds before anything is sent) and following a
//! call to its outcome.

use crate::{chain, keystore::Keystore, unlock, Output, Signer, Unsuccessful};
use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use dt_client::{reading, Client};
use dt_primitives::{
	access::TwinId,
	program::{
		check_arguments, parse_integer, Argument, ArgumentError, ParameterDeclaration,
		ParameterType, ParameterValue, ProgramArguments,
	},
};
use dt_runtime::{AccountId, BlockNumber, RuntimeCall, RuntimeEvent};
use pallet_dt_programs::{CallId, CallRecord, CallStatus};
use pallet_dt_twin_spec::ProgramRecord;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub enum ProgramCommand {
	/// The programs a twin's specification declares, with their parameters and bounds.
	List { twin: TwinId },
	/// Calls a program of a twin's device and prints the call's id. Every argument is
	/// checked against the declared type and bounds first; nothing is sent if one is wrong.
	Call {
		twin: TwinId,
		/// The element that offers the program.
		element: String,
		/// The program's name.
		program: String,
		/// One NAME=VALUE per declared parameter (e.g. volume=500.0).
		#[arg(value_name = "NAME=VALUE")]
		arguments: Vec<String>,
		#[command(flatten)]
		signer: Signer,
		/// Wait for the outcome (completed, failed, expired or cancelled); the exit code is
		/// non-zero unless it completed.
		#[arg(long)]
		wait: bool,
		/// How long to wait for the outcome, in seconds.
		#[arg(long, default_value_t = 300, requires = "wait", value_name = "SECONDS")]
		timeout: u64,
	},
	/// Withdraws a call the device has not claimed yet (only its caller may).
	Cancel {
		call: CallId,
		#[command(flatten)]
		signer: Signer,
	},
	/// A twin's program calls, pending and past, oldest first.
	Calls {
		twin: TwinId,
		/// Only the unfinished ones (claimed, then pending, in the order the device runs them).
		#[arg(long)]
		pending: bool,
	},
}

type Call = CallRecord<AccountId, BlockNumber>;

pub async fn program_command(
	keystore: &Keystore,
	node: &str,
	command: ProgramCommand,
	json: bool,
) -> Result<Output> {
	match command {
		ProgramCommand::List { twin } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let programs = programs(&client, twin).await?;
			let text = if programs.is_empty() {
				format!("twin {twin} declares no programs")
			} else {
				programs.iter().map(program_text).collect::<Vec<_>>().join("\n")
			};
			Ok(Output {
				text,
				json: json!({ "twin": twin, "programs": programs.iter().map(program_json).collect::<Vec<_>>() }),
			})
		},
		ProgramCommand::Call { twin, element, program, arguments, signer, wait, timeout } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let programs = programs(&client, twin).await?;
			let declared = programs
				.iter()
				.find(|record| {
					record.element[..] == *element.as_bytes()
						&& record.name[..] == *program.as_bytes()
				})
				.ok_or_else(|| {
					anyhow!(
						"element {element} of twin {twin} declares no program {program} \
						 (`dt program list {twin}` shows the twin's programs)"
					)
				})?;
			let arguments = parse_arguments(&program, &declared.parameters, &arguments)?;
			let pair = unlock(keystore, &signer)?;
			let call = RuntimeCall::Programs(pallet_dt_programs::Call::call_program {
				twin,
				element: declared.element.clone(),
				program: declared.name.clone(),
				arguments,
			});
			let finalized = chain::submit(&client, &pair, call, "call the program").await?;
			let id = finalized
				.events
				.iter()
				.find_map(|event| match event {
					RuntimeEvent::Programs(pallet_dt_programs::Event::ProgramCallQueued {
						call,
						..
					}) => Some(*call),
					_ => None,
				})
				.ok_or_else(|| anyhow!("the chain did not report the queued call"))?;
			if !wait {
				return Ok(Output {
					text: format!(
						"call {id} of {program} queued for twin {twin}'s device \
						 (follow it with `dt program calls {twin}`)"
					),
					json: json!({ "twin": twin, "call": id, "status": "pending", "block": finalized.block }),
				});
			}
			if !json {
				eprintln!("call {id} of {program} queued; waiting for the device");
			}
			let record = wait_for_outcome(&client, id, Duration::from_secs(timeout), json).await?;
			let output = Output {
				text: format!("call {id} of {program}: {}", status_text(&record.call.status)),
				json: call_json(&record, &programs),
			};
			match record.call.status {
				CallStatus::Completed { .. } => Ok(output),
				_ => Err(Unsuccessful(output).into()),
			}
		},
		ProgramCommand::Cancel { call, signer } => {
			let client = chain::connect(node).await?;
			let record =
				client
					.runtime_api::<Option<Call>>("ProgramsApi_call", call, None)
					.await?
					.ok_or_else(|| {
						anyhow!("call {call} does not exist (`dt program calls TWIN` lists a twin's calls)")
					})?;
			if record.call.status != CallStatus::Pending {
				bail!(
					"call {call} cannot be cancelled: it is {}",
					status_text(&record.call.status)
				);
			}
			let pair = unlock(keystore, &signer)?;
			let cancel = pallet_dt_programs::Call::cancel_call { call };
			let finalized =
				chain::submit(&client, &pair, RuntimeCall::Programs(cancel), "cancel the call")
					.await?;
			Ok(Output {
				text: format!("call {call} cancelled"),
				json: json!({ "call": call, "cancelled": true, "block": finalized.block }),
			})
		},
		ProgramCommand::Calls { twin, pending } => {
			let client = chain::connect(node).await?;
			chain::twin(&client, twin).await?;
			let programs = programs(&client, twin).await?;
			let calls = if pending {
				client.runtime_api::<Vec<Call>>("ProgramsApi_pending_calls", twin, None).await?
			} else {
				all_calls(&client, twin).await?
			};
			let text = if calls.is_empty() {
				format!(
					"twin {twin} has no {}program calls",
					if pending { "unfinished " } else { "" }
				)
			} else {
				calls
					.iter()
					.map(|call| call_text(call, &programs))
					.collect::<Vec<_>>()
					.join("\n")
			};
			Ok(Output {
				text,
				json: json!({
					"twin": twin,
					"calls": calls.iter().map(|call| call_json(call, &programs)).collect::<Vec<_>>(),
				}),
			})
		},
	}
}

async fn programs(client: &Client, twin: TwinId) -> Result<Vec<ProgramRecord<AccountId>>> {
	Ok(client.runtime_api("TwinSpecApi_programs", twin, None).await?)
}

async fn all_calls(client: &Client, twin: TwinId) -> Result<Vec<Call>> {
	let mut calls: Vec<Call> = Vec::new();
	loop {
		let after: Option<CallId> = calls.last().map(|call| call.id);
		let page: Vec<Call> = client
			.runtime_api(
				"ProgramsApi_calls_of_twin",
				(twin, after, pallet_dt_programs::MAX_CALLS_PER_PAGE),
				None,
			)
			.await?;
		if page.is_empty() {
			return Ok(calls);
		}
		calls.extend(page);
	}
}

/// Follows finalized blocks until the call is finished, reading its status at each.
async fn wait_for_outcome(
	client: &Client,
	call: CallId,
	timeout: Duration,
	json: bool,
) -> Result<Call> {
	let deadline = tokio::time::Instant::now() + timeout;
	let mut blocks = client.finalized_events().await?;
	// The call may have finished before the subscription started.
	let mut at = client.finalized_head().await?;
	let mut claimed_reported = false;
	loop {
		let record: Call = client
			.runtime_api::<Option<Call>>("ProgramsApi_call", call, Some(at))
			.await?
			.ok_or_else(|| anyhow!("the chain does not know call {call}"))?;
		match &record.call.status {
			CallStatus::Pending => {},
			CallStatus::Claimed { by, at } => {
				if !claimed_reported && !json {
					eprintln!("call {call} claimed by the device {by} in block {at}");
				}
				claimed_reported = true;
			},
			_ => return Ok(record),
		}
		let block = tokio::time::timeout_at(deadline, blocks.next()).await.map_err(|_| {
			anyhow!(
				"call {call} is still {} after {} s; it stays queued until it expires \
				 (`dt program calls TWIN` shows it; wait longer with --timeout SECONDS)",
				if claimed_reported { "running" } else { "pending" },
				timeout.as_secs()
			)
		})??;
		at = block.hash;
	}
}

/// The given `NAME=VALUE` arguments as the chain takes them, each checked against its
/// declaration: an error names the argument and the bound it breaks.
pub fn parse_arguments(
	program: &str,
	declared: &[ParameterDeclaration],
	given: &[String],
) -> Result<ProgramArguments> {
	let mut arguments: Vec<Argument> = Vec::new();
	for text in given {
		let (name, value) = text.split_once('=').ok_or_else(|| {
			anyhow!("argument {text:?} is not NAME=VALUE (e.g. volume=500.0); nothing was sent")
		})?;
		let parameter = declared
			.iter()
			.find(|parameter| parameter.name[..] == *name.as_bytes())
			.ok_or_else(|| {
				anyhow!(
					"unknown argument {name}: {program} takes {}; nothing was sent",
					parameter_list(declared)
				)
			})?;
		if arguments.iter().any(|argument| argument.name == parameter.name) {
			bail!("argument {name} is given twice; nothing was sent");
		}
		let value = parse_value(parameter, value)
			.map_err(|reason| anyhow!("argument {name}: {reason}; nothing was sent"))?;
		let index = arguments.len() as u8;
		if let Err(error) = parameter.check_value(&value, index) {
			bail!(
				"argument {name} = {}: {}; nothing was sent",
				show_value(parameter, &value),
				why_refused(program, parameter, error)
			);
		}
		arguments.push(Argument { name: parameter.name.clone(), value });
	}
	if let Some(missing) = declared
		.iter()
		.find(|parameter| !arguments.iter().any(|argument| argument.name == parameter.name))
	{
		bail!(
			"argument {} is missing: {program} takes {}; nothing was sent",
			String::from_utf8_lossy(&missing.name),
			parameter_list(declared)
		);
	}
	// The chain's own check, so that nothing it would refuse is sent.
	check_arguments(declared, &arguments)
		.map_err(|error| anyhow!("the arguments do not fit {program}: {error:?}"))?;
	arguments
		.try_into()
		.map_err(|_| anyhow!("more arguments than a program call carries"))
}

/// Which bound a value breaks, with the declared bounds.
fn why_refused(program: &str, parameter: &ParameterDeclaration, error: ArgumentError) -> String {
	let bound = |side: &str, limit: Option<i128>| {
		format!(
			"{side} the {} {} of {program} ({})",
			if side == "below" { "minimum" } else { "maximum" },
			number(parameter, limit.unwrap_or_default()),
			bounds(parameter)
		)
	};
	match error {
		ArgumentError::BelowMinimum(_) => bound("below", parameter.min),
		ArgumentError::AboveMaximum(_) => bound("above", parameter.max),
		ArgumentError::NotAllowed(_) => {
			format!("not among the allowed values ({})", bounds(parameter))
		},
		other => format!("refused by the declaration: {other:?}"),
	}
}

fn parse_value(parameter: &ParameterDeclaration, text: &str) -> Result<ParameterValue, String> {
	match parameter.kind {
		ParameterType::Boolean => match text {
			"true" => Ok(ParameterValue::Boolean(true)),
			"false" => Ok(ParameterValue::Boolean(false)),
			_ => Err(format!("{text:?} is not a boolean: write true or false")),
		},
		ParameterType::Integer => parse_integer(text.as_bytes())
			.map(ParameterValue::Integer)
			.ok_or_else(|| format!("{text:?} is not a whole number")),
		ParameterType::Decimal { decimals } => reading::to_fixed_point(text, decimals)
			.map(ParameterValue::Decimal)
			.map_err(|error| match error {
				reading::ReadingError::TooPrecise { .. } => {
					format!("{text} has more than {decimals} decimal places")
				},
				reading::ReadingError::NotDecimal(_) => format!("{text:?} is not a number"),
				other => other.to_string(),
			}),
		ParameterType::Text => {
			text.as_bytes().to_vec().try_into().map(ParameterValue::Text).map_err(|_| {
				format!("the text is longer than {} bytes", dt_primitives::program::MAX_VALUE_LEN)
			})
		},
	}
}

fn kind_name(kind: ParameterType) -> String {
	match kind {
		ParameterType::Boolean => "boolean".into(),
		ParameterType::Integer => "integer".into(),
		ParameterType::Decimal { decimals } => format!("decimal({decimals})"),
		ParameterType::Text => "text".into(),
	}
}

/// A bound as a number: fixed point shown with its decimals.
fn number(parameter: &ParameterDeclaration, value: i128) -> String {
	let unit = String::from_utf8_lossy(&parameter.unit);
	let shown = match parameter.kind {
		ParameterType::Decimal { decimals } => reading::format_fixed_point(value, decimals),
		_ => value.to_string(),
	};
	if unit.is_empty() {
		shown
	} else {
		format!("{shown} {unit}")
	}
}

fn show_value(parameter: &ParameterDeclaration, value: &ParameterValue) -> String {
	match (parameter.kind, value) {
		(ParameterType::Decimal { decimals }, ParameterValue::Decimal(v)) => {
			reading::format_fixed_point(*v, decimals)
		},
		(_, ParameterValue::Integer(v) | ParameterValue::Decimal(v)) => v.to_string(),
		(_, ParameterValue::Boolean(v)) => v.to_string(),
		(_, ParameterValue::Text(v)) => format!("{:?}", String::from_utf8_lossy(v)),
	}
}

/// The declared bounds: `250.0 ml ..= 1500.5 ml`, `one of normal, gentle`, `any`.
fn bounds(parameter: &ParameterDeclaration) -> String {
	let mut parts = Vec::new();
	match (parameter.min, parameter.max) {
		(Some(min), Some(max)) => {
			parts.push(format!("{} ..= {}", number(parameter, min), number(parameter, max)))
		},
		(Some(min), None) => parts.push(format!("at least {}", number(parameter, min))),
		(None, Some(max)) => parts.push(format!("at most {}", number(parameter, max))),
		(None, None) => {},
	}
	if !parameter.allowed.is_empty() {
		let allowed: Vec<String> = parameter
			.allowed
			.iter()
			.map(|v| String::from_utf8_lossy(v).into_owned())
			.collect();
		parts.push(format!("one of {}", allowed.join(", ")));
	}
	if parts.is_empty() {
		"any value".into()
	} else {
		parts.join(", ")
	}
}

fn parameter_list(declared: &[ParameterDeclaration]) -> String {
	if declared.is_empty() {
		return "no arguments".into();
	}
	declared
		.iter()
		.map(|p| {
			format!("{} ({}, {})", String::from_utf8_lossy(&p.name), kind_name(p.kind), bounds(p))
		})
		.collect::<Vec<_>>()
		.join("; ")
}

fn program_text(record: &ProgramRecord<AccountId>) -> String {
	let mut text = format!(
		"{} on {} (declared by {})",
		String::from_utf8_lossy(&record.name),
		String::from_utf8_lossy(&record.element),
		record.declared_by
	);
	for parameter in record.parameters.iter() {
		text.push_str(&format!(
			"\n  {}: {}, {}",
			String::from_utf8_lossy(&parameter.name),
			kind_name(parameter.kind),
			bounds(parameter)
		));
	}
	text
}

fn parameter_json(parameter: &ParameterDeclaration) -> Value {
	let decimals = match parameter.kind {
		ParameterType::Decimal { decimals } => Some(decimals),
		_ => None,
	};
	let shown = |value: Option<i128>| {
		value.map(|v| match decimals {
			Some(d) => reading::format_fixed_point(v, d),
			None => v.to_string(),
		})
	};
	json!({
		"name": String::from_utf8_lossy(&parameter.name),
		"type": kind_name(parameter.kind),
		"min": shown(parameter.min),
		"max": shown(parameter.max),
		"allowed": parameter.allowed.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect::<Vec<_>>(),
		"unit": String::from_utf8_lossy(&parameter.unit),
	})
}

fn program_json(record: &ProgramRecord<AccountId>) -> Value {
	json!({
		"element": String::from_utf8_lossy(&record.element),
		"program": String::from_utf8_lossy(&record.name),
		"declared_by": record.declared_by.to_string(),
		"parameters": record.parameters.iter().map(parameter_json).collect::<Vec<_>>(),
	})
}

fn status_text(status: &CallStatus<AccountId, BlockNumber, Vec<u8>>) -> String {
	match status {
		CallStatus::Pending => "pending".into(),
		CallStatus::Claimed { by, at } => format!("running (claimed by {by} in block {at})"),
		CallStatus::Completed { at, result } => {
			format!("completed in block {at}: {}", String::from_utf8_lossy(result))
		},
		CallStatus::Failed { at, result } => {
			format!("FAILED in block {at}: {}", String::from_utf8_lossy(result))
		},
		CallStatus::Cancelled { at } => format!("cancelled by its caller in block {at}"),
		CallStatus::Expired { at } => format!("EXPIRED unfinished in block {at}"),
	}
}

fn status_json(status: &CallStatus<AccountId, BlockNumber, Vec<u8>>) -> Value {
	match status {
		CallStatus::Pending => json!({ "status": "pending" }),
		CallStatus::Claimed { by, at } => {
			json!({ "status": "claimed", "by": by.to_string(), "at": at })
		},
		CallStatus::Completed { at, result } => {
			json!({ "status": "completed", "at": at, "result": String::from_utf8_lossy(result) })
		},
		CallStatus::Failed { at, result } => {
			json!({ "status": "failed", "at": at, "result": String::from_utf8_lossy(result) })
		},
		CallStatus::Cancelled { at } => json!({ "status": "cancelled", "at": at }),
		CallStatus::Expired { at } => json!({ "status": "expired", "at": at }),
	}
}

/// The call's arguments as `name=value`, decimals shown with the declared places when the
/// declaration is still there.
fn arguments_text(call: &Call, programs: &[ProgramRecord<AccountId>]) -> Vec<String> {
	let declared = programs
		.iter()
		.find(|p| p.element == call.call.element && p.name == call.call.program);
	call.call
		.arguments
		.iter()
		.map(|argument| {
			let parameter =
				declared.and_then(|p| p.parameters.iter().find(|q| q.name == argument.name));
			let value = match (parameter, &argument.value) {
				(Some(parameter), value) => show_value(parameter, value),
				(None, ParameterValue::Decimal(v) | ParameterValue::Integer(v)) => v.to_string(),
				(None, ParameterValue::Boolean(v)) => v.to_string(),
				(None, ParameterValue::Text(v)) => format!("{:?}", String::from_utf8_lossy(v)),
			};
			format!("{}={value}", String::from_utf8_lossy(&argument.name))
		})
		.collect()
}

fn call_text(call: &Call, programs: &[ProgramRecord<AccountId>]) -> String {
	format!(
		"call {}: {}({}) on {}, by {} in block {}: {}",
		call.id,
		String::from_utf8_lossy(&call.call.program),
		arguments_text(call, programs).join(", "),
		String::from_utf8_lossy(&call.call.element),
		call.call.caller,
		call.call.queued_at,
		status_text(&call.call.status)
	)
}

fn call_json(call: &Call, programs: &[ProgramRecord<AccountId>]) -> Value {
	json!({
		"call": call.id,
		"twin": call.call.twin,
		"element": String::from_utf8_lossy(&call.call.element),
		"program": String::from_utf8_lossy(&call.call.program),
		"arguments": arguments_text(call, programs),
		"caller": call.call.caller.to_string(),
		"queued_at": call.call.queued_at,
		"expires_at": call.call.expires_at,
		"outcome": status_json(&call.call.status),
	})
}

#[cfg(test)]
mod tests {
	use super::*;

	fn name(text: &str) -> dt_primitives::program::ParameterName {
		text.as_bytes().to_vec().try_into().unwrap()
	}

	/// volume: decimal(1) 250.0 ..= 1500.5 ml; mode: text normal|gentle; rinse: boolean.
	fn declared() -> Vec<ParameterDeclaration> {
		let plain = |n: &str, kind| ParameterDeclaration {
			name: name(n),
			kind,
			min: None,
			max: None,
			allowed: Default::default(),
			unit: Default::default(),
		};
		let mut volume = plain("volume", ParameterType::Decimal { decimals: 1 });
		volume.min = Some(2500);
		volume.max = Some(15005);
		volume.unit = b"ml".to_vec().try_into().unwrap();
		let mut mode = plain("mode", ParameterType::Text);
		mode.allowed =
			vec![b"normal".to_vec().try_into().unwrap(), b"gentle".to_vec().try_into().unwrap()]
				.try_into()
				.unwrap();
		vec![volume, mode, plain("rinse", ParameterType::Boolean)]
	}

	fn args(list: &[&str]) -> Vec<String> {
		list.iter().map(|s| s.to_string()).collect()
	}

	#[test]
	fn arguments_parse_by_their_declared_type() {
		let parsed = parse_arguments(
			"Fill",
			&declared(),
			&args(&["rinse=true", "volume=500", "mode=gentle"]),
		)
		.unwrap();
		assert_eq!(parsed[0].value, ParameterValue::Boolean(true));
		assert_eq!(parsed[1].value, ParameterValue::Decimal(5000));
	}

	#[test]
	fn bad_arguments_are_named_with_their_bound() {
		let cases = [
			(
				&["volume=1600", "mode=gentle", "rinse=false"][..],
				"argument volume = 1600.0: above the maximum 1500.5 ml",
			),
			(&["volume=100", "mode=gentle", "rinse=false"], "below the minimum 250.0 ml"),
			(
				&["volume=300.25", "mode=gentle", "rinse=false"],
				"argument volume: 300.25 has more than 1 decimal places",
			),
			(
				&["volume=lots", "mode=gentle", "rinse=false"],
				"argument volume: \"lots\" is not a number",
			),
			(
				&["volume=300", "mode=fast", "rinse=false"],
				"argument mode = \"fast\": not among the allowed values (one of normal, gentle)",
			),
			(
				&["volume=300", "mode=gentle", "rinse=yes"],
				"argument rinse: \"yes\" is not a boolean",
			),
			(&["volume=300", "mode=gentle", "speed=3"], "unknown argument speed"),
			(&["volume=300", "mode=gentle"], "argument rinse is missing"),
			(&["volume=300", "volume=301"], "argument volume is given twice"),
			(&["volume"], "is not NAME=VALUE"),
		];
		for (given, expected) in cases {
			let error = parse_arguments("Fill", &declared(), &args(given)).unwrap_err().to_string();
			assert!(error.contains(expected), "{given:?}: {error}");
			assert!(error.contains("nothing was sent"), "{error}");
		}
	}
}
