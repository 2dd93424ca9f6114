//! Reading the chain and explaining its refusals.

use anyhow::{anyhow, bail, Context, Result};
use codec::Encode;
use dt_client::{dispatch_error_name, Client, ClientError, Finalized};
use dt_primitives::access::TwinId;
use dt_runtime::{AccountId, RuntimeCall};
use pallet_dt_twin_spec::TwinInfo;
use sp_core::sr25519;

pub type Twins = Vec<(TwinId, TwinInfo<AccountId, u32>)>;

/// Connects, saying what to do if that fails.
pub async fn connect(url: &str) -> Result<Client> {
	Client::connect(url).await.map_err(|e| {
		anyhow!("{e}\nstart a node (e.g. `dt-node --dev`) or pass its address with --node ws://HOST:PORT")
	})
}

/// The chain's twins.
pub async fn twins(client: &Client) -> Result<Twins> {
	Ok(client.runtime_api("TwinSpecApi_twins", (), None).await?)
}

/// The twin `twin`, or the error every command gives for an unknown twin.
pub async fn twin(client: &Client, twin: TwinId) -> Result<TwinInfo<AccountId, u32>> {
	twins(client)
		.await?
		.into_iter()
		.find_map(|(id, info)| (id == twin).then_some(info))
		.ok_or_else(|| anyhow!("twin {twin} does not exist (`dt twin list` shows the twins)"))
}

/// Submits `call` and waits for finality; a refusal by the node or the runtime becomes an
/// error naming the reason.
pub async fn submit(
	client: &Client,
	signer: &sr25519::Pair,
	call: RuntimeCall,
	what: &str,
) -> Result<Finalized> {
	let finalized = client.submit(signer, call).await.map_err(|e| match e {
		// The pool refuses a signer outside the consortium as a bad signer.
		ClientError::Refused(reason) if reason.contains("Invalid signing address") => anyhow!(
			"the node refused to {what}: {reason}\n(an account that is not a member of the \
			 consortium cannot send transactions: ask the consortium to add it)"
		),
		ClientError::Refused(reason) => anyhow!("the node refused to {what}: {reason}"),
		other => anyhow!("cannot {what}: {other}"),
	})?;
	if let Some(error) = finalized.dispatch_error {
		bail!("refused by the chain: {} (while trying to {what})", dispatch_error_name(&error));
	}
	Ok(finalized)
}

/// The proof that `who` holds the private half of its RSA encryption key `rsa`, for the chain
/// of `client`: a signature of the account and the chain's genesis hash, which the chain
/// asks for with every key it registers.
pub async fn key_proof(client: &Client, who: &AccountId, rsa: &rsa::PrivateKey) -> Result<Vec<u8>> {
	let genesis = client
		.block_hash(0)
		.await
		.context("cannot read the chain's genesis hash")?
		.ok_or_else(|| anyhow!("the node has no genesis block"))?;
	key_proof_for(genesis.as_ref(), who, rsa)
}

/// [`key_proof`] for the chain whose genesis block hash is `genesis`.
pub fn key_proof_for(genesis: &[u8], who: &AccountId, rsa: &rsa::PrivateKey) -> Result<Vec<u8>> {
	use dt_primitives::encryption_key::{key_proof_message, sign_key_proof};
	sign_key_proof(rsa, &key_proof_message(genesis, &who.encode()))
		.map_err(|_| anyhow!("signing the key proof with the RSA key failed"))
}
