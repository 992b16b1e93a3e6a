//! Compile-time behaviour of the macros: misuse is one clear error on the offending token
//! (`tests/ui/fail`, with the expected messages in `.stderr` files), and every supported
//! function shape compiles and runs (`tests/ui/pass`).
//!
//! The `.stderr` files hold what one compiler prints, and compilers word their notes
//! differently from release to release: they are compared only on the toolchain named in
//! `tests/ui/TOOLCHAIN` (the one CI runs). On another toolchain the pass cases still compile
//! and run, and the test says loudly that the messages were not compared.
//!
//! Regenerate the `.stderr` files after an intended change with
//! `TRYBUILD=overwrite cargo test -p tests --test ui`, then review the diff.

use std::process::Command;

/// `1.95.0` from `rustc 1.95.0 (59807616e 2026-04-14)`.
fn rustc_release() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out = Command::new(&rustc)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{rustc} --version`: {e}"));
    let version = String::from_utf8_lossy(&out.stdout);
    version
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected `rustc --version` output: {version:?}"))
        .to_owned()
}

#[test]
fn ui() {
    // trybuild builds every dependency of this crate again in a project of its own, which
    // takes no profile from the workspace: without debug info it needs about 0.5 GB of disk
    // instead of 3. (Set before trybuild starts cargo; no other thread reads the environment.)
    if std::env::var_os("CARGO_PROFILE_DEV_DEBUG").is_none() {
        std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "false");
    }
    let pinned = include_str!("../ui/TOOLCHAIN").trim();
    let running = rustc_release();
    let t = trybuild::TestCases::new();
    if running == pinned {
        t.compile_fail("ui/fail/*.rs");
    } else {
        eprintln!(
            "NOTE: rustc {running} is not the toolchain the expected compiler messages were \
             written with ({pinned}, tests/ui/TOOLCHAIN): the compile-fail cases are skipped; \
             run them with rustc {pinned}"
        );
    }
    t.pass("ui/pass/*.rs");
}
