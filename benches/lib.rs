//! Benchmarks live in `benches/overhead.rs`; run them with `cargo bench -p benches`.
