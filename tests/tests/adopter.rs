//! What a new user does: a fresh crate outside this workspace (edition 2024, as `cargo new`
//! makes it), README's dependency line (pointed at this checkout by path), and README's Rust
//! examples, unchanged, as the crate's examples. They must build.

use std::path::Path;
use std::process::Command;

use tests::prometheus::{repo, TempDir};

/// The fenced blocks of `lang` in `text`, with the language tag's options (`rust,no_run`).
fn blocks<'a>(text: &'a str, lang: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("```") {
        let after = &rest[start + 3..];
        let tag_end = after.find('\n').unwrap_or(after.len());
        let tag = &after[..tag_end];
        let body_and_rest = &after[tag_end + 1..];
        let end = body_and_rest.find("```").expect("a closed code block");
        if tag.split(',').next() == Some(lang) {
            out.push(&body_and_rest[..end]);
        }
        rest = &body_and_rest[end + 3..];
    }
    out
}

/// A README block as a program, the way rustdoc runs it: wrapped in `main` when it has none.
fn program(block: &str) -> String {
    if block.contains("fn main(") {
        block.to_owned()
    } else {
        format!("fn main() {{\n{block}\n}}\n")
    }
}

/// `cargo <args>` on the crate at `krate`, with the workspace's lockfile (so that it builds
/// with the versions tested here) and one target directory for every adopter crate; panics
/// with cargo's output, saying `what` failed, unless it succeeds. Returns its stdout.
fn cargo(root: &Path, krate: &Path, args: &[&str], what: &str) -> String {
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    let output = Command::new(env!("CARGO"))
        .args(args)
        .arg("--quiet")
        .arg("--manifest-path")
        .arg(krate.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(root.join("target").join("adopter"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{what}:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_fresh_crate_builds_the_readme_examples_with_the_readme_dependency_line() {
    let root = repo();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let toml = blocks(&readme, "toml");
    let dependency = toml
        .iter()
        .find_map(|b| b.lines().find(|l| l.starts_with("mcp-gateway-metrics = ")))
        .expect("README gives a [dependencies] line for mcp-gateway-metrics");
    let version = dependency
        .trim_start_matches("mcp-gateway-metrics = ")
        .trim_matches('"');
    let runtime = root.join("metrics-runtime");
    let examples = blocks(&readme, "rust");
    assert!(examples.len() >= 3, "README has its Rust examples");

    let dir = TempDir::new("adopter");
    let krate = dir.0.join("my-gateway");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::create_dir_all(krate.join("examples")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"my-gateway\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n\
             mcp-gateway-metrics = {{ version = \"{version}\", path = {:?} }}\n",
            runtime.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(krate.join("src/lib.rs"), "").unwrap();
    for (i, block) in examples.iter().enumerate() {
        std::fs::write(
            krate.join(format!("examples/readme_{i}.rs")),
            program(block),
        )
        .unwrap();
    }
    cargo(
        &root,
        &krate,
        &["build", "--examples"],
        "the README examples do not build in a fresh crate",
    );
    for i in 0..examples.len() {
        let built = root
            .join("target/adopter/debug/examples")
            .join(format!("readme_{i}"));
        assert!(built.is_file(), "{} was not built", built.display());
    }
}

/// A crate that renames the dependency (`telemetry = { package = "mcp-gateway-metrics" }`)
/// uses the attributes without `crate = ...`: the macros read the name from its manifest.
#[test]
fn a_renamed_dependency_needs_no_crate_argument() {
    let root = repo();
    let dir = TempDir::new("adopter-renamed");
    let krate = dir.0.join("renamed");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(
        krate.join("Cargo.toml"),
        format!(
            "[package]\nname = \"renamed\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\n\
             telemetry = {{ package = \"mcp-gateway-metrics\", path = {:?} }}\n",
            root.join("metrics-runtime").display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        krate.join("src/main.rs"),
        r#"use telemetry::{tool_call, Timeout};

#[tool_call(server = "github", tool = "search")]
#[telemetry::timeout_op(operation = cache, enforce = false)]
fn search() -> Result<u8, Timeout> {
    Ok(1)
}

fn main() {
    let meter = telemetry::testing::TestMeter::new();
    assert_eq!(search(), Ok(1));
    let calls = meter.counter("enkrypt_tool_calls_total", &[("tool_name", "search")]);
    let ops = meter.counter("enkrypt_timeout_operations_successful", &[("operation_type", "cache")]);
    println!("calls={calls} operations={ops}");
}
"#,
    )
    .unwrap();
    let stdout = cargo(
        &root,
        &krate,
        &["run"],
        "a crate with a renamed dependency does not build or run",
    );
    assert_eq!(stdout.trim(), "calls=1 operations=1");
}
