//! Handles bound to label sets, per call site, owned by their pipeline.
//!
//! A call site (a `static` in the expansion, or one per metric for the typed API) is only an
//! identity. The handles it binds live in the pipeline, in a concurrent map (papaya: lock-free
//! reads, no scan) keyed by the site and the label values, and die with the pipeline.
//!
//! A lookup uses the values as given (length-bounded first, so that long values cannot key
//! the map); on a miss the values are admitted ([`crate::label_bounds`]), and the handles are
//! bound and stored under the admitted values. So a flood of request values past their budget
//! adds no entry: each such call takes the admission path and finds the `_other` handles. A
//! pipeline keeps at most [`MAX_LABEL_SETS`] label sets per handle type; past it, recording
//! takes the SDK's unbound path (still bounded by the cardinality limit).

use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;

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

/// The handles a pipeline bound for the sites of one handle type.
pub(crate) struct SiteMap<H> {
    map: papaya::HashMap<SiteKey, Box<H>, FixedState>,
}

impl<H> std::fmt::Debug for SiteMap<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteMap")
            .field("len", &self.map.len())
            .finish_non_exhaustive()
    }
}

const HASHER: FixedState = FixedState::with_seed(0x6d63_705f_6d65_7472);

/// A stored key: the site and its label values.
#[derive(PartialEq, Eq)]
struct SiteKey {
    site: usize,
    values: Box<[Box<str>]>,
}

/// A lookup key, borrowing the values.
struct Lookup<'a> {
    site: usize,
    values: &'a [&'a str],
}

impl Hash for SiteKey {
    fn hash<S: Hasher>(&self, state: &mut S) {
        self.site.hash(state);
        for v in self.values.iter() {
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

impl papaya::Equivalent<SiteKey> for Lookup<'_> {
    fn equivalent(&self, key: &SiteKey) -> bool {
        self.site == key.site
            && self.values.len() == key.values.len()
            && self
                .values
                .iter()
                .zip(key.values.iter())
                .all(|(a, b)| **a == **b)
    }
}

impl<H: Send + Sync> SiteMap<H> {
    pub(crate) fn new() -> Self {
        SiteMap {
            map: papaya::HashMap::builder().hasher(HASHER).build(),
        }
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
        const MAX: usize = 4;
        debug_assert!(labels.len() <= MAX);
        let mut values = [""; MAX];
        for (slot, (_, v)) in values.iter_mut().zip(labels) {
            *slot = pipeline.bounds.length(v);
        }
        let values = &values[..labels.len().min(MAX)];
        let map = self.map.pin();
        let key = Lookup {
            site: site.id(),
            values,
        };
        if let Some(handles) = map.get(&key) {
            return Some(extend(&**handles, self));
        }
        self.bind(pipeline, site, labels, bind)
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
        if let Some(handles) = map.get(&lookup) {
            return Some(extend(&**handles, self));
        }
        if map.len() >= MAX_LABEL_SETS {
            return None;
        }
        let key = SiteKey {
            site: site.id(),
            values: admitted.iter().map(|v| Box::<str>::from(*v)).collect(),
        };
        let handles = map.get_or_insert_with(key, || Box::new(bind(pipeline, &admitted)));
        Some(extend(&**handles, self))
    }
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
}
