//! The program-call round trip: a party's call to a device agent and its outcome back.

use crate::{
	account,
	bench_plant::{bounded, created_twin, succeeded},
	number_arg, print_percentiles, Error, ACCOUNTS, STALL,
};
use codec::Encode;
use dt_agent::{envelope::SafetyEnvelope, programs::ProgramRunner, simulator::BottlingPlant};
use dt_client::Client;
use dt_primitives::{
	access::{Grantee, Role},
	program::{Argument, ParameterDeclaration, ParameterType, ParameterValue},
};
use dt_runtime::{AccessCall, RuntimeCall, RuntimeEvent, TwinSpecCall};
use pallet_dt_programs::{Call as ProgramsCall, CallId, Event as ProgramsEvent};
use pallet_dt_twin_spec::NewElement;
use sp_core::{sr25519, Pair as _};
use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

/// The filler of [`program_twin`] and its program.
const FILLER: &str = "filler";
const SET_FILL_VOLUME: &str = "SetFillVolume";

pub async fn roundtrip(args: &[String]) -> Result<bool, Error> {
	let (submit_url, device_url) = (&args[0], &args[1]);
	let samples = number_arg(args, 2, "SAMPLES", 100)?;
	let interval = Duration::from_millis(number_arg(args, 3, "INTERVAL_MS", 3000)? as u64);
	let submitter = Client::connect(submit_url).await?;
	let (caller, device) = (account(ACCOUNTS[0]), account(ACCOUNTS[1]));
	println!("setting up: a filler's twin with {SET_FILL_VOLUME}, //{} its device", ACCOUNTS[1]);
	let twin = program_twin(&submitter, &caller, &device).await?;
	let mut runner = ProgramRunner::new(
		device_url,
		device,
		twin,
		Arc::new(Mutex::new(BottlingPlant::new([FILLER]))),
		SafetyEnvelope::bottling_plant(),
	);
	let agent = tokio::spawn(async move { runner.run().await });
	let calls = Arc::new(Mutex::new(CallSightings::default()));
	let watcher = tokio::spawn(watch_calls(submit_url.clone(), twin, calls.clone()));

	let context = submitter.signing_context().await?;
	let first_nonce = submitter.next_nonce(&caller.public().into()).await?;
	println!(
		"roundtrip: {samples} calls of {SET_FILL_VOLUME} by //{} on {submit_url}, one every {} \
		 ms, run by the device agent of //{} on {device_url}",
		ACCOUNTS[0],
		interval.as_millis(),
		ACCOUNTS[1]
	);
	let mut submitted = Vec::with_capacity(samples);
	let mut ticks = tokio::time::interval(interval);
	for index in 0..samples {
		ticks.tick().await;
		// 250.0 ml and up, inside the declaration and the plant's envelope.
		let volume = 2_500 + (index % 9_000) as i128;
		let extrinsic =
			context.sign(&caller, fill_volume_call(twin, volume), first_nonce + index as u32);
		submitted.push(Instant::now());
		submitter.submit_only(&extrinsic.encode()).await?;
	}
	let (mut done, mut progress) = (0, Instant::now());
	while done < samples && progress.elapsed() < STALL {
		tokio::time::sleep(Duration::from_millis(200)).await;
		let now = calls.lock().unwrap().finished.len();
		if now != done {
			(done, progress) = (now, Instant::now());
		}
	}
	agent.abort();
	watcher.abort();
	let calls = calls.lock().unwrap();
	// Alice's calls are queued in the order of her nonces: the nth queued is sample n.
	let (mut to_queued, mut to_claimed, mut to_outcome, mut failed) =
		(Vec::new(), Vec::new(), Vec::new(), 0);
	// The steps between: where the round trip's time goes.
	let (mut queued_to_claimed, mut claimed_to_outcome) = (Vec::new(), Vec::new());
	for (&(call, queued), submitted) in calls.queued.iter().zip(&submitted) {
		to_queued.push(queued.duration_since(*submitted));
		let claimed = calls.claimed.get(&call);
		if let Some(claimed) = claimed {
			to_claimed.push(claimed.duration_since(*submitted));
			queued_to_claimed.push(claimed.duration_since(queued));
		}
		match calls.finished.get(&call) {
			Some((true, at)) => {
				to_outcome.push(at.duration_since(*submitted));
				if let Some(claimed) = claimed {
					claimed_to_outcome.push(at.duration_since(*claimed));
				}
			},
			Some((false, _)) => failed += 1,
			None => {},
		}
	}
	print_percentiles("submitted → queued, finalized", to_queued);
	print_percentiles("submitted → claimed by the device, finalized", to_claimed);
	let completed = to_outcome.len();
	print_percentiles("submitted → Completed, finalized", to_outcome);
	print_percentiles("  of which queued → claimed", queued_to_claimed);
	print_percentiles("  and claimed → Completed", claimed_to_outcome);
	println!("completed: {completed} of {samples}; failed: {failed}");
	Ok(completed == samples)
}

/// When the calls of one twin were queued and finished in finalized blocks, as one node saw
/// them.
#[derive(Default)]
struct CallSightings {
	/// Each queued call, in the order queued.
	queued: Vec<(CallId, Instant)>,
	/// When each call was claimed.
	claimed: HashMap<CallId, Instant>,
	/// Whether each finished call completed, and when.
	finished: HashMap<CallId, (bool, Instant)>,
}

async fn watch_calls(
	url: String,
	twin: u32,
	calls: Arc<Mutex<CallSightings>>,
) -> Result<(), Error> {
	let client = Client::connect(&url).await?;
	let mut blocks = client.finalized_events().await?;
	loop {
		let block = blocks.next().await?;
		let now = Instant::now();
		let mut calls = calls.lock().unwrap();
		for event in block.events {
			let RuntimeEvent::Programs(event) = event else { continue };
			match event {
				ProgramsEvent::ProgramCallQueued { twin: of, call, .. } if of == twin => {
					calls.queued.push((call, now))
				},
				ProgramsEvent::ProgramCallClaimed { twin: of, call, .. } if of == twin => {
					calls.claimed.insert(call, now);
				},
				ProgramsEvent::ProgramCallCompleted { twin: of, call, .. } if of == twin => {
					calls.finished.insert(call, (true, now));
				},
				ProgramsEvent::ProgramCallFailed { twin: of, call, .. } if of == twin => {
					calls.finished.insert(call, (false, now));
				},
				_ => {},
			}
		}
	}
}

/// A twin of one filler, made by `owner`, whose `SetFillVolume` (250.0 to 1500.5 ml) is
/// declared, with `device` its device.
async fn program_twin(
	client: &Client,
	owner: &sr25519::Pair,
	device: &sr25519::Pair,
) -> Result<u32, Error> {
	let element = |id: &str, parent: Option<&str>, xml: &str| NewElement {
		id: bounded(id).expect("a short id"),
		parent: parent.map(|parent| bounded(parent).expect("a short id")),
		previous_sibling: None,
		fragment: bounded(xml).expect("a short fragment"),
	};
	let elements = vec![
		element("/CAEXFile", None, r#"<CAEXFile FileName="filler.aml"><?dt-children?></CAEXFile>"#),
		element(FILLER, Some("/CAEXFile"), r#"<InternalElement Name="Filler" ID="filler"/>"#),
	];
	let create = TwinSpecCall::create_twin {
		header: Default::default(),
		elements: elements.try_into().map_err(|_| "two elements fit in a call")?,
		complete: true,
	};
	let created = client.submit(owner, RuntimeCall::TwinSpec(create)).await?;
	succeeded(&created, "create the filler's twin").map_err(|e| e.to_string())?;
	let twin = created_twin(&created).map_err(|e| e.to_string())?;
	let volume = ParameterDeclaration {
		name: bounded("volume").expect("short"),
		kind: ParameterType::Decimal { decimals: 1 },
		min: Some(2_500),
		max: Some(15_005),
		allowed: Default::default(),
		unit: bounded("ml").expect("short"),
	};
	let declare = TwinSpecCall::declare_program {
		twin,
		element: bounded(FILLER).expect("short"),
		program: bounded(SET_FILL_VOLUME).expect("short"),
		parameters: vec![volume].try_into().map_err(|_| "one parameter fits")?,
		described_by: bounded(FILLER).expect("short"),
	};
	succeeded(&client.submit(owner, RuntimeCall::TwinSpec(declare)).await?, "declare")
		.map_err(|e| e.to_string())?;
	let grant = AccessCall::grant_role {
		twin,
		grantee: Grantee::Account(device.public().into()),
		role: Role::Device,
	};
	succeeded(&client.submit(owner, RuntimeCall::Access(grant)).await?, "grant the device")
		.map_err(|e| e.to_string())?;
	Ok(twin)
}

/// `SetFillVolume` on the filler with `volume` tenths of a millilitre.
fn fill_volume_call(twin: u32, volume: i128) -> RuntimeCall {
	let argument = Argument {
		name: bounded("volume").expect("short"),
		value: ParameterValue::Decimal(volume),
	};
	RuntimeCall::Programs(ProgramsCall::call_program {
		twin,
		element: bounded(FILLER).expect("a short id"),
		program: bounded(SET_FILL_VOLUME).expect("a short name"),
		arguments: vec![argument].try_into().expect("one argument fits"),
	})
}
