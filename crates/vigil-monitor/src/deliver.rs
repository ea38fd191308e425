//! Delivering an alert to a webhook through `vigil-fetch`, recording each
//! attempt and when to try again.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use vigil_fetch::FetchError;
use vigil_store::{Delivery, DeliveryAttempt, unix_now_ms};

use crate::MonitorError;
use crate::state::{Shared, blocking};

/// Delivers one alert to one webhook, recording the attempt and, if it
/// failed, when to try again.
pub(crate) async fn deliver(shared: Arc<Shared>, delivery: Delivery) -> Result<(), MonitorError> {
    let response = shared
        .webhooks
        .post_json(
            &delivery.webhook.url,
            delivery.body.clone(),
            &[("Idempotency-Key", &delivery.alert_id)],
        )
        .await;
    let at = unix_now_ms();
    let attempt = match response {
        Ok(status) => DeliveryAttempt {
            at,
            status: Some(status),
            error: None,
            delivered: true,
        },
        Err(FetchError::Status { status, .. }) => DeliveryAttempt {
            at,
            status: Some(status),
            error: Some(format!("the webhook answered {status}")),
            delivered: false,
        },
        Err(e) => DeliveryAttempt {
            at,
            status: None,
            error: Some(format!("cannot reach the webhook: {e}")),
            delivered: false,
        },
    };
    let made = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
    let retry_at = shared
        .options
        .retry
        .next_delay(made)
        .map(|delay| at + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2));
    if attempt.delivered {
        shared.counters.delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        shared
            .counters
            .delivery_failures
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(webhook = %delivery.webhook.name, alert = %delivery.alert_id,
            error = attempt.error.as_deref().unwrap_or_default(), "delivery failed");
    }
    blocking(&shared, move |shared| {
        Ok(shared.store.record_delivery(
            &delivery.alert_id,
            delivery.webhook.id,
            &attempt,
            retry_at,
        )?)
    })
    .await
}
