//! Channel clients built on first use. An SDK client takes about 0.15 ms to build
//! (`scripts/cold-start`'s `notifiers` part: 0.46–0.50 ms for the SMS, email and
//! alert clients); a function that never sends (the survey pages, the console,
//! mail events) should not pay that on every cold start.

use crate::ports::{Alert, Alerter, Notifier, OutboundMessage, SendError};
use async_trait::async_trait;
use std::sync::{Arc, OnceLock};

/// A value built by `build` the first time it is needed, then kept.
pub struct Lazy<T> {
    cell: OnceLock<T>,
    build: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T> Lazy<T> {
    pub fn new(build: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            cell: OnceLock::new(),
            build: Box::new(build),
        }
    }

    pub fn get(&self) -> &T {
        self.cell.get_or_init(|| (self.build)())
    }

    /// Whether it has been built.
    pub fn is_built(&self) -> bool {
        self.cell.get().is_some()
    }
}

#[async_trait]
impl Notifier for Lazy<Arc<dyn Notifier>> {
    async fn send(&self, message: &OutboundMessage) -> Result<(), SendError> {
        self.get().send(message).await
    }
}

#[async_trait]
impl Alerter for Lazy<Arc<dyn Alerter>> {
    async fn alert(&self, alert: &Alert) -> Result<(), SendError> {
        self.get().alert(alert).await
    }
}

#[cfg(test)]
mod tests {
    use super::Lazy;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn built_once_on_first_use_and_never_before() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counted = builds.clone();
        let lazy = Lazy::new(move || counted.fetch_add(1, Ordering::SeqCst) + 1);
        assert!(!lazy.is_built());
        assert_eq!(builds.load(Ordering::SeqCst), 0);
        assert_eq!((*lazy.get(), *lazy.get()), (1, 1));
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }
}
