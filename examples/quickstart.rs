//! Records a little of every metric family, then serves `/metrics` until Ctrl-C.
//!
//! ```text
//! cargo run --example quickstart             # serve http://127.0.0.1:9464/metrics
//! cargo run --example quickstart -- --print  # print the exposition once and exit
//! ```

use std::thread::sleep;
use std::time::Duration;

use metrics_runtime::record::{self, Outcome, TimeoutOperation, TimeoutOutcome, ToolCallLabels};
use metrics_runtime::{CacheType, Config, Direction, OperationType, OutputCheck};

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
    record_every_family();

    if print_only {
        print!("{}", metrics_runtime::render());
        return;
    }
    if let Some(addr) = guard.prometheus_address() {
        println!("serving http://{addr}/metrics (Ctrl-C to stop)");
    }
    loop {
        sleep(Duration::from_secs(5));
        record_every_family();
    }
}

fn record_every_family() {
    let github = ToolCallLabels {
        server_name: "github",
        tool_name: "create_issue",
        project_id: "demo-project",
    };
    record::tool_call(&github, Outcome::Success, Duration::from_millis(180));
    record::tool_call(
        &github,
        Outcome::Failure {
            error_type: "upstream_error",
        },
        Duration::from_millis(900),
    );
    record::tool_call(
        &github,
        Outcome::Crash {
            error_type: "panic",
        },
        Duration::from_millis(40),
    );
    record::tool_call(
        &github,
        Outcome::Blocked {
            reason: "injection_attack",
        },
        Duration::from_millis(15),
    );

    record::list_all_servers("demo-user", "demo-project");
    record::servers_discovered("demo-config", 3);
    record::cache_hit(CacheType::Tools);
    record::cache_miss(CacheType::ServerConfig);

    record::guardrail_violation(
        Direction::Input,
        "injection_attack",
        "github",
        "injection_detector",
    );
    record::guardrail_violation(Direction::Output, "toxicity", "github", "toxicity_detector");
    for check in OutputCheck::ALL {
        record::output_check_violation(*check, "github", "create_issue");
    }
    record::pii_redactions("github", "email", 2);
    record::guardrail_api_request("/guardrails/policy/detect", 200, Duration::from_millis(120));

    record::auth_success("api_key", "demo-project");
    record::auth_failure("api_key", "invalid_key");

    // The timeout manager: one of each outcome and escalation level.
    TimeoutOperation::start(OperationType::Guardrail, None).finish(TimeoutOutcome::Completed);
    let warn = TimeoutOperation::start(
        OperationType::ToolExecution,
        Some(Duration::from_millis(50)),
    );
    sleep(Duration::from_millis(42));
    warn.finish(TimeoutOutcome::Completed);
    let cut = TimeoutOperation::start(OperationType::Discovery, Some(Duration::from_millis(20)));
    sleep(Duration::from_millis(21));
    cut.finish(TimeoutOutcome::TimedOut);
    let overrun = TimeoutOperation::start(OperationType::Cache, Some(Duration::from_millis(10)));
    sleep(Duration::from_millis(13));
    overrun.finish(TimeoutOutcome::Completed);
    drop(TimeoutOperation::start(OperationType::Auth, None)); // dropped: cancelled
}
