//! Bounded retries with exponential backoff.
//!
//! A transient failure (a 5xx answer, 408 or 429, a timeout, a refused or
//! reset connection, a name that did not resolve) is tried again after
//! 0.5 s, 1 s, 2 s and 4 s: five attempts over about 7.5 s, enough to ride
//! out a restarting server or a brief network cut without holding the
//! evidence hostage. A permanent failure (wrong credentials, a full quota,
//! an expired URL, a rejected host key) is not retried: the same request
//! would fail the same way.

use std::time::Duration;

/// Why one attempt failed, already scrubbed of secrets by whoever made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Worth trying again.
    pub transient: bool,
    /// One line, naming the cause (never a secret).
    pub cause: String,
}

impl Failure {
    /// A failure that may pass.
    pub fn transient(cause: impl Into<String>) -> Self {
        Failure {
            transient: true,
            cause: cause.into(),
        }
    }

    /// A failure that will not pass by trying again.
    pub fn permanent(cause: impl Into<String>) -> Self {
        Failure {
            transient: false,
            cause: cause.into(),
        }
    }
}

/// How many times, and how long to wait between attempts.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_delay: Duration,
    /// Upper bound of one wait.
    pub max_delay: Duration,
}

impl Policy {
    /// Five attempts, waits of 0.5, 1, 2 and 4 s.
    pub const DEFAULT: Policy = Policy {
        attempts: 5,
        first_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(4),
    };

    /// The wait after failed attempt `n` (1-based).
    pub fn delay_after(&self, n: u32) -> Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        self.first_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Runs `op` (given the attempt number, from 1) until it succeeds, fails
/// permanently, or the attempts run out; `on_retry` is told each transient
/// failure and the wait before the next attempt, and `sleep` waits.
/// Returns the result and the number of attempts made.
pub fn run<T>(
    policy: &Policy,
    mut op: impl FnMut(u32) -> Result<T, Failure>,
    mut on_retry: impl FnMut(&Failure, Duration),
    mut sleep: impl FnMut(Duration),
) -> (Result<T, Failure>, u32) {
    let mut attempt = 1;
    loop {
        match op(attempt) {
            Ok(v) => return (Ok(v), attempt),
            Err(f) if f.transient && attempt < policy.attempts => {
                let wait = policy.delay_after(attempt);
                on_retry(&f, wait);
                sleep(wait);
                attempt += 1;
            }
            Err(f) => return (Err(f), attempt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_then_gives_up_on_transient_failures() {
        let mut waits = Vec::new();
        let (result, attempts) = run::<()>(
            &Policy::DEFAULT,
            |_| Err(Failure::transient("connection refused")),
            |_, _| {},
            |d| waits.push(d),
        );
        assert_eq!(attempts, 5);
        assert_eq!(result, Err(Failure::transient("connection refused")));
        let ms: Vec<u128> = waits.iter().map(Duration::as_millis).collect();
        assert_eq!(ms, [500, 1000, 2000, 4000]);
    }

    #[test]
    fn permanent_failure_is_not_retried() {
        let mut calls = 0;
        let (result, attempts) = run::<()>(
            &Policy::DEFAULT,
            |_| {
                calls += 1;
                Err(Failure::permanent("HTTP 403 AccessDenied"))
            },
            |_, _| {},
            |_| panic!("no wait before a permanent failure"),
        );
        assert_eq!((calls, attempts), (1, 1));
        assert!(result.is_err());
    }

    #[test]
    fn succeeds_after_a_transient_failure() {
        let mut retried = Vec::new();
        let (result, attempts) = run(
            &Policy::DEFAULT,
            |n| {
                if n < 3 {
                    Err(Failure::transient(format!("HTTP 503 try {n}")))
                } else {
                    Ok(n)
                }
            },
            |f, _| retried.push(f.cause.clone()),
            |_| {},
        );
        assert_eq!(result, Ok(3));
        assert_eq!(attempts, 3);
        assert_eq!(retried, ["HTTP 503 try 1", "HTTP 503 try 2"]);
    }

    #[test]
    fn delay_is_capped() {
        let p = Policy {
            attempts: 40,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
        };
        assert_eq!(p.delay_after(30), Duration::from_secs(4));
    }
}
