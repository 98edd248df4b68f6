//! Topic routing inside one process: one broadcast channel per stream that has listeners, so
//! an event costs work proportional to the listeners of its streams, not to all connections.
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use tokio::sync::broadcast::{self, error::RecvError};

use super::DomainEvent;

/// What a listener receives.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// An event filed under the listened stream at position `seq`.
    Event {
        /// The event, shared by every listener.
        event: Arc<DomainEvent>,
        /// Its position on this stream.
        seq: i64,
    },
    /// Events may have been missed (the bus reconnected): re-read the stream from the outbox.
    Resync,
}

/// The streams listened to in this process.
#[derive(Default)]
pub struct Hub {
    streams: Mutex<HashMap<String, broadcast::Sender<Delivery>>>,
}

/// Buffer of a stream's channel. Shared topics (a community with thousands of listeners) get
/// room for bursts; personal streams little. A listener that falls behind refills from the
/// database instead of losing events.
fn capacity(stream: &str) -> usize {
    const PERSONAL: [&str; 5] = ["access:", "worker:", "inbox:", "payouts:", "user:"];
    if PERSONAL.iter().any(|prefix| stream.starts_with(prefix)) { 8 } else { 256 }
}

impl Hub {
    /// A hub with no listeners.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Starts listening to `stream`: every event dispatched from now on reaches the listener.
    pub fn listen(self: &Arc<Self>, stream: &str) -> Listener {
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let receiver = match streams.get(stream) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(capacity(stream));
                streams.insert(stream.to_owned(), sender);
                receiver
            }
        };
        Listener { hub: self.clone(), stream: stream.into(), receiver: Some(receiver) }
    }

    /// Delivers an event to the listeners of each stream it is filed under.
    pub fn dispatch(&self, event: DomainEvent) {
        let event = Arc::new(event);
        // Take the senders under the lock, send (waking every listener) outside it, so
        // subscribing and leaving never wait for a large fan-out.
        let senders: Vec<(broadcast::Sender<Delivery>, i64)> = {
            let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            event.streams.iter().filter_map(|p| streams.get(&p.stream).map(|s| (s.clone(), p.seq))).collect()
        };
        for (sender, seq) in senders {
            // An error only means the last listener just left.
            let _ = sender.send(Delivery::Event { event: event.clone(), seq });
        }
    }

    /// Tells every listener to re-read its stream from the outbox (after a bus outage).
    pub fn resync_all(&self) {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        for sender in streams.values() {
            let _ = sender.send(Delivery::Resync);
        }
    }

    /// Listeners in this process, over all streams (the process's own follower of session
    /// revocations is not counted).
    pub fn listener_count(&self) -> usize {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams
            .iter()
            .filter(|(name, _)| name.as_str() != super::SESSIONS_STREAM)
            .map(|(_, s)| s.receiver_count())
            .sum()
    }

    /// Streams with at least one listener (but the process's own).
    pub fn stream_count(&self) -> usize {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        streams.keys().filter(|name| name.as_str() != super::SESSIONS_STREAM).count()
    }
}

/// One listener of one stream; the stream's channel goes away with its last listener.
pub struct Listener {
    hub: Arc<Hub>,
    stream: Box<str>,
    receiver: Option<broadcast::Receiver<Delivery>>,
}

/// Why a listener got no delivery.
#[derive(Debug, PartialEq, Eq)]
pub enum Missed {
    /// The listener fell behind and deliveries were dropped: re-read the stream.
    Lagged,
    /// The hub is gone.
    Closed,
}

impl Listener {
    /// The stream listened to.
    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The next delivery.
    pub async fn recv(&mut self) -> Result<Delivery, Missed> {
        let Some(receiver) = self.receiver.as_mut() else { return Err(Missed::Closed) };
        match receiver.recv().await {
            Ok(delivery) => Ok(delivery),
            Err(RecvError::Lagged(_)) => Err(Missed::Lagged),
            Err(RecvError::Closed) => Err(Missed::Closed),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let mut streams = self.hub.streams.lock().unwrap_or_else(PoisonError::into_inner);
        drop(self.receiver.take());
        if streams.get(&*self.stream).is_some_and(|sender| sender.receiver_count() == 0) {
            streams.remove(&*self.stream);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::StreamPos;

    fn event(id: i64, streams: &[(&str, i64)]) -> DomainEvent {
        DomainEvent {
            id,
            topic: streams[0].0.to_owned(),
            streams: streams.iter().map(|(s, seq)| StreamPos { stream: (*s).to_owned(), seq: *seq }).collect(),
            action: "post.created".into(),
            subject_type: "post".into(),
            subject_id: uuid::Uuid::nil(),
            actor_profile_id: None,
            after: None,
            occurred_at: chrono::Utc::now(),
        }
    }

    #[tokio::test]
    async fn a_listener_receives_only_its_streams_with_their_positions() {
        let hub = Hub::new();
        let mut a = hub.listen("community:a");
        let mut worker = hub.listen("worker:w");
        hub.dispatch(event(1, &[("community:b", 1)]));
        hub.dispatch(event(2, &[("community:a", 7), ("worker:w", 3)]));
        let Ok(Delivery::Event { event, seq }) = a.recv().await else { panic!("an event") };
        assert_eq!((event.id, seq), (2, 7));
        let Ok(Delivery::Event { event, seq }) = worker.recv().await else { panic!("an event") };
        assert_eq!((event.id, seq), (2, 3));
        assert_eq!(hub.stream_count(), 2, "nobody listens to community:b, so it has no channel");
    }

    #[tokio::test]
    async fn the_last_listener_leaving_removes_the_channel_and_lag_is_reported() {
        let hub = Hub::new();
        let mut first = hub.listen("inbox:u");
        let second = hub.listen("inbox:u");
        assert_eq!(hub.listener_count(), 2);
        drop(second);
        assert_eq!(hub.stream_count(), 1);
        for seq in 1..=20 {
            hub.dispatch(event(seq, &[("inbox:u", seq)]));
        }
        assert_eq!(first.recv().await.unwrap_err(), Missed::Lagged, "8 slots, 20 events");
        drop(first);
        assert_eq!((hub.stream_count(), hub.listener_count()), (0, 0));
    }
}
