//! Server discovery and the caches.

use super::emit;
use crate::catalog::Metric;
use crate::instruments::Measurement;
use crate::labels::CacheType;
use crate::pipeline;

/// Counts one call of `enkrypt_list_all_servers` (`enkrypt_list_all_servers_calls`).
///
/// `user_id` is in the reference's label set; an operator can drop it with
/// `drop_label(Metric::ListAllServersCalls, "user_id")` (or `MCP_METRICS_DROP_LABELS`), and the
/// cardinality limit bounds it either way.
pub fn list_all_servers(user_id: &str, project_id: &str) {
    emit(
        Metric::ListAllServersCalls,
        Measurement::Add(1),
        &[("user_id", user_id), ("project_id", project_id)],
    );
}

/// Adds `count` servers discovered with tools under one MCP configuration
/// (`enkrypt_servers_discovered`).
pub fn servers_discovered(mcp_config_id: &str, count: u64) {
    emit(
        Metric::ServersDiscovered,
        Measurement::Add(count),
        &[("mcp_config_id", mcp_config_id)],
    );
}

/// Counts a cache hit (`enkrypt_cache_hits_total{cache_type}`).
///
/// ```
/// use mcp_gateway_metrics::{record, testing::TestMeter, CacheType};
/// let meter = TestMeter::new();
/// record::cache_hit(CacheType::Tools);
/// record::cache_lookup(CacheType::Tools, false);
/// assert_eq!(meter.counter("enkrypt_cache_hits_total", &[("cache_type", "tools")]), 1);
/// assert_eq!(meter.counter("enkrypt_cache_misses_total", &[("cache_type", "tools")]), 1);
/// ```
pub fn cache_hit(cache_type: CacheType) {
    cache_lookup(cache_type, true);
}

/// Counts a cache miss (`enkrypt_cache_misses_total{cache_type}`).
pub fn cache_miss(cache_type: CacheType) {
    cache_lookup(cache_type, false);
}

/// Counts a cache lookup as a hit or a miss. Bound once per pipeline: one atomic add.
pub fn cache_lookup(cache_type: CacheType, hit: bool) {
    pipeline::with_current(|p| match p {
        Some(p) => {
            let counters = if hit {
                &p.prebound.cache_hits
            } else {
                &p.prebound.cache_misses
            };
            counters[cache_type.index()].add(1);
        }
        None => emit(
            if hit {
                Metric::CacheHits
            } else {
                Metric::CacheMisses
            },
            Measurement::Add(1),
            &[("cache_type", cache_type.as_str())],
        ),
    });
}
