//! A test runtime with the real access pallet, a small fixed consortium and a fixed set of
//! twins, elements and declared programs.

use crate::{self as pallet_dt_programs, DeclaredPrograms};
use dt_primitives::access::TwinElements;
use dt_primitives::{
	access::{Authorize, ElementId, Grantee, ProgramName, Role, TwinId},
	program::{
		Argument, ParameterDeclaration, ParameterName, ParameterText, ParameterType,
		ParameterValue, ProgramArguments, ProgramParameters,
	},
	OrganisationId,
};
use frame_support::{
	derive_impl,
	traits::{ConstU32, ConstU64},
	BoundedVec,
};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Access: pallet_dt_access,
		Programs: pallet_dt_programs,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// Owns the twins; member of organisation 0.
pub const OWNER: u64 = 1;
/// Member of organisation 1; Maintainer of twin 0.
pub const MAINTAINER: u64 = 2;
/// Member of organisation 2; Auditor of twin 0.
pub const AUDITOR: u64 = 3;
/// Member of organisation 3, the device agent's account; Device of twin 0.
pub const DEVICE: u64 = 4;
/// Member of organisation 1 without any role.
pub const BYSTANDER: u64 = 5;
/// Member of organisation 3, a second device agent's account; Device of twin 0 too.
pub const SECOND_DEVICE: u64 = 6;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;

/// The twin the tests work on, with access control and roles granted.
pub const TWIN: TwinId = 0;
/// A second twin, owned by [`OWNER`], with the same specification and no other roles.
pub const OTHER_TWIN: TwinId = 1;
/// A twin nobody created.
pub const NO_TWIN: TwinId = 7;

pub const MAX_PENDING_CALLS: u32 = 3;
pub const CALL_TIME_TO_LIVE: u64 = 10;
pub const MAX_RESULT_LENGTH: u32 = 32;

/// The element offering the programs.
pub const FILLER: &str = "Filler1";
/// An element offering no program.
pub const CAPPER: &str = "Capper1";
/// The program with parameters, on [`FILLER`].
pub const SET_FILL_VOLUME: &str = "SetFillVolume";
/// A program without parameters, on [`FILLER`].
pub const RINSE: &str = "Rinse";
/// The program the benchmarks declare, on [`FILLER`].
pub const BENCHMARK_PROGRAM: &str = "Benchmark";

frame_support::parameter_types! {
	/// Twins the benchmarks created, with the parameters of their program.
	pub static BenchmarkTwins: Vec<(TwinId, ProgramParameters)> = vec![];
}

/// Who belongs to which organisation in this mock's consortium.
pub struct Members;
impl dt_pallet_test_support::Members for Members {
	const MEMBERS: &'static [(u64, OrganisationId)] = &[
		(OWNER, 0),
		(MAINTAINER, 1),
		(BYSTANDER, 1),
		(AUDITOR, 2),
		(DEVICE, 3),
		(SECOND_DEVICE, 3),
	];
	const ORGANISATIONS: OrganisationId = 4;
}

pub type FixedConsortium = dt_pallet_test_support::FixedConsortium<Members>;

/// The parameters of [`SET_FILL_VOLUME`]: `volume` Decimal{1} 250.0..=1500.5 ml, `mode` Text
/// `normal` | `gentle`, `count` Integer 1..=10, `rinse` Boolean.
pub fn fill_volume_parameters() -> ProgramParameters {
	let declaration = |parameter: &str, kind| ParameterDeclaration {
		name: name(parameter),
		kind,
		min: None,
		max: None,
		allowed: Default::default(),
		unit: Default::default(),
	};
	let mut volume = declaration("volume", ParameterType::Decimal { decimals: 1 });
	volume.min = Some(2500);
	volume.max = Some(15005);
	volume.unit = bounded("ml");
	let mut mode = declaration("mode", ParameterType::Text);
	mode.allowed = vec![text("normal"), text("gentle")].try_into().expect("two fit");
	let mut count = declaration("count", ParameterType::Integer);
	count.min = Some(1);
	count.max = Some(10);
	let rinse = declaration("rinse", ParameterType::Boolean);
	vec![volume, mode, count, rinse].try_into().expect("four fit")
}

/// Twins 0 and 1 (and those the benchmarks create), each with elements [`FILLER`] and
/// [`CAPPER`]; [`FILLER`] offers [`SET_FILL_VOLUME`] and [`RINSE`] (benchmark twins:
/// [`BENCHMARK_PROGRAM`]).
pub struct FixedPrograms;
impl TwinElements for FixedPrograms {
	fn twin_exists(twin: TwinId) -> bool {
		twin == TWIN || twin == OTHER_TWIN || benchmark_program(twin).is_some()
	}

	fn element_exists(twin: TwinId, element: &ElementId) -> bool {
		Self::twin_exists(twin)
			&& [FILLER, CAPPER].iter().any(|known| known.as_bytes() == &element[..])
	}
}

impl DeclaredPrograms for FixedPrograms {
	fn program_parameters(
		twin: TwinId,
		element: &ElementId,
		name: &ProgramName,
	) -> Option<ProgramParameters> {
		if !Self::element_exists(twin, element) || &element[..] != FILLER.as_bytes() {
			return None;
		}
		if let Some(parameters) = benchmark_program(twin) {
			return (&name[..] == BENCHMARK_PROGRAM.as_bytes()).then_some(parameters);
		}
		match &name[..] {
			program if program == SET_FILL_VOLUME.as_bytes() => Some(fill_volume_parameters()),
			program if program == RINSE.as_bytes() => Some(Default::default()),
			_ => None,
		}
	}
}

fn benchmark_program(twin: TwinId) -> Option<ProgramParameters> {
	BenchmarkTwins::get()
		.into_iter()
		.find(|(created, _)| *created == twin)
		.map(|(_, parameters)| parameters)
}

dt_pallet_test_support::impl_access_config!(Test, FixedConsortium);

impl pallet_dt_programs::Config for Test {
	type Authorize = Access;
	type Programs = FixedPrograms;
	type MaxPendingCallsPerTwin = ConstU32<MAX_PENDING_CALLS>;
	type CallTimeToLive = ConstU64<CALL_TIME_TO_LIVE>;
	type MaxResultLength = ConstU32<MAX_RESULT_LENGTH>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = FixedConsortium;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for FixedConsortium {
	fn make_member(who: &u64) {
		<FixedConsortium as pallet_dt_access::BenchmarkHelper<u64>>::make_member(who);
	}

	fn create_twin_with_program(
		owner: &u64,
		parameters: ProgramParameters,
	) -> (TwinId, ElementId, ProgramName) {
		let twin = 100 + BenchmarkTwins::get().len() as TwinId;
		BenchmarkTwins::mutate(|twins| twins.push((twin, parameters)));
		<Access as Authorize<u64>>::twin_created(twin, owner);
		(twin, id(FILLER), program(BENCHMARK_PROGRAM))
	}

	fn make_device(owner: &u64, twin: TwinId, device: &u64) {
		Access::grant_role(
			RuntimeOrigin::signed(*owner),
			twin,
			Grantee::Account(*device),
			Role::Device,
		)
		.expect("the owner grants the Device role");
	}
}

/// Twins 0 and 1 created by [`OWNER`]; on twin 0 [`MAINTAINER`], [`AUDITOR`], [`DEVICE`]
/// and [`SECOND_DEVICE`] hold the roles their names say.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		<Access as Authorize<u64>>::twin_created(TWIN, &OWNER);
		<Access as Authorize<u64>>::twin_created(OTHER_TWIN, &OWNER);
		for (who, role) in [
			(MAINTAINER, Role::Maintainer),
			(AUDITOR, Role::Auditor),
			(DEVICE, Role::Device),
			(SECOND_DEVICE, Role::Device),
		] {
			Access::grant_role(RuntimeOrigin::signed(OWNER), TWIN, Grantee::Account(who), role)
				.expect("the owner grants roles");
		}
		System::reset_events();
	});
	ext
}

/// Moves to block `to` (the pallet has no block hooks: expiry is per twin).
pub fn run_to_block(to: u64) {
	System::set_block_number(to.max(System::block_number()));
}

/// An element id from text.
pub fn id(text: &str) -> ElementId {
	ElementId::try_from(text.as_bytes().to_vec()).expect("test ids are short")
}

/// A program name from text.
pub fn program(text: &str) -> ProgramName {
	ProgramName::try_from(text.as_bytes().to_vec()).expect("test names are short")
}

/// A parameter name from text.
pub fn name(text: &str) -> ParameterName {
	ParameterName::try_from(text.as_bytes().to_vec()).expect("test names are short")
}

/// A parameter text value.
pub fn text(value: &str) -> ParameterText {
	ParameterText::try_from(value.as_bytes().to_vec()).expect("test values are short")
}

/// Bounded bytes from text.
pub fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> BoundedVec<u8, S> {
	BoundedVec::try_from(text.as_bytes().to_vec()).expect("test text fits")
}

/// Arguments from name-value pairs.
pub fn arguments(given: &[(&str, ParameterValue)]) -> ProgramArguments {
	given
		.iter()
		.map(|(parameter, value)| Argument { name: name(parameter), value: value.clone() })
		.collect::<Vec<_>>()
		.try_into()
		.expect("test arguments fit")
}

/// Valid arguments of [`SET_FILL_VOLUME`]: 330.0 ml, gentle, 2 times, with rinsing.
pub fn fill_volume_arguments() -> ProgramArguments {
	arguments(&[
		("volume", ParameterValue::Decimal(3300)),
		("mode", ParameterValue::Text(text("gentle"))),
		("count", ParameterValue::Integer(2)),
		("rinse", ParameterValue::Boolean(true)),
	])
}
