//! Device program interfaces as a twin's specification declares them.
//!
//! A program is something the asset can run on request (clean the filler, recalibrate a
//! sensor, change a set point). The specification declares, on the AML element that offers
//! it, the program's parameters with their types and safety bounds; the client derives them
//! from the AML (CAEX attribute constraints: `OrdinalScaledType` `RequiredMinValue` /
//! `RequiredMaxValue`, `NominalScaledType` `RequiredValue`). Every program call is checked
//! against these bounds before it is queued for the device.
//!
//! Numbers are fixed-point: a [`ParameterType::Decimal`] value `v` with `decimals = d`
//! stands for `v / 10^d`, so bounds compare exactly, without floating point in the runtime.

use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Longest parameter name, in bytes.
pub const MAX_PARAMETER_NAME_LEN: u32 = 64;
/// Most parameters of one program.
pub const MAX_PARAMETERS: u32 = 16;
/// Most allowed values of one parameter.
pub const MAX_ALLOWED_VALUES: u32 = 16;
/// Longest allowed value, in bytes.
pub const MAX_VALUE_LEN: u32 = 64;
/// Longest unit name, in bytes.
pub const MAX_UNIT_LEN: u32 = 16;
/// Most decimal places of a decimal parameter (10^18 still leaves room in an `i128`).
pub const MAX_DECIMALS: u8 = 18;

/// A parameter's name.
pub type ParameterName = BoundedVec<u8, ConstU32<MAX_PARAMETER_NAME_LEN>>;
/// A parameter value written as text (an allowed value of a nominal parameter).
pub type ParameterText = BoundedVec<u8, ConstU32<MAX_VALUE_LEN>>;
/// The parameters of one program.
pub type ProgramParameters = BoundedVec<ParameterDeclaration, ConstU32<MAX_PARAMETERS>>;

/// The type of a program parameter.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum ParameterType {
	/// `true` or `false`.
	Boolean,
	/// A whole number.
	Integer,
	/// A fixed-point number with this many decimal places.
	Decimal { decimals: u8 },
	/// Text.
	Text,
}

/// One parameter of a program, with its safety bounds.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub struct ParameterDeclaration {
	/// The parameter's name, unique within its program.
	pub name: ParameterName,
	/// Its type.
	pub kind: ParameterType,
	/// Smallest allowed value (numbers only; for decimals in units of 10^-decimals).
	pub min: Option<i128>,
	/// Largest allowed value (numbers only; for decimals in units of 10^-decimals).
	pub max: Option<i128>,
	/// If not empty, the only values allowed (as text, for integers and text).
	pub allowed: BoundedVec<ParameterText, ConstU32<MAX_ALLOWED_VALUES>>,
	/// The unit of a number, e.g. `ml` or `degC`; informative.
	pub unit: BoundedVec<u8, ConstU32<MAX_UNIT_LEN>>,
}

/// Why a program declaration is inconsistent.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum DeclarationError {
	/// A parameter has an empty name.
	EmptyParameterName,
	/// Two parameters have the same name.
	DuplicateParameter,
	/// A lower bound is greater than the upper bound.
	MinAboveMax,
	/// A bound on a boolean or text parameter.
	BoundOnNonNumber,
	/// A decimal parameter with more than [`MAX_DECIMALS`] places.
	TooManyDecimals,
	/// Allowed values on a boolean or decimal parameter.
	AllowedValuesNotSupported,
	/// An allowed value of an integer parameter is not a whole number, or lies outside the
	/// bounds; or an allowed value is listed twice.
	InvalidAllowedValue,
}

impl ParameterDeclaration {
	/// Checks that the declaration is consistent.
	pub fn check(&self) -> Result<(), DeclarationError> {
		if self.name.is_empty() {
			return Err(DeclarationError::EmptyParameterName);
		}
		let numeric = match self.kind {
			ParameterType::Integer => true,
			ParameterType::Decimal { decimals } if decimals > MAX_DECIMALS => {
				return Err(DeclarationError::TooManyDecimals)
			},
			ParameterType::Decimal { .. } => true,
			ParameterType::Boolean | ParameterType::Text => false,
		};
		if !numeric && (self.min.is_some() || self.max.is_some()) {
			return Err(DeclarationError::BoundOnNonNumber);
		}
		if let (Some(min), Some(max)) = (self.min, self.max) {
			if min > max {
				return Err(DeclarationError::MinAboveMax);
			}
		}
		if !self.allowed.is_empty()
			&& matches!(self.kind, ParameterType::Boolean | ParameterType::Decimal { .. })
		{
			return Err(DeclarationError::AllowedValuesNotSupported);
		}
		for (index, value) in self.allowed.iter().enumerate() {
			if self.allowed[..index].contains(value) {
				return Err(DeclarationError::InvalidAllowedValue);
			}
			if self.kind == ParameterType::Integer {
				let number = parse_integer(value).ok_or(DeclarationError::InvalidAllowedValue)?;
				if self.min.is_some_and(|min| number < min)
					|| self.max.is_some_and(|max| number > max)
				{
					return Err(DeclarationError::InvalidAllowedValue);
				}
			}
		}
		Ok(())
	}
}

/// Checks every parameter of a program and that their names are unique.
pub fn check_parameters(parameters: &[ParameterDeclaration]) -> Result<(), DeclarationError> {
	for (index, parameter) in parameters.iter().enumerate() {
		parameter.check()?;
		if parameters[..index].iter().any(|earlier| earlier.name == parameter.name) {
			return Err(DeclarationError::DuplicateParameter);
		}
	}
	Ok(())
}

/// Parses an optionally signed decimal integer such as `-12`, without overflow.
pub fn parse_integer(text: &[u8]) -> Option<i128> {
	let (negative, digits) = match text {
		[b'-', rest @ ..] => (true, rest),
		[b'+', rest @ ..] => (false, rest),
		rest => (false, rest),
	};
	if digits.is_empty() {
		return None;
	}
	let mut value: i128 = 0;
	for digit in digits {
		if !digit.is_ascii_digit() {
			return None;
		}
		let digit = i128::from(digit - b'0');
		value = value.checked_mul(10)?;
		value = if negative { value.checked_sub(digit)? } else { value.checked_add(digit)? };
	}
	Some(value)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn parameter(kind: ParameterType) -> ParameterDeclaration {
		ParameterDeclaration {
			name: ParameterName::try_from(b"volume".to_vec()).unwrap(),
			kind,
			min: None,
			max: None,
			allowed: Default::default(),
			unit: Default::default(),
		}
	}

	fn text(value: &str) -> ParameterText {
		ParameterText::try_from(value.as_bytes().to_vec()).unwrap()
	}

	#[test]
	fn consistent_declarations_pass() {
		let mut volume = parameter(ParameterType::Decimal { decimals: 3 });
		volume.min = Some(100_000);
		volume.max = Some(1_500_000);
		assert_eq!(volume.check(), Ok(()));
		let mut mode = parameter(ParameterType::Text);
		mode.name = ParameterName::try_from(b"mode".to_vec()).unwrap();
		mode.allowed = vec![text("fast"), text("gentle")].try_into().unwrap();
		assert_eq!(check_parameters(&[volume, mode]), Ok(()));
	}

	#[test]
	fn inconsistent_declarations_are_named() {
		let mut inverted = parameter(ParameterType::Integer);
		inverted.min = Some(5);
		inverted.max = Some(4);
		assert_eq!(inverted.check(), Err(DeclarationError::MinAboveMax));

		let mut bounded_text = parameter(ParameterType::Text);
		bounded_text.max = Some(1);
		assert_eq!(bounded_text.check(), Err(DeclarationError::BoundOnNonNumber));

		assert_eq!(
			parameter(ParameterType::Decimal { decimals: 19 }).check(),
			Err(DeclarationError::TooManyDecimals)
		);

		let mut unnamed = parameter(ParameterType::Boolean);
		unnamed.name = Default::default();
		assert_eq!(unnamed.check(), Err(DeclarationError::EmptyParameterName));

		let mut listed_boolean = parameter(ParameterType::Boolean);
		listed_boolean.allowed = vec![text("true")].try_into().unwrap();
		assert_eq!(listed_boolean.check(), Err(DeclarationError::AllowedValuesNotSupported));

		let mut outside = parameter(ParameterType::Integer);
		outside.max = Some(10);
		outside.allowed = vec![text("3"), text("11")].try_into().unwrap();
		assert_eq!(outside.check(), Err(DeclarationError::InvalidAllowedValue));

		let mut not_a_number = parameter(ParameterType::Integer);
		not_a_number.allowed = vec![text("3x")].try_into().unwrap();
		assert_eq!(not_a_number.check(), Err(DeclarationError::InvalidAllowedValue));

		let mut repeated = parameter(ParameterType::Text);
		repeated.allowed = vec![text("a"), text("a")].try_into().unwrap();
		assert_eq!(repeated.check(), Err(DeclarationError::InvalidAllowedValue));

		let a = parameter(ParameterType::Boolean);
		assert_eq!(check_parameters(&[a.clone(), a]), Err(DeclarationError::DuplicateParameter));
	}

	#[test]
	fn integers_parse_without_overflow() {
		assert_eq!(parse_integer(b"-12"), Some(-12));
		assert_eq!(parse_integer(b"+7"), Some(7));
		assert_eq!(parse_integer(b"170141183460469231731687303715884105727"), Some(i128::MAX));
		assert_eq!(parse_integer(b"-170141183460469231731687303715884105728"), Some(i128::MIN));
		assert_eq!(parse_integer(b"170141183460469231731687303715884105728"), None);
		assert_eq!(parse_integer(b"-"), None);
		assert_eq!(parse_integer(b""), None);
		assert_eq!(parse_integer(b"1.5"), None);
	}
}
