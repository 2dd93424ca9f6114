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
//!
//! A call of a program gives one [`Argument`] per declared parameter; [`check_arguments`]
//! checks them against the declaration and names the first one it rejects.

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

/// The value of one argument of a program call.
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
pub enum ParameterValue {
	/// For a [`ParameterType::Boolean`] parameter.
	Boolean(bool),
	/// For a [`ParameterType::Integer`] parameter.
	Integer(i128),
	/// For a [`ParameterType::Decimal`] parameter: fixed point, in units of 10^-decimals of
	/// its declaration (`12.5` ml with `decimals = 1` is `Decimal(125)`).
	Decimal(i128),
	/// For a [`ParameterType::Text`] parameter: UTF-8.
	Text(ParameterText),
}

/// One argument of a program call: the value given for the parameter of this name.
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
pub struct Argument {
	/// The name of the declared parameter.
	pub name: ParameterName,
	/// Its value.
	pub value: ParameterValue,
}

/// The arguments of one program call, one per declared parameter, in any order.
pub type ProgramArguments = BoundedVec<Argument, ConstU32<MAX_PARAMETERS>>;

/// Why the arguments of a program call were rejected, and which one.
///
/// The index is that of the offending argument among those given, except for
/// [`ArgumentError::MissingArgument`], where it is that of the parameter among those declared.
/// Both lists hold at most [`MAX_PARAMETERS`] entries; a larger index is reported as 255.
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
pub enum ArgumentError {
	/// The declared parameter at this index was given no argument.
	MissingArgument(u8),
	/// The argument at this index names no declared parameter.
	UnknownArgument(u8),
	/// The argument at this index names a parameter an earlier argument already gave.
	DuplicateArgument(u8),
	/// The argument at this index does not have its parameter's type (text that is not
	/// UTF-8 included).
	WrongType(u8),
	/// The argument at this index lies below its parameter's minimum.
	BelowMinimum(u8),
	/// The argument at this index lies above its parameter's maximum.
	AboveMaximum(u8),
	/// The argument at this index is not among its parameter's allowed values.
	NotAllowed(u8),
}

impl ParameterDeclaration {
	/// Checks one value against this declaration: its type, bounds and allowed values.
	/// `index` is reported in the error.
	///
	/// Assumes the declaration passed [`ParameterDeclaration::check`]: bounds are only
	/// consulted for numbers, allowed values only for integers (compared as numbers, with
	/// [`parse_integer`]) and text (compared byte for byte).
	pub fn check_value(&self, value: &ParameterValue, index: u8) -> Result<(), ArgumentError> {
		let number = match (self.kind, value) {
			(ParameterType::Boolean, ParameterValue::Boolean(_)) => None,
			(ParameterType::Integer, ParameterValue::Integer(number))
			| (ParameterType::Decimal { .. }, ParameterValue::Decimal(number)) => Some(*number),
			(ParameterType::Text, ParameterValue::Text(text)) => {
				if core::str::from_utf8(text).is_err() {
					return Err(ArgumentError::WrongType(index));
				}
				if !self.allowed.is_empty() && !self.allowed.contains(text) {
					return Err(ArgumentError::NotAllowed(index));
				}
				None
			},
			_ => return Err(ArgumentError::WrongType(index)),
		};
		if let Some(number) = number {
			if self.min.is_some_and(|min| number < min) {
				return Err(ArgumentError::BelowMinimum(index));
			}
			if self.max.is_some_and(|max| number > max) {
				return Err(ArgumentError::AboveMaximum(index));
			}
			if self.kind == ParameterType::Integer
				&& !self.allowed.is_empty()
				&& !self.allowed.iter().any(|allowed| parse_integer(allowed) == Some(number))
			{
				return Err(ArgumentError::NotAllowed(index));
			}
		}
		Ok(())
	}
}

/// Checks the arguments of a program call against the program's declared parameters: every
/// declared parameter is given exactly once, with a value of its type that lies within its
/// bounds and among its allowed values. Reports the first rejected argument, in the order
/// given, then the first declared parameter left without one.
pub fn check_arguments(
	declared: &[ParameterDeclaration],
	given: &[Argument],
) -> Result<(), ArgumentError> {
	let at = |index: usize| u8::try_from(index).unwrap_or(u8::MAX);
	for (index, argument) in given.iter().enumerate() {
		let parameter = declared
			.iter()
			.find(|parameter| parameter.name == argument.name)
			.ok_or(ArgumentError::UnknownArgument(at(index)))?;
		if given[..index].iter().any(|earlier| earlier.name == argument.name) {
			return Err(ArgumentError::DuplicateArgument(at(index)));
		}
		parameter.check_value(&argument.value, at(index))?;
	}
	match declared
		.iter()
		.position(|parameter| !given.iter().any(|argument| argument.name == parameter.name))
	{
		Some(index) => Err(ArgumentError::MissingArgument(at(index))),
		None => Ok(()),
	}
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

	fn name(text: &str) -> ParameterName {
		ParameterName::try_from(text.as_bytes().to_vec()).unwrap()
	}

	/// volume: Decimal{1} 250.0..=1500.5 ml; mode: Text normal|gentle; count: Integer 1..=10
	/// with allowed 1, 2, 5, 10 (written variously); rinse: Boolean.
	fn filler_parameters() -> Vec<ParameterDeclaration> {
		let mut volume = parameter(ParameterType::Decimal { decimals: 1 });
		volume.min = Some(2500);
		volume.max = Some(15005);
		volume.unit = b"ml".to_vec().try_into().unwrap();
		let mut mode = parameter(ParameterType::Text);
		mode.name = name("mode");
		mode.allowed = vec![text("normal"), text("gentle")].try_into().unwrap();
		let mut count = parameter(ParameterType::Integer);
		count.name = name("count");
		count.min = Some(1);
		count.max = Some(10);
		count.allowed = vec![text("1"), text("+2"), text("05"), text("10")].try_into().unwrap();
		let mut rinse = parameter(ParameterType::Boolean);
		rinse.name = name("rinse");
		let parameters = vec![volume, mode, count, rinse];
		assert_eq!(check_parameters(&parameters), Ok(()));
		parameters
	}

	fn argument(parameter: &str, value: ParameterValue) -> Argument {
		Argument { name: name(parameter), value }
	}

	fn filler_arguments() -> Vec<Argument> {
		vec![
			argument("volume", ParameterValue::Decimal(2500)),
			argument("mode", ParameterValue::Text(text("gentle"))),
			argument("count", ParameterValue::Integer(5)),
			argument("rinse", ParameterValue::Boolean(false)),
		]
	}

	#[test]
	fn arguments_within_the_declaration_pass_in_any_order() {
		let declared = filler_parameters();
		let mut given = filler_arguments();
		assert_eq!(check_arguments(&declared, &given), Ok(()));
		given.reverse();
		given[3].value = ParameterValue::Decimal(15005);
		assert_eq!(check_arguments(&declared, &given), Ok(()));
		// Integers are compared as numbers with the allowed values: `+2` allows 2.
		given[1].value = ParameterValue::Integer(2);
		assert_eq!(check_arguments(&declared, &given), Ok(()));
		// A program without parameters takes no arguments.
		assert_eq!(check_arguments(&[], &[]), Ok(()));
		// Unbounded parameters take any value of their type.
		let free = [parameter(ParameterType::Integer)];
		let given = [argument("volume", ParameterValue::Integer(i128::MIN))];
		assert_eq!(check_arguments(&free, &given), Ok(()));
	}

	#[test]
	fn missing_unknown_and_duplicate_arguments_are_named() {
		let declared = filler_parameters();
		let mut given = filler_arguments();
		given.remove(1);
		assert_eq!(check_arguments(&declared, &given), Err(ArgumentError::MissingArgument(1)));
		assert_eq!(check_arguments(&declared, &[]), Err(ArgumentError::MissingArgument(0)));

		let mut given = filler_arguments();
		given.insert(2, argument("speed", ParameterValue::Integer(1)));
		assert_eq!(check_arguments(&declared, &given), Err(ArgumentError::UnknownArgument(2)));
		assert_eq!(
			check_arguments(&[], &filler_arguments()),
			Err(ArgumentError::UnknownArgument(0))
		);

		let mut given = filler_arguments();
		given.push(argument("count", ParameterValue::Integer(1)));
		assert_eq!(check_arguments(&declared, &given), Err(ArgumentError::DuplicateArgument(4)));
		// A duplicate in place of a missing parameter is still a duplicate.
		given.remove(0);
		assert_eq!(check_arguments(&declared, &given), Err(ArgumentError::DuplicateArgument(3)));
	}

	#[test]
	fn wrongly_typed_arguments_are_refused() {
		let declared = filler_parameters();
		let wrong = [
			(0, ParameterValue::Integer(3000)),
			(0, ParameterValue::Text(text("300.0"))),
			(1, ParameterValue::Boolean(true)),
			(1, ParameterValue::Text(ParameterText::try_from(vec![0xff]).unwrap())),
			(2, ParameterValue::Decimal(5)),
			(3, ParameterValue::Integer(1)),
		];
		for (index, value) in wrong {
			let mut given = filler_arguments();
			given[index].value = value;
			assert_eq!(
				check_arguments(&declared, &given),
				Err(ArgumentError::WrongType(index as u8))
			);
		}
	}

	#[test]
	fn arguments_outside_the_bounds_or_allowed_values_are_refused() {
		let declared = filler_parameters();
		let cases = [
			(0, ParameterValue::Decimal(2499), ArgumentError::BelowMinimum(0)),
			(0, ParameterValue::Decimal(15006), ArgumentError::AboveMaximum(0)),
			(0, ParameterValue::Decimal(i128::MIN), ArgumentError::BelowMinimum(0)),
			(2, ParameterValue::Integer(0), ArgumentError::BelowMinimum(2)),
			(2, ParameterValue::Integer(11), ArgumentError::AboveMaximum(2)),
			(2, ParameterValue::Integer(3), ArgumentError::NotAllowed(2)),
			(1, ParameterValue::Text(text("fast")), ArgumentError::NotAllowed(1)),
			(1, ParameterValue::Text(text("Gentle")), ArgumentError::NotAllowed(1)),
			(1, ParameterValue::Text(text("")), ArgumentError::NotAllowed(1)),
		];
		for (index, value, error) in cases {
			let mut given = filler_arguments();
			given[index].value = value;
			assert_eq!(check_arguments(&declared, &given), Err(error));
		}
		// The first rejected argument, in the order given, is reported.
		let mut given = filler_arguments();
		given[2].value = ParameterValue::Integer(11);
		given[3].value = ParameterValue::Integer(1);
		assert_eq!(check_arguments(&declared, &given), Err(ArgumentError::AboveMaximum(2)));
	}

	#[test]
	fn argument_errors_fit_a_pallet_error() {
		// One byte for the check, one for the index.
		assert_eq!(ArgumentError::max_encoded_len(), 2);
		assert_eq!(ArgumentError::NotAllowed(7).encode(), vec![6, 7]);
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
