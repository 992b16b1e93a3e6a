//! The gateway's caches, one per `cache_type` of the reference: discovered tools per server
//! (with a TTL), the gateway configuration per project, and each server's configuration.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use mcp_gateway_metrics::cache_lookup;
use rmcp::model::Tool;
use serde_json::Value;

/// The three caches.
#[derive(Debug)]
pub struct Caches {
    ttl: Duration,
    tools: Mutex<HashMap<String, (Instant, Vec<Tool>)>>,
    gateway_configs: Mutex<HashMap<String, Value>>,
    server_configs: Mutex<HashMap<String, Value>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Caches {
    pub fn new(ttl: Duration) -> Self {
        Caches {
            ttl,
            tools: Mutex::default(),
            gateway_configs: Mutex::default(),
            server_configs: Mutex::default(),
        }
    }

    /// A server's tools, if discovered less than the TTL ago.
    #[cache_lookup(cache_type = tools)]
    pub fn tools(&self, server_name: &str) -> Option<Vec<Tool>> {
        let tools = lock(&self.tools);
        let (at, tools) = tools.get(server_name)?;
        (at.elapsed() < self.ttl).then(|| tools.clone())
    }

    pub fn put_tools(&self, server_name: &str, tools: Vec<Tool>) {
        lock(&self.tools).insert(server_name.to_owned(), (Instant::now(), tools));
    }

    /// The gateway configuration as a project sees it.
    #[cache_lookup(cache_type = gateway_config)]
    pub fn gateway_config(&self, project_id: &str) -> Option<Value> {
        lock(&self.gateway_configs).get(project_id).cloned()
    }

    pub fn put_gateway_config(&self, project_id: &str, value: Value) {
        lock(&self.gateway_configs).insert(project_id.to_owned(), value);
    }

    /// One server's configuration, as `enkrypt_get_server_info` shows it.
    #[cache_lookup(cache_type = server_config)]
    pub fn server_config(&self, server_name: &str) -> Option<Value> {
        lock(&self.server_configs).get(server_name).cloned()
    }

    pub fn put_server_config(&self, server_name: &str, value: Value) {
        lock(&self.server_configs).insert(server_name.to_owned(), value);
    }

    /// Sizes, for `enkrypt_get_cache_status`.
    pub fn status(&self) -> Value {
        serde_json::json!({
            "tools": lock(&self.tools).len(),
            "gateway_config": lock(&self.gateway_configs).len(),
            "server_config": lock(&self.server_configs).len(),
            "tools_ttl_secs": self.ttl.as_secs(),
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
        fn clear_in<V>(map: &Mutex<HashMap<String, V>>, key: Option<&str>) -> usize {
            let mut map = lock(map);
            match key {
                Some(k) => usize::from(map.remove(k).is_some()),
                None => {
                    let n = map.len();
                    map.clear();
                    n
                }
            }
        }
        Ok(match cache_type {
            "all" => {
                clear_in(&self.tools, server_name)
                    + clear_in(&self.gateway_configs, id)
                    + clear_in(&self.server_configs, server_name)
            }
            "tools" => clear_in(&self.tools, server_name),
            "gateway_config" => clear_in(&self.gateway_configs, id),
            "server_config" => clear_in(&self.server_configs, server_name),
            other => {
                return Err(format!(
                    "unknown cache_type {other:?}; expected all, tools, gateway_config or server_config"
                ))
            }
        })
    }
}
