//! Small synchronisation helpers shared by every module.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks, ignoring poisoning: a panicking task must not wedge the whole endpoint.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Handles of one endpoint: connections and streams share one id space, starting at 1.
pub struct IdSpace(AtomicU32);

impl IdSpace {
    pub fn new() -> Self {
        IdSpace(AtomicU32::new(1))
    }

    pub fn next(&self) -> u32 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}
