//! The user's own OpenTelemetry readers and views, added to the pipeline's meter provider.
//!
//! A reader sees every instrument of the provider: the catalog's and the application's own
//! (those created through `opentelemetry::global::meter`). A view applies to instruments
//! outside the catalog only, so the catalog's names, label keys and buckets, which are the
//! contract, cannot be changed by accident; `buckets` and `drop_label` change those.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    Instrument, InstrumentKind, MeterProviderBuilder, Pipeline as SdkPipeline, Stream, Temporality,
};

use crate::catalog::Metric;
use crate::pipeline::SCOPE_NAME;

/// A view as the SDK takes it.
pub(crate) type View = Arc<dyn Fn(&Instrument) -> Option<Stream> + Send + Sync>;

/// Readers and views given to [`crate::ConfigBuilder`].
#[derive(Clone, Default)]
pub(crate) struct Extensions {
    pub(crate) readers: Vec<Arc<dyn MetricReader>>,
    pub(crate) views: Vec<View>,
}

impl Extensions {
    /// Adds the readers and views to a provider under construction.
    pub(crate) fn attach(&self, mut builder: MeterProviderBuilder) -> MeterProviderBuilder {
        for reader in &self.readers {
            builder = builder.with_reader(SharedReader(Arc::clone(reader)));
        }
        for view in &self.views {
            let view = Arc::clone(view);
            // Never this crate's instruments: the catalog's names are the contract, and the
            // instrument whose callback drains the per-thread batches must stay registered.
            builder = builder.with_view(move |instrument: &Instrument| {
                let own = instrument.scope().name() == SCOPE_NAME
                    || Metric::from_name(instrument.name()).is_some();
                if own {
                    None
                } else {
                    view(instrument)
                }
            });
        }
        builder
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("readers", &self.readers)
            .field("views", &self.views.len())
            .finish()
    }
}

/// Two configurations are equal when they hold the very same readers and views.
impl PartialEq for Extensions {
    fn eq(&self, other: &Self) -> bool {
        fn same<T: ?Sized>(a: &[Arc<T>], b: &[Arc<T>]) -> bool {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| std::ptr::addr_eq(Arc::as_ptr(x), Arc::as_ptr(y)))
        }
        same(&self.readers, &other.readers) && same(&self.views, &other.views)
    }
}

/// A reader shared between the provider and its owner (a test meter reading it, a
/// configuration that may be cloned).
#[derive(Debug, Clone)]
pub(crate) struct SharedReader(pub(crate) Arc<dyn MetricReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<SdkPipeline>) {
        self.0.register_pipeline(pipeline)
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}
