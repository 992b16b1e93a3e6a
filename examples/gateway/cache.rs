//! The gateway's caches, one per `cache_type` of the reference: discovered tools per server,
//! the gateway configuration per project, and each server's configuration. Every cache is
//! bounded twice: in entries ([`CACHE_CAPACITY`], least useful evicted first) and in age (the
//! configured TTL), so no stream of new keys (projects, say) grows the gateway's memory.

use std::time::{Duration, Instant};

use mcp_gateway_metrics::cache_lookup;
use quick_cache::sync::Cache;
use rmcp::model::Tool;
use serde_json::Value;

/// The most entries each cache holds.
pub const CACHE_CAPACITY: usize = 1_000;

/// One bounded cache whose entries expire `ttl` after they were put.
struct Expiring<V> {
    ttl: Duration,
    entries: Cache<String, (Instant, V)>,
}

impl<V: Clone> Expiring<V> {
    fn new(ttl: Duration) -> Self {
        Expiring {
            ttl,
            entries: Cache::new(CACHE_CAPACITY),
        }
    }

    fn get(&self, key: &str) -> Option<V> {
        let (at, value) = self.entries.get(key)?;
        if at.elapsed() < self.ttl {
            Some(value)
        } else {
            self.entries.remove(key);
            None
        }
    }

    fn put(&self, key: &str, value: V) {
        self.entries.insert(key.to_owned(), (Instant::now(), value));
    }

    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Removes `key`, or everything; how many entries went.
    fn clear(&self, key: Option<&str>) -> usize {
        match key {
            Some(k) => usize::from(self.entries.remove(k).is_some()),
            None => {
                let n = self.entries.len();
                self.entries.clear();
                n
            }
        }
    }
}

/// The three caches.
pub struct Caches {
    ttl: Duration,
    tools: Expiring<Vec<Tool>>,
    gateway_configs: Expiring<Value>,
    server_configs: Expiring<Value>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches").field("ttl", &self.ttl).finish()
    }
}

impl Caches {
    pub fn new(ttl: Duration) -> Self {
        Caches {
            ttl,
            tools: Expiring::new(ttl),
            gateway_configs: Expiring::new(ttl),
            server_configs: Expiring::new(ttl),
        }
    }

    /// A server's tools, if discovered less than the TTL ago.
    #[cache_lookup(cache_type = tools)]
    pub fn tools(&self, server_name: &str) -> Option<Vec<Tool>> {
        self.tools.get(server_name)
    }

    pub fn put_tools(&self, server_name: &str, tools: Vec<Tool>) {
        self.tools.put(server_name, tools);
    }

    /// The gateway configuration as a project sees it.
    #[cache_lookup(cache_type = gateway_config)]
    pub fn gateway_config(&self, project_id: &str) -> Option<Value> {
        self.gateway_configs.get(project_id)
    }

    pub fn put_gateway_config(&self, project_id: &str, value: Value) {
        self.gateway_configs.put(project_id, value);
    }

    /// One server's configuration, as `enkrypt_get_server_info` shows it.
    #[cache_lookup(cache_type = server_config)]
    pub fn server_config(&self, server_name: &str) -> Option<Value> {
        self.server_configs.get(server_name)
    }

    pub fn put_server_config(&self, server_name: &str, value: Value) {
        self.server_configs.put(server_name, value);
    }

    /// Sizes, for `enkrypt_get_cache_status`.
    pub fn status(&self) -> Value {
        serde_json::json!({
            "tools": self.tools.len(),
            "gateway_config": self.gateway_configs.len(),
            "server_config": self.server_configs.len(),
            "tools_ttl_secs": self.ttl.as_secs(),
            "capacity": CACHE_CAPACITY,
        })
    }

    /// Empties caches: `cache_type` is all, tools, gateway_config or server_config;
    /// `id` narrows the gateway config to a project, `server_name` the others to a server.
    pub fn clear(
        &self,
        cache_type: &str,
        id: Option<&str>,
        server_name: Option<&str>,
    ) -> Result<usize, String> {
        Ok(match cache_type {
            "all" => {
                self.tools.clear(server_name)
                    + self.gateway_configs.clear(id)
                    + self.server_configs.clear(server_name)
            }
            "tools" => self.tools.clear(server_name),
            "gateway_config" => self.gateway_configs.clear(id),
            "server_config" => self.server_configs.clear(server_name),
            other => {
                return Err(format!(
                    "unknown cache_type {other:?}; expected all, tools, gateway_config or server_config"
                ))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_keys_stays_within_the_capacity() {
        let caches = Caches::new(Duration::from_secs(300));
        for i in 0..(CACHE_CAPACITY * 5) {
            caches.put_gateway_config(&format!("project-{i}"), Value::Null);
        }
        assert!(caches.gateway_configs.len() <= CACHE_CAPACITY);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let caches = Caches::new(Duration::from_millis(1));
        caches.put_server_config("github", Value::Bool(true));
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(caches.server_config("github"), None);
        assert_eq!(caches.server_configs.len(), 0);
    }
}
