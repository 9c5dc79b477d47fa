//! Watching the desired directory: the only code that touches file-system events.
//!
//! Any change under the directory (editor saves via temp + rename, `git pull`
//! touching many files, the `..data` symlink swap of git-sync and ConfigMap volumes)
//! becomes one debounced "files changed" signal. The parent directory is watched
//! too, so that a directory replaced wholesale is noticed and watched again.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

/// Keeps the watch alive; dropping it stops watching.
pub struct DirWatcher {
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DirWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The (device, inode) a path resolves to now, if it exists.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

struct State {
    watcher: RecommendedWatcher,
    dir: PathBuf,
    watched: Option<(u64, u64)>,
}

impl State {
    /// (Re-)watch `dir` when what it resolves to changed (or first appeared).
    fn ensure_watched(&mut self) {
        let now = identity(&self.dir);
        if now == self.watched {
            return;
        }
        let _ = self.watcher.unwatch(&self.dir);
        if now.is_some()
            && let Err(e) = self.watcher.watch(&self.dir, RecursiveMode::Recursive)
        {
            tracing::warn!(dir = %self.dir.display(), error = %e, "cannot watch the desired directory; relying on the interval");
        }
        self.watched = now;
    }

    /// A change to the desired directory's contents (reads, including our own, are not).
    fn is_relevant(&self, event: &notify::Result<Event>) -> bool {
        match event {
            Ok(e) => {
                !matches!(e.kind, EventKind::Access(_))
                    && e.paths.iter().any(|p| p.starts_with(&self.dir))
            }
            Err(e) => {
                tracing::warn!(error = %e, "file watch error; reloading to be safe");
                true
            }
        }
    }
}

/// Watch `dir` and call `on_change` once changes have been quiet for `debounce`
/// (or, under a constant stream of changes, at least every ten debounce periods).
pub fn watch(
    dir: &Path,
    debounce: Duration,
    on_change: impl Fn() + Send + 'static,
) -> notify::Result<DirWatcher> {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    let (tx, mut rx) = mpsc::unbounded_channel::<notify::Result<Event>>();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = tx.send(event);
    })?;
    if let Some(parent) = dir.parent().filter(|p| p.exists()) {
        watcher.watch(parent, RecursiveMode::NonRecursive)?;
    }
    let mut state = State {
        watcher,
        dir,
        watched: None,
    };
    state.ensure_watched();
    let task = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if !state.is_relevant(&event) {
                continue;
            }
            let deadline = tokio::time::Instant::now() + debounce * 10;
            let mut quiet_until = tokio::time::Instant::now() + debounce;
            loop {
                match tokio::time::timeout_at(quiet_until.min(deadline), rx.recv()).await {
                    Ok(Some(event)) => {
                        if state.is_relevant(&event) {
                            quiet_until = tokio::time::Instant::now() + debounce;
                        }
                    }
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            state.ensure_watched();
            on_change();
        }
    });
    Ok(DirWatcher { task })
}
