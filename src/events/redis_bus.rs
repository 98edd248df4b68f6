//! The multi-instance bus: Redis pub/sub, one publisher and one subscriber connection per process.
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use redis::AsyncCommands;
use tokio::sync::{broadcast, mpsc};

use super::{BROADCAST_CAPACITY, DomainEvent, EventBus};

/// Publishes through Redis and fans received events out locally.
pub struct RedisBus {
    outgoing: mpsc::UnboundedSender<DomainEvent>,
    local: broadcast::Sender<DomainEvent>,
}

impl RedisBus {
    /// Connects the subscriber before returning, so no event published afterwards is missed.
    /// `namespace` names the channel; instances of one deployment share it.
    pub async fn connect(client: redis::Client, namespace: &str) -> anyhow::Result<Self> {
        let channel = format!("{namespace}:events");
        let local = broadcast::channel(BROADCAST_CAPACITY).0;
        let mut pubsub = client.get_async_pubsub().await.context("connecting Redis subscriber")?;
        pubsub.subscribe(&channel).await.context("subscribing to Redis channel")?;
        let publisher =
            redis::aio::ConnectionManager::new(client.clone()).await.context("connecting Redis publisher")?;
        let (outgoing, receiver) = mpsc::unbounded_channel();
        tokio::spawn(publish_loop(publisher, receiver, channel.clone()));
        tokio::spawn(subscribe_loop(client, pubsub, local.clone(), channel));
        Ok(Self { outgoing, local })
    }
}

impl EventBus for RedisBus {
    fn publish(&self, events: Vec<DomainEvent>) {
        for event in events {
            if self.outgoing.send(event).is_err() {
                tracing::error!("Redis publisher stopped; event not published");
            }
        }
    }

    fn subscriber_count(&self) -> usize {
        self.local.receiver_count()
    }

    fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.local.subscribe()
    }
}

async fn publish_loop(
    mut conn: redis::aio::ConnectionManager,
    mut receiver: mpsc::UnboundedReceiver<DomainEvent>,
    channel: String,
) {
    while let Some(event) = receiver.recv().await {
        let Ok(payload) = serde_json::to_string(&event) else { continue };
        // Retry a few times: the connection manager reconnects between attempts.
        for attempt in 1..=5u64 {
            match conn.publish::<_, _, i64>(&channel, &payload).await {
                Ok(_) => break,
                Err(err) => {
                    tracing::warn!(error = %err, attempt, event_id = event.id, "publishing event to Redis failed");
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
            }
        }
    }
}

async fn subscribe_loop(
    client: redis::Client,
    mut pubsub: redis::aio::PubSub,
    local: broadcast::Sender<DomainEvent>,
    channel: String,
) {
    loop {
        {
            let mut messages = pubsub.on_message();
            while let Some(message) = messages.next().await {
                let Ok(payload) = message.get_payload::<String>() else { continue };
                match serde_json::from_str::<DomainEvent>(&payload) {
                    Ok(event) => {
                        let _ = local.send(event);
                    }
                    Err(err) => tracing::warn!(error = %err, "undecodable event on Redis channel"),
                }
            }
        }
        tracing::warn!("Redis subscription ended; reconnecting");
        pubsub = loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            match client.get_async_pubsub().await {
                Ok(mut fresh) => {
                    if fresh.subscribe(&channel).await.is_ok() {
                        break fresh;
                    }
                }
                Err(err) => tracing::warn!(error = %err, "Redis reconnect failed"),
            }
        };
    }
}
