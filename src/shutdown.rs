//! Asking the daemon to stop, and noticing it: one [`Shutdown`], cloned into the
//! signal handler, the loop, the evaluation wait, the executor and the HTTP server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// Whether shutdown was asked for, to check ([`is_shutdown`](Shutdown::is_shutdown))
/// or to await ([`recv`](Shutdown::recv)). Every clone sees the same request; it is
/// never taken back.
#[derive(Clone, Debug)]
pub struct Shutdown(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Set once asked: read without awaiting (between the executor's calls).
    asked: AtomicBool,
    /// Wakes whoever awaits [`Shutdown::recv`]. Kept here, so it never closes.
    notify: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown(Arc::new(Inner {
            asked: AtomicBool::new(false),
            notify: watch::Sender::new(false),
        }))
    }

    /// Ask for shutdown: every clone's `is_shutdown` is true from now on, and every
    /// `recv` completes.
    pub fn trigger(&self) {
        self.0.asked.store(true, Ordering::SeqCst);
        self.0.notify.send_replace(true);
    }

    pub fn is_shutdown(&self) -> bool {
        self.0.asked.load(Ordering::SeqCst)
    }

    /// Completes once shutdown is asked for (at once if it already was).
    pub async fn recv(&self) {
        let mut asked = self.0.notify.subscribe();
        // The sender lives as long as `self`: the channel cannot close here.
        let _ = asked.wait_for(|asked| *asked).await;
    }

    /// The flag alone, for [`crate::executor::execute_until`], which starts no new
    /// call once it is set.
    pub fn flag(&self) -> &AtomicBool {
        &self.0.asked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_clone_sees_the_request_and_recv_completes_before_and_after_it() {
        let shutdown = Shutdown::new();
        let waiter = shutdown.clone();
        let waiting = tokio::spawn(async move { waiter.recv().await });
        tokio::task::yield_now().await;
        assert!(!shutdown.is_shutdown() && !waiting.is_finished());
        shutdown.clone().trigger();
        waiting.await.unwrap();
        assert!(shutdown.is_shutdown());
        assert!(shutdown.flag().load(Ordering::SeqCst));
        // Asked already: completes at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), shutdown.recv())
            .await
            .unwrap();
    }
}
