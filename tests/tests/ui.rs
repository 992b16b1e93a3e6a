//! Compile-time behaviour of the macros: misuse is one clear error on the offending token
//! (`tests/ui/fail`, with the expected messages in `.stderr` files), and every supported
//! function shape compiles and runs (`tests/ui/pass`).
//!
//! Regenerate the `.stderr` files after an intended change with
//! `TRYBUILD=overwrite cargo test -p tests --test ui`, then review the diff.

#[test]
fn ui() {
    // trybuild builds every dependency of this crate again in a project of its own, which
    // takes no profile from the workspace: without debug info it needs about 0.5 GB of disk
    // instead of 3. (Set before trybuild starts cargo; no other thread reads the environment.)
    if std::env::var_os("CARGO_PROFILE_DEV_DEBUG").is_none() {
        std::env::set_var("CARGO_PROFILE_DEV_DEBUG", "false");
    }
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
