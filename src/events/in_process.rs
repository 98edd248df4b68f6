//! The single-instance bus: a tokio broadcast channel.
use tokio::sync::broadcast;

use super::{BROADCAST_CAPACITY, DomainEvent, EventBus};

/// Delivers events to subscribers of this process only.
pub struct InProcessBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl InProcessBus {
    /// A bus with no subscribers yet.
    pub fn new() -> Self {
        Self { sender: broadcast::channel(BROADCAST_CAPACITY).0 }
    }
}

impl Default for InProcessBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, events: Vec<DomainEvent>) {
        for event in events {
            // An error only means nobody listens right now.
            let _ = self.sender.send(event);
        }
    }

    fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }

    fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}
