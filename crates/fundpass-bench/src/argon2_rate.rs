//! Raw Argon2id verify rate: the ceiling an HTTP login flood is compared against.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fundpass_core::credentials::{HashParams, PasswordHasher};
use fundpass_core::crypto::{CipherSuite, Keyring};
use fundpass_server::system::OsSecrets;

/// Options of `argon2`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Threads verifying at once.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// How long to measure.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Argon2 memory in KiB (OWASP: 19456).
    #[arg(long, default_value_t = 19_456)]
    pub m_kib: u32,
    /// Argon2 passes (OWASP: 2).
    #[arg(long, default_value_t = 2)]
    pub t: u32,
    /// Argon2 lanes (OWASP: 1).
    #[arg(long, default_value_t = 1)]
    pub p: u32,
}

/// What one run measured.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    /// Threads that verified at once.
    pub threads: usize,
    /// The Argon2 costs used.
    pub params: HashParams,
    /// Successful verifications over all threads.
    pub verifies: u64,
    /// Wall time from the first verification to the last thread's end.
    pub elapsed: Duration,
}

impl Report {
    /// Verifications per second over all threads.
    pub fn rate(&self) -> f64 {
        self.verifies as f64 / self.elapsed.as_secs_f64()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "argon2id m={} t={} p={}: {} verifies on {} threads in {:.1} s = {:.1}/s ({:.1} ms each per thread)",
            self.params.m_kib,
            self.params.t,
            self.params.p,
            self.verifies,
            self.threads,
            self.elapsed.as_secs_f64(),
            self.rate(),
            1000.0 * self.threads as f64 / self.rate(),
        )
    }
}

/// Verifies one stored hash in a loop on `threads` threads for `seconds`.
pub fn run(args: &Args) -> anyhow::Result<Report> {
    let params = HashParams {
        m_kib: args.m_kib,
        t: args.t,
        p: args.p,
    };
    let hasher = Arc::new(PasswordHasher::new(params)?);
    let keyring = Arc::new(Keyring::generate(CipherSuite::Aes256Gcm, &OsSecrets));
    let phc = Arc::new(hasher.hash(&keyring, "Bench2026pass", &OsSecrets)?);
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..args.threads.max(1))
        .map(|_| {
            let (hasher, keyring, phc, count) =
                (hasher.clone(), keyring.clone(), phc.clone(), count.clone());
            std::thread::spawn(move || {
                while Instant::now() < deadline {
                    if matches!(hasher.verify(&keyring, "Bench2026pass", &phc), Ok(true)) {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    Ok(Report {
        threads: args.threads.max(1),
        params,
        verifies: count.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    })
}
