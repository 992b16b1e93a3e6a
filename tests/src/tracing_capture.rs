//! A `tracing` layer that keeps every span (name, fields, parent) and event (message, the
//! spans it happened in), for assertions on what the attributes and the runtime emit.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// One closed span.
#[derive(Debug, Clone, Default)]
pub struct SpanRecord {
    pub name: String,
    pub fields: BTreeMap<String, String>,
    pub parent: Option<String>,
}

/// One event.
#[derive(Debug, Clone)]
pub struct EventRecord {
    /// The event's name (`event file:line` unless given, as with OpenTelemetry's own).
    pub name: String,
    pub level: tracing::Level,
    pub target: String,
    pub message: String,
    /// Every other field.
    pub fields: BTreeMap<String, String>,
    /// The names of the spans it happened in, innermost first.
    pub scope: Vec<String>,
}

/// What was captured; cloned handles share it.
#[derive(Debug, Clone, Default)]
pub struct Captured {
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    events: Arc<Mutex<Vec<EventRecord>>>,
}

impl Captured {
    /// The closed spans named `name`, in closing order.
    pub fn spans(&self, name: &str) -> Vec<SpanRecord> {
        let spans = self.spans.lock().unwrap();
        spans.iter().filter(|s| s.name == name).cloned().collect()
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<EventRecord> {
        self.events.lock().unwrap().clone()
    }

    /// A subscriber that records into this capture.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync {
        tracing_subscriber::registry().with(CaptureLayer(self.clone()))
    }
}

struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

struct CaptureLayer(Captured);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for CaptureLayer {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a new span exists");
        let mut fields = Fields(BTreeMap::new());
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanRecord {
            name: span.name().to_owned(),
            fields: fields.0,
            parent: span.parent().map(|p| p.name().to_owned()),
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(record) = span.extensions_mut().get_mut::<SpanRecord>() {
                let mut fields = Fields(std::mem::take(&mut record.fields));
                values.record(&mut fields);
                record.fields = fields.0;
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields(BTreeMap::new());
        event.record(&mut fields);
        let scope = ctx
            .event_scope(event)
            .map(|scope| scope.map(|s| s.name().to_owned()).collect())
            .unwrap_or_default();
        let message = fields.0.remove("message").unwrap_or_default();
        self.0.events.lock().unwrap().push(EventRecord {
            name: event.metadata().name().to_owned(),
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            message,
            fields: fields.0,
            scope,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(record) = span.extensions_mut().remove::<SpanRecord>() {
                self.0.spans.lock().unwrap().push(record);
            }
        }
    }
}
