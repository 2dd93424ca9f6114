//! The libp2p side: the transport, the behaviours, and the task that drives the swarm.
//!
//! Transport: TCP, Noise (XX, authenticated by the node's ed25519 identity, so the remote
//! PeerId is proven) and Yamux. Behaviours: an allow list of the partner nodes (any other
//! peer's connection is denied before a protocol runs), a limit of
//! [`MAX_CONNECTIONS_PER_PEER`] connections per peer, Kademlia under the store's own
//! protocol name (so it never mixes with the chain's DHT) for provider records and for
//! finding partners, identify, and the store's request-response protocol.
//!
//! Finding partners: a node may know only one partner's address (its bootstrap list). Every
//! partner it connects to reports its listen addresses over identify; they are kept and
//! given to Kademlia, so this node can tell other partners where that one is. Kademlia
//! refreshes its routing table at start, whenever it learns a new partner and every
//! [`KAD_REFRESH`]; a request to a partner whose address this node does not know yet asks
//! the DHT for it first.
//!
//! One task owns the swarm; the rest of the node talks to it through [`Command`]s. Inbound
//! requests are handed to the [`Server`] on their own tasks, so a slow disk never stalls
//! the swarm.

use std::{
	collections::{HashMap, HashSet},
	num::NonZeroUsize,
	sync::Arc,
	time::Duration,
};

use futures::StreamExt;
use libp2p::core::Transport as _;
use libp2p::{
	allow_block_list, connection_limits, identify, identity, kad,
	multiaddr::Protocol,
	request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel},
	swarm::{
		dial_opts::{DialOpts, PeerCondition},
		DialError, NetworkBehaviour, SwarmEvent,
	},
	Multiaddr, PeerId, StreamProtocol, Swarm,
};
use tokio::sync::{mpsc, oneshot};

use super::{
	partners::PartnerDirectory,
	protocol::{
		Request, Response, StoreCodec, MAX_CONNECTIONS_PER_PEER, MAX_STREAMS_PER_CONNECTION,
		PROTOCOL,
	},
	transport::NewPortForDials,
	NodeError,
};

/// The Kademlia protocol of the store's DHT.
pub const KAD_PROTOCOL: StreamProtocol = StreamProtocol::new("/dt-ledger/offchain-kad/1");

/// How long a request may take before it counts as failed (a 4 MiB block on a slow link).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How often the allow list is refreshed from the partner directory.
const PARTNER_REFRESH: Duration = Duration::from_secs(2);

/// How often Kademlia refreshes its routing table (learning partners that started since).
pub const KAD_REFRESH: Duration = Duration::from_secs(60);

/// Most keys this node announces provider records for (about 3 KiB of memory each). Replicas
/// are found by placement; provider records only help when the partner list changed since a
/// block was written, so beyond this many the newest blocks go without one.
pub const MAX_PROVIDED_KEYS: usize = 8_192;

/// What the store's nodes call their protocol family in identify.
const IDENTIFY_VERSION: &str = "/dt-ledger/offchain/1";

/// The store's behaviours.
#[derive(NetworkBehaviour)]
pub struct StoreBehaviour {
	allowed: allow_block_list::Behaviour<allow_block_list::AllowedPeers>,
	limits: connection_limits::Behaviour,
	kademlia: kad::Behaviour<kad::store::MemoryStore>,
	identify: identify::Behaviour,
	store: request_response::Behaviour<StoreCodec>,
}

/// What the rest of the node asks of the swarm task.
// Commands are few and live for a moment: boxing the large ones would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
	/// Send `request` to `peer` and hand back its answer.
	Request {
		/// The partner.
		peer: PeerId,
		/// The request.
		request: Request,
		/// Where the answer goes.
		reply: oneshot::Sender<Result<Response, NodeError>>,
	},
	/// Answer an inbound request.
	Respond {
		/// The request's channel.
		channel: ResponseChannel<Response>,
		/// The answer.
		response: Response,
	},
	/// Announce this node as a provider of a key.
	Provide(kad::RecordKey),
	/// Find the providers of a key.
	FindProviders {
		/// The key.
		key: kad::RecordKey,
		/// Where they go.
		reply: oneshot::Sender<Vec<PeerId>>,
	},
	/// Learn an address of a peer.
	AddAddress(PeerId, Multiaddr),
	/// The addresses this node listens on.
	ListenAddrs(oneshot::Sender<Vec<Multiaddr>>),
	/// Stop the swarm.
	Shutdown,
}

/// What serves the inbound requests the swarm task receives.
pub trait Server: Send + Sync + 'static {
	/// Answers `request` from `peer` through `Command::Respond` on the command channel.
	fn serve(self: Arc<Self>, peer: PeerId, request: Request, channel: ResponseChannel<Response>);
}

/// Builds the swarm listening on `listen` (the partners' addresses are given to [`run`]).
pub fn build_swarm(
	keypair: identity::Keypair,
	listen: Multiaddr,
) -> Result<Swarm<StoreBehaviour>, NodeError> {
	let transport_error = |error: &dyn std::error::Error| NodeError::Transport(error_chain(error));
	let mut swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
		.with_tokio()
		.with_other_transport(|key| {
			let tcp = libp2p::tcp::Config::default().nodelay(true);
			let noise: Box<dyn std::error::Error + Send + Sync> =
				match libp2p::noise::Config::new(key) {
					Ok(noise) => {
						return Ok(NewPortForDials(libp2p::tcp::tokio::Transport::new(tcp))
							.upgrade(libp2p::core::upgrade::Version::V1)
							.authenticate(noise)
							.multiplex(libp2p::yamux::Config::default()))
					},
					Err(error) => Box::new(error),
				};
			Err(noise)
		})
		.map_err(|e| transport_error(&e))?
		.with_behaviour(|key| {
			let local = key.public().to_peer_id();
			let mut config = kad::Config::new(KAD_PROTOCOL);
			config.set_query_timeout(Duration::from_secs(10));
			config.set_replication_factor(NonZeroUsize::new(8).expect("8 is not zero; qed"));
			config.set_periodic_bootstrap_interval(Some(KAD_REFRESH));
			let records = kad::store::MemoryStoreConfig {
				max_provided_keys: MAX_PROVIDED_KEYS,
				..Default::default()
			};
			let mut kademlia = kad::Behaviour::with_config(
				local,
				kad::store::MemoryStore::with_config(local, records),
				config,
			);
			// Partners are servers by definition; without this a node that has not
			// confirmed an external address would not answer DHT queries.
			kademlia.set_mode(Some(kad::Mode::Server));
			let store = request_response::Behaviour::with_codec(
				StoreCodec,
				[(PROTOCOL, ProtocolSupport::Full)],
				request_response::Config::default()
					.with_request_timeout(REQUEST_TIMEOUT)
					// With the message size, bounds what one connection can make this node
					// buffer: a stream holds its request until it is answered.
					.with_max_concurrent_streams(MAX_STREAMS_PER_CONNECTION),
			);
			// Reports the swarm's listen addresses (each interface's, never 0.0.0.0) and
			// confirmed external ones. The swarm task keeps partners' addresses itself.
			let identify = identify::Behaviour::new(
				identify::Config::new(IDENTIFY_VERSION.into(), key.public())
					.with_push_listen_addr_updates(true)
					.with_cache_size(0),
			);
			let limits = connection_limits::Behaviour::new(
				connection_limits::ConnectionLimits::default()
					.with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
			);
			StoreBehaviour { allowed: Default::default(), limits, kademlia, identify, store }
		})
		.map_err(|e| transport_error(&e))?
		.with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(120)))
		.build();
	swarm.listen_on(listen).map_err(|e| transport_error(&e))?;
	Ok(swarm)
}

/// `error` and its sources, each as it describes itself: libp2p's `TransportError::Other`
/// (e.g. a listen address already in use) says nothing itself and keeps the cause as its source.
fn error_chain(error: &dyn std::error::Error) -> String {
	let mut parts = Vec::new();
	let mut next = Some(error);
	while let Some(error) = next {
		let text = error.to_string();
		if !text.is_empty() && !parts.last().is_some_and(|last: &String| last.ends_with(&text)) {
			parts.push(text);
		}
		next = error.source();
	}
	parts.join(": ")
}

/// Waits for the swarm's first listen address (the port is known only then when the
/// configuration asked for port 0).
pub async fn first_listen_addr(swarm: &mut Swarm<StoreBehaviour>) -> Result<Multiaddr, NodeError> {
	loop {
		match swarm.select_next_some().await {
			SwarmEvent::NewListenAddr { address, .. } => return Ok(address),
			SwarmEvent::ListenerError { error, .. } => {
				return Err(NodeError::Transport(error_chain(&error)))
			},
			SwarmEvent::ListenerClosed { reason: Err(error), .. } => {
				return Err(NodeError::Transport(error_chain(&error)))
			},
			_ => {},
		}
	}
}

/// A request waiting for a connection to its peer.
type Reply = oneshot::Sender<Result<Response, NodeError>>;

/// The swarm task: runs until [`Command::Shutdown`] or until every command sender is gone.
/// It starts knowing the `bootstrap` addresses.
pub async fn run(
	swarm: Swarm<StoreBehaviour>,
	commands: mpsc::UnboundedReceiver<Command>,
	server: Arc<dyn Server>,
	directory: Arc<dyn PartnerDirectory>,
	bootstrap: Vec<(PeerId, Multiaddr)>,
) {
	let mut task = SwarmTask {
		swarm,
		server,
		directory,
		pending: HashMap::new(),
		waiting: HashMap::new(),
		addresses: HashMap::new(),
		provider_queries: HashMap::new(),
		address_lookups: HashMap::new(),
		allowed: HashSet::new(),
		provider_records_full: false,
	};
	for (peer, address) in bootstrap {
		task.learn_address(peer, address);
	}
	task.run(commands).await
}

/// The state of the swarm task.
struct SwarmTask {
	swarm: Swarm<StoreBehaviour>,
	server: Arc<dyn Server>,
	directory: Arc<dyn PartnerDirectory>,
	/// Requests sent, by id.
	pending: HashMap<OutboundRequestId, Reply>,
	/// Requests to peers being dialled. Requests are sent only on an established
	/// connection: request-response fails every request waiting for a peer when any dial to
	/// it fails, even a redundant one (Kademlia dialling it at the same moment).
	waiting: HashMap<PeerId, Vec<(Request, Reply)>>,
	/// Where the partners were said to be; kept for good, since Kademlia forgets an address
	/// after one failed dial (a partner that restarts would otherwise be lost).
	addresses: HashMap<PeerId, Vec<Multiaddr>>,
	provider_queries: HashMap<kad::QueryId, (oneshot::Sender<Vec<PeerId>>, HashSet<PeerId>)>,
	/// DHT lookups of partners this node had no address for, with requests waiting.
	address_lookups: HashMap<kad::QueryId, PeerId>,
	allowed: HashSet<PeerId>,
	/// Whether the provider record store was found full (said once in the log).
	provider_records_full: bool,
}

impl SwarmTask {
	async fn run(&mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
		self.refresh_partners();
		let _ = self.swarm.behaviour_mut().kademlia.bootstrap();
		let mut refresh = tokio::time::interval(PARTNER_REFRESH);
		loop {
			tokio::select! {
				command = commands.recv() => match command {
					None | Some(Command::Shutdown) => break,
					Some(command) => self.handle_command(command),
				},
				event = self.swarm.select_next_some() => self.handle_event(event),
				_ = refresh.tick() => self.refresh_partners(),
			}
		}
		for (_, reply) in self.pending.drain() {
			let _ = reply.send(Err(NodeError::ShutDown));
		}
		for (_, reply) in self.waiting.drain().flat_map(|(_, waiting)| waiting) {
			let _ = reply.send(Err(NodeError::ShutDown));
		}
	}

	/// Makes the allow list the directory's partner list.
	fn refresh_partners(&mut self) {
		let partners: HashSet<PeerId> = self.directory.partners().into_iter().collect();
		let behaviour = self.swarm.behaviour_mut();
		for gone in self.allowed.difference(&partners) {
			behaviour.allowed.disallow_peer(*gone);
			behaviour.kademlia.remove_peer(gone);
		}
		for new in partners.difference(&self.allowed) {
			behaviour.allowed.allow_peer(*new);
		}
		self.allowed = partners;
	}

	fn send_or_dial(&mut self, peer: PeerId, request: Request, reply: Reply) {
		if self.swarm.is_connected(&peer) {
			let id = self.swarm.behaviour_mut().store.send_request(&peer, request);
			self.pending.insert(id, reply);
			return;
		}
		let already_dialling = self.waiting.contains_key(&peer);
		self.waiting.entry(peer).or_default().push((request, reply));
		if already_dialling {
			return;
		}
		let known = self.addresses.get(&peer).cloned().unwrap_or_default();
		let dial = DialOpts::peer_id(peer)
			.condition(PeerCondition::DisconnectedAndNotDialing)
			.addresses(known)
			.extend_addresses_through_behaviour()
			.build();
		match self.swarm.dial(dial) {
			Ok(()) => {},
			// Someone else is dialling it: its outcome decides.
			Err(DialError::DialPeerConditionFalse(_)) => {},
			// Nobody told this node where it is: the partners that know will.
			Err(DialError::NoAddresses) => {
				let id = self.swarm.behaviour_mut().kademlia.get_closest_peers(peer);
				self.address_lookups.insert(id, peer);
			},
			Err(error) => self.fail_waiting(peer, error.to_string()),
		}
	}

	/// A DHT lookup of `peer`'s address ended: dials it where the other partners said it is,
	/// unless the lookup already connected to it.
	fn lookup_done(&mut self, id: kad::QueryId, found: Vec<kad::PeerInfo>) {
		let Some(peer) = self.address_lookups.remove(&id) else { return };
		if !self.waiting.contains_key(&peer) || self.swarm.is_connected(&peer) {
			return;
		}
		let addresses: Vec<Multiaddr> = found
			.into_iter()
			.filter(|info| info.peer_id == peer)
			.flat_map(|info| info.addrs)
			.collect();
		if addresses.is_empty() {
			self.fail_waiting(peer, "no address known, and no partner knows one".into());
			return;
		}
		let dial = DialOpts::peer_id(peer)
			.condition(PeerCondition::DisconnectedAndNotDialing)
			.addresses(addresses)
			.extend_addresses_through_behaviour()
			.build();
		match self.swarm.dial(dial) {
			Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {},
			Err(error) => self.fail_waiting(peer, error.to_string()),
		}
	}

	/// Keeps `address` of partner `peer` for good and tells Kademlia.
	fn learn_address(&mut self, peer: PeerId, address: Multiaddr) {
		let address = of_peer(address, peer);
		self.swarm.behaviour_mut().kademlia.add_address(&peer, address.clone());
		let known = self.addresses.entry(peer).or_default();
		if !known.contains(&address) {
			known.push(address);
		}
	}

	/// What a partner reported over identify: where it listens.
	fn identified(&mut self, peer: PeerId, info: identify::Info) {
		if peer == *self.swarm.local_peer_id() || !self.directory.is_partner(&peer) {
			return;
		}
		// A loopback address is the partner's only if it runs on this host, which the
		// address it saw this node connect from tells.
		let same_host = is_loopback(&info.observed_addr);
		for address in info.listen_addrs {
			if let Some(address) = dialable(address, same_host) {
				self.learn_address(peer, address);
			}
		}
	}

	fn fail_waiting(&mut self, peer: PeerId, reason: String) {
		for (_, reply) in self.waiting.remove(&peer).unwrap_or_default() {
			let _ = reply.send(Err(NodeError::Unreachable { peer, reason: reason.clone() }));
		}
	}

	fn handle_command(&mut self, command: Command) {
		match command {
			Command::Request { peer, request, reply } => self.send_or_dial(peer, request, reply),
			Command::Respond { channel, response } => {
				// Fails only if the requester gave up (closed the stream or timed out).
				let _ = self.swarm.behaviour_mut().store.send_response(channel, response);
			},
			Command::Provide(key) => {
				if let Err(error) = self.swarm.behaviour_mut().kademlia.start_providing(key) {
					if !self.provider_records_full {
						self.provider_records_full = true;
						log::warn!(
							target: "dt-offchain",
							"no more provider records ({error}; at most {MAX_PROVIDED_KEYS}): \
							 newer blocks are found by their placement only"
						);
					}
				}
			},
			Command::FindProviders { key, reply } => {
				let id = self.swarm.behaviour_mut().kademlia.get_providers(key);
				self.provider_queries.insert(id, (reply, HashSet::new()));
			},
			Command::AddAddress(peer, address) => self.learn_address(peer, address),
			Command::ListenAddrs(reply) => {
				let _ = reply.send(self.swarm.listeners().cloned().collect());
			},
			Command::Shutdown => {},
		}
	}

	fn handle_event(&mut self, event: SwarmEvent<StoreBehaviourEvent>) {
		match event {
			// The allow list already denies strangers; this catches a peer dropped from the
			// directory since the last refresh.
			SwarmEvent::ConnectionEstablished { peer_id, connection_id, .. }
				if !self.directory.is_partner(&peer_id) =>
			{
				log::warn!(target: "dt-offchain", "closing a connection from {peer_id}: not a partner");
				self.swarm.close_connection(connection_id);
				self.fail_waiting(peer_id, "not a partner".into());
			},
			SwarmEvent::ConnectionEstablished { peer_id, .. } => {
				for (request, reply) in self.waiting.remove(&peer_id).unwrap_or_default() {
					let id = self.swarm.behaviour_mut().store.send_request(&peer_id, request);
					self.pending.insert(id, reply);
				}
			},
			SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. }
				if !matches!(error, DialError::DialPeerConditionFalse(_))
					&& !self.swarm.is_connected(&peer) =>
			{
				log::debug!(target: "dt-offchain", "cannot reach {peer}: {error}");
				self.fail_waiting(peer, error.to_string());
			},
			SwarmEvent::IncomingConnectionError { error, send_back_addr, .. } => {
				log::debug!(target: "dt-offchain", "refused a connection from {send_back_addr}: {error}");
			},
			SwarmEvent::Behaviour(StoreBehaviourEvent::Store(event)) => {
				self.handle_store_event(event)
			},
			SwarmEvent::Behaviour(StoreBehaviourEvent::Identify(identify::Event::Received {
				peer_id,
				info,
				..
			})) => self.identified(peer_id, info),
			SwarmEvent::Behaviour(StoreBehaviourEvent::Kademlia(
				kad::Event::OutboundQueryProgressed {
					id,
					result: kad::QueryResult::GetClosestPeers(result),
					step,
					..
				},
			)) if step.last => {
				let found = match result {
					Ok(kad::GetClosestPeersOk { peers, .. }) => peers,
					Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
				};
				self.lookup_done(id, found);
			},
			SwarmEvent::Behaviour(StoreBehaviourEvent::Kademlia(
				kad::Event::OutboundQueryProgressed {
					id,
					result: kad::QueryResult::GetProviders(result),
					step,
					..
				},
			)) => {
				if let Some((_, found)) = self.provider_queries.get_mut(&id) {
					if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = result {
						found.extend(providers);
					}
				}
				if step.last {
					if let Some((reply, found)) = self.provider_queries.remove(&id) {
						let _ = reply.send(found.into_iter().collect());
					}
				}
			},
			_ => {},
		}
	}

	fn handle_store_event(&mut self, event: request_response::Event<Request, Response>) {
		match event {
			request_response::Event::Message { peer, message } => match message {
				request_response::Message::Request { request, channel, .. } => {
					self.server.clone().serve(peer, request, channel);
				},
				request_response::Message::Response { request_id, response } => {
					if let Some(reply) = self.pending.remove(&request_id) {
						let _ = reply.send(Ok(response));
					}
				},
			},
			request_response::Event::OutboundFailure { peer, request_id, error } => {
				if let Some(reply) = self.pending.remove(&request_id) {
					let reason = error.to_string();
					let _ = reply.send(Err(NodeError::Unreachable { peer, reason }));
				}
			},
			request_response::Event::InboundFailure { peer, error, .. } => {
				log::debug!(target: "dt-offchain", "inbound request from {peer} failed: {error}");
			},
			request_response::Event::ResponseSent { .. } => {},
		}
	}
}

/// Whether `address` is on the loopback interface.
fn is_loopback(address: &Multiaddr) -> bool {
	match address.iter().next() {
		Some(Protocol::Ip4(ip)) => ip.is_loopback(),
		Some(Protocol::Ip6(ip)) => ip.is_loopback(),
		_ => false,
	}
}

/// `address` ending in `/p2p/<peer>`, the one form in which this node keeps and hands
/// Kademlia a partner's address. Kademlia also keeps the address of every connection it
/// dialled, which the swarm reports with the suffix; were the same socket kept in two forms,
/// one dial would open two connections to it, and the partner (allowing
/// [`MAX_CONNECTIONS_PER_PEER`]) would close a third one it dials itself at that moment,
/// failing the request already sent on it.
fn of_peer(address: Multiaddr, peer: PeerId) -> Multiaddr {
	without_peer(address).with(Protocol::P2p(peer))
}

/// `address` without a trailing `/p2p/` suffix.
fn without_peer(mut address: Multiaddr) -> Multiaddr {
	if matches!(address.iter().last(), Some(Protocol::P2p(_))) {
		address.pop();
	}
	address
}

/// `address` as a partner reported it, without its `/p2p/` suffix, if another node can
/// dial it: never an unspecified IP, and a loopback one only from the same host.
fn dialable(address: Multiaddr, same_host: bool) -> Option<Multiaddr> {
	let address = without_peer(address);
	let unspecified = match address.iter().next()? {
		Protocol::Ip4(ip) => ip.is_unspecified(),
		Protocol::Ip6(ip) => ip.is_unspecified(),
		_ => false,
	};
	(!unspecified && (same_host || !is_loopback(&address))).then_some(address)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn addr(text: &str) -> Multiaddr {
		text.parse().unwrap()
	}

	#[test]
	fn a_reported_address_is_kept_only_if_another_node_can_dial_it() {
		let peer = PeerId::random();
		let lan = addr("/ip4/10.0.0.7/tcp/30444");
		let loopback = addr("/ip4/127.0.0.1/tcp/30444");
		// The /p2p/ suffix goes; the address stays.
		assert_eq!(dialable(lan.clone().with_p2p(peer).unwrap(), false), Some(lan.clone()));
		assert_eq!(dialable(lan.clone(), true), Some(lan));
		// Loopback: the partner's only when it runs on this host.
		assert_eq!(dialable(loopback.clone(), true), Some(loopback.clone()));
		assert_eq!(dialable(loopback, false), None);
		assert_eq!(dialable(addr("/ip6/::1/tcp/30444"), false), None);
		// Unspecified: nobody's address.
		assert_eq!(dialable(addr("/ip4/0.0.0.0/tcp/30444"), true), None);
		assert_eq!(dialable(addr("/ip6/::/tcp/30444"), true), None);
		assert_eq!(dialable(Multiaddr::empty(), true), None);
		// What this node's connection came from tells whether the partner is on this host.
		assert!(is_loopback(&addr("/ip4/127.0.0.1/tcp/51234")));
		assert!(!is_loopback(&addr("/ip4/10.0.0.8/tcp/51234")));
	}

	#[test]
	fn a_partner_address_is_kept_in_one_form() {
		let peer = PeerId::random();
		let bare = addr("/ip4/10.0.0.7/tcp/30444");
		let suffixed = bare.clone().with_p2p(peer).unwrap();
		assert_eq!(of_peer(bare.clone(), peer), suffixed);
		assert_eq!(of_peer(suffixed.clone(), peer), suffixed);
		// A suffix naming someone else is replaced by the peer the address was learned for.
		let other = bare.clone().with_p2p(PeerId::random()).unwrap();
		assert_eq!(of_peer(other, peer), suffixed);
	}

	#[tokio::test]
	async fn a_listen_address_in_use_is_named_in_the_error() {
		let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
		let port = taken.local_addr().unwrap().port();
		let listen = addr(&format!("/ip4/127.0.0.1/tcp/{port}"));
		let error = match build_swarm(identity::Keypair::generate_ed25519(), listen) {
			Ok(mut swarm) => first_listen_addr(&mut swarm).await.unwrap_err(),
			Err(error) => error,
		};
		let text = error.to_string();
		assert!(text.contains("in use"), "the error does not say why: {text:?}");
	}
}
