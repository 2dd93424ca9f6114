//! Program parameters and their safety bounds, derived from an element's CAEX attributes.
//!
//! A device program is offered by an AML element (by convention an `ExternalInterface` of a
//! program class, e.g. `RefBaseClassPath=".../Program"`). Each direct `Attribute` child of
//! that element is one parameter:
//!
//! * `AttributeDataType` gives the type: `xs:boolean`; `xs:int`, `xs:integer`, `xs:long`,
//!   `xs:short`, `xs:byte` and their unsigned forms; `xs:double`, `xs:float`,
//!   `xs:decimal`; anything else (or none) is text;
//! * `Unit` gives the unit;
//! * `Constraint/OrdinalScaledType/RequiredMinValue` and `RequiredMaxValue` bound a number;
//! * `Constraint/NominalScaledType/RequiredValue` (repeated) lists the allowed values.
//!
//! Numbers become fixed-point integers, as the chain stores them: a decimal parameter gets as
//! many decimal places as its most precise bound ([`DEFAULT_DECIMALS`] without bounds), and
//! its bounds are scaled by `10^decimals`. Nested attributes are left alone (they describe
//! the parameter, they are not parameters).

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::error::{AmlError, Result};
use crate::fragment::Fragment;

/// Decimal places of a decimal parameter whose bounds do not say.
pub const DEFAULT_DECIMALS: u8 = 3;
/// Most decimal places (the chain's limit).
pub const MAX_DECIMALS: u8 = 18;

/// The type of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParameterKind {
	Boolean,
	Integer,
	/// A number in units of `10^-decimals`.
	Decimal {
		decimals: u8,
	},
	Text,
}

/// One program parameter with its bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramParameter {
	pub name: String,
	pub kind: ParameterKind,
	/// Smallest allowed value; for decimals in units of `10^-decimals`.
	pub min: Option<i128>,
	/// Largest allowed value; for decimals in units of `10^-decimals`.
	pub max: Option<i128>,
	/// The only allowed values, if the AML lists them.
	pub allowed: Vec<String>,
	pub unit: Option<String>,
}

/// What the AML says about one parameter, before conversion.
#[derive(Default)]
struct RawParameter {
	name: String,
	data_type: String,
	unit: Option<String>,
	min: Option<String>,
	max: Option<String>,
	allowed: Vec<String>,
}

/// The parameters of the program offered by the element whose fragment this is.
pub fn program_parameters(fragment: &Fragment) -> Result<Vec<ProgramParameter>> {
	raw_parameters(fragment.as_str())?.into_iter().map(convert).collect()
}

fn local_name(name: &str) -> &str {
	name.rsplit(':').next().unwrap_or(name)
}

fn raw_parameters(xml: &str) -> Result<Vec<RawParameter>> {
	let mut reader = Reader::from_str(xml);
	// Local names of the open elements; the fragment's root is at depth 1.
	let mut path: Vec<String> = Vec::new();
	let mut parameters: Vec<RawParameter> = Vec::new();
	let mut text = String::new();
	let malformed = |reader: &Reader<&[u8]>, message: String| AmlError::InvalidFragment {
		reason: format!("at byte {}: {message}", reader.buffer_position()),
	};
	loop {
		let event = reader.read_event().map_err(|e| malformed(&reader, e.to_string()))?;
		match event {
			Event::Eof => break,
			Event::Start(ref tag) | Event::Empty(ref tag) => {
				let name = local_name(tag.name().as_ref()).to_string();
				if path.len() == 1 && name == "Attribute" {
					let mut parameter = RawParameter::default();
					for attribute in tag.attributes() {
						let attribute = attribute.map_err(|e| malformed(&reader, e.to_string()))?;
						let value = attribute
							.normalized_value(quick_xml::XmlVersion::Implicit1_0)
							.map_err(|e| malformed(&reader, e.to_string()))?
							.into_owned();
						match local_name(attribute.key.as_ref()) {
							"Name" => parameter.name = value,
							"AttributeDataType" => parameter.data_type = value,
							"Unit" => parameter.unit = Some(value).filter(|unit| !unit.is_empty()),
							_ => {},
						}
					}
					parameters.push(parameter);
				}
				if matches!(event, Event::Start(_)) {
					path.push(name);
				}
				text.clear();
			},
			Event::End(_) => {
				let names: Vec<&str> = path.iter().map(String::as_str).collect();
				if let (Some(parameter), [_, "Attribute", "Constraint", scale, bound]) =
					(parameters.last_mut(), names.as_slice())
				{
					let value = text.trim().to_string();
					match (*scale, *bound) {
						("OrdinalScaledType", "RequiredMinValue") => parameter.min = Some(value),
						("OrdinalScaledType", "RequiredMaxValue") => parameter.max = Some(value),
						("NominalScaledType", "RequiredValue") => parameter.allowed.push(value),
						_ => {},
					}
				}
				path.pop();
				text.clear();
			},
			Event::Text(ref content) => text.push_str(content),
			Event::GeneralRef(ref reference) => {
				text.push_str(&crate::xml_checks::resolve_entity_reference(reference))
			},
			Event::CData(ref content) => text.push_str(content),
			_ => {},
		}
	}
	Ok(parameters)
}

fn kind_of(data_type: &str) -> ParameterKind {
	let local = data_type.rsplit(':').next().unwrap_or(data_type);
	match local {
		"boolean" => ParameterKind::Boolean,
		"int" | "integer" | "long" | "short" | "byte" | "unsignedInt" | "unsignedLong"
		| "unsignedShort" | "unsignedByte" | "nonNegativeInteger" | "positiveInteger"
		| "negativeInteger" | "nonPositiveInteger" => ParameterKind::Integer,
		"double" | "float" | "decimal" => ParameterKind::Decimal { decimals: 0 },
		_ => ParameterKind::Text,
	}
}

/// Digits after the decimal point of a plain decimal number (`"-12.50"` has 2).
fn fraction_digits(number: &str) -> usize {
	number.split_once('.').map_or(0, |(_, fraction)| fraction.len())
}

/// `number` (`[+-]digits[.digits]`) in units of `10^-decimals`, exactly.
fn fixed_point(number: &str, decimals: u8) -> Option<i128> {
	let (negative, unsigned) = match number.as_bytes().first() {
		Some(b'-') => (true, &number[1..]),
		Some(b'+') => (false, &number[1..]),
		_ => (false, number),
	};
	let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
	let digits_ok = |digits: &str| digits.bytes().all(|byte| byte.is_ascii_digit());
	if (whole.is_empty() && fraction.is_empty()) || !digits_ok(whole) || !digits_ok(fraction) {
		return None;
	}
	if fraction.len() > decimals as usize {
		return None;
	}
	let mut value: i128 = 0;
	let padded = fraction.chars().chain(std::iter::repeat('0')).take(decimals as usize);
	for digit in whole.chars().chain(padded) {
		value = value.checked_mul(10)?.checked_add(i128::from(digit.to_digit(10)? as u8))?;
	}
	Some(if negative { -value } else { value })
}

fn convert(raw: RawParameter) -> Result<ProgramParameter> {
	let invalid =
		|reason: String| AmlError::InvalidProgramParameter { parameter: raw.name.clone(), reason };
	if raw.name.is_empty() {
		return Err(invalid("the Attribute has no Name".into()));
	}
	let mut kind = kind_of(&raw.data_type);
	let bounds: Vec<&String> = raw.min.iter().chain(raw.max.iter()).collect();
	match kind {
		ParameterKind::Boolean | ParameterKind::Text if !bounds.is_empty() => {
			return Err(invalid(format!("a {} attribute cannot have a value range", raw.data_type)))
		},
		ParameterKind::Boolean if !raw.allowed.is_empty() => {
			return Err(invalid("a boolean attribute cannot list allowed values".into()))
		},
		ParameterKind::Decimal { .. } => {
			if !raw.allowed.is_empty() {
				return Err(invalid("a decimal attribute cannot list allowed values".into()));
			}
			let decimals = bounds
				.iter()
				.map(|bound| fraction_digits(bound))
				.max()
				.filter(|_| !bounds.is_empty())
				.unwrap_or(DEFAULT_DECIMALS as usize);
			if decimals > MAX_DECIMALS as usize {
				return Err(invalid(format!("more than {MAX_DECIMALS} decimal places")));
			}
			kind = ParameterKind::Decimal { decimals: decimals as u8 };
		},
		_ => {},
	}
	let decimals = match kind {
		ParameterKind::Decimal { decimals } => decimals,
		_ => 0,
	};
	let number = |bound: &Option<String>| -> Result<Option<i128>> {
		bound
			.as_deref()
			.map(|text| {
				fixed_point(text, decimals)
					.ok_or_else(|| invalid(format!("bound {text:?} is not a plain number")))
			})
			.transpose()
	};
	let (min, max) = (number(&raw.min)?, number(&raw.max)?);
	if let (Some(min), Some(max)) = (min, max) {
		if min > max {
			return Err(invalid("RequiredMinValue is greater than RequiredMaxValue".into()));
		}
	}
	Ok(ProgramParameter { name: raw.name, kind, min, max, allowed: raw.allowed, unit: raw.unit })
}

#[cfg(test)]
mod tests {
	use super::*;

	fn parameters(xml: &str) -> Result<Vec<ProgramParameter>> {
		program_parameters(&Fragment::parse(xml).unwrap())
	}

	const SET_FILL_VOLUME: &str = r#"<ExternalInterface Name="SetFillVolume" ID="p1" RefBaseClassPath="Lib/Program">
		<Attribute Name="volume" AttributeDataType="xs:double" Unit="ml">
			<Constraint Name="SafeRange">
				<OrdinalScaledType>
					<RequiredMaxValue>1500.5</RequiredMaxValue>
					<RequiredMinValue>250</RequiredMinValue>
				</OrdinalScaledType>
			</Constraint>
			<Attribute Name="nested" AttributeDataType="xs:int" />
		</Attribute>
		<Attribute Name="mode" AttributeDataType="xs:string">
			<Constraint Name="Modes">
				<NominalScaledType>
					<RequiredValue>gentle</RequiredValue>
					<RequiredValue>fast &amp; loud</RequiredValue>
				</NominalScaledType>
			</Constraint>
		</Attribute>
		<Attribute Name="cycles" AttributeDataType="xs:int"><Constraint><OrdinalScaledType><RequiredMinValue>-3</RequiredMinValue></OrdinalScaledType></Constraint></Attribute>
		<Attribute Name="rinse" AttributeDataType="xs:boolean" />
		<Attribute Name="speed" AttributeDataType="xs:float" />
	</ExternalInterface>"#;

	#[test]
	fn parameters_come_from_the_direct_attributes_and_their_constraints() {
		let found = parameters(SET_FILL_VOLUME).unwrap();
		let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
		assert_eq!(names, ["volume", "mode", "cycles", "rinse", "speed"]);
		assert_eq!(
			found[0],
			ProgramParameter {
				name: "volume".into(),
				kind: ParameterKind::Decimal { decimals: 1 },
				min: Some(2500),
				max: Some(15005),
				allowed: vec![],
				unit: Some("ml".into()),
			}
		);
		assert_eq!(found[1].kind, ParameterKind::Text);
		assert_eq!(found[1].allowed, ["gentle", "fast & loud"]);
		assert_eq!(
			(found[2].kind, found[2].min, found[2].max),
			(ParameterKind::Integer, Some(-3), None)
		);
		assert_eq!(found[3].kind, ParameterKind::Boolean);
		assert_eq!(found[4].kind, ParameterKind::Decimal { decimals: DEFAULT_DECIMALS });
	}

	#[test]
	fn inconsistent_constraints_name_the_parameter() {
		let range = |data_type: &str, min: &str, max: &str| {
			format!(
				r#"<ExternalInterface ID="p"><Attribute Name="x" AttributeDataType="{data_type}"><Constraint><OrdinalScaledType><RequiredMinValue>{min}</RequiredMinValue><RequiredMaxValue>{max}</RequiredMaxValue></OrdinalScaledType></Constraint></Attribute></ExternalInterface>"#
			)
		};
		for (xml, expected) in [
			(range("xs:int", "5", "4"), "greater than"),
			(range("xs:int", "1.5", "4"), "not a plain number"),
			(range("xs:double", "1e3", "4"), "not a plain number"),
			(range("xs:string", "1", "4"), "cannot have a value range"),
			(range("xs:boolean", "0", "1"), "cannot have a value range"),
		] {
			let error = parameters(&xml).unwrap_err().to_string();
			assert!(error.contains("parameter \"x\"") && error.contains(expected), "{error}");
		}
		let unnamed = parameters(r#"<ExternalInterface ID="p"><Attribute /></ExternalInterface>"#);
		assert!(unnamed.unwrap_err().to_string().contains("no Name"));
	}

	#[test]
	fn fixed_point_is_exact() {
		assert_eq!(fixed_point("12.5", 3), Some(12_500));
		assert_eq!(fixed_point("-0.001", 3), Some(-1));
		assert_eq!(fixed_point(".5", 1), Some(5));
		assert_eq!(fixed_point("1.2345", 3), None);
		assert_eq!(fixed_point("", 3), None);
		assert_eq!(fixed_point("1,5", 3), None);
	}
}
