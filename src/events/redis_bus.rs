//! The multi-instance bus: Redis pub/sub, one publisher and one subscriber connection per
//! process. Redis is at-most-once; the outbox makes up for it: events lost while Redis was
//! away are re-read from the database when the subscriber reconnects, and a listener that sees
//! a position jump re-reads the gap.
use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use futures_util::StreamExt;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{DomainEvent, EventBus, Hub};

/// Publishes through Redis and hands received events to the hub.
pub struct RedisBus {
    outgoing: mpsc::UnboundedSender<Envelope>,
    hub: Arc<Hub>,
    origin: Uuid,
    connected: Arc<AtomicBool>,
}

/// An event on the wire, tagged with the instance that published it (which already delivered
/// it to its own listeners).
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: Uuid,
    event: DomainEvent,
}

impl RedisBus {
    /// Connects the subscriber before returning, so no event published afterwards is missed.
    /// `namespace` names the channel; instances of one deployment share it.
    pub async fn connect(client: redis::Client, namespace: &str) -> anyhow::Result<Self> {
        let channel = format!("{namespace}:events");
        let hub = Hub::new();
        let origin = Uuid::new_v4();
        let mut pubsub = client.get_async_pubsub().await.context("connecting Redis subscriber")?;
        pubsub.subscribe(&channel).await.context("subscribing to Redis channel")?;
        let publisher =
            redis::aio::ConnectionManager::new(client.clone()).await.context("connecting Redis publisher")?;
        let (outgoing, receiver) = mpsc::unbounded_channel();
        let connected = Arc::new(AtomicBool::new(true));
        tokio::spawn(publish_loop(publisher, receiver, channel.clone()));
        tokio::spawn(subscribe_loop(client, pubsub, hub.clone(), channel, origin, connected.clone()));
        Ok(Self { outgoing, hub, origin, connected })
    }
}

impl EventBus for RedisBus {
    fn publish(&self, events: Vec<DomainEvent>) {
        for event in events {
            // Listeners here get it at once; the other instances through Redis.
            self.hub.dispatch(event.clone());
            if self.outgoing.send(Envelope { origin: self.origin, event }).is_err() {
                tracing::error!("Redis publisher stopped; other instances will re-read the outbox");
            }
        }
    }

    fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

async fn publish_loop(
    mut conn: redis::aio::ConnectionManager,
    mut receiver: mpsc::UnboundedReceiver<Envelope>,
    channel: String,
) {
    while let Some(envelope) = receiver.recv().await {
        let Ok(payload) = serde_json::to_string(&envelope) else { continue };
        // A few attempts (the manager reconnects between them); after that the event stays in
        // the outbox, where listeners elsewhere find it by its position.
        for attempt in 1..=3u64 {
            match conn.publish::<_, _, i64>(&channel, &payload).await {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, attempt, event_id = envelope.event.id, "publishing event to Redis failed");
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
            }
        }
    }
}

async fn subscribe_loop(
    client: redis::Client,
    mut pubsub: redis::aio::PubSub,
    hub: Arc<Hub>,
    channel: String,
    origin: Uuid,
    connected: Arc<AtomicBool>,
) {
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Ok(payload) = message.get_payload::<String>() else { continue };
                match serde_json::from_str::<Envelope>(&payload) {
                    Ok(envelope) if envelope.origin == origin => {}
                    Ok(envelope) => hub.dispatch(envelope.event),
                    Err(err) => tracing::warn!(error = %err, "undecodable event on Redis channel"),
                }
            }
        }
        connected.store(false, Ordering::Relaxed);
        tracing::warn!("Redis subscription ended; reconnecting");
        pubsub = loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            match client.get_async_pubsub().await {
                Ok(mut fresh) => match fresh.subscribe(&channel).await {
                    Ok(()) => break fresh,
                    Err(err) => tracing::warn!(error = %err, "Redis resubscribe failed"),
                },
                Err(err) => tracing::debug!(error = %err, "Redis reconnect failed"),
            }
        };
        connected.store(true, Ordering::Relaxed);
        tracing::info!("Redis subscription restored; listeners re-read what they missed");
        hub.resync_all();
    }
}
