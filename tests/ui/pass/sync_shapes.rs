//! Every synchronous shape: free functions, methods on `self`, `&self`, `&mut self`,
//! generics, `impl Trait`, borrowed returns, `Result` and plain returns, `#[track_caller]`.

use std::fmt::Display;
use std::panic::Location;

use mcp_gateway_metrics::testing::TestMeter;
use mcp_gateway_metrics::{cache_lookup, timeout_op, tool_call, ErrorType};

#[derive(Debug, ErrorType)]
enum Error {
    NotFound,
}

/// Documentation is kept.
#[tool_call(server = "s", tool = "free")]
#[inline]
pub fn free(x: u32) -> Result<u32, Error> {
    if x == 0 {
        return Err(Error::NotFound);
    }
    let parsed: u32 = "2".parse().map_err(|_| Error::NotFound)?;
    Ok(x * parsed)
}

struct Registry {
    names: Vec<String>,
}

impl Registry {
    #[tool_call(server = "s", tool = "by_ref")]
    fn first(&self) -> Option<&String> {
        self.names.first()
    }

    #[tool_call(server = "s", tool = "by_mut")]
    fn names_mut(&mut self) -> &mut Vec<String> {
        &mut self.names
    }

    #[tool_call(server = "s", tool = "by_value")]
    fn into_names(self) -> Vec<String> {
        self.names
    }

    #[tool_call(server = "s", tool = "impl_trait")]
    fn iter(&self) -> impl Iterator<Item = &String> + '_ {
        self.names.iter()
    }
}

#[tool_call(server = "s", tool = "generic")]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> T
where
    T: Display,
{
    let mut best = items[0];
    for &item in items {
        if item > best {
            best = item;
        }
    }
    best
}

#[tool_call(server = "s", tool = "track_caller")]
#[track_caller]
fn caller_line(fail: bool) -> Result<u32, Error> {
    if fail {
        return Err(Error::NotFound);
    }
    let _checked = Some(1).ok_or(Error::NotFound)?;
    let values = vec![Ok::<u32, Error>(3)?];
    Ok(Location::caller().line() + values[0] - 3)
}

#[cache_lookup(cache_type = server_config)]
#[timeout_op(operation = "cache", timeout = "5s")]
fn lookup(key: &str) -> Option<&'static str> {
    (key == "github").then_some("config")
}

fn main() {
    let meter = TestMeter::new();
    assert_eq!(free(2).unwrap(), 4);
    assert!(free(0).is_err());
    let mut registry = Registry { names: vec!["a".into()] };
    assert_eq!(registry.first().map(String::as_str), Some("a"));
    registry.names_mut().push("b".into());
    assert_eq!(registry.iter().count(), 2);
    assert_eq!(registry.into_names().len(), 2);
    assert_eq!(largest(&[3, 9, 4]), 9);
    let line = line!() + 1;
    assert_eq!(caller_line(false).unwrap(), line, "#[track_caller] still reports the caller");
    assert!(caller_line(true).is_err());
    assert_eq!(lookup("github"), Some("config"));

    assert_eq!(meter.counter("enkrypt_tool_calls_total", &[]), 9);
    assert_eq!(meter.counter("enkrypt_tool_call_failure_total", &[("error_type", "not_found")]), 2);
    assert_eq!(meter.counter("enkrypt_cache_hits_total", &[("cache_type", "server_config")]), 1);
    assert_eq!(meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "cache")]), 1);
}
