//! `cargo run --example quickstart -- --print` prints all 32 metric families.

use std::process::Command;

use metrics_runtime::catalog::CATALOG;
use tests::exposition::parse;

/// The example binary that `cargo test --workspace` built next to this test, or else
/// `cargo run --example quickstart`.
fn quickstart() -> Command {
    let test_exe = std::env::current_exe().unwrap();
    let profile_dir = test_exe.parent().and_then(|deps| deps.parent()).unwrap();
    let built = profile_dir.join("examples").join("quickstart");
    if built.exists() {
        return Command::new(built);
    }
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["run", "--quiet", "--example", "quickstart", "--"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    cargo
}

#[test]
fn the_quickstart_prints_every_family_of_the_catalog() {
    let output = quickstart()
        .arg("--print")
        .output()
        .expect("the quickstart runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "quickstart failed: {stderr}");
    let text = String::from_utf8(output.stdout).unwrap();
    let families = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for def in CATALOG {
        let family = families
            .get(def.name)
            .unwrap_or_else(|| panic!("{} missing", def.name));
        assert!(
            family.samples.iter().any(|(_, _, v)| *v > 0.0)
                || def.name == "enkrypt_timeout_active_operations",
            "{} has no non-zero sample",
            def.name
        );
    }
    assert_eq!(
        families["enkrypt_active_sessions"].value("enkrypt_active_sessions", &[]),
        1.0
    );
    assert_eq!(
        families["enkrypt_timeout_active_operations"]
            .value("enkrypt_timeout_active_operations", &[]),
        0.0
    );
}
