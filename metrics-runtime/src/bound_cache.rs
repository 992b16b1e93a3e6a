//! A per-call-site cache of bound instrument handles, keyed by label values.
//!
//! A call site whose labels come from arguments (`server_name`, `tool_name`) sees few distinct
//! values. The first call with a label set binds the instruments to it (an allocation and the
//! SDK's attribute lookup); every later call finds the handles with one hash and a read lock
//! that no other call site shares, and records with plain atomic adds.
//!
//! The cache holds at most [`MAX_SLOTS`] label sets. Past that, [`BoundCache::get_or_bind`]
//! returns `None` and the caller records through the unbound path, where the SDK's per-metric
//! cardinality limit (overflow series) protects memory: a runaway label value costs speed,
//! never unbounded memory, and is never lost.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::{Arc, RwLock, Weak};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use crate::pipeline::Pipeline;

/// Label sets kept per call site.
pub const MAX_SLOTS: usize = 512;

struct Slot<H> {
    pipeline: u64,
    owner: Weak<Pipeline>,
    key: Box<[Box<str>]>,
    handles: Arc<H>,
}

/// Bound handles of type `H` per (pipeline, label values).
pub struct BoundCache<H> {
    slots: RwLock<HashTable<Slot<H>>>,
}

impl<H> std::fmt::Debug for BoundCache<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundCache").finish_non_exhaustive()
    }
}

impl<H> Default for BoundCache<H> {
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

impl<H> BoundCache<H> {
    /// An empty cache, usable in a `static`.
    pub const fn new() -> Self {
        BoundCache {
            slots: RwLock::new(HashTable::new()),
        }
    }

    /// The handles bound to `key` in `pipeline`, binding them with `bind` on first use.
    /// `None` when the cache is full of other label sets.
    pub fn get_or_bind(
        &self,
        pipeline: &Arc<Pipeline>,
        key: &[&str],
        bind: impl FnOnce(&Pipeline) -> H,
    ) -> Option<Arc<H>> {
        let id = pipeline.id();
        let hash = hash_of(id, key);
        let matches = |s: &Slot<H>| s.pipeline == id && same_key(&s.key, key);
        {
            let slots = self.slots.read().unwrap_or_else(|p| p.into_inner());
            if let Some(slot) = slots.find(hash, matches) {
                return Some(Arc::clone(&slot.handles));
            }
        }
        let mut slots = self.slots.write().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.find(hash, matches) {
            return Some(Arc::clone(&slot.handles));
        }
        if slots.len() >= MAX_SLOTS {
            // Forget label sets of pipelines that are gone (finished test meters).
            slots.retain(|s| s.owner.strong_count() > 0);
            if slots.len() >= MAX_SLOTS {
                return None;
            }
        }
        let handles = Arc::new(bind(pipeline));
        let slot = Slot {
            pipeline: id,
            owner: Arc::downgrade(pipeline),
            key: key.iter().map(|k| Box::<str>::from(*k)).collect(),
            handles: Arc::clone(&handles),
        };
        slots.insert_unique(hash, slot, |s| {
            let key: Vec<&str> = s.key.iter().map(|k| &**k).collect();
            hash_of(s.pipeline, &key)
        });
        Some(handles)
    }

    /// How many label sets are cached.
    pub fn len(&self) -> usize {
        self.slots.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
