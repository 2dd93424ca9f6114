//! The device's safety envelope: the values the device itself accepts for each program's
//! parameters, from a file on the device's side that no chain transaction can change.
//!
//! The chain checks every call against the bounds the twin's specification declares; but
//! whoever may declare programs may also widen those bounds. The envelope is the device's own
//! last word: the agent runs a call only if every argument lies inside it, whatever the
//! specification says.
//!
//! The file is TOML, one table per program under `programs`, one entry per parameter with
//! an optional `min` and `max` (plain decimal numbers, compared exactly, in the parameter's
//! declared unit):
//!
//! ```toml
//! [programs.SetFillVolume]
//! volume = { min = 250.0, max = 1200.0 }   # ml
//!
//! [programs.OpenValve]                      # no parameters
//! ```
//!
//! A program missing from the envelope is refused, and so is an argument for a parameter
//! its program's table does not name; an entry without `min` and `max` (`mode = {}`) admits
//! any value of that parameter.

use dt_client::reading::format_fixed_point;
use dt_primitives::program::{
	Argument, ParameterDeclaration, ParameterType, ParameterValue, MAX_DECIMALS,
};
use serde::Deserialize;
use std::{
	cmp::Ordering,
	collections::BTreeMap,
	ops::Range,
	path::{Path, PathBuf},
};
use toml::Spanned;

/// The envelope of the simulated bottling plant ([`crate::simulator::BottlingPlant`]).
pub const BOTTLING_PLANT: &str = include_str!("../envelopes/bottling-plant.toml");

/// Why an envelope file was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
	#[error("cannot read the safety envelope {}: {source}", path.display())]
	Read { path: PathBuf, source: std::io::Error },
	#[error("the safety envelope {}, line {line}: {message}", path.display())]
	Invalid { path: PathBuf, line: usize, message: String },
}

/// A bound as written in the envelope: `digits / 10^decimals`, exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Bound {
	pub(crate) digits: i128,
	pub(crate) decimals: u8,
}

impl Bound {
	fn text(&self) -> String {
		format_fixed_point(self.digits, self.decimals)
	}
}

/// The values the device accepts for one parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Limits {
	min: Option<Bound>,
	max: Option<Bound>,
}

/// The device's safety envelope, per program name and parameter name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyEnvelope {
	/// Where it was read from, for messages.
	origin: PathBuf,
	programs: BTreeMap<String, BTreeMap<String, Limits>>,
}

/// An envelope as written: one table per program under `programs`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnvelopeFile {
	programs: BTreeMap<String, BTreeMap<String, Spanned<LimitsFile>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
	min: Option<Spanned<toml::Value>>,
	max: Option<Spanned<toml::Value>>,
}

impl SafetyEnvelope {
	/// Reads the envelope file at `path`.
	pub fn load(path: &Path) -> Result<SafetyEnvelope, EnvelopeError> {
		let text = std::fs::read_to_string(path)
			.map_err(|source| EnvelopeError::Read { path: path.to_owned(), source })?;
		SafetyEnvelope::parse(&text, path)
	}

	/// The simulated bottling plant's envelope, shipped with the agent.
	pub fn bottling_plant() -> SafetyEnvelope {
		SafetyEnvelope::parse(BOTTLING_PLANT, Path::new("envelopes/bottling-plant.toml"))
			.expect("the shipped envelope is valid")
	}

	/// Parses an envelope; `origin` names it in messages.
	pub fn parse(text: &str, origin: &Path) -> Result<SafetyEnvelope, EnvelopeError> {
		let file: EnvelopeFile = toml::from_str(text).map_err(|error| EnvelopeError::Invalid {
			path: origin.to_owned(),
			line: error.span().map_or(1, |span| line_of(text, span.start)),
			message: error.message().to_owned(),
		})?;
		SafetyEnvelope::from_file(file, text, origin)
	}

	/// The envelope of a table deserialized from `text` (the envelope file, or a device
	/// file with an `[envelope]` table), whose spans point into `text`.
	pub(crate) fn from_file(
		file: EnvelopeFile,
		text: &str,
		origin: &Path,
	) -> Result<SafetyEnvelope, EnvelopeError> {
		let invalid = |span: Option<Range<usize>>, message: String| EnvelopeError::Invalid {
			path: origin.to_owned(),
			line: span.map_or(1, |span| line_of(text, span.start)),
			message,
		};
		let mut programs = BTreeMap::new();
		for (program, parameters) in file.programs {
			let mut table = BTreeMap::new();
			for (parameter, limits) in parameters {
				let span = limits.span();
				let limits = limits.into_inner();
				let bound = |value: Option<Spanned<toml::Value>>, which: &str| {
					value
						.map(|value| {
							let literal = &text[value.span()];
							parse_bound(literal).map_err(|reason| {
								invalid(
									Some(value.span()),
									format!("{which} of {program}.{parameter}: {reason}"),
								)
							})
						})
						.transpose()
				};
				let limits =
					Limits { min: bound(limits.min, "min")?, max: bound(limits.max, "max")? };
				if let (Some(min), Some(max)) = (&limits.min, &limits.max) {
					if compare(min.digits, min.decimals, max.digits, max.decimals)
						== Some(Ordering::Greater)
					{
						return Err(invalid(
							Some(span),
							format!(
								"{program}.{parameter}: min {} is above max {}",
								min.text(),
								max.text()
							),
						));
					}
				}
				table.insert(parameter, limits);
			}
			programs.insert(program, table);
		}
		Ok(SafetyEnvelope { origin: origin.to_owned(), programs })
	}

	/// Where the envelope was read from.
	pub fn origin(&self) -> &Path {
		&self.origin
	}

	/// Checks a call of `program` with `arguments` (already checked against `declared`, the
	/// program's parameters as the chain checked them, which give each number its decimals
	/// and unit). `Err` says why the device must not run it.
	pub fn check(
		&self,
		program: &str,
		declared: &[ParameterDeclaration],
		arguments: &[Argument],
	) -> Result<(), String> {
		let Some(table) = self.programs.get(program) else {
			return Err(format!("{program} is not in the device's safety envelope"));
		};
		for argument in arguments {
			let name = String::from_utf8_lossy(&argument.name);
			let Some(limits) = table.get(name.as_ref()) else {
				return Err(format!(
					"parameter {name} of {program} is not in the device's safety envelope"
				));
			};
			if limits.min.is_none() && limits.max.is_none() {
				continue;
			}
			let declaration = declared
				.iter()
				.find(|parameter| parameter.name == argument.name)
				.ok_or_else(|| format!("{program} declares no parameter {name}"))?;
			let (value, decimals) = match (&argument.value, declaration.kind) {
				(ParameterValue::Integer(value), ParameterType::Integer) => (*value, 0),
				(ParameterValue::Decimal(value), ParameterType::Decimal { decimals }) => {
					(*value, decimals)
				},
				_ => {
					return Err(format!(
						"the device's safety envelope bounds {name} of {program}, but the call \
						 does not give it as the declared number"
					))
				},
			};
			let unit = String::from_utf8_lossy(&declaration.unit);
			let shown = |digits, decimals| {
				let text = format_fixed_point(digits, decimals);
				if unit.is_empty() {
					text
				} else {
					format!("{text} {unit}")
				}
			};
			if let Some(min) = &limits.min {
				let at_least = compare(value, decimals, min.digits, min.decimals)
					.is_some_and(|order| order != Ordering::Less);
				if !at_least {
					return Err(format!(
						"{name} = {} is below the device's safety minimum {}",
						shown(value, decimals),
						shown(min.digits, min.decimals)
					));
				}
			}
			if let Some(max) = &limits.max {
				let at_most = compare(value, decimals, max.digits, max.decimals)
					.is_some_and(|order| order != Ordering::Greater);
				if !at_most {
					return Err(format!(
						"{name} = {} is above the device's safety maximum {}",
						shown(value, decimals),
						shown(max.digits, max.decimals)
					));
				}
			}
		}
		Ok(())
	}
}

/// The line (from 1) of byte `offset` of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
	text.as_bytes()[..offset.min(text.len())]
		.iter()
		.filter(|byte| **byte == b'\n')
		.count()
		+ 1
}

/// A plain decimal literal (`1200`, `-3.5`, `1_000.25`) as an exact fixed-point bound.
pub(crate) fn parse_bound(literal: &str) -> Result<Bound, String> {
	let plain: String = literal.chars().filter(|c| *c != '_').collect();
	let (negative, unsigned) = match plain.strip_prefix('-') {
		Some(rest) => (true, rest),
		None => (false, plain.strip_prefix('+').unwrap_or(&plain)),
	};
	let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
	let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
	if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) {
		return Err(format!("{literal} is not a plain decimal number such as 1200 or 250.5"));
	}
	let decimals =
		u8::try_from(fraction.len())
			.ok()
			.filter(|decimals| *decimals <= MAX_DECIMALS)
			.ok_or_else(|| format!("{literal} has more than {MAX_DECIMALS} decimal places"))?;
	let magnitude: i128 = format!("{whole}{fraction}")
		.parse()
		.map_err(|_| format!("{literal} is too large"))?;
	Ok(Bound { digits: if negative { -magnitude } else { magnitude }, decimals })
}

/// Compares `a / 10^a_decimals` with `b / 10^b_decimals` exactly; `None` if scaling either
/// to the other's decimals overflows (the caller then refuses).
fn compare(a: i128, a_decimals: u8, b: i128, b_decimals: u8) -> Option<Ordering> {
	let decimals = a_decimals.max(b_decimals);
	let scale = |value: i128, from: u8| {
		10i128
			.checked_pow(u32::from(decimals - from))
			.and_then(|factor| value.checked_mul(factor))
	};
	Some(scale(a, a_decimals)?.cmp(&scale(b, b_decimals)?))
}

#[cfg(test)]
mod tests {
	use super::*;
	use dt_primitives::program::ParameterName;

	fn decimal_parameter(name: &str, decimals: u8, unit: &str) -> ParameterDeclaration {
		ParameterDeclaration {
			name: ParameterName::try_from(name.as_bytes().to_vec()).unwrap(),
			kind: ParameterType::Decimal { decimals },
			min: None,
			max: None,
			allowed: Default::default(),
			unit: unit.as_bytes().to_vec().try_into().unwrap(),
		}
	}

	fn argument(name: &str, value: ParameterValue) -> Argument {
		Argument { name: ParameterName::try_from(name.as_bytes().to_vec()).unwrap(), value }
	}

	fn parse(text: &str) -> Result<SafetyEnvelope, EnvelopeError> {
		SafetyEnvelope::parse(text, Path::new("envelope.toml"))
	}

	fn line_of_error(text: &str) -> usize {
		match parse(text) {
			Err(EnvelopeError::Invalid { line, .. }) => line,
			other => panic!("{other:?}"),
		}
	}

	#[test]
	fn the_bottling_plants_envelope_is_inside_the_chains_declaration() {
		let envelope = SafetyEnvelope::bottling_plant();
		let volume = &envelope.programs["SetFillVolume"]["volume"];
		assert_eq!(volume.min, Some(Bound { digits: 2500, decimals: 1 }));
		assert_eq!(volume.max, Some(Bound { digits: 12000, decimals: 1 }));
		for program in ["OpenValve", "CloseValve", "SetConveyorSpeed"] {
			assert!(envelope.programs.contains_key(program), "{program}");
		}
	}

	#[test]
	fn a_call_inside_the_envelope_passes_at_the_declarations_scale() {
		let envelope = SafetyEnvelope::bottling_plant();
		let ml = decimal_parameter("volume", 1, "ml");
		for tenths in [2500, 5000, 12000] {
			let call = [argument("volume", ParameterValue::Decimal(tenths))];
			assert_eq!(envelope.check("SetFillVolume", &[ml.clone()], &call), Ok(()), "{tenths}");
		}
		// The same bound holds whatever decimals the declaration uses: 1200.00 ml is 120000
		// at two decimals.
		let hundredths = decimal_parameter("volume", 2, "ml");
		let call = [argument("volume", ParameterValue::Decimal(120_000))];
		assert_eq!(envelope.check("SetFillVolume", &[hundredths.clone()], &call), Ok(()));
		let call = [argument("volume", ParameterValue::Decimal(120_001))];
		assert!(envelope.check("SetFillVolume", &[hundredths], &call).is_err());
		assert_eq!(envelope.check("OpenValve", &[], &[]), Ok(()));
	}

	#[test]
	fn a_call_outside_the_envelope_is_refused_with_the_reason() {
		let envelope = SafetyEnvelope::bottling_plant();
		let ml = [decimal_parameter("volume", 1, "ml")];
		// Inside the chain's 250.0 to 1500.5 ml, outside the device's 250.0 to 1200.0 ml.
		let call = [argument("volume", ParameterValue::Decimal(13_000))];
		assert_eq!(
			envelope.check("SetFillVolume", &ml, &call),
			Err("volume = 1300.0 ml is above the device's safety maximum 1200.0 ml".into())
		);
		let call = [argument("volume", ParameterValue::Decimal(40_000))];
		assert!(envelope.check("SetFillVolume", &ml, &call).unwrap_err().contains("4000.0 ml"));
		let call = [argument("volume", ParameterValue::Decimal(2499))];
		assert_eq!(
			envelope.check("SetFillVolume", &ml, &call),
			Err("volume = 249.9 ml is below the device's safety minimum 250.0 ml".into())
		);
		// A value too large to compare exactly is refused, not guessed at.
		let ml18 = [decimal_parameter("volume", 18, "ml")];
		let call = [argument("volume", ParameterValue::Decimal(i128::MAX))];
		assert!(envelope.check("SetFillVolume", &ml18, &call).is_err());
		// Programs and parameters the envelope does not name are refused.
		assert_eq!(
			envelope.check("SelfDestruct", &[], &[]),
			Err("SelfDestruct is not in the device's safety envelope".into())
		);
		let extra = [argument("speed", ParameterValue::Integer(1))];
		assert!(envelope
			.check("OpenValve", &[], &extra)
			.unwrap_err()
			.contains("parameter speed"));
		// A bounded parameter given as something else than its declared number is refused.
		let text = [argument("volume", ParameterValue::Integer(500))];
		assert!(envelope.check("SetFillVolume", &ml, &text).is_err());
	}

	#[test]
	fn unbounded_entries_admit_any_value() {
		let envelope = parse("[programs.Rinse]\nmode = {}\n").unwrap();
		let mode =
			ParameterDeclaration { kind: ParameterType::Text, ..decimal_parameter("mode", 0, "") };
		let call = [argument("mode", ParameterValue::Text(b"fast".to_vec().try_into().unwrap()))];
		assert_eq!(envelope.check("Rinse", &[mode], &call), Ok(()));
	}

	#[test]
	fn a_bad_file_is_refused_naming_its_line() {
		assert_eq!(line_of_error("[programs.A]\nx = { min = 1.0 }\ny = { min = }\n"), 3);
		assert_eq!(line_of_error("[programs.A]\n\nx = { min = 1e3 }\n"), 3);
		assert_eq!(line_of_error("[programs.A]\nx = { min = \"1\" }\n"), 2);
		assert_eq!(line_of_error("[programs.A]\nx = { min = 5, max = 4.5 }\n"), 2);
		assert_eq!(line_of_error("[programs.A]\nx = { min = 1, maximum = 4 }\n"), 2);
		assert_eq!(line_of_error("[programs.A]\nx = { min = 0.1234567890123456789 }\n"), 2);
		assert_eq!(line_of_error("[program.A]\n"), 1);
		let message = parse("[programs.A]\nx = { min = 5, max = 4.5 }\n").unwrap_err().to_string();
		assert_eq!(
			message,
			"the safety envelope envelope.toml, line 2: A.x: min 5 is above max 4.5"
		);
		assert!(matches!(
			SafetyEnvelope::load(Path::new("/nonexistent/envelope.toml")),
			Err(EnvelopeError::Read { .. })
		));
	}

	#[test]
	fn bounds_are_exact_decimals() {
		assert_eq!(parse_bound("1_000.25"), Ok(Bound { digits: 100_025, decimals: 2 }));
		assert_eq!(parse_bound("-3.5"), Ok(Bound { digits: -35, decimals: 1 }));
		assert_eq!(parse_bound("+7"), Ok(Bound { digits: 7, decimals: 0 }));
		for bad in ["", ".5", "1.2.3", "inf", "nan", "1e3", "0x10", "--1"] {
			assert!(parse_bound(bad).is_err(), "{bad}");
		}
		assert_eq!(compare(15, 1, 150, 2), Some(Ordering::Equal));
		assert_eq!(compare(-1, 0, 0, 5), Some(Ordering::Less));
		assert_eq!(compare(i128::MAX, 0, 1, 1), None);
	}
}
