//! One memory budget for the untrusted bytes a process holds at once.
//!
//! Per-request limits bound one upload or one fetched body, but not how
//! many are in memory together: six concurrent 200 MiB uploads are 1.2 GB
//! however well each is bounded. A [`MemoryBudget`] is a byte semaphore
//! shared by everything that buffers untrusted bytes (request bodies in the
//! server, fetched bodies in the server and the monitor): a reservation is
//! taken before the bytes are read and returned when the [`Reservation`] is
//! dropped, so concurrency cannot multiply the per-item limits.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A shared budget of bytes. Cheap to clone: clones share the budget.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    bytes: Arc<Semaphore>,
    total: u64,
    wait: Duration,
}

/// Bytes reserved from a [`MemoryBudget`], given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    _permit: Option<OwnedSemaphorePermit>,
    bytes: u64,
}

impl Reservation {
    /// How many bytes this reservation holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// The budget stayed too full for the whole wait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "too much data in flight: {wanted} bytes wanted, the budget of {total} bytes stayed full for {} s",
    wait.as_secs_f32()
)]
pub struct BudgetExhausted {
    /// Bytes asked for.
    pub wanted: u64,
    /// The whole budget.
    pub total: u64,
    /// How long the request waited.
    pub wait: Duration,
}

impl MemoryBudget {
    /// A budget of `total` bytes; a reservation waits at most `wait` for
    /// room before failing.
    pub fn new(total: u64, wait: Duration) -> Self {
        // The semaphore counts KiB so that budgets beyond what a u32
        // reservation can name still work; a reservation rounds up.
        let kib = usize::try_from(total.div_ceil(1024))
            .unwrap_or(Semaphore::MAX_PERMITS)
            .min(Semaphore::MAX_PERMITS);
        Self {
            bytes: Arc::new(Semaphore::new(kib)),
            total,
            wait,
        }
    }

    /// The whole budget in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes not reserved now (rounded to KiB).
    pub fn available(&self) -> u64 {
        self.bytes.available_permits() as u64 * 1024
    }

    /// Reserves `bytes` (at most the whole budget, so one large item can
    /// always run alone), waiting for room up to the budget's wait.
    pub async fn reserve(&self, bytes: u64) -> Result<Reservation, BudgetExhausted> {
        let bytes = bytes.min(self.total);
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX);
        if kib == 0 {
            return Ok(Reservation {
                _permit: None,
                bytes,
            });
        }
        let exhausted = BudgetExhausted {
            wanted: bytes,
            total: self.total,
            wait: self.wait,
        };
        match tokio::time::timeout(self.wait, Arc::clone(&self.bytes).acquire_many_owned(kib)).await
        {
            Ok(Ok(permit)) => Ok(Reservation {
                _permit: Some(permit),
                bytes,
            }),
            // The semaphore is never closed; a closed one would be as full.
            Ok(Err(_)) | Err(_) => Err(exhausted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn reservations_share_the_budget_and_return_it_when_dropped() {
        let budget = MemoryBudget::new(10 * 1024 * 1024, Duration::from_secs(1));
        let first = budget.reserve(6 * 1024 * 1024).await.unwrap();
        assert_eq!(first.bytes(), 6 * 1024 * 1024);
        assert_eq!(budget.available(), 4 * 1024 * 1024);
        let refused = budget.reserve(6 * 1024 * 1024).await.unwrap_err();
        assert_eq!(refused.wanted, 6 * 1024 * 1024);
        drop(first);
        assert_eq!(budget.available(), 10 * 1024 * 1024);
        assert!(budget.reserve(6 * 1024 * 1024).await.is_ok());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn an_item_larger_than_the_budget_runs_alone() {
        let budget = MemoryBudget::new(1024 * 1024, Duration::from_secs(1));
        let all = budget.reserve(u64::MAX).await.unwrap();
        assert_eq!(all.bytes(), 1024 * 1024);
        assert!(budget.reserve(1).await.is_err());
        drop(all);
        assert!(budget.reserve(0).await.is_ok());
    }

    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn a_waiting_reservation_gets_room_freed_meanwhile() {
        let budget = MemoryBudget::new(1024 * 1024, Duration::from_secs(5));
        let held = budget.reserve(1024 * 1024).await.unwrap();
        let waiting = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(512 * 1024).await.map(|r| r.bytes()) })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        drop(held);
        assert_eq!(waiting.await.unwrap(), Ok(512 * 1024));
    }
}
