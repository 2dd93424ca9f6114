//! Access control vocabulary shared by every pallet that protects a twin's data.
//!
//! Each twin has its own role-based access control, kept by the access pallet: a stored map
//! from [`Role`] to [`Permission`]s and grants of roles to accounts or whole organisations
//! ([`Grantee`]). Other pallets never look at roles; they ask one question through
//! [`Authorize`]: may this account do this [`Action`] on this twin?
//!
//! Data carries a [`Confidentiality`] level (AML elements, documents, feeds); reading it needs
//! a role whose [`Permission::Read`] reaches that level.

use bounded_collections::{BoundedVec, ConstU32};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

use crate::OrganisationId;

/// Identifies a twin. Ids are never reused.
pub type TwinId = u32;

/// Identifies a custom role within its twin. Ids are never reused within a twin.
pub type CustomRoleId = u32;

/// Longest element id, in bytes. CAEX ids are GUIDs (36 to 38 bytes); structural ids are
/// CAEX paths such as `/CAEXFile/SystemUnitClassLib[Lib]/SystemUnitClass[Machine]`.
pub const MAX_ELEMENT_ID_LEN: u32 = 256;

/// Longest program name, in bytes.
pub const MAX_PROGRAM_NAME_LEN: u32 = 64;

/// The id of an AML element (the value of its `ID` attribute, or a structural path).
pub type ElementId = BoundedVec<u8, ConstU32<MAX_ELEMENT_ID_LEN>>;

/// The name of a device program declared in a twin's specification.
pub type ProgramName = BoundedVec<u8, ConstU32<MAX_PROGRAM_NAME_LEN>>;

/// How confidential a piece of data is. Levels are ordered: a reader cleared for a level
/// may read everything at that level and below.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Confidentiality {
	/// Every member of the consortium may read it.
	Public,
	/// Parties holding any role on the twin with internal clearance. The default.
	#[default]
	Internal,
	/// Parties that need it for their work (e.g. maintenance records).
	Confidential,
	/// The most sensitive data (e.g. blueprints).
	Secret,
}

/// A role on a twin: one of the built-in lifecycle roles, or a role the twin's access
/// managers defined.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Role {
	/// Owns and operates the asset. The twin's creator gets this role.
	Owner,
	/// Built the asset and supplied its specification.
	Manufacturer,
	/// Services the asset.
	Maintainer,
	/// Checks the asset's records on behalf of a third party.
	Auditor,
	/// The asset itself (its device agent), which streams sensor data and runs programs.
	Device,
	/// A role defined for this twin only.
	Custom(CustomRoleId),
}

impl Role {
	/// The built-in roles, which every twin has from its creation.
	pub const BUILT_IN: [Role; 5] =
		[Role::Owner, Role::Manufacturer, Role::Maintainer, Role::Auditor, Role::Device];
}

/// Who a role is granted to.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Grantee<AccountId> {
	/// One account.
	Account(AccountId),
	/// Every member account of an organisation of the consortium, present and future.
	Organisation(OrganisationId),
}

/// Something a role allows on its twin.
#[derive(
	Clone,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
	serde::Serialize,
	serde::Deserialize,
)]
pub enum Permission {
	/// Read data up to and including this confidentiality level.
	Read(Confidentiality),
	/// Change the AML specification: the whole document (`None`) or only the subtree rooted
	/// at the given element (that element included).
	WriteSpecification(Option<ElementId>),
	/// Register new documents.
	AddDocuments,
	/// Add new versions of registered documents.
	VersionDocuments,
	/// Annotate documents.
	AnnotateDocuments,
	/// Register sensor feeds.
	RegisterFeeds,
	/// Append entries to feeds (what a device does).
	AppendToFeeds,
	/// Call device programs: all of them (`None`) or only the one named.
	CallPrograms(Option<ProgramName>),
	/// Add and remove references to external data sources.
	AddExternalSources,
	/// Grant and revoke roles, define roles and their permissions, set confidentiality levels.
	ManageAccess,
	/// Claim the twin's queued program calls and report their outcome (what the device
	/// agent does).
	RunPrograms,
	/// Declare, re-declare and remove the programs a device offers, with their parameters
	/// and safety bounds, and change the AML that describes them. Kept apart from
	/// `WriteSpecification` and `CallPrograms`: whoever operates a plant must not also set
	/// its safety envelope.
	DeclarePrograms,
}

/// A protected action, as another pallet asks [`Authorize`] about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<'a> {
	/// Read data of this confidentiality level.
	Read(Confidentiality),
	/// Change the specification at `element`: the element replaced or removed, or the
	/// parent under which an element is inserted. `ancestors` are the elements above it (in
	/// any order), which the specification resolves once, so that a permission scoped to a
	/// subtree is checked without walking the tree again.
	WriteSpecification { element: &'a ElementId, ancestors: &'a [ElementId] },
	/// Register a document.
	AddDocument,
	/// Add a version of a document.
	VersionDocument,
	/// Annotate a document.
	AnnotateDocument,
	/// Register a feed.
	RegisterFeed,
	/// Append to a feed.
	AppendToFeed,
	/// Call the named program.
	CallProgram(&'a [u8]),
	/// Add or remove an external data source.
	AddExternalSource,
	/// Change the twin's access control.
	ManageAccess,
	/// Claim a queued program call or report its outcome.
	RunProgram,
	/// Declare, re-declare or remove a program with its parameters and safety bounds.
	DeclareProgram,
}

impl Permission {
	/// Whether this permission allows `action`. A specification write scoped to a subtree
	/// allows a change at the subtree's root or below it (one of the action's ancestors).
	pub fn allows(&self, action: &Action<'_>) -> bool {
		match (self, action) {
			(Permission::Read(clearance), Action::Read(level)) => level <= clearance,
			(Permission::WriteSpecification(None), Action::WriteSpecification { .. }) => true,
			(
				Permission::WriteSpecification(Some(scope)),
				Action::WriteSpecification { element, ancestors },
			) => *element == scope || ancestors.contains(scope),
			(Permission::AddDocuments, Action::AddDocument)
			| (Permission::VersionDocuments, Action::VersionDocument)
			| (Permission::AnnotateDocuments, Action::AnnotateDocument)
			| (Permission::RegisterFeeds, Action::RegisterFeed)
			| (Permission::AppendToFeeds, Action::AppendToFeed)
			| (Permission::CallPrograms(None), Action::CallProgram(_))
			| (Permission::AddExternalSources, Action::AddExternalSource)
			| (Permission::ManageAccess, Action::ManageAccess)
			| (Permission::RunPrograms, Action::RunProgram)
			| (Permission::DeclarePrograms, Action::DeclareProgram) => true,
			(Permission::CallPrograms(Some(name)), Action::CallProgram(called)) => {
				name.as_slice() == *called
			},
			_ => false,
		}
	}
}

/// Why [`Authorize::authorize`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessDenied {
	/// The twin has no access control: it does not exist.
	UnknownTwin,
	/// None of the caller's roles on the twin allows the action.
	NotPermitted,
}

/// Which twins and elements of their specifications exist (the twin-spec pallet), as the
/// pallets that refer to them ask.
pub trait TwinElements {
	/// Whether the twin exists.
	fn twin_exists(twin: TwinId) -> bool;
	/// Whether `twin`'s specification has an element with this id.
	fn element_exists(twin: TwinId, element: &ElementId) -> bool;
}

/// The access decision every pallet that protects twin data calls.
pub trait Authorize<AccountId> {
	/// `Ok` if `who` may do `action` on `twin`.
	fn authorize(twin: TwinId, who: &AccountId, action: Action<'_>) -> Result<(), AccessDenied>;

	/// The highest confidentiality level `who` may read on `twin`, `None` if it may read
	/// nothing but public data. Members of the consortium can always read public data.
	fn clearance(twin: TwinId, who: &AccountId) -> Option<Confidentiality>;

	/// Sets up the access control of a new twin: the default role map, and the Owner role
	/// for its creator.
	fn twin_created(twin: TwinId, creator: &AccountId);

	/// How many roles `who` holds on `twin`, its own and its organisation's: an
	/// authorization or a clearance of `who` reads each one's permissions once. A call
	/// charged for [`Self::max_roles_held`] before dispatch is refunded to this.
	fn roles_held(twin: TwinId, who: &AccountId) -> u32;

	/// The most roles an account can hold on a twin, its own and its organisation's.
	fn max_roles_held() -> u32;
}

/// Identifies one membership of an account in the consortium: an account gets a new one each
/// time it joins, so one that is removed and added again (by any organisation) has another.
/// Ids are never reused.
pub type MembershipId = u64;

/// An account's place in the consortium.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsortiumMember {
	/// The organisation it belongs to.
	pub organisation: OrganisationId,
	/// Its current membership.
	pub membership: MembershipId,
}

/// What the access pallet needs to know about the consortium.
pub trait ConsortiumMembership<AccountId> {
	/// The organisation `who` is a member of and its current membership, if it is a member.
	fn member(who: &AccountId) -> Option<ConsortiumMember>;

	/// The organisation `who` is a member of.
	fn organisation_of(who: &AccountId) -> Option<OrganisationId> {
		Self::member(who).map(|member| member.organisation)
	}

	/// Whether the organisation is part of the consortium.
	fn organisation_exists(organisation: OrganisationId) -> bool;
}

/// Why the consortium could not appoint an access manager to a twin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppointmentRefused {
	/// The twin does not exist.
	UnknownTwin,
	/// A grantee that can still act holds a role with `ManageAccess`: it manages the twin.
	TwinStillManaged,
	/// The appointee is not a member of the consortium.
	NotAConsortiumMember,
	/// The twin has no room for another grantee, or the appointee for another role.
	NoRoomForGrant,
}

/// The governance path to a twin whose access managers have all left the consortium: the
/// consortium, by a majority of its organisations, appoints a new one. The access pallet
/// implements it; nothing else may call it.
pub trait AccessManagerAppointment<AccountId> {
	/// Checks that `twin` has no access manager that can still act and that `who` could
	/// be appointed, changing nothing.
	fn can_appoint(twin: TwinId, who: &AccountId) -> Result<(), AppointmentRefused>;

	/// Grants `who` a role with `ManageAccess` on `twin`, after the same checks. Returns the
	/// role granted.
	fn appoint(twin: TwinId, who: &AccountId) -> Result<Role, AppointmentRefused>;

	/// The most either call can cost.
	fn appointment_weight() -> sp_weights::Weight;
}

#[cfg(test)]
mod tests {
	use super::*;

	fn id(text: &str) -> ElementId {
		ElementId::try_from(text.as_bytes().to_vec()).unwrap()
	}

	fn write<'a>(element: &'a ElementId, ancestors: &'a [ElementId]) -> Action<'a> {
		Action::WriteSpecification { element, ancestors }
	}

	#[test]
	fn read_reaches_up_to_the_clearance() {
		let read = Permission::Read(Confidentiality::Confidential);
		assert!(read.allows(&Action::Read(Confidentiality::Public)));
		assert!(read.allows(&Action::Read(Confidentiality::Confidential)));
		assert!(!read.allows(&Action::Read(Confidentiality::Secret)));
	}

	#[test]
	fn scoped_write_covers_the_scope_root_and_what_lies_below() {
		let scope = id("line-1");
		let write_below = Permission::WriteSpecification(Some(scope.clone()));
		assert!(write_below.allows(&write(&scope, &[id("plant")])));
		let filler = id("filler");
		assert!(write_below.allows(&write(&filler, &[id("plant"), scope.clone()])));
		// A sibling or an ancestor of the scope is outside it.
		assert!(!write_below.allows(&write(&id("line-2"), &[id("plant")])));
		assert!(!write_below.allows(&write(&id("plant"), &[])));
		let unscoped = Permission::WriteSpecification(None);
		assert!(unscoped.allows(&write(&id("other"), &[])));
	}

	#[test]
	fn program_permission_names_one_program_or_all() {
		let named =
			Permission::CallPrograms(Some(ProgramName::try_from(b"clean".to_vec()).unwrap()));
		assert!(named.allows(&Action::CallProgram(b"clean")));
		assert!(!named.allows(&Action::CallProgram(b"stop")));
		assert!(Permission::CallPrograms(None).allows(&Action::CallProgram(b"stop")));
	}

	#[test]
	fn permissions_do_not_leak_into_other_actions() {
		let x = id("x");
		assert!(!Permission::AddDocuments.allows(&Action::VersionDocument));
		assert!(!Permission::Read(Confidentiality::Secret).allows(&write(&x, &[])));
		assert!(!Permission::WriteSpecification(None).allows(&Action::ManageAccess));
		assert!(!Permission::AppendToFeeds.allows(&Action::RegisterFeed));
		// Calling a program and running it are different parties' business.
		assert!(!Permission::CallPrograms(None).allows(&Action::RunProgram));
		assert!(!Permission::RunPrograms.allows(&Action::CallProgram(b"clean")));
		assert!(Permission::RunPrograms.allows(&Action::RunProgram));
	}

	#[test]
	fn operating_a_plant_does_not_include_setting_its_safety_bounds() {
		// Writing the specification and calling programs are what a maintainer does; neither
		// declares a program or changes its bounds.
		assert!(!Permission::WriteSpecification(None).allows(&Action::DeclareProgram));
		assert!(!Permission::CallPrograms(None).allows(&Action::DeclareProgram));
		assert!(!Permission::RunPrograms.allows(&Action::DeclareProgram));
		assert!(!Permission::DeclarePrograms.allows(&write(&id("x"), &[])));
		assert!(!Permission::DeclarePrograms.allows(&Action::CallProgram(b"clean")));
		assert!(Permission::DeclarePrograms.allows(&Action::DeclareProgram));
	}
}
