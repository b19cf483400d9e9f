//! The bounded Argon2 pool.
//!
//! Each password hash takes tens of milliseconds of CPU and about 19 MiB of memory. Run
//! on the async executor it would stall every other request; run on an unbounded
//! blocking pool a login flood would queue without limit and exhaust memory. This pool
//! runs at most `workers` hashes at once, lets at most `queue` more wait, and refuses
//! anything beyond that at once, so the web layer can answer 503 with `Retry-After`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use fundpass_core::ports::{CpuPool, PoolBusy};
use tokio::sync::Semaphore;

/// Seconds a refused caller is told to wait: hashes finish in tens of milliseconds, so
/// the queue turns over well within this.
const RETRY_AFTER_SECS: u64 = 1;

/// Why a job did not produce a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// Every worker is busy and the queue is full; the request should be refused with
    /// 503 and `Retry-After`.
    #[error("too many password checks in progress; retry in {retry_after_secs} s")]
    Busy {
        /// The value for the `Retry-After` header.
        retry_after_secs: u64,
    },
    /// The job panicked (or its thread was lost); the pool itself is unaffected.
    #[error("the password hashing job failed")]
    Failed,
}

/// A bounded pool for CPU-heavy jobs (Argon2). Cheap to clone: clones share the limits
/// and the worker threads.
///
/// The workers are a fixed set of long-lived threads rather than tokio's blocking
/// pool: each thread's allocator keeps the 19 MiB an Argon2 run uses for the next run,
/// so memory stays near `workers × 19 MiB` instead of growing with every new thread
/// the blocking pool would start.
#[derive(Debug, Clone)]
pub struct HashPool {
    inner: Arc<Inner>,
}

type Job = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug)]
struct Inner {
    /// One permit per job admitted (running or waiting): `workers + queue` in all.
    admission: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
    capacity: usize,
    worker_count: usize,
    /// Jobs a worker is running now.
    running: Arc<AtomicUsize>,
}

impl HashPool {
    /// A pool running `workers` jobs at once (at least 1) with room for `queue` more
    /// to wait.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.clamp(1, 1024);
        let queue = queue.min(Semaphore::MAX_PERMITS / 2);
        let capacity = workers + queue;
        let (jobs, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..workers {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("fundpass-hash-{n}"))
                .spawn(move || worker_loop(&receiver));
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        Self {
            inner: Arc::new(Inner {
                admission: Arc::new(Semaphore::new(capacity)),
                jobs,
                capacity,
                worker_count: workers,
                running: Arc::default(),
            }),
        }
    }

    /// Runs `job` on a worker thread, or refuses at once with [`PoolError::Busy`] if
    /// `workers + queue` jobs are already admitted.
    ///
    /// The admission permit travels with the job: if the caller stops waiting (the
    /// client went away), the job still counts against the limit until it has really
    /// finished.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PoolError> {
        let admitted = self
            .inner
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| {
                metrics::counter!(crate::metrics::HASH_REFUSALS).increment(1);
                PoolError::Busy {
                    retry_after_secs: RETRY_AFTER_SECS,
                }
            })?;
        self.report();
        let (done, result) = tokio::sync::oneshot::channel();
        let pool = self.clone();
        let wrapped: Job = Box::new(move || {
            pool.inner.running.fetch_add(1, Ordering::Relaxed);
            pool.report();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            pool.inner.running.fetch_sub(1, Ordering::Relaxed);
            // The place is free before the caller hears back, so a caller that
            // submits again at once is admitted.
            drop(admitted);
            pool.report();
            // A caller that gave up no longer listens; the work is simply dropped.
            let _ = done.send(outcome.ok());
        });
        self.inner
            .jobs
            .send(wrapped)
            .map_err(|_| PoolError::Failed)?;
        match result.await {
            Ok(Some(value)) => Ok(value),
            Ok(None) | Err(_) => {
                tracing::error!("hash pool job failed");
                Err(PoolError::Failed)
            }
        }
    }

    /// Jobs admitted and not yet finished (running or waiting), for metrics.
    /// Sets the busy-worker and queue-length gauges from the pool's state now.
    fn report(&self) {
        let in_flight = self.in_flight();
        let busy = self.inner.running.load(Ordering::Relaxed).min(in_flight);
        metrics::gauge!(crate::metrics::HASH_BUSY).set(busy as f64);
        metrics::gauge!(crate::metrics::HASH_QUEUE).set(in_flight.saturating_sub(busy) as f64);
    }

    pub fn in_flight(&self) -> usize {
        self.inner.capacity - self.inner.admission.available_permits()
    }

    /// How many jobs may run at once.
    pub fn workers(&self) -> usize {
        self.inner.worker_count
    }

    /// How many jobs may be admitted in all (running plus waiting).
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }
}

/// The scheduling priority of the workers, on thread-priority's 0–99 scale: on
/// Linux 22 is niceness 10, which gives a request thread about ten times a worker's
/// share of a core when both want it.
const WORKER_PRIORITY: u8 = 22;

/// Lowers the calling worker thread's scheduling priority (on Linux: `SCHED_BATCH`,
/// niceness 10), so that a request thread that wakes (a health check, a page, a cheap
/// API call) gets a core at once instead of waiting out an Argon2 run's time slice.
/// When no request wants the CPU the workers still have all of it, so the hash rate
/// is unchanged. Returns whether the priority could be changed.
fn lower_own_priority() -> bool {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let Ok(value) = ThreadPriorityValue::try_from(WORKER_PRIORITY) else {
        return false;
    };
    #[cfg(target_os = "linux")]
    let changed = {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            ThreadPriority::Crossplatform(value),
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
        )
    };
    #[cfg(not(target_os = "linux"))]
    let changed =
        thread_priority::set_current_thread_priority(ThreadPriority::Crossplatform(value));
    match changed {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(
                ?error,
                "cannot lower the priority of a password hashing thread"
            );
            false
        }
    }
}

/// Takes jobs until the pool is dropped.
fn worker_loop(receiver: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    lower_own_priority();
    loop {
        let job = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

impl Default for HashPool {
    /// One worker per available core, and a queue four times that.
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(workers, workers.saturating_mul(4))
    }
}

/// The core's port: the portal runs password hashing through it without knowing about
/// tokio. The port has no failure variant, so a panicked job is reported as busy too.
#[async_trait]
impl CpuPool for HashPool {
    async fn run_boxed(&self, job: Box<dyn FnOnce() + Send + 'static>) -> Result<(), PoolBusy> {
        self.run(job).await.map_err(|error| match error {
            PoolError::Busy { retry_after_secs } => PoolBusy { retry_after_secs },
            PoolError::Failed => PoolBusy {
                retry_after_secs: RETRY_AFTER_SECS,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    const PATIENCE: Duration = Duration::from_secs(30);

    async fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
        let poll = async {
            while !ready() {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        tokio::time::timeout(PATIENCE, poll)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting until {what}"));
    }

    /// The niceness of the calling thread, from `/proc/thread-self/stat` (field 19).
    #[cfg(target_os = "linux")]
    fn own_niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name (field 2) may hold spaces; fields after it follow ") ".
        let after_name = &stat[stat.rfind(") ").unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn workers_run_at_a_lower_priority_than_request_threads() {
        let pool = HashPool::new(1, 0);
        let worker = pool.run(own_niceness).await.unwrap();
        let here = own_niceness();
        assert!(
            worker >= here + 5,
            "a worker runs at niceness {worker}, a request thread at {here}"
        );
    }

    #[tokio::test]
    async fn excess_jobs_are_refused_at_once_and_admitted_again_later() {
        let pool = HashPool::new(1, 1);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();

        let running = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                    1
                })
                .await
            }
        });
        wait_until("the first job runs", || started_rx.try_recv().is_ok()).await;
        let queued = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 2).await }
        });
        wait_until("the second job waits", || pool.in_flight() == 2).await;

        let third = tokio::time::timeout(PATIENCE, pool.run(|| 3))
            .await
            .unwrap();
        assert_eq!(
            third,
            Err(PoolError::Busy {
                retry_after_secs: 1
            })
        );
        assert_eq!(pool.in_flight(), 2);

        release_tx.send(()).unwrap();
        assert_eq!(running.await.unwrap(), Ok(1));
        assert_eq!(queued.await.unwrap(), Ok(2));
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(pool.run(|| 4).await, Ok(4));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_pool_keeps_working() {
        let pool = HashPool::new(1, 0);
        let failed = pool.run(|| -> u32 { panic!("boom") }).await;
        assert_eq!(failed, Err(PoolError::Failed));
        assert_eq!(pool.in_flight(), 0);
        assert_eq!(pool.run(|| 7).await, Ok(7));
    }

    #[tokio::test]
    async fn an_abandoned_job_keeps_its_place_until_it_finishes() {
        let pool = HashPool::new(1, 0);
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let caller = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || {
                    started_tx.send(()).unwrap();
                    release_rx.recv().unwrap();
                })
                .await
            }
        });
        wait_until("the job runs", || started_rx.try_recv().is_ok()).await;
        caller.abort();
        let _ = caller.await;

        assert_eq!(pool.in_flight(), 1);
        assert!(matches!(pool.run(|| ()).await, Err(PoolError::Busy { .. })));
        release_tx.send(()).unwrap();
        wait_until("the job finishes", || pool.in_flight() == 0).await;
        assert_eq!(pool.run(|| 5).await, Ok(5));
    }

    #[tokio::test]
    async fn the_core_port_runs_jobs_and_reports_refusals() {
        let pool = HashPool::new(1, 0);
        let port: &dyn CpuPool = &pool;
        assert_eq!(
            fundpass_core::ports::run_on_pool(port, || 6 * 7).await,
            Ok(42)
        );
        let failed = port.run_boxed(Box::new(|| panic!("boom"))).await;
        assert_eq!(
            failed,
            Err(PoolBusy {
                retry_after_secs: 1
            })
        );
    }

    #[test]
    fn sizes_are_sane() {
        let pool = HashPool::new(0, 3);
        assert_eq!((pool.workers(), pool.capacity()), (1, 4));
        let default = HashPool::default();
        assert_eq!(default.capacity(), default.workers() * 5);
    }
}
