//! Compile-time behaviour of the macros: misuse is one clear error on the offending token
//! (`tests/ui/fail`, with the expected messages in `.stderr` files), and every supported
//! function shape compiles and runs (`tests/ui/pass`).
//!
//! Regenerate the `.stderr` files after an intended change with
//! `TRYBUILD=overwrite cargo test -p tests --test ui`, then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
