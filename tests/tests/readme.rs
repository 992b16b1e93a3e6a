//! The reference page's metric table is the catalog, row for row; README runs what CI runs.

use mcp_gateway_metrics::catalog::{MetricKind, CATALOG};

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

fn metric_reference() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/metrics.md")).unwrap()
}

fn format_bounds(bounds: &[f64]) -> String {
    if bounds.is_empty() {
        return "—".into();
    }
    bounds
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn the_metric_table_matches_the_catalog() {
    let text = metric_reference();
    let rows: Vec<Vec<String>> = text
        .lines()
        .filter(|l| l.starts_with("| `enkrypt_"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    assert_eq!(
        rows.len(),
        CATALOG.len(),
        "one docs/metrics.md row per catalog entry"
    );
    for (row, def) in rows.iter().zip(CATALOG) {
        assert_eq!(row[0], format!("`{}`", def.name));
        let kind = match def.kind {
            MetricKind::Counter => "counter",
            MetricKind::Histogram => "histogram",
            MetricKind::UpDownCounter => "gauge (up-down counter)",
        };
        assert_eq!(row[1], kind, "{}", def.name);
        let labels = if def.labels.is_empty() {
            "—".to_string()
        } else {
            def.labels.join(", ")
        };
        assert_eq!(row[2], labels, "{}", def.name);
        assert_eq!(row[3], format_bounds(def.buckets), "{}", def.name);
        assert_eq!(row[4], def.description, "{}", def.name);
    }
}

#[test]
fn the_ci_script_runs_the_readme_test_command() {
    let text = readme();
    let command = text
        .split("## Test it")
        .nth(1)
        .and_then(|s| s.lines().find(|l| l.starts_with("cargo test")))
        .expect("README gives a cargo test command under 'Test it'");
    let ci = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == command),
        ".ci/run does not run `{command}`"
    );
}
