//! Expansion snapshots: what `cargo expand` shows for each macro, sync and async, reviewed in
//! the repository (`src/snapshots/*.snap`). After an intended change to an expansion, run
//! `INSTA_UPDATE=always cargo test -p mcp-gateway-metrics-macros` and review the diff.

use proc_macro2::TokenStream;
use quote::quote;

fn expand(macro_name: &str, args: TokenStream, item: TokenStream) -> String {
    let out = if macro_name == "derive" {
        crate::derive::derive(syn::parse2(item).unwrap()).unwrap()
    } else {
        crate::expand::expand(macro_name, args, item)
    };
    let file: syn::File = syn::parse2(out).expect("the expansion is valid Rust");
    prettyplease::unparse(&file)
}

macro_rules! snapshot {
    ($name:ident, $macro:literal, ($($args:tt)*), $($item:tt)*) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(expand($macro, quote!($($args)*), quote!($($item)*)));
        }
    };
}

snapshot!(
    tool_call_sync,
    "tool_call",
    (tool = "create_issue"),
    /// Creates an issue.
    pub fn create_issue(server_name: &str, title: String) -> Result<u64, GatewayError> {
        if title.is_empty() {
            return Err(GatewayError::InvalidArguments);
        }
        Ok(forward(server_name, &title)?)
    }
);

snapshot!(
    tool_call_async,
    "tool_call",
    (server = req.server.as_str(), tool = req.tool.as_str()),
    async fn call(&self, req: Request) -> Result<Value, GatewayError> {
        self.upstream.call(req).await
    }
);

snapshot!(
    tool_call_track_caller,
    "tool_call",
    (server = "github", tool = "search"),
    #[track_caller]
    fn search(query: &str) -> Option<u32> {
        let n = query.parse::<u32>().ok()?;
        Some(n)
    }
);

snapshot!(
    tool_call_with_timeout,
    "tool_call",
    (),
    #[timeout_op(operation = "tool_execution", timeout = "30s")]
    async fn call_tool(server_name: &str, tool_name: &str) -> Result<Value, GatewayError> {
        upstream(server_name, tool_name).await
    }
);

snapshot!(
    timeout_op_async,
    "timeout_op",
    (operation = "guardrail", timeout = "15s"),
    async fn check(text: &str) -> Result<Verdict, GatewayError> {
        run_detectors(text).await
    }
);

snapshot!(
    timeout_op_sync,
    "timeout_op",
    (operation = "cache"),
    fn read_cache(key: &str) -> Option<Tools> {
        CACHE.get(key)
    }
);

snapshot!(
    guardrail_check_async,
    "guardrail_check",
    (direction = input, endpoint = "/guardrails/policy/detect"),
    async fn check_input(
        &self,
        server_name: &str,
        tool_name: &str,
        args: &Value,
    ) -> Result<GuardrailVerdict, GatewayError> {
        self.detectors.run(args).await
    }
);

snapshot!(
    guardrail_check_sync,
    "guardrail_check",
    (
        direction = output,
        endpoint = "/guardrails/relevancy",
        server = "github",
        tool = "search"
    ),
    fn check_output(answer: &str) -> GuardrailVerdict {
        relevancy(answer)
    }
);

snapshot!(
    guardrail_check_async_trait,
    "guardrail_check",
    (direction = input, endpoint = "/guardrails/pii"),
    fn check<'life0, 'async_trait>(
        &'life0 self,
        server_name: &'life0 str,
        tool_name: &'life0 str,
    ) -> ::core::pin::Pin<
        Box<
            dyn ::core::future::Future<Output = GuardrailVerdict>
                + ::core::marker::Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let __ret: GuardrailVerdict = { GuardrailVerdict::default() };
            __ret
        })
    }
);

snapshot!(
    cache_lookup_sync,
    "cache_lookup",
    (cache_type = tools),
    fn cached_tools(&self, server_name: &str) -> Option<Vec<Tool>> {
        self.tools.get(server_name).cloned()
    }
);

snapshot!(
    cache_lookup_async,
    "cache_lookup",
    (cache_type = gateway_config),
    async fn gateway_config(&self, id: &str) -> Option<Config> {
        self.configs.read().await.get(id).cloned()
    }
);

snapshot!(
    auth_check_sync,
    "auth_check",
    (provider = "api_key", project = identity.project.as_str()),
    fn authorize(identity: &Identity, key: &str) -> Result<(), AuthError> {
        identity.check(key)
    }
);

snapshot!(
    auth_check_async,
    "auth_check",
    (provider = "api_key"),
    async fn authenticate(&self, key: &str) -> Result<Identity, AuthError> {
        self.keys.verify(key).await
    }
);

snapshot!(
    derive_error_type,
    "derive",
    (),
    enum GatewayError {
        UpstreamUnavailable,
        #[error_type("bad_arguments", status = 400)]
        InvalidArguments(String),
        #[error_type(blocked)]
        InjectionAttack,
        #[error_type(transparent)]
        Timeout(mcp_gateway_metrics::Timeout),
    }
);
