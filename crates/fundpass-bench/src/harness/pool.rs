//! The server's Argon2 pool and costs as the benchmarks take them, and the raw
//! Argon2 run sized like it.

use crate::argon2_rate;

/// Argon2 pool size and costs (the same flags for every benchmark).
#[derive(Debug, Clone, clap::Args)]
pub struct HashArgs {
    /// Server Argon2 workers (0 = one per core, the server's default).
    #[arg(long, default_value_t = 0)]
    pub hash_workers: usize,
    /// Server Argon2 queue (0 = four per worker, the server's default).
    #[arg(long, default_value_t = 0)]
    pub hash_queue: usize,
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

impl HashArgs {
    /// Workers the server's pool runs: as given, or one per core.
    pub fn workers(&self) -> usize {
        if self.hash_workers == 0 {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
        } else {
            self.hash_workers
        }
    }

    /// Jobs the pool queues before refusing: as given, or four per worker.
    pub fn queue(&self) -> usize {
        if self.hash_queue == 0 {
            self.workers() * 4
        } else {
            self.hash_queue
        }
    }

    /// A raw Argon2 run of `seconds` with the pool's threads and these costs.
    pub fn raw(&self, seconds: u64) -> argon2_rate::Args {
        argon2_rate::Args {
            threads: self.workers(),
            seconds,
            m_kib: self.m_kib,
            t: self.t,
            p: self.p,
        }
    }
}
