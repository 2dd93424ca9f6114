//! The TCP transport, dialling from a fresh port.
//!
//! libp2p's TCP transport dials from the port it listens on by default. Two partners that
//! dial each other at the same moment then open a single TCP connection (a simultaneous
//! open) on which both act as the dialer, and the Noise handshake fails; on one machine
//! (or behind NAT) a restarted listener can also meet connections still bound to its old
//! port. Partners are reachable on their listen address, so nothing is gained by reusing
//! it: every dial here takes a new ephemeral port.

use std::{
	pin::Pin,
	task::{Context, Poll},
};

use libp2p::{
	core::transport::{DialOpts, ListenerId, PortUse, Transport, TransportError, TransportEvent},
	Multiaddr,
};

/// A transport whose dials never reuse the listening port.
pub struct NewPortForDials<T>(pub T);

impl<T: Transport + Unpin> Transport for NewPortForDials<T> {
	type Output = T::Output;
	type Error = T::Error;
	type ListenerUpgrade = T::ListenerUpgrade;
	type Dial = T::Dial;

	fn listen_on(
		&mut self,
		id: ListenerId,
		addr: Multiaddr,
	) -> Result<(), TransportError<Self::Error>> {
		self.0.listen_on(id, addr)
	}

	fn remove_listener(&mut self, id: ListenerId) -> bool {
		self.0.remove_listener(id)
	}

	fn dial(
		&mut self,
		addr: Multiaddr,
		opts: DialOpts,
	) -> Result<Self::Dial, TransportError<Self::Error>> {
		self.0.dial(addr, DialOpts { port_use: PortUse::New, ..opts })
	}

	fn poll(
		self: Pin<&mut Self>,
		cx: &mut Context<'_>,
	) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
		Pin::new(&mut self.get_mut().0).poll(cx)
	}
}
