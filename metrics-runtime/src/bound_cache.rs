//! Handles bound to label sets, per call site, owned by their pipeline.
//!
//! A call site (a `static` in the expansion, or one per metric for the typed API) is only an
//! identity. The handles it binds live in the pipeline, in a concurrent map (papaya: lock-free
//! reads, no scan) keyed by the site and the label values, and die with the pipeline.
//!
//! A map lookup uses the values length-bounded (so that long values cannot key the map); on
//! a miss the values are admitted ([`crate::label_bounds`]), and the handles are bound and
//! stored under the admitted values. So a flood of request values past their budget
//! adds no entry: each such call takes the admission path and finds the `_other` handles. A
//! pipeline keeps at most [`MAX_LABEL_SETS`] label sets per handle type; past it, recording
//! takes the SDK's unbound path (still bounded by the cardinality limit).
//!
//! In front of the map, a small set-associative table of the label sets used last, indexed by
//! a cheap fingerprint of the site and the values' probes (each value's length and first and
//! last 8 bytes: a few loads and multiplies, where hashing the values fully costs more than
//! the rest of a call): a hit compares the probes (and the bytes of values over 16 bytes) and
//! takes the handles without touching the map. The table is searched with the values as
//! given: it holds admitted values, which admit as themselves. Four label sets share a set,
//! in one cache line, so that label sets whose fingerprints meet in a set do not evict each
//! other on every call (a direct-mapped table of as many slots sent a fifth of 1,000 label
//! sets cycling to the map).

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

use foldhash::fast::FixedState;

use crate::pipeline::Pipeline;

/// The most label sets a pipeline keeps bound handles for, per handle type (tool calls,
/// guardrail checks, single instruments), all call sites together.
pub const MAX_LABEL_SETS: usize = 65_536;

/// A call site: its address is its identity.
#[derive(Debug)]
pub struct CallSite<H> {
    // Not zero-sized, so that every site static has an address of its own.
    _identity: u8,
    _handles: PhantomData<fn() -> H>,
}

impl<H> Default for CallSite<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> CallSite<H> {
    /// A site; put it in a `static`.
    pub const fn new() -> Self {
        CallSite {
            _identity: 0,
            _handles: PhantomData,
        }
    }

    fn id(&self) -> usize {
        self as *const Self as usize
    }
}

/// Sets of the table in front of the map: a power of two. With [`WAYS`] slots each, a
/// thousand label sets at one site hit (a set holds more than four of them with odds of about
/// 1 in 300).
const FRONT_SETS: usize = 1024;

/// Slots per set: as many as fill one cache line.
const WAYS: usize = 4;

/// The handles a pipeline bound for the sites of one handle type.
pub(crate) struct SiteMap<H> {
    /// Keyed by the entries themselves (their site and values): each label set's values are
    /// stored once, in its entry.
    map: papaya::HashMap<Stored<H>, (), FixedState>,
    /// Each slot null or pointing at an entry of `map`.
    front: Box<[Set<H>]>,
}

/// The slots one fingerprint may be found in.
#[repr(align(64))]
struct Set<H> {
    ways: [Slot<H>; WAYS],
}

/// A front-table slot: an entry, and the full fingerprint it was stored with, checked before
/// the entry is read (so that a slot of another label set costs no trip to that entry's
/// memory). The two are written one after the other, not together: a reader may pair a
/// fingerprint with another entry, which the entry's own check then refuses.
struct Slot<H> {
    fingerprint: AtomicUsize,
    entry: AtomicPtr<Entry<H>>,
}

impl<H> Set<H> {
    fn new() -> Self {
        Set {
            ways: std::array::from_fn(|_| Slot {
                fingerprint: AtomicUsize::new(0),
                entry: AtomicPtr::new(std::ptr::null_mut()),
            }),
        }
    }

    /// The entry stored under `print` for `site` and `values` (with their `probes`), if this
    /// set holds it.
    #[inline]
    fn find(
        &self,
        print: usize,
        site: usize,
        values: &[&str],
        probes: &[Probe],
    ) -> Option<&Entry<H>> {
        for slot in &self.ways {
            if slot.fingerprint.load(Ordering::Relaxed) != print {
                continue;
            }
            let entry = slot.entry.load(Ordering::Acquire);
            if entry.is_null() {
                continue;
            }
            // SAFETY: a slot holds null or a pointer to an entry boxed in the map of the
            // `SiteMap` this set belongs to, whose entries are never removed before the map
            // drops (with the `SiteMap`, borrowed by the caller).
            let entry = unsafe { &*entry };
            if entry.is_for(site, values, probes) {
                return Some(entry);
            }
        }
        None
    }

    /// Stores `entry` in a free slot, else in the slot its fingerprint picks (so that label
    /// sets cycling through a full set still keep most of its slots), unless another thread
    /// stored it meanwhile. Concurrent stores may interleave: a slot is only a hint, checked
    /// by every reader.
    fn store(&self, print: usize, entry: &Entry<H>) {
        let entry_ptr = entry as *const Entry<H> as *mut Entry<H>;
        let mut free = None;
        for slot in &self.ways {
            let stored = slot.entry.load(Ordering::Relaxed);
            if stored == entry_ptr && slot.fingerprint.load(Ordering::Relaxed) == print {
                return;
            }
            if stored.is_null() && free.is_none() {
                free = Some(slot);
            }
        }
        // The set index took the fingerprint's low bits; the way takes higher ones.
        let slot = free.unwrap_or(&self.ways[(print >> 20) % WAYS]);
        slot.entry.store(entry_ptr, Ordering::Release);
        slot.fingerprint.store(print, Ordering::Relaxed);
    }
}

/// Bound handles with the key they were bound for, so that a hit in the front table can be
/// checked. The check reads the values' probes, next to the site: values of up to 16 bytes
/// (labels usually are) are compared without a trip to their bytes. Laid out so that a hit
/// reads the first 120 bytes only: the site, the probes, then the first fields of the
/// handles. (Aligning entries to cache lines made 1,000 label sets cycling ~5 % slower: the
/// padding spreads them over more lines than it saves.)
#[repr(C)]
struct Entry<H> {
    site: usize,
    count: u32,
    lens: [u32; MAX_VALUES],
    heads: [u64; MAX_VALUES],
    tails: [u64; MAX_VALUES],
    handles: H,
    /// The values end to end, for the values longer than a probe holds; `ends[i]` is where
    /// value `i` ends.
    joined: Box<str>,
    ends: [u32; MAX_VALUES],
}

/// The most label values a site binds (tool calls have 3, as many as any catalog metric).
pub(crate) const MAX_VALUES: usize = 3;

impl<H> Entry<H> {
    fn new(site: usize, values: &[&str], handles: H) -> Self {
        debug_assert!(values.len() <= MAX_VALUES);
        let values = &values[..values.len().min(MAX_VALUES)];
        let mut entry = Entry {
            site,
            count: values.len() as u32,
            lens: [0; MAX_VALUES],
            heads: [0; MAX_VALUES],
            tails: [0; MAX_VALUES],
            handles,
            joined: values.concat().into_boxed_str(),
            ends: [0; MAX_VALUES],
        };
        let mut end = 0;
        for (i, v) in values.iter().enumerate() {
            let p = probe(v);
            (entry.lens[i], entry.heads[i], entry.tails[i]) = (p.len, p.head, p.tail);
            end += v.len();
            entry.ends[i] = u32::try_from(end).unwrap_or(u32::MAX);
        }
        entry
    }

    #[inline]
    fn is_for(&self, site: usize, values: &[&str], probes: &[Probe]) -> bool {
        if self.site != site || self.count as usize != values.len() {
            return false;
        }
        // Every probe word compared, the differences gathered: one branch, not one a word.
        let stored = self.lens.iter().zip(&self.heads).zip(&self.tails);
        let mut differ = 0;
        for (((len, head), tail), p) in stored.zip(probes) {
            differ |= u64::from(len ^ p.len) | (head ^ p.head) | (tail ^ p.tail);
        }
        if differ != 0 {
            return false;
        }
        // A probe holds every byte of a value of up to 16 bytes; longer ones are compared.
        for (i, (v, p)) in values.iter().zip(probes).enumerate() {
            if p.len as usize > PROBE_BYTES && !self.long_value_is(i, v) {
                return false;
            }
        }
        true
    }

    #[cold]
    fn long_value_is(&self, i: usize, value: &str) -> bool {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.joined.get(start..self.ends[i] as usize) == Some(value)
    }
}

/// The most bytes of a value its [`Probe`] holds in full.
const PROBE_BYTES: usize = 16;

/// A label value as the front table sees it: its length and its first and last 8 bytes
/// (overlapping when shorter), which hold all its bytes up to [`PROBE_BYTES`]. Taken once
/// per value of a lookup, for both the fingerprint and the comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Probe {
    head: u64,
    tail: u64,
    /// Saturated: a length past `u32::MAX` compares in full like any long value.
    len: u32,
}

#[inline]
fn word(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))
}

#[inline]
fn half(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().unwrap_or([0; 4]))
}

/// The probe of a value: its first and last bytes as words, overlapping when short, so that
/// together with the length they are exact for up to 16 bytes.
#[inline]
fn probe(v: &str) -> Probe {
    let b = v.as_bytes();
    let n = b.len();
    let (head, tail) = match n {
        8.. => (word(&b[..8]), word(&b[n - 8..])),
        4..=7 => (half(&b[..4]) as u64, half(&b[n - 4..]) as u64),
        1..=3 => (
            (b[0] as u64) << 16 | (b[n / 2] as u64) << 8 | b[n - 1] as u64,
            0,
        ),
        0 => (0, 0),
    };
    Probe {
        head,
        tail,
        len: u32::try_from(n).unwrap_or(u32::MAX),
    }
}

/// The probes of up to [`MAX_VALUES`] values.
#[inline]
fn probes(values: &[&str]) -> [Probe; MAX_VALUES] {
    let mut probes = [Probe::default(); MAX_VALUES];
    for (slot, v) in probes.iter_mut().zip(values) {
        *slot = probe(v);
    }
    probes
}

/// A cheap fingerprint of a lookup: the site and each value's probe, mixed. Collisions only
/// cost a trip to the map.
#[inline]
fn fingerprint(site: usize, probes: &[Probe]) -> usize {
    let mut h = site as u64;
    for p in probes {
        h = (h ^ p.head ^ p.tail.rotate_left(29) ^ u64::from(p.len))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(23);
    }
    (h ^ h >> 29) as usize
}

impl<H> std::fmt::Debug for SiteMap<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteMap")
            .field("len", &self.map.len())
            .finish_non_exhaustive()
    }
}

const HASHER: FixedState = FixedState::with_seed(0x6d63_705f_6d65_7472);

/// An entry as the map's key: its site and label values.
struct Stored<H>(Box<Entry<H>>);

impl<H> Entry<H> {
    /// The values, as bound.
    fn values(&self) -> impl Iterator<Item = &str> {
        let mut start = 0;
        self.ends[..self.count as usize].iter().map(move |&end| {
            let value = self.joined.get(start..end as usize).unwrap_or_default();
            start = end as usize;
            value
        })
    }
}

impl<H> PartialEq for Stored<H> {
    fn eq(&self, other: &Self) -> bool {
        self.0.site == other.0.site && self.0.values().eq(other.0.values())
    }
}

impl<H> Eq for Stored<H> {}

/// A lookup key, borrowing the values. Hashes as the [`Stored`] entry of the same values.
struct Lookup<'a> {
    site: usize,
    values: &'a [&'a str],
}

impl<H> Hash for Stored<H> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.0.site.hash(state);
        for v in self.0.values() {
            v.hash(state);
        }
    }
}

impl Hash for Lookup<'_> {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.site.hash(state);
        for v in self.values {
            v.hash(state);
        }
    }
}

impl<H> papaya::Equivalent<Stored<H>> for Lookup<'_> {
    fn equivalent(&self, key: &Stored<H>) -> bool {
        self.site == key.0.site
            && self.values.len() == key.0.count as usize
            && self.values.iter().copied().eq(key.0.values())
    }
}

impl<H: Send + Sync> SiteMap<H> {
    pub(crate) fn new() -> Self {
        SiteMap {
            // Blocking resizes: an incremental one finishes only as later inserts copy the
            // rest, so after the last insert lookups could keep probing the old table.
            map: papaya::HashMap::builder()
                .hasher(HASHER)
                .resize_mode(papaya::ResizeMode::Blocking)
                .build(),
            front: (0..FRONT_SETS).map(|_| Set::new()).collect(),
        }
    }

    /// The handles of `site` for `values` if the front table holds them: a call's whole
    /// lookup when its label set was used lately. The values are compared as given: the table
    /// holds admitted values only, and a value equal to an admitted one is admitted as itself
    /// (see [`crate::label_bounds::within`]), so no bound needs checking first.
    #[inline]
    pub(crate) fn find<'p>(&'p self, site: &CallSite<H>, values: &[&str]) -> Option<&'p H> {
        let probes = probes(values);
        let probes = &probes[..values.len().min(MAX_VALUES)];
        let print = fingerprint(site.id(), probes);
        let set = &self.front[print & (FRONT_SETS - 1)];
        set.find(print, site.id(), values, probes)
            .map(|entry| extend(&entry.handles, self))
    }

    /// The handles of `site` for the label values `labels` (key, value), binding them on the
    /// first call with `bind(pipeline, admitted values)`. `None` when the pipeline already
    /// holds [`MAX_LABEL_SETS`] label sets of this handle type.
    #[inline]
    pub(crate) fn get_or_bind<'p>(
        &'p self,
        pipeline: &Pipeline,
        site: &CallSite<H>,
        labels: &[(&'static str, &str)],
        bind: impl FnOnce(&Pipeline, &[&str]) -> H,
    ) -> Option<&'p H> {
        let (values, count) = values_of(labels, |v| v);
        match self.find(site, &values[..count]) {
            Some(handles) => Some(handles),
            None => self.get_or_bind_in_map(pipeline, site, labels, bind),
        }
    }

    /// [`Self::get_or_bind`] past the front table (for a caller that just missed it): the
    /// map, with the values length-bounded first (a long value is never hashed), then binding.
    pub(crate) fn get_or_bind_in_map<'p>(
        &'p self,
        pipeline: &Pipeline,
        site: &CallSite<H>,
        labels: &[(&'static str, &str)],
        bind: impl FnOnce(&Pipeline, &[&str]) -> H,
    ) -> Option<&'p H> {
        let (values, count) = values_of(labels, |v| pipeline.bounds.length(v));
        let values = &values[..count];
        let map = self.map.pin();
        let key = Lookup {
            site: site.id(),
            values,
        };
        if let Some((Stored(entry), ())) = map.get_key_value(&key) {
            // Under the bounded values: a value replaced for its length never finds it in the
            // table (it is not the stored value) and keeps taking the map.
            let print = fingerprint(site.id(), &probes(values)[..values.len()]);
            self.front[print & (FRONT_SETS - 1)].store(print, entry);
            return Some(extend(&entry.handles, self));
        }
        self.bind(pipeline, site, labels, bind)
    }

    /// Runs `f` on the handles of every label set.
    pub(crate) fn for_each(&self, f: impl FnMut(&H)) {
        self.map
            .pin()
            .keys()
            .map(|Stored(entry)| &entry.handles)
            .for_each(f);
    }

    #[cold]
    fn bind<'p>(
        &'p self,
        pipeline: &Pipeline,
        site: &CallSite<H>,
        labels: &[(&'static str, &str)],
        bind: impl FnOnce(&Pipeline, &[&str]) -> H,
    ) -> Option<&'p H> {
        let admitted: Vec<&str> = labels
            .iter()
            .map(|(k, v)| pipeline.bounds.admit(k, v))
            .collect();
        let map = self.map.pin();
        let lookup = Lookup {
            site: site.id(),
            values: &admitted,
        };
        if let Some((Stored(entry), ())) = map.get_key_value(&lookup) {
            return Some(extend(&entry.handles, self));
        }
        if map.len() >= MAX_LABEL_SETS {
            return None;
        }
        let entry = Entry::new(site.id(), &admitted, bind(pipeline, &admitted));
        // Another thread may have bound the same label set meanwhile: then its entry stays
        // (entries are never replaced) and this one is dropped unused.
        let _ = map.try_insert(Stored(Box::new(entry)), ());
        let (Stored(entry), ()) = map.get_key_value(&lookup)?;
        Some(extend(&entry.handles, self))
    }
}

/// The values of `labels`, each through `f`, in an array (no allocation), and how many.
#[inline]
fn values_of<'a>(
    labels: &[(&'static str, &'a str)],
    f: impl Fn(&'a str) -> &'a str,
) -> ([&'a str; MAX_VALUES], usize) {
    debug_assert!(labels.len() <= MAX_VALUES);
    let mut values = [""; MAX_VALUES];
    for (slot, (_, v)) in values.iter_mut().zip(labels) {
        *slot = f(v);
    }
    (values, labels.len().min(MAX_VALUES))
}

/// Handles kept by a guard next to the pipeline that owns them (the guard holds both, so the
/// handles outlive the reference).
#[derive(Debug)]
pub(crate) struct HandlesRef<H>(NonNull<H>);

impl<H> HandlesRef<H> {
    pub(crate) fn new(handles: &H) -> Self {
        HandlesRef(NonNull::from(handles))
    }

    /// # Safety
    /// The pipeline whose site map holds the handles must still be alive.
    pub(crate) unsafe fn get(&self) -> &H {
        // SAFETY: the caller keeps the owning pipeline alive; its entries are boxed and never
        // removed, so the pointer is valid.
        unsafe { self.0.as_ref() }
    }

    /// # Safety
    /// The pipeline whose site map holds the handles is never dropped (the global one).
    pub(crate) unsafe fn get_static(&self) -> &'static H {
        // SAFETY: as in `get`, for as long as the process runs.
        unsafe { self.0.as_ref() }
    }
}

// SAFETY: a shared reference to `H` may cross threads when `H: Sync`; that is all this is.
unsafe impl<H: Sync> Send for HandlesRef<H> {}
// SAFETY: as above.
unsafe impl<H: Sync> Sync for HandlesRef<H> {}

/// A reference to boxed handles, for as long as the map that owns them.
fn extend<'p, H>(handles: &H, _owner: &'p SiteMap<H>) -> &'p H {
    // SAFETY: entries are never removed from the map, and the map is dropped only with its
    // owner, which the caller borrows for 'p; the Box keeps `H` at one address while the map
    // grows. So the `H` outlives 'p.
    unsafe { &*(handles as *const H) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn an_entry_tells_every_differing_byte_at_every_length() {
        for n in 0..40usize {
            let a: String = (0..n as u8).map(|i| (b'a' + i % 26) as char).collect();
            let entry = Entry::new(1, &["s", &a], ());
            let is_for = |v: &str| entry.is_for(1, &["s", v], &probes(&["s", v])[..2]);
            assert!(is_for(&a.clone()), "length {n}");
            for i in 0..n {
                let mut b = a.clone().into_bytes();
                b[i] ^= 0x20;
                let b = String::from_utf8(b).unwrap();
                assert!(!is_for(&b), "length {n}, byte {i}");
            }
            assert!(!is_for(&format!("{a}x")), "length {n} against {}", n + 1);
            assert!(
                !entry.is_for(2, &["s", &a], &probes(&["s", &a])[..2]),
                "another site"
            );
        }
    }

    fn pipeline(budget: usize) -> Pipeline {
        let config = Config::builder()
            .prometheus(false)
            .label_value_budget(budget)
            .build_with_env(|_| None)
            .unwrap();
        Pipeline::build(
            &config,
            opentelemetry_sdk::metrics::SdkMeterProvider::builder(),
        )
    }

    #[test]
    fn binds_once_per_label_set_and_site_and_keeps_flood_values_out() {
        static A: CallSite<String> = CallSite::new();
        static B: CallSite<String> = CallSite::new();
        let p = pipeline(2);
        let map = SiteMap::<String>::new();
        let mut binds = 0;
        {
            let mut get = |site: &CallSite<String>, project: &str| {
                map.get_or_bind(
                    &p,
                    site,
                    &[("server_name", "s"), ("project_id", project)],
                    |_, v| {
                        binds += 1;
                        v.join("/")
                    },
                )
                .cloned()
            };
            assert_eq!(get(&A, "p1").as_deref(), Some("s/p1"));
            assert_eq!(get(&A, "p1").as_deref(), Some("s/p1"));
            assert_eq!(
                get(&B, "p1").as_deref(),
                Some("s/p1"),
                "another site binds its own"
            );
            assert_eq!(get(&A, "p2").as_deref(), Some("s/p2"));
            for i in 0..100 {
                assert_eq!(get(&A, &format!("flood-{i}")).as_deref(), Some("s/_other"));
            }
        }
        assert_eq!(binds, 4, "p1 twice (two sites), p2, and _other once");
        assert_eq!(map.map.len(), 4);
    }

    /// The front table's `unsafe` read, stressed: threads look up more label sets than the
    /// table has slots, on two sites, so slots are overwritten while others read them; every
    /// lookup must return the handles bound for exactly its own site and values.
    #[test]
    fn front_table_hits_are_always_the_right_handles_under_concurrent_overwrites() {
        static A: CallSite<String> = CallSite::new();
        static B: CallSite<String> = CallSite::new();
        let p = pipeline(2);
        let map = SiteMap::<String>::new();
        let label_sets = FRONT_SETS * WAYS * 3 / 2;
        std::thread::scope(|scope| {
            for thread in 0..4usize {
                let (p, map) = (&p, &map);
                scope.spawn(move || {
                    for round in 0..3 {
                        for i in 0..label_sets {
                            // Each thread walks the sets in its own order.
                            let i = (i * (2 * thread + 1) + round) % label_sets;
                            let (site, name) = if i.is_multiple_of(2) {
                                (&A, "a")
                            } else {
                                (&B, "b")
                            };
                            // Both sites see every tool name.
                            let tool = format!("tool-{}", i / 2);
                            let got = map
                                .get_or_bind(
                                    p,
                                    site,
                                    &[("server_name", "s"), ("tool_name", &tool)],
                                    |_, v| format!("{name}:{}", v.join("/")),
                                )
                                .expect("under the label-set cap");
                            assert_eq!(*got, format!("{name}:s/{tool}"));
                        }
                    }
                });
            }
        });
        assert_eq!(map.map.len(), label_sets);
    }
}
