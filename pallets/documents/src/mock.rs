//! A test runtime with the real access pallet, a small fixed consortium and a fixed set of
//! twins and elements.

use crate as pallet_dt_documents;
use dt_primitives::access::TwinElements;
use dt_primitives::{
	access::{Authorize, ElementId, Grantee, Role, TwinId},
	content_id::{raw_sha256_content_id, ContentId},
	OrganisationId,
};
use frame_support::{derive_impl, traits::ConstU32, BoundedVec};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Access: pallet_dt_access,
		Documents: pallet_dt_documents,
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
/// Member of organisation 3, the device's own account; Device of twin 0.
pub const DEVICE: u64 = 4;
/// Member of organisation 1 without any role.
pub const BYSTANDER: u64 = 5;
/// An account of no organisation.
pub const OUTSIDER: u64 = 99;

/// The twin the tests work on, with access control and roles granted.
pub const TWIN: TwinId = 0;
/// A second twin, owned by [`OWNER`] only.
pub const OTHER_TWIN: TwinId = 1;
/// A twin nobody created.
pub const NO_TWIN: TwinId = 7;

pub const MAX_TITLE_LENGTH: u32 = 32;
pub const MAX_MEDIA_TYPE_LENGTH: u32 = 32;
pub const MAX_VERSIONS: u32 = 3;
pub const MAX_ANNOTATIONS: u32 = 2;
pub const MAX_DOCUMENTS: u32 = 3;

frame_support::parameter_types! {
	/// Twins the benchmarks created.
	pub static BenchmarkTwins: Vec<TwinId> = vec![];
}

/// Who belongs to which organisation in this mock's consortium.
pub struct Members;
impl dt_pallet_test_support::Members for Members {
	const MEMBERS: &'static [(u64, OrganisationId)] =
		&[(OWNER, 0), (MAINTAINER, 1), (BYSTANDER, 1), (AUDITOR, 2), (DEVICE, 3)];
	const ORGANISATIONS: OrganisationId = 4;
}

pub type FixedConsortium = dt_pallet_test_support::FixedConsortium<Members>;

/// The elements every twin's specification has.
pub const ELEMENTS: [&str; 3] = ["root", "motor", "spindle"];

/// Twins 0 and 1 (and those the benchmarks create), each with [`ELEMENTS`], flat.
pub struct FixedTwins;
impl TwinElements for FixedTwins {
	fn element_exists(twin: TwinId, element: &ElementId) -> bool {
		Self::twin_exists(twin) && ELEMENTS.iter().any(|known| known.as_bytes() == &element[..])
	}

	fn twin_exists(twin: TwinId) -> bool {
		twin == TWIN || twin == OTHER_TWIN || BenchmarkTwins::get().contains(&twin)
	}
}

dt_pallet_test_support::impl_access_config!(Test, FixedConsortium);

impl pallet_dt_documents::Config for Test {
	type Authorize = Access;
	type Elements = FixedTwins;
	type MaxTitleLength = ConstU32<MAX_TITLE_LENGTH>;
	type MaxMediaTypeLength = ConstU32<MAX_MEDIA_TYPE_LENGTH>;
	type MaxVersionsPerDocument = ConstU32<MAX_VERSIONS>;
	type MaxAnnotationsPerVersion = ConstU32<MAX_ANNOTATIONS>;
	type MaxDocumentsPerTwin = ConstU32<MAX_DOCUMENTS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = FixedConsortium;
}

#[cfg(feature = "runtime-benchmarks")]
impl crate::BenchmarkHelper<u64> for FixedConsortium {
	fn make_member(who: &u64) {
		<FixedConsortium as pallet_dt_access::BenchmarkHelper<u64>>::make_member(who);
	}

	fn create_twin(owner: &u64) -> (TwinId, ElementId) {
		let twin = 100 + BenchmarkTwins::get().len() as TwinId;
		BenchmarkTwins::mutate(|twins| twins.push(twin));
		<Access as Authorize<u64>>::twin_created(twin, owner);
		(twin, id("motor"))
	}
}

/// Twins 0 and 1 created by [`OWNER`]; on twin 0 [`MAINTAINER`], [`AUDITOR`] and [`DEVICE`]
/// hold the roles their names say.
pub fn new_test_ext() -> sp_io::TestExternalities {
	let storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(storage);
	ext.execute_with(|| {
		System::set_block_number(1);
		<Access as Authorize<u64>>::twin_created(TWIN, &OWNER);
		<Access as Authorize<u64>>::twin_created(OTHER_TWIN, &OWNER);
		for (who, role) in
			[(MAINTAINER, Role::Maintainer), (AUDITOR, Role::Auditor), (DEVICE, Role::Device)]
		{
			Access::grant_role(RuntimeOrigin::signed(OWNER), TWIN, Grantee::Account(who), role)
				.expect("the owner grants roles");
		}
		System::reset_events();
	});
	ext
}

/// An element id from text.
pub fn id(text: &str) -> ElementId {
	ElementId::try_from(text.as_bytes().to_vec()).expect("test ids are short")
}

/// Bounded bytes from text.
pub fn bounded<S: frame_support::traits::Get<u32>>(text: &str) -> BoundedVec<u8, S> {
	BoundedVec::try_from(text.as_bytes().to_vec()).expect("test text fits")
}

/// A valid content id (a raw SHA-256 CIDv1) whose digest is `seed` repeated.
pub fn cid(seed: u8) -> ContentId {
	ContentId::try_from(raw_sha256_content_id(&[seed; 32]).to_vec()).expect("36 bytes fit")
}
