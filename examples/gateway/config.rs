//! The gateway's configuration file: which upstream MCP servers it fronts and with which
//! guardrail policies. Without a file, the built-in demo servers run in-process.
//!
//! ```json
//! {
//!   "gateway_key": "change-me",
//!   "projects": ["web-app", "batch"],
//!   "users": ["alice", "bob", "anonymous"],
//!   "cache_ttl_secs": 300,
//!   "servers": [
//!     { "name": "github", "description": "GitHub tools",
//!       "command": "github-mcp-server", "args": ["stdio"], "env": { "GITHUB_TOKEN": "..." },
//!       "enforce_timeout": true,
//!       "guardrails": { "input": { "enabled": true, "block": ["injection_attack", "toxicity"],
//!                                  "keywords": ["internal-only"] },
//!                       "output": { "enabled": true, "block": ["hallucination"] } } },
//!     { "name": "docs", "url": "http://127.0.0.1:9000/mcp" }
//!   ]
//! }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// The key clients send in `x-gateway-key`.
    pub gateway_key: String,
    /// The projects the key may act for: `x-project-id` must name one of them, so no caller
    /// can invent project ids (each would become a label value and a cache entry). Empty:
    /// any project id is accepted (the metrics then bound the values they keep).
    #[serde(default)]
    pub projects: Vec<String>,
    /// The users the key may act for, picked by `x-user-id` (absent: `anonymous`) the same
    /// way. Empty: any user id is accepted.
    #[serde(default)]
    pub users: Vec<String>,
    /// How long discovered tool lists stay cached.
    #[serde(default = "default_ttl")]
    pub cache_ttl_secs: u64,
    /// The upstream servers.
    pub servers: Vec<ServerConfig>,
}

fn default_ttl() -> u64 {
    300
}

/// One upstream MCP server: reached through exactly one of `command` (stdio, with `args`
/// and `env`), `url` (streamable HTTP) or `builtin` (a demo server).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub builtin: Option<String>,
    #[serde(default)]
    pub guardrails: GuardrailPolicy,
    /// Cut calls off at the tool_execution timeout (default), or only observe overruns.
    #[serde(default = "yes")]
    pub enforce_timeout: bool,
}

/// How the gateway reaches an upstream server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportConfig {
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
    Http {
        url: String,
    },
    Builtin {
        builtin: String,
    },
}

impl ServerConfig {
    /// The transport; `Err` names what is wrong when not exactly one is given.
    pub fn transport(&self) -> Result<TransportConfig, String> {
        match (&self.command, &self.url, &self.builtin) {
            (Some(command), None, None) => Ok(TransportConfig::Stdio {
                command: command.clone(),
                args: self.args.clone(),
                env: self.env.clone(),
            }),
            (None, Some(url), None) => Ok(TransportConfig::Http { url: url.clone() }),
            (None, None, Some(builtin)) => Ok(TransportConfig::Builtin { builtin: builtin.clone() }),
            _ => Err(format!(
                "server {:?} needs exactly one of \"command\" (stdio), \"url\" (streamable HTTP) or \"builtin\"",
                self.name
            )),
        }
    }
}

/// What the guardrails do for one server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailPolicy {
    #[serde(default = "on")]
    pub input: SidePolicy,
    #[serde(default = "on")]
    pub output: SidePolicy,
}

impl Default for GuardrailPolicy {
    fn default() -> Self {
        GuardrailPolicy {
            input: on(),
            output: on(),
        }
    }
}

/// The policy of one side: on or off, and which violation types block (the others warn).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SidePolicy {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_block")]
    pub block: Vec<String>,
    /// Banned words for the keyword detector.
    #[serde(default)]
    pub keywords: Vec<String>,
}

fn on() -> SidePolicy {
    SidePolicy {
        enabled: true,
        block: default_block(),
        keywords: Vec::new(),
    }
}

fn yes() -> bool {
    true
}

/// The gateway's default block list, plus the output checks.
pub fn default_block() -> Vec<String> {
    [
        "policy_violation",
        "injection_attack",
        "topic_detector",
        "nsfw",
        "toxicity",
        "pii",
        "keyword_detector",
        "bias",
        "sponge_attack",
        "hallucination",
    ]
    .map(String::from)
    .to_vec()
}

const VIOLATION_TYPES: &[&str] = &[
    "pii",
    "injection_attack",
    "toxicity",
    "nsfw",
    "keyword_detector",
    "policy_violation",
    "bias",
    "sponge_attack",
    "topic_detector",
    "system_prompt_protection",
    "copyright_protection",
    "relevancy",
    "adherence",
    "hallucination",
    "custom",
];

impl GatewayConfig {
    /// Reads and validates a file; the error names the file and what is wrong.
    pub fn load(path: &Path) -> Result<GatewayConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the gateway config {}: {e}", path.display()))?;
        let config: GatewayConfig = serde_json::from_str(&text)
            .map_err(|e| format!("invalid gateway config {}: {e}", path.display()))?;
        config
            .validate()
            .map_err(|e| format!("invalid gateway config {}: {e}", path.display()))?;
        Ok(config)
    }

    /// The built-in demo: three upstream servers running in-process.
    pub fn demo() -> GatewayConfig {
        let builtin = |name: &str, description: &str| ServerConfig {
            name: name.into(),
            description: description.into(),
            command: None,
            args: Vec::new(),
            env: BTreeMap::new(),
            url: None,
            builtin: Some(name.into()),
            guardrails: GuardrailPolicy::default(),
            // The flaky server's slow fetches are observed, not cut off.
            enforce_timeout: name != "flaky",
        };
        GatewayConfig {
            gateway_key: "demo-key".into(),
            projects: ["demo-project", "p1", "p2", "p3"]
                .map(String::from)
                .to_vec(),
            // The demo takes any user id (its load generator makes some up); the metrics
            // bound how many distinct ones they keep.
            users: Vec::new(),
            cache_ttl_secs: 300,
            servers: vec![
                builtin("github", "GitHub-like tools: issues, code search, files"),
                builtin(
                    "slow",
                    "An analysis server that sometimes passes its timeout",
                ),
                builtin(
                    "flaky",
                    "A fetch server whose upstream fails every third call",
                ),
            ],
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.gateway_key.trim().is_empty() {
            return Err("gateway_key must not be empty".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for server in &self.servers {
            if !seen.insert(&server.name) {
                return Err(format!("server {:?} is configured twice", server.name));
            }
            for side in [&server.guardrails.input, &server.guardrails.output] {
                if let Some(bad) = side
                    .block
                    .iter()
                    .find(|v| !VIOLATION_TYPES.contains(&v.as_str()))
                {
                    return Err(format!(
                        "server {:?}: unknown violation type {bad:?} in a block list; expected one of: {}",
                        server.name,
                        VIOLATION_TYPES.join(", ")
                    ));
                }
            }
            let transport = server.transport()?;
            if let TransportConfig::Http { url } = &transport {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(format!(
                        "server {:?}: url {url:?} is not an http(s) URL",
                        server.name
                    ));
                }
            }
            if let TransportConfig::Builtin { builtin } = &transport {
                if !crate::gateway::demo_servers::NAMES.contains(&builtin.as_str()) {
                    return Err(format!(
                        "server {:?}: unknown builtin {builtin:?}; expected one of: {}",
                        server.name,
                        crate::gateway::demo_servers::NAMES.join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn server(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(json: &str) -> Result<GatewayConfig, String> {
        let dir = std::env::temp_dir().join(format!(
            "gw-config-test-{}-{}",
            std::process::id(),
            json.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gw.json");
        std::fs::write(&path, json).unwrap();
        let result = GatewayConfig::load(&path);
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn bad_files_are_refused_with_the_problem_named() {
        let cases = [
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a"}]}"#,
                "exactly one of",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "url": "x", "builtin": "github"}]}"#,
                "exactly one of",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "url": "ftp://x"}]}"#,
                "not an http(s) URL",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "builtin": "gitlab"}]}"#,
                "unknown builtin",
            ),
            (
                r#"{"gateway_key": "", "servers": []}"#,
                "gateway_key must not be empty",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "builtin": "github"}, {"name": "a", "builtin": "slow"}]}"#,
                "configured twice",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "builtin": "github", "guardrails": {"input": {"block": ["spam"]}}}]}"#,
                "unknown violation type \"spam\"",
            ),
            (
                r#"{"gateway_key": "k", "servers": [{"name": "a", "builtin": "github", "retries": 3}]}"#,
                "unknown field `retries`",
            ),
        ];
        for (json, expected) in cases {
            let err = load(json).unwrap_err();
            assert!(err.contains(expected), "{json}: {err}");
            assert!(err.contains("gw.json"), "{err}");
        }
        let ok = load(r#"{"gateway_key": "k", "servers": [{"name": "docs", "url": "http://127.0.0.1:9000/mcp"}]}"#).unwrap();
        assert_eq!(
            ok.servers[0].transport(),
            Ok(TransportConfig::Http {
                url: "http://127.0.0.1:9000/mcp".into()
            })
        );
        assert_eq!(ok.cache_ttl_secs, 300);
    }
}
