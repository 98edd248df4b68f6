//! The single-instance bus: events go straight to this process's hub.
use std::sync::Arc;

use super::{DomainEvent, EventBus, Hub};

/// Delivers events to listeners of this process only.
pub struct InProcessBus {
    hub: Arc<Hub>,
}

impl InProcessBus {
    /// A bus with no listeners yet.
    pub fn new() -> Self {
        Self { hub: Hub::new() }
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
            self.hub.dispatch(event);
        }
    }

    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}
