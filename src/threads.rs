//! The threads queries are evaluated on: big-stack OS threads, reused.
//!
//! Oxigraph plans and evaluates recursively, and a query near the text limits
//! (`http::limits`) needs more stack than tokio's blocking pool gives (2 MiB), so queries run on
//! threads of their own. Creating one per query cost more than small queries do: the kernel
//! maps and unmaps a 64 MiB stack each time (a TLB shootdown on every core): with the other
//! wake-ups, 42% of the server's CPU was in the kernel under the benchmark's one-client mix.
//! These threads stay after their job and take the next one; one idle for [`KEEP_IDLE`] exits.
//!
//! **Invariant:** a job submitted starts at once: on a waiting thread if there is one, else on a
//! new thread (so the pool never limits concurrency; the callers' slots do). Jobs waiting in the
//! queue never outnumber the threads waiting for them. A job that panics ends alone: its
//! thread goes on.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::LocalKey;
use std::time::Duration;

/// Stack of a query thread.
const STACK_BYTES: usize = 64 * 1024 * 1024;
/// How long a thread without work waits for the next job before it exits.
const KEEP_IDLE: Duration = Duration::from_secs(30);

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// Threads blocked in (or woken from, and not yet back from) waiting for a job.
    waiting: usize,
}

struct Pool {
    queue: Mutex<Queue>,
    job_ready: Condvar,
}

/// Runs `job` on a query thread, now. Fails only if a new thread was needed and the OS refused
/// it (the job is then dropped, not run).
pub(crate) fn spawn(job: impl FnOnce() + Send + 'static) -> io::Result<()> {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(Pool::new).spawn(Box::new(job))
}

impl Pool {
    fn new() -> Pool {
        Pool {
            queue: Mutex::new(Queue::default()),
            job_ready: Condvar::new(),
        }
    }

    fn spawn(&'static self, job: Job) -> io::Result<()> {
        let mut queue = lock(&self.queue);
        if queue.waiting > queue.jobs.len() {
            queue.jobs.push_back(job);
            drop(queue);
            self.job_ready.notify_one();
            return Ok(());
        }
        drop(queue);
        std::thread::Builder::new()
            .name("claimgraph-query".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                run(job);
                self.serve();
            })
            .map(drop)
    }

    /// A thread's life after its first job: take the next one, or exit after [`KEEP_IDLE`]
    /// without one.
    fn serve(&self) {
        loop {
            let mut queue = lock(&self.queue);
            queue.waiting += 1;
            let job = loop {
                if let Some(job) = queue.jobs.pop_front() {
                    break Some(job);
                }
                let (guard, wait) = self
                    .job_ready
                    .wait_timeout(queue, KEEP_IDLE)
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                queue = guard;
                if wait.timed_out() && queue.jobs.is_empty() {
                    break None;
                }
            };
            queue.waiting -= 1;
            drop(queue);
            match job {
                Some(job) => run(job),
                None => return,
            }
        }
    }
}

fn run(job: Job) {
    // The job's own channels report the failure to its caller (they close as it unwinds); the
    // panic message is printed by the panic hook.
    let _ = catch_unwind(AssertUnwindSafe(job));
}

/// Runs `f` with the thread-local `slot` set to `value`, and puts back what it held when `f`
/// returns or panics: threads are reused (these, and tokio's blocking pool, which catches
/// panics too), so nothing set for one job may leak into the next.
pub(crate) fn with_local<V: 'static, T>(
    slot: &'static LocalKey<RefCell<Option<V>>>,
    value: V,
    f: impl FnOnce() -> T,
) -> T {
    struct Restore<V: 'static> {
        slot: &'static LocalKey<RefCell<Option<V>>>,
        previous: Option<V>,
    }
    impl<V> Drop for Restore<V> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            self.slot.with(|current| *current.borrow_mut() = previous);
        }
    }
    let previous = slot.with(|current| current.replace(Some(value)));
    let _restore = Restore { slot, previous };
    f()
}

/// The queue's lock. Nothing panics while holding it, but a poisoned queue is still consistent
/// (every change to it is one statement), so poisoning is ignored.
fn lock(queue: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    queue
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::{mpsc, Arc};
    use std::thread::{self, ThreadId};
    use std::time::Instant;

    /// How long a test waits for what it expects before failing (rather than hanging).
    const PATIENCE: Duration = Duration::from_secs(10);

    fn new_pool() -> &'static Pool {
        Box::leak(Box::new(Pool::new()))
    }

    fn wait_until_waiting(pool: &Pool, threads: usize) {
        let since = Instant::now();
        while lock(&pool.queue).waiting < threads {
            assert!(
                since.elapsed() < PATIENCE,
                "{threads} threads never went back to waiting"
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn receive<T>(rx: &mpsc::Receiver<T>) -> T {
        rx.recv_timeout(PATIENCE).expect("a job reported back")
    }

    #[test]
    fn jobs_run_at_once_and_threads_are_reused() {
        let pool = new_pool();
        // Each job waits for all the others to start: they only finish if all run at once (a
        // job that gives up waiting reports that it ran alone, and the test fails).
        let jobs = 8;
        let started = Arc::new((Mutex::new(0), Condvar::new()));
        let (tx, rx) = mpsc::channel();
        for _ in 0..jobs {
            let (started, tx) = (started.clone(), tx.clone());
            let job = move || {
                let (count, all) = &*started;
                let mut count = count.lock().unwrap();
                *count += 1;
                all.notify_all();
                let (count, _) = all
                    .wait_timeout_while(count, PATIENCE, |count| *count < jobs)
                    .unwrap();
                tx.send((thread::current().id(), *count == jobs)).unwrap();
            };
            pool.spawn(Box::new(job)).unwrap();
        }
        let first: Vec<(ThreadId, bool)> = (0..jobs).map(|_| receive(&rx)).collect();
        assert!(
            first.iter().all(|(_, together)| *together),
            "all jobs ran at once"
        );
        let first: HashSet<ThreadId> = first.into_iter().map(|(id, _)| id).collect();
        assert_eq!(first.len(), jobs);
        wait_until_waiting(pool, jobs);
        for _ in 0..jobs {
            let tx = tx.clone();
            let job = move || tx.send((thread::current().id(), true)).unwrap();
            pool.spawn(Box::new(job)).unwrap();
        }
        let second: HashSet<ThreadId> = (0..jobs).map(|_| receive(&rx).0).collect();
        assert!(
            second.is_subset(&first),
            "the second jobs ran on the first jobs' threads"
        );
        wait_until_waiting(pool, jobs);
    }

    #[test]
    fn a_panicking_job_leaves_its_thread_serving_with_a_deep_stack() {
        let pool = new_pool();
        let (tx, rx) = mpsc::channel();
        let panicking = {
            let tx = tx.clone();
            move || {
                tx.send((thread::current().id(), 0)).unwrap();
                panic!("a job that fails");
            }
        };
        pool.spawn(Box::new(panicking)).unwrap();
        let (failed_on, _) = receive(&rx);
        wait_until_waiting(pool, 1);
        let deep = move || tx.send((thread::current().id(), deep(10_000))).unwrap();
        pool.spawn(Box::new(deep)).unwrap();
        assert_eq!(receive(&rx), (failed_on, 10_000));
    }

    #[test]
    fn a_thread_local_is_put_back_when_its_job_panics() {
        thread_local! {
            static SLOT: RefCell<Option<u32>> = const { RefCell::new(None) };
        }
        let read = || SLOT.with(|slot| *slot.borrow());
        assert!(catch_unwind(|| with_local(&SLOT, 1, || panic!("a job that fails"))).is_err());
        assert_eq!(read(), None);
        let nested = with_local(&SLOT, 2, || (with_local(&SLOT, 3, read), read()));
        assert_eq!((nested, read()), ((Some(3), Some(2)), None));
    }

    /// Recursion deeper than tokio's 2 MiB blocking threads allow (about 5 MB of frames).
    fn deep(n: u64) -> u64 {
        let frame = std::hint::black_box([0u8; 512]);
        if n == 0 {
            u64::from(frame[0])
        } else {
            1 + deep(n - 1)
        }
    }
}
