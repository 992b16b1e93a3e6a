//! Runs the compile-out crate (`tests/compile-out`, instrumentation off) as its own build, so
//! that the workspace does not unify its `instrument` feature back in.

use std::path::Path;
use std::process::Command;

#[test]
fn instrumentation_compiled_out_records_nothing_and_still_checks_arguments() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = root.join("target").join("compile-out");
    let output = Command::new(env!("CARGO"))
        .args(["test", "--quiet", "--manifest-path"])
        .arg(root.join("tests/compile-out/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "compile-out tests failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("test result: ok. 3 passed"), "{stdout}");
}
