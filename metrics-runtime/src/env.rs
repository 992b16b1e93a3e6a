//! Parsing of setting values, shared by the builder and the environment variables.
//!
//! Every parser returns a [`ConfigError`] that names the setting and the value.

use std::net::SocketAddr;
use std::time::Duration;

use crate::error::ConfigError;

/// Where a setting's value came from, for error messages: the builder method and the
/// environment variable that can also set it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Setting {
    pub(crate) method: &'static str,
    pub(crate) var: &'static str,
}

impl Setting {
    pub(crate) const fn new(method: &'static str, var: &'static str) -> Self {
        Setting { method, var }
    }

    pub(crate) fn error(&self, value: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(format!("{} ({})", self.method, self.var), value, problem)
    }
}

/// A process environment, injectable so that configuration can be tested without touching
/// the real one.
pub(crate) trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name).filter(|v| !v.trim().is_empty())
    }
}

/// `host:port`, where host is an IP address or a name resolved now (`localhost:9464`).
pub(crate) fn socket_addr(setting: Setting, value: &str) -> Result<SocketAddr, ConfigError> {
    use std::net::ToSocketAddrs as _;
    let v = value.trim();
    if let Ok(address) = v.parse() {
        return Ok(address);
    }
    let expected = "expected host:port such as 127.0.0.1:9464, localhost:9464 or [::1]:9464";
    let (_, port) = v
        .rsplit_once(':')
        .ok_or_else(|| setting.error(value, expected))?;
    if port.parse::<u16>().is_err() {
        return Err(setting.error(value, expected));
    }
    let mut resolved = v
        .to_socket_addrs()
        .map_err(|e| setting.error(value, format!("the host name does not resolve ({e})")))?;
    resolved
        .next()
        .ok_or_else(|| setting.error(value, "the host name resolves to no address"))
}

/// A boolean as the OpenTelemetry specification reads it: `true` (any case) is true; `false`
/// and anything else are false, the latter with a warning.
pub(crate) fn flag(setting: Setting, value: &str) -> bool {
    let v = value.trim();
    if v.eq_ignore_ascii_case("true") {
        return true;
    }
    if !v.eq_ignore_ascii_case("false") {
        tracing::warn!(
            target: "mcp_gateway_metrics",
            "{} = {value:?} is neither true nor false; read as false",
            setting.var
        );
    }
    false
}

/// An HTTP header that every OTLP export carries: a token name and a visible-ASCII value.
/// (The OTLP exporter would silently drop anything else.)
pub(crate) fn header(setting: Setting, name: &str, value: &str) -> Result<(), ConfigError> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(setting.error(
            name,
            format!(
                "{name:?} is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
            ),
        ));
    }
    if !value.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
        return Err(setting.error(
            &format!("{name}={value}"),
            format!(
                "the value of header {name:?} may hold visible ASCII, spaces and tabs only; \
                 percent-encode anything else"
            ),
        ));
    }
    Ok(())
}

/// A human duration such as `15s`, `500ms` or `2m`.
pub(crate) fn duration(setting: Setting, value: &str) -> Result<Duration, ConfigError> {
    let parsed = humantime::parse_duration(value.trim()).map_err(|e| {
        setting.error(
            value,
            format!("{e}; expected a duration such as 15s, 500ms or 2m"),
        )
    })?;
    positive(setting, value, parsed)
}

/// A duration in milliseconds, as the OpenTelemetry variables give them.
pub(crate) fn millis(setting: Setting, value: &str) -> Result<Duration, ConfigError> {
    let ms: u64 = value.trim().parse().map_err(|_| {
        setting.error(
            value,
            "expected a whole number of milliseconds, such as 60000",
        )
    })?;
    positive(setting, value, Duration::from_millis(ms))
}

fn positive(setting: Setting, value: &str, d: Duration) -> Result<Duration, ConfigError> {
    if d.is_zero() {
        Err(setting.error(value, "must be greater than zero"))
    } else {
        Ok(d)
    }
}

/// An http(s) URL with a host, e.g. `http://localhost:4318`.
pub(crate) fn endpoint(setting: Setting, value: &str) -> Result<String, ConfigError> {
    let v = value.trim();
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"))
        .ok_or_else(|| {
            setting.error(
                value,
                "expected an http:// or https:// URL such as http://localhost:4318",
            )
        })?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
        _ => (authority, None),
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(setting.error(value, "the URL has no host"));
    }
    if let Some(port) = port {
        if port.parse::<u16>().is_err() {
            return Err(setting.error(
                value,
                format!("the port {port:?} is not a number from 0 to 65535"),
            ));
        }
    }
    Ok(v.to_owned())
}

/// `key=value` pairs separated by commas (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS).
/// Values are percent-decoded, as the OpenTelemetry specification says.
pub(crate) fn key_values(
    setting: Setting,
    value: &str,
) -> Result<Vec<(String, String)>, ConfigError> {
    value
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                setting.error(value, format!("{item:?} is not of the form key=value"))
            })?;
            let k = k.trim();
            if k.is_empty() {
                return Err(setting.error(value, format!("{item:?} has an empty key")));
            }
            Ok((k.to_owned(), percent_decode(v.trim())))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Histogram bucket boundaries: finite, strictly increasing, at least one.
pub(crate) fn buckets(setting: Setting, metric: &str, bounds: &[f64]) -> Result<(), ConfigError> {
    let shown = format!("{metric}={bounds:?}");
    if bounds.is_empty() {
        return Err(setting.error(&shown, "give at least one bucket boundary"));
    }
    if let Some(b) = bounds.iter().find(|b| !b.is_finite()) {
        return Err(setting.error(
            &shown,
            format!("{b} is not a finite number; +Inf is always added by the exposition"),
        ));
    }
    if let Some(w) = bounds.windows(2).find(|w| w[0] >= w[1]) {
        return Err(setting.error(
            &shown,
            format!(
                "boundaries must be strictly increasing, but {} is followed by {}",
                w[0], w[1]
            ),
        ));
    }
    Ok(())
}

/// A list of numbers such as `0.1,0.5,1`.
pub(crate) fn number_list(setting: Setting, item: &str) -> Result<Vec<f64>, ConfigError> {
    item.split(',')
        .map(|n| {
            n.trim().parse::<f64>().map_err(|_| {
                setting.error(
                    item,
                    format!("{:?} is not a number; expected e.g. 0.1,0.5,1", n.trim()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Setting = Setting::new("test_setting", "TEST_VAR");

    #[test]
    fn endpoints_need_a_scheme_a_host_and_a_numeric_port() {
        assert!(endpoint(S, "http://localhost:4318").is_ok());
        assert!(endpoint(S, "https://collector.example/v1/metrics").is_ok());
        assert!(endpoint(S, "http://[::1]:4318").is_ok());
        for bad in ["localhost:4318", "http://", "http://host:port", "ftp://x"] {
            let e = endpoint(S, bad).unwrap_err();
            assert_eq!(e.value(), bad);
            assert!(e.setting().contains("TEST_VAR"));
        }
    }

    #[test]
    fn key_values_are_split_and_percent_decoded() {
        let kv = key_values(S, "a=1, b = x%20y ,c=%2C").unwrap();
        assert_eq!(
            kv,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), ",".into())
            ]
        );
        assert!(key_values(S, "a=1,b")
            .unwrap_err()
            .to_string()
            .contains("\"b\""));
    }

    #[test]
    fn addresses_take_ips_and_host_names() {
        assert_eq!(
            socket_addr(S, "127.0.0.1:9464").unwrap(),
            "127.0.0.1:9464".parse().unwrap()
        );
        assert!(socket_addr(S, "localhost:9464").unwrap().ip().is_loopback());
        for bad in ["localhost", "localhost:http", "127.0.0.1:99999", ":9464x"] {
            let e = socket_addr(S, bad).unwrap_err();
            assert_eq!(e.value(), bad);
        }
    }

    #[test]
    fn headers_must_be_valid_http() {
        assert!(header(S, "authorization", "Bearer abc").is_ok());
        assert!(header(S, "x api", "1").is_err());
        assert!(header(S, "", "1").is_err());
        assert!(header(S, "x-api", "caf\u{e9}").is_err());
    }

    #[test]
    fn flags_follow_the_specification() {
        assert!(flag(S, "TRUE"));
        assert!(!flag(S, "false"));
        assert!(!flag(S, "yes"));
    }

    #[test]
    fn durations_reject_zero_and_garbage() {
        assert_eq!(duration(S, "15s").unwrap(), Duration::from_secs(15));
        assert_eq!(millis(S, "1500").unwrap(), Duration::from_millis(1500));
        assert!(duration(S, "0s").is_err());
        assert!(duration(S, "soon").is_err());
        assert!(millis(S, "1.5").is_err());
    }

    #[test]
    fn buckets_must_be_finite_and_increasing() {
        assert!(buckets(S, "m", &[0.1, 1.0]).is_ok());
        assert!(buckets(S, "m", &[]).is_err());
        assert!(buckets(S, "m", &[1.0, 1.0]).is_err());
        assert!(buckets(S, "m", &[f64::NAN]).is_err());
        assert!(number_list(S, "0.1,x").is_err());
    }
}
