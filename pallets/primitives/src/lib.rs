//! Types shared by the dt-ledger pallets, the runtime and the off-chain code.
//!
//! Everything here is `no_std` so the runtime can use it; the same definitions are used by
//! the node, the client `dt` and the device agent, so what the chain stores and what the
//! off-chain code expects cannot drift apart.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod access;
pub mod aml_fragment;
pub mod availability;
pub mod content_id;
pub mod document;
pub mod encryption_key;
pub mod feed;
pub mod program;

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Identifies an organisation (a party) of the consortium. Ids are never reused.
pub type OrganisationId = u32;

/// Identifies a governance proposal. Ids are never reused.
pub type ProposalId = u32;

/// The part an organisation plays in the life of the assets whose twins the chain holds.
///
/// This is a label for people and tools; what an organisation may do with a particular twin
/// is decided by that twin's access control, not by this label.
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
pub enum LifecycleRole {
	/// Builds the asset and supplies its specification.
	Manufacturer,
	/// Owns and operates the asset.
	Owner,
	/// Services the asset.
	Maintainer,
	/// Checks the asset's records on behalf of a third party.
	Auditor,
	/// Any other party (a supplier, an insurer, ...).
	Other,
}
