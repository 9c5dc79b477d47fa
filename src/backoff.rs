//! Exponential backoff with jitter, used for retry-later conflicts (executor) and for
//! failing keys between cycles (daemon). Kept apart so both schedule the same way.

use std::time::Duration;

/// `initial * 2^attempt`, capped at `max`, then jittered to 50-100% of that.
pub fn exponential(initial: Duration, max: Duration, attempt: u32) -> Duration {
    let base = initial.saturating_mul(1u32 << attempt.min(20)).min(max);
    base.mul_f64(0.5 + 0.5 * unit_random())
}

/// `d` moved by up to `fraction` either way (spreads interval ticks of many daemons).
pub fn jitter(d: Duration, fraction: f64) -> Duration {
    d.mul_f64(1.0 + fraction * (2.0 * unit_random() - 1.0))
}

/// A number in [0, 1) good enough for jitter (not for anything secret).
fn unit_random() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_bounds() {
        let (initial, max) = (Duration::from_millis(100), Duration::from_secs(2));
        for attempt in 0..30 {
            let d = exponential(initial, max, attempt);
            let cap = initial.saturating_mul(1 << attempt.min(20)).min(max);
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {attempt}: {d:?} vs cap {cap:?}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_the_fraction() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(10), 0.1);
            assert!(
                d >= Duration::from_secs(9) && d <= Duration::from_secs(11),
                "{d:?}"
            );
        }
    }
}
