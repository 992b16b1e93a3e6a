//! The global pipeline's tool calls, handed to the SDK in batches per thread.
//!
//! A finished `#[tool_call]` on the global pipeline writes its handles, its outcome and its
//! duration into its thread's [`Batch`] (a few plain stores, no shared cache line). The batch
//! is drained when it is full, when its thread exits, and at every collection: the durations
//! go to the SDK histogram, the counts, added up per label set, to the label set's
//! `unflushed` counts, which the collection then moves to the SDK counters
//! ([`hand_over`], a callback every reader's collection runs before the SDK reads its
//! aggregations). So two threads calling the same tool do not contend on the SDK's counters
//! and histogram lock call by call, 1,000 label sets cycling do not touch the SDK counters'
//! memory call by call, every reader (ours, the application's, a shutdown's last export) sees
//! every call, and the SDK's views and readers apply unchanged: the values reach the same
//! bound instruments, only later.
//!
//! A batch is written by its thread alone, into slots `index % CAPACITY`, and drained by its
//! thread (when three quarters full, or at its exit) or by a collection (at any time), one
//! drain at a time process-wide ([`DRAINING`]); the thread reuses a slot only once a drain has
//! moved `taken` past it. A thread never waits for another's drain: it keeps adding to its
//! batch, and once that is full records its calls directly until it can drain. Only the global
//! pipeline's handles are batched: they live as long as the process.

use std::cell::Cell;
use std::mem::take;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};

use crate::record::{FailureCounter, ToolCallHandles};

/// Calls a batch holds: 24 KiB a thread that makes annotated tool calls. Each drain moves the
/// SDK objects of its label sets to its core (when two threads call the same tools, a few
/// lines per label set); 1,024 calls share that cost (two threads on the same labels, one
/// drain at a time: ~1.2x one thread's time per call; 64-call batches drained concurrently
/// measured ~1.9x; `hot_path --threads 2` timings alternating builds).
const CAPACITY: usize = 1024;

/// How many calls wait in a batch before its thread tries to drain it; it keeps adding calls
/// while another drain runs, up to [`CAPACITY`].
const DRAIN_AT: usize = CAPACITY * 3 / 4;

/// Held by the one drain running at a time, all batches together: drains never contend on
/// the SDK's histogram locks and buckets (two threads' drains into the same label sets at once
/// made each record a cache-line transfer: 1.3x-1.9x a call's time where one drain at a time is
/// 1.2x), and a drain never meets another on the same batch. With many threads busy at once,
/// drains queue up; a thread that finds its batch full records directly meanwhile (the SDK's
/// own per-call path, as without batches).
static DRAINING: Mutex<()> = Mutex::new(());

/// A finished call waiting for the SDK.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deferred {
    pub(crate) handles: &'static ToolCallHandles,
    /// The failure counter of its error type; `None`: a success.
    pub(crate) failure: Option<&'static FailureCounter>,
    pub(crate) seconds: f64,
}

impl Deferred {
    /// Records it without a batch.
    fn record_now(self) {
        record([self]);
    }
}

/// One slot of a batch: a [`Deferred`] in atomics (its thread writes it while a collection
/// may drain the slots before it).
#[derive(Debug, Default)]
struct Slot {
    handles: AtomicPtr<ToolCallHandles>,
    failure: AtomicPtr<FailureCounter>,
    seconds: AtomicU64,
}

impl Slot {
    #[inline]
    fn store(&self, call: Deferred) {
        let handles = ptr::from_ref(call.handles).cast_mut();
        let failure = call.failure.map_or(ptr::null(), ptr::from_ref).cast_mut();
        self.handles.store(handles, Ordering::Relaxed);
        self.failure.store(failure, Ordering::Relaxed);
        self.seconds
            .store(call.seconds.to_bits(), Ordering::Relaxed);
    }

    /// # Safety
    /// The slot holds a call [`Self::store`] wrote, published to this thread.
    unsafe fn load(&self) -> Deferred {
        let handles = self.handles.load(Ordering::Relaxed);
        let failure = self.failure.load(Ordering::Relaxed);
        // SAFETY: `store` wrote these from `&'static` references (the caller's contract).
        let (handles, failure) = unsafe { (&*handles, failure.as_ref()) };
        Deferred {
            handles,
            failure,
            seconds: f64::from_bits(self.seconds.load(Ordering::Relaxed)),
        }
    }
}

/// One thread's finished calls. Entries `taken..written` (indices that only grow) are
/// waiting, in slots `index % CAPACITY`.
#[derive(Debug)]
pub(crate) struct Batch {
    /// Written by the owning thread only.
    written: AtomicUsize,
    /// Written by a drain only, under [`DRAINING`].
    taken: AtomicUsize,
    slots: [Slot; CAPACITY],
}

impl Batch {
    fn new() -> Self {
        Batch {
            written: AtomicUsize::new(0),
            taken: AtomicUsize::new(0),
            slots: std::array::from_fn(|_| Slot::default()),
        }
    }

    /// Adds a call; the owning thread only.
    #[inline]
    fn push(&self, call: Deferred) {
        let index = self.written.load(Ordering::Relaxed);
        // Acquire: the drain that moved `taken` past the slot about to be reused has read it.
        let waiting = index - self.taken.load(Ordering::Acquire);
        if waiting >= DRAIN_AT && !self.drain_unless_busy() && waiting >= CAPACITY {
            // Another drain is running and this batch is full: no waiting for it.
            return call.record_now();
        }
        self.slots[index % CAPACITY].store(call);
        // Release: a drain that sees the new index sees the slot.
        self.written.store(index + 1, Ordering::Release);
    }

    /// [`Self::drain`] unless another thread is draining (a batch): whether it drained.
    #[cold]
    #[inline(never)]
    fn drain_unless_busy(&self) -> bool {
        match DRAINING.try_lock() {
            Ok(_draining) => self.drain_locked(),
            Err(TryLockError::Poisoned(_draining)) => self.drain_locked(),
            Err(TryLockError::WouldBlock) => return false,
        }
        true
    }

    /// Records the waiting calls; any thread.
    fn drain(&self) {
        let _draining = DRAINING.lock().unwrap_or_else(PoisonError::into_inner);
        self.drain_locked();
    }

    /// [`Self::drain`], with [`DRAINING`] held.
    fn drain_locked(&self) {
        let taken = self.taken.load(Ordering::Relaxed);
        // Acquire: the slots before `written` were stored before it.
        let written = self.written.load(Ordering::Acquire);
        // SAFETY: the owning thread stored these slots and published them through `written`;
        // it does not store them again before `taken` moves past them, below.
        record((taken..written).map(|i| unsafe { self.slots[i % CAPACITY].load() }));
        // Release: the owning thread reuses the slots after this drain has read them.
        self.taken.store(written, Ordering::Release);
    }
}

/// Records drained calls: each duration as it is; the calls, successes and failures added up
/// per label set first (a batch of a few busy tools records them with a few adds).
fn record(calls: impl IntoIterator<Item = Deferred>) {
    let mut counts = [Counts::NONE; COUNTS];
    for call in calls {
        call.handles.record_duration(call.seconds);
        let slot = &mut counts[Counts::slot_of(call.handles)];
        if !same(slot.handles, call.handles) {
            slot.add();
            *slot = Counts {
                handles: Some(call.handles),
                ..Counts::NONE
            };
        }
        slot.calls += 1;
        match call.failure {
            None => slot.successes += 1,
            Some(failure) => {
                if !same(slot.failure, failure) {
                    slot.add();
                    slot.failure = Some(failure);
                }
                slot.failures += 1;
            }
        }
    }
    counts.iter_mut().for_each(Counts::add);
}

/// Whether `held` is `value` itself.
fn same<T>(held: Option<&T>, value: &T) -> bool {
    held.is_some_and(|held| ptr::eq(held, value))
}

/// How many label sets [`record`] adds up at once.
const COUNTS: usize = 8;

/// The calls and outcomes of one label set, added up: successes, and the failures of one
/// error type (its bound counter).
#[derive(Clone, Copy)]
struct Counts {
    handles: Option<&'static ToolCallHandles>,
    calls: u64,
    successes: u64,
    failure: Option<&'static FailureCounter>,
    failures: u64,
}

impl Counts {
    const NONE: Counts = Counts {
        handles: None,
        calls: 0,
        successes: 0,
        failure: None,
        failures: 0,
    };

    /// Where `handles` add up: a multiplicative hash of the address.
    fn slot_of(handles: &ToolCallHandles) -> usize {
        let address = ptr::from_ref(handles) as usize as u64;
        (address.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - COUNTS.trailing_zeros())) as usize
    }

    /// Adds what was added up, and starts again from zero: the calls before their failures
    /// (see [`ToolCallHandles::flush`]).
    fn add(&mut self) {
        if let Some(handles) = self.handles {
            let (calls, successes) = (take(&mut self.calls), take(&mut self.successes));
            handles.add_unflushed(calls, successes);
        }
        if let Some(failure) = self.failure {
            failure.add_unflushed(take(&mut self.failures));
        }
    }
}

/// Every live thread's batch (and an exited thread's, until drained).
static BATCHES: Mutex<Vec<Arc<Batch>>> = Mutex::new(Vec::new());

thread_local! {
    /// This thread's batch, once registered; null before, and again once its owner (below)
    /// is torn down. A plain pointer in a const thread-local: the hot path's one read.
    static CURRENT: Cell<*const Batch> = const { Cell::new(ptr::null()) };
    /// Registers this thread's batch on first use; hands it to the SDK when the thread exits.
    static OWNER: Owner = Owner::register();
}

/// Keeps a thread's batch registered while the thread runs.
struct Owner(Arc<Batch>);

impl Owner {
    fn register() -> Self {
        let batch = Arc::new(Batch::new());
        BATCHES
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::clone(&batch));
        CURRENT.set(Arc::as_ptr(&batch));
        Owner(batch)
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // First: a recording in a later destructor records directly.
        CURRENT.set(ptr::null());
        self.0.drain();
        let mut all = BATCHES.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|b| !Arc::ptr_eq(b, &self.0));
    }
}

/// Hands `call` to the SDK with this thread's batch: now if the batch is full, else later.
#[inline]
pub(crate) fn push(call: Deferred) {
    let batch = CURRENT.get();
    if batch.is_null() {
        return push_unregistered(call);
    }
    // SAFETY: `CURRENT` points into the `Arc` its thread's `Owner` holds, and is reset before
    // the owner drops it.
    unsafe { &*batch }.push(call)
}

/// [`push`] on a thread without a batch: registers one, or records now during thread-local
/// teardown.
#[cold]
#[inline(never)]
fn push_unregistered(call: Deferred) {
    if OWNER.try_with(|owner| owner.0.push(call)).is_err() {
        call.record_now();
    }
}

/// Hands every thread's waiting calls to the SDK, and moves the counts they added up to the
/// SDK counters: run by each reader's collection, before the SDK reads its aggregations.
pub(crate) fn hand_over() {
    // Not drained under the registry's lock: a thread registering its batch never waits for
    // the SDK.
    let all = BATCHES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for batch in all {
        batch.drain();
    }
    if let Some(global) = crate::pipeline::global() {
        global.sites.tool_calls.for_each(ToolCallHandles::flush);
    }
}
