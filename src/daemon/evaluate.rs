//! The cycle's first step: evaluating the desired directory on a thread of its own,
//! within `limits.deadline`, while the loop's task stays free to notice shutdown.

use std::time::Duration;

use tokio::sync::oneshot;

use super::Reconciler;
use crate::desired::{LoadError, Loaded};
use crate::evaluate::{self, LoadOptions, SpecCache};
use crate::live::ApiGateway;

/// What an evaluation thread hands back: the cache it was lent and what it found.
pub(super) type Evaluated = (SpecCache, Result<Loaded, LoadError>);

/// How this cycle's evaluation of the desired files went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Evaluation {
    /// A set was read: valid (in use now) or invalid (the last valid one stays).
    Done,
    /// Files are still changing: nothing is done this cycle; the next comes soon.
    Unsettled,
    /// Shutdown was asked for while evaluating.
    Aborted,
}

impl<C: ApiGateway> Reconciler<C> {
    /// Evaluates the desired directory on a thread of its own, within the deadline,
    /// while this task stays free to notice shutdown; keeps the last valid set when the
    /// new one is invalid, late or still being written.
    pub(super) async fn evaluate(&mut self, files_may_have_changed: bool) -> Evaluation {
        if let Some(mut late) = self.overrun.take() {
            match late.try_recv() {
                Ok((cache, _)) => self.spec_cache = Some(cache),
                Err(oneshot::error::TryRecvError::Empty) => {
                    // Still running: do not pile up a second one.
                    self.overrun = Some(late);
                    self.input_confirmed = false;
                    return Evaluation::Done;
                }
                Err(oneshot::error::TryRecvError::Closed) => {}
            }
        }
        let mut cache = self.spec_cache.take().unwrap_or_default();
        let tests_before = cache.tests_run;
        let options = LoadOptions {
            limits: self.config.limits,
            run_tests: true,
            settle: Some(self.config.debounce),
            // The cache holds the parsed files for good: trees would stay with them.
            keep_templates: false,
        };
        let dir = self.config.desired_dir.clone();
        let (tx, mut rx) = oneshot::channel::<Evaluated>();
        let spawned = std::thread::Builder::new()
            .name("evaluate".into())
            .spawn(move || {
                let result = evaluate::load_desired_cached(&dir, &mut cache, &options);
                let _ = tx.send((cache, result));
            });
        if let Err(e) = spawned {
            self.reject(format!("cannot start evaluating the desired set: {e}"));
            return Evaluation::Done;
        }
        let deadline = options.limits.deadline;
        self.shared.set_evaluating(Some(deadline));
        let waited = tokio::select! {
            r = tokio::time::timeout(options.limits.give_up_after(), &mut rx) => Some(r),
            () = self.shutdown.recv() => None,
        };
        self.shared.set_evaluating(None);
        let Some(waited) = waited else {
            return Evaluation::Aborted;
        };
        let result = match waited {
            Ok(Ok((cache, result))) => {
                self.shared
                    .metrics
                    .tests_run(cache.tests_run - tests_before);
                self.spec_cache = Some(cache);
                result
            }
            Ok(Err(_)) => {
                self.reject(
                    "evaluating the desired set failed unexpectedly (the evaluation thread ended \
                     without an answer; this is a bug, please report it)"
                        .into(),
                );
                return Evaluation::Done;
            }
            Err(_) => {
                self.overrun = Some(rx);
                self.reject(format!(
                    "evaluating the desired set did not finish within its deadline of {} \
                     (limits.deadline)",
                    humantime::format_duration(deadline)
                ));
                return Evaluation::Done;
            }
        };
        match result {
            Ok(loaded) => {
                if files_may_have_changed {
                    for warning in &loaded.warnings {
                        tracing::warn!("{warning}");
                    }
                }
                if self.desired_error.take().is_some() {
                    tracing::info!(specs = loaded.set.specs.len(), "desired set is valid again");
                }
                self.input_confirmed = self.desired.as_ref() == Some(&loaded.set);
                self.desired = Some(loaded.set);
                Evaluation::Done
            }
            Err(LoadError::Unsettled(files)) => {
                tracing::info!(
                    "{} file(s) changed within the last {} or while being read, waiting for them to be still: {}",
                    files.len(),
                    humantime::format_duration(self.config.debounce),
                    files.join(", ")
                );
                self.input_confirmed = false;
                self.wake_in = Some(self.config.debounce);
                Evaluation::Unsettled
            }
            Err(e) => {
                self.reject(e.to_string());
                Evaluation::Done
            }
        }
    }

    /// How long a prune delete must have been wanted, by evaluations of unchanged
    /// files, before it runs: twice the settle time, at least a second.
    pub(super) fn confirm_after(&self) -> Duration {
        (self.config.debounce * 2).max(Duration::from_secs(1))
    }

    /// The new desired set cannot be used: keep the last valid one, say why (once).
    pub(super) fn reject(&mut self, text: String) {
        self.input_confirmed = false;
        if self.desired_error.as_deref() != Some(text.as_str()) {
            tracing::error!(
                "desired set invalid, keeping the last valid one and applying nothing from the broken files: {text}"
            );
        }
        self.desired_error = Some(text);
    }
}
