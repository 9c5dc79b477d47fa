//! Independent work on every core: the files of a desired set parse, and its response
//! tests run, each on its own, so [`map`] spreads them over a few threads. Pure: no
//! I/O of its own (the work may read files).
//!
//! Plain scoped threads rather than a pool: an evaluation is already on a thread of its
//! own (under a deadline, away from the daemon's probes), its workers end with it, and a
//! daemon holds no idle pool between cycles.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// At most this many threads, however many cores: the work is a few thousand items,
/// and each thread holds its own engine state.
const MAX_THREADS: usize = 4;

/// How many threads [`map`] uses: the cores the process may use, at most [`MAX_THREADS`].
pub fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_THREADS)
}

/// `f` of every item, on up to [`threads`] threads, in the items' order. Items are
/// handed out one at a time as threads free up (their costs differ a lot: a 20 KB
/// template beside a 100-byte one), and each is dropped by the thread that took it
/// (a file's bytes once it is parsed). A single item, or a single core, runs on the
/// calling thread. A panic in `f` is resumed on the calling thread.
pub fn map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = threads().min(items.len());
    if threads <= 1 {
        return items.into_iter().map(f).collect();
    }
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(slot) = slots.get(i) else {
                return done;
            };
            let item = slot
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take()
                .expect("each index is handed out once");
            done.push((i, f(item)));
        }
    };
    let parts: Vec<Vec<(usize, R)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(slots.len()).collect();
    for (i, r) in parts.into_iter().flatten() {
        results[i] = Some(r);
    }
    results
        .into_iter()
        .map(|r| r.expect("every item was done once"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_items_order_whatever_each_costs() {
        let items: Vec<u64> = (0..200).collect();
        let got = map(items, |i| {
            // uneven work: later items finish first on another thread
            let spins = (200 - i) * 1000;
            (0..spins).fold(i, |a, b| a.wrapping_add(b & 1))
                - (0..spins).map(|b| b & 1).sum::<u64>()
        });
        assert_eq!(got, (0..200).collect::<Vec<_>>());
    }

    #[test]
    fn no_items_and_one_item_run_on_the_calling_thread() {
        let here = std::thread::current().id();
        assert_eq!(
            map(Vec::<u8>::new(), |_| std::thread::current().id()),
            vec![]
        );
        assert_eq!(map(vec![1], |_| std::thread::current().id()), vec![here]);
    }

    #[test]
    fn a_panic_in_a_worker_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| {
            map((0..8).collect::<Vec<u8>>(), |i| {
                assert!(i != 5, "item five");
                i
            })
        });
        assert!(caught.is_err());
    }
}
