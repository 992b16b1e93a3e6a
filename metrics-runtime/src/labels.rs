//! Closed sets of label values that the reference fixes: typed so that a typo is a compile
//! error, and so that the runtime can bind their series once instead of per call.

use std::fmt;
use std::str::FromStr;

macro_rules! label_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $what:literal {
            $( $(#[$vdoc:meta])* $variant:ident => $value:literal, )*
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The label value exactly as exported.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $value, )*
                }
            }

            #[allow(dead_code)] // used for some enums only
            pub(crate) const fn index(self) -> usize {
                self as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabelValue;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownLabelValue {
                        what: $what,
                        value: s.to_owned(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }
    };
}

/// A label value that is not one of the reference's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownLabelValue {
    what: &'static str,
    value: String,
    expected: Vec<&'static str>,
}

impl fmt::Display for UnknownLabelValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown {} {:?}; expected one of: {}",
            self.what,
            self.value,
            self.expected.join(", ")
        )
    }
}

impl std::error::Error for UnknownLabelValue {}

label_enum! {
    /// The `cache_type` label of `enkrypt_cache_hits_total` / `enkrypt_cache_misses_total`.
    ///
    /// ```
    /// use mcp_gateway_metrics::CacheType;
    /// assert_eq!(CacheType::GatewayConfig.as_str(), "gateway_config");
    /// assert_eq!("tools".parse::<CacheType>(), Ok(CacheType::Tools));
    /// ```
    CacheType, "cache_type" {
        /// The discovered-tools cache.
        Tools => "tools",
        /// The gateway configuration cache.
        GatewayConfig => "gateway_config",
        /// A per-server configuration cache.
        ServerConfig => "server_config",
    }
}

label_enum! {
    /// Which side of a tool call a guardrail checked.
    ///
    /// ```
    /// use mcp_gateway_metrics::Direction;
    /// assert_eq!(Direction::Output.as_str(), "output");
    /// ```
    Direction, "guardrail direction" {
        /// The request, before it is sent to the upstream server.
        Input => "input",
        /// The answer, after it came back from the upstream server.
        Output => "output",
    }
}

label_enum! {
    /// The output checks that have their own violation counters.
    ///
    /// ```
    /// use mcp_gateway_metrics::{catalog::Metric, OutputCheck};
    /// assert_eq!(OutputCheck::Hallucination.metric(), Metric::HallucinationViolations);
    /// ```
    OutputCheck, "output check" {
        /// The answer is not relevant to the request (`enkrypt_relevancy_violations_total`).
        Relevancy => "relevancy",
        /// The answer does not follow the instructions (`enkrypt_adherence_violations_total`).
        Adherence => "adherence",
        /// The answer contains hallucinations (`enkrypt_hallucination_violations_total`).
        Hallucination => "hallucination",
    }
}

impl OutputCheck {
    /// The counter this check's violations go to.
    pub const fn metric(self) -> crate::catalog::Metric {
        use crate::catalog::Metric;
        match self {
            OutputCheck::Relevancy => Metric::RelevancyViolations,
            OutputCheck::Adherence => Metric::AdherenceViolations,
            OutputCheck::Hallucination => Metric::HallucinationViolations,
        }
    }
}

label_enum! {
    /// The `operation_type` label of the timeout-manager metrics.
    ///
    /// Each type has a default timeout (see [`OperationType::default_timeout`]) that
    /// configuration can override.
    ///
    /// ```
    /// use mcp_gateway_metrics::OperationType;
    /// assert_eq!("tool_execution".parse::<OperationType>(), Ok(OperationType::ToolExecution));
    /// assert!("tool".parse::<OperationType>().unwrap_err().to_string().contains("tool_execution"));
    /// ```
    OperationType, "operation_type" {
        /// Anything without a more specific type (30 s).
        Default => "default",
        /// A guardrail check (15 s).
        Guardrail => "guardrail",
        /// Authentication (10 s).
        Auth => "auth",
        /// An upstream tool call (60 s).
        ToolExecution => "tool_execution",
        /// Tool discovery on an upstream server (20 s).
        Discovery => "discovery",
        /// A cache operation (5 s).
        Cache => "cache",
        /// A connectivity check (2 s).
        Connectivity => "connectivity",
    }
}

impl OperationType {
    /// The gateway's default timeout for this operation type.
    ///
    /// ```
    /// use std::time::Duration;
    /// use mcp_gateway_metrics::OperationType;
    /// assert_eq!(OperationType::Guardrail.default_timeout(), Duration::from_secs(15));
    /// ```
    pub const fn default_timeout(self) -> std::time::Duration {
        let secs = match self {
            OperationType::Default => 30,
            OperationType::Guardrail => 15,
            OperationType::Auth => 10,
            OperationType::ToolExecution => 60,
            OperationType::Discovery => 20,
            OperationType::Cache => 5,
            OperationType::Connectivity => 2,
        };
        std::time::Duration::from_secs(secs)
    }
}
