//! A per-call-site cache of bound instrument handles, keyed by label values.
//!
//! A call site whose labels come from arguments (`server_name`, `tool_name`) sees few distinct
//! values. The first call with a label set binds the instruments to it (an allocation and the
//! SDK's attribute lookup); every later call finds the handles with one hash, a few atomic
//! loads and string comparisons, and no lock: the table is append-only and its entries live
//! as long as the process, so readers need no synchronisation beyond acquire loads. Writers
//! (first calls) take a mutex of the call site's own.
//!
//! The cache holds at most [`MAX_SLOTS`] label sets. Past that, [`BoundCache::get_or_bind`]
//! returns `None` and the caller records through the unbound path, where the SDK's per-metric
//! cardinality limit (overflow series) protects memory: a runaway label value costs speed,
//! never unbounded memory, and is never lost.

use std::hash::{BuildHasher, Hash, Hasher};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Mutex;

use foldhash::fast::FixedState;

use crate::pipeline::Pipeline;

/// Label sets kept per call site.
pub const MAX_SLOTS: usize = 256;

struct Slot<H> {
    hash: u64,
    pipeline: u64,
    key: Box<[Box<str>]>,
    handles: H,
}

/// Bound handles of type `H` per (pipeline, label values). `H: Sync` because one entry is
/// shared by every thread that records through the call site.
pub struct BoundCache<H: Send + Sync + 'static> {
    slots: [AtomicPtr<Slot<H>>; MAX_SLOTS],
    insert: Mutex<()>,
}

impl<H: Send + Sync + 'static> std::fmt::Debug for BoundCache<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundCache")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl<H: Send + Sync + 'static> Default for BoundCache<H> {
    fn default() -> Self {
        Self::new()
    }
}

const HASHER: FixedState = FixedState::with_seed(0x6d63_705f_6d65_7472);

fn hash_of(pipeline: u64, key: &[&str]) -> u64 {
    let mut h = HASHER.build_hasher();
    pipeline.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

fn same_key(stored: &[Box<str>], key: &[&str]) -> bool {
    stored.len() == key.len() && stored.iter().zip(key).all(|(a, b)| **a == **b)
}

impl<H: Send + Sync + 'static> BoundCache<H> {
    /// An empty cache, usable in a `static`.
    pub const fn new() -> Self {
        BoundCache {
            slots: [const { AtomicPtr::new(ptr::null_mut()) }; MAX_SLOTS],
            insert: Mutex::new(()),
        }
    }

    /// Finds the slot for (pipeline, key): `Ok(handles)` if present, `Err(index)` of the
    /// first free slot on its probe sequence, `Err(MAX_SLOTS)` when the table is full.
    #[inline]
    fn find(&self, hash: u64, pipeline: u64, key: &[&str]) -> Result<&'static H, usize> {
        let start = hash as usize % MAX_SLOTS;
        for i in 0..MAX_SLOTS {
            let index = (start + i) % MAX_SLOTS;
            let slot = self.slots[index].load(Ordering::Acquire);
            if slot.is_null() {
                return Err(index);
            }
            // SAFETY: slots are only ever set to pointers leaked from `Box<Slot<H>>` (never
            // freed, never mutated after publication with Release), so the pointee is valid
            // for 'static and fully initialised once the Acquire load sees it.
            let slot: &'static Slot<H> = unsafe { &*slot };
            if slot.hash == hash && slot.pipeline == pipeline && same_key(&slot.key, key) {
                return Ok(&slot.handles);
            }
        }
        Err(MAX_SLOTS)
    }

    /// The handles bound to `key` in `pipeline`, binding them with `bind` on first use.
    /// `None` when the cache is full of other label sets.
    #[inline]
    pub fn get_or_bind(
        &self,
        pipeline: &Pipeline,
        key: &[&str],
        bind: impl FnOnce(&Pipeline) -> H,
    ) -> Option<&'static H> {
        let id = pipeline.id();
        let hash = hash_of(id, key);
        match self.find(hash, id, key) {
            Ok(handles) => Some(handles),
            Err(_) => self.insert(hash, pipeline, key, bind),
        }
    }

    #[cold]
    fn insert(
        &self,
        hash: u64,
        pipeline: &Pipeline,
        key: &[&str],
        bind: impl FnOnce(&Pipeline) -> H,
    ) -> Option<&'static H> {
        let _writer = self.insert.lock().unwrap_or_else(|p| p.into_inner());
        // Another writer may have inserted it meanwhile.
        let index = match self.find(hash, pipeline.id(), key) {
            Ok(handles) => return Some(handles),
            Err(MAX_SLOTS) => return None,
            Err(index) => index,
        };
        let slot = Box::leak(Box::new(Slot {
            hash,
            pipeline: pipeline.id(),
            key: key.iter().map(|k| Box::<str>::from(*k)).collect(),
            handles: bind(pipeline),
        }));
        self.slots[index].store(slot, Ordering::Release);
        Some(&slot.handles)
    }

    /// How many label sets are cached.
    pub fn len(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !s.load(Ordering::Relaxed).is_null())
            .count()
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn pipeline() -> Pipeline {
        let config = Config::builder()
            .prometheus(false)
            .build_with_env(|_| None)
            .unwrap();
        Pipeline::build(
            &config,
            opentelemetry_sdk::metrics::SdkMeterProvider::builder(),
        )
    }

    #[test]
    fn binds_once_per_label_set_and_pipeline_then_refuses_when_full() {
        static CACHE: BoundCache<String> = BoundCache::new();
        let (a, b) = (pipeline(), pipeline());
        let mut binds = 0;
        let mut bind = |key: &str| {
            binds += 1;
            key.to_owned()
        };
        let first = CACHE
            .get_or_bind(&a, &["github", "x"], |_| bind("a1"))
            .unwrap();
        let again = CACHE
            .get_or_bind(&a, &["github", "x"], |_| bind("never"))
            .unwrap();
        assert!(ptr::eq(first, again));
        assert_eq!(first, "a1");
        let other = CACHE
            .get_or_bind(&b, &["github", "x"], |_| bind("b1"))
            .unwrap();
        assert_eq!(other, "b1", "another pipeline gets its own handles");
        assert_eq!(binds, 2);
        for i in 2..MAX_SLOTS {
            assert!(CACHE
                .get_or_bind(&a, &[&i.to_string()], |_| String::new())
                .is_some());
        }
        assert_eq!(CACHE.len(), MAX_SLOTS);
        assert!(CACHE
            .get_or_bind(&a, &["one", "more"], |_| String::new())
            .is_none());
        // Existing entries are still found when full.
        assert_eq!(
            CACHE.get_or_bind(&a, &["github", "x"], |_| String::new()),
            Some(&"a1".to_string())
        );
    }
}
