//! Records a little of every metric family, then serves `/metrics` until Ctrl-C.
//!
//! ```text
//! cargo run --example quickstart             # serve http://127.0.0.1:9464/metrics
//! cargo run --example quickstart -- --print  # print the exposition once and exit
//! ```

use std::thread::sleep;
use std::time::Duration;

use mcp_gateway_metrics::{record, Config};

fn main() {
    let print_only = std::env::args().any(|a| a == "--print");
    let guard = match Config::builder()
        .service_name("quickstart")
        .service_version(env!("CARGO_PKG_VERSION"))
        .serve_prometheus(!print_only)
        .install()
    {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("quickstart: {e}");
            std::process::exit(2);
        }
    };

    // Kept alive to the end: one active session and one active user.
    let _session = record::session_started();
    let _user = record::user_active();
    mcp_gateway_metrics::testing::record_every_family();

    if print_only {
        print!("{}", mcp_gateway_metrics::render());
        return;
    }
    if let Some(addr) = guard.prometheus_address() {
        println!("serving http://{addr}/metrics (Ctrl-C to stop)");
    }
    loop {
        sleep(Duration::from_secs(5));
        mcp_gateway_metrics::testing::record_every_family();
    }
}
