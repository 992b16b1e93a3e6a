//! The guard of `#[tool_call]`.

use crate::bound_cache::{CallSite, HandlesRef};
use crate::clock::{Clock, Started};
use crate::context;
use crate::pipeline::{self, PipelineRef};
use crate::record::{record_unbound, Outcome, Route, ToolCallHandles, ToolCallLabels};
use crate::spans::{self, CallSpan};

use super::call_scope::CallState;
use super::Classified;

/// Per call site: the handles bound to each label set the site has seen.
pub type ToolCallSite = CallSite<ToolCallHandles>;

/// The project of a call outside any [`crate::RequestContext`] that names none.
const UNKNOWN_PROJECT: &str = "unknown";

/// Label values kept without bound handles (before `init()`, or a full cache).
#[derive(Debug)]
struct OwnedLabels {
    server: Box<str>,
    tool: Box<str>,
    project: Box<str>,
}

/// Where the call records, captured when it starts: every measurement of the call goes to
/// that pipeline, wherever and however the call ends.
#[derive(Debug)]
enum Labels {
    /// Handles owned by `pipeline`, which this value keeps alive.
    Bound {
        pipeline: PipelineRef,
        handles: HandlesRef<ToolCallHandles>,
    },
    /// Label values without handles: a full cache, or no pipeline yet (before `init()`).
    /// Boxed: the rare case does not make every guard larger.
    Owned(Box<Unbound>),
}

#[derive(Debug)]
struct Unbound {
    pipeline: Option<PipelineRef>,
    labels: OwnedLabels,
}

/// Created when an instrumented call starts; records the call when it ends, however it ends:
/// through [`ToolCallGuard::finish`] with the returned value, or in `Drop` as a crash (`panic`
/// while unwinding, `cancelled` when a future is dropped before completion).
#[derive(Debug)]
#[must_use]
pub struct ToolCallGuard {
    labels: Labels,
    started: Started,
    state: CallState,
    timed_out: bool,
    done: bool,
    span: CallSpan,
}

impl ToolCallGuard {
    /// Starts a call. `project: None` takes the current [`crate::RequestContext`]'s project,
    /// or `unknown` outside one.
    ///
    /// The common case inline: the global pipeline current, and the label set used lately
    /// (in its front table). Anything else takes [`Self::start_any`].
    #[inline]
    pub fn start(site: &ToolCallSite, server: &str, tool: &str, project: Option<&str>) -> Self {
        if let Some(global) = pipeline::only_global() {
            let handles = match project {
                Some(project) => ToolCallHandles::find(site, global, server, tool, project),
                None => {
                    // SAFETY: the project is used for this one table search, during which
                    // nothing enters or leaves a request context on this thread.
                    let project = unsafe { context::current_project() };
                    let project = project.unwrap_or(UNKNOWN_PROJECT);
                    ToolCallHandles::find(site, global, server, tool, project)
                }
            };
            if let Some(handles) = handles {
                let labels = Labels::Bound {
                    pipeline: PipelineRef::Global(global),
                    handles: HandlesRef::new(handles),
                };
                return Self::started(labels, server, tool, global.clock);
            }
            return Self::start_any(site, server, tool, project, true);
        }
        Self::start_any(site, server, tool, project, false)
    }

    /// [`Self::start`] in any case: a test meter current, a label set to look up in the map or
    /// to bind, or no pipeline yet. `front_missed`: the global pipeline's front table was just
    /// searched for this label set.
    #[inline(never)]
    fn start_any(
        site: &ToolCallSite,
        server: &str,
        tool: &str,
        project: Option<&str>,
        front_missed: bool,
    ) -> Self {
        let resolve = |project: &str| {
            let labels = ToolCallLabels {
                server_name: server,
                tool_name: tool,
                project_id: project,
            };
            let pipeline = pipeline::current();
            let bound = pipeline
                .as_deref()
                .and_then(|p| ToolCallHandles::resolve(site, p, &labels, front_missed))
                .map(HandlesRef::new);
            match (pipeline, bound) {
                (Some(pipeline), Some(handles)) => Labels::Bound { pipeline, handles },
                (pipeline, _) => Labels::Owned(Box::new(Unbound {
                    pipeline,
                    labels: OwnedLabels {
                        server: server.into(),
                        tool: tool.into(),
                        project: project.into(),
                    },
                })),
            }
        };
        // The project: as given, else the request context's.
        let labels = match project {
            Some(project) => resolve(project),
            None => {
                context::with_current(|c| resolve(c.map_or(UNKNOWN_PROJECT, |c| c.project_id())))
            }
        };
        let clock = match &labels {
            Labels::Bound { pipeline, .. } => pipeline.clock,
            Labels::Owned(unbound) => unbound.pipeline.as_deref().map_or(Clock::Tsc, |p| p.clock),
        };
        Self::started(labels, server, tool, clock)
    }

    #[inline]
    fn started(labels: Labels, server: &str, tool: &str, clock: Clock) -> Self {
        ToolCallGuard {
            labels,
            state: CallState::default(),
            timed_out: false,
            done: false,
            span: spans::tool_call(server, tool),
            started: Started::now(clock),
        }
    }

    /// What the guardrail checks inside the call tell it (see [`super::in_call`]).
    pub fn state(&self) -> &CallState {
        &self.state
    }

    /// The call's span (feature `tracing`), which its body runs in.
    pub fn span(&self) -> &CallSpan {
        &self.span
    }

    /// The call was cut off by its `#[timeout_op]` deadline: it ends as a failure with
    /// `error_type="timeout"`, whatever the error value says.
    pub fn timed_out(&mut self) {
        self.timed_out = true;
    }

    /// Records the call with the classification of its returned value.
    #[inline]
    pub fn finish(mut self, classified: Classified) {
        // Set first: should recording itself panic, the drop must not count the call again.
        self.done = true;
        let Labels::Bound {
            handles: handles_ref,
            pipeline,
        } = &self.labels
        else {
            return self.finish_any(classified);
        };
        // SAFETY: the handles are owned by the pipeline held next to them in `self.labels`.
        let handles = unsafe { handles_ref.get() };
        // The global pipeline's handles live as long as the process: its calls reach the SDK
        // in per-thread batches (see `crate::deferred`).
        let global = match pipeline {
            // SAFETY: the global pipeline is never dropped.
            PipelineRef::Global(_) => Some(unsafe { handles_ref.get_static() }),
            PipelineRef::Local(_) => None,
        };
        let seconds = self.started.elapsed_secs();
        match (classified.outcome, self.timed_out) {
            (Outcome::Success, false) => {
                spans::record(&self.span, "outcome", "success");
                match global {
                    Some(handles) => handles.succeed_deferred(seconds),
                    None => handles.succeed(seconds),
                }
            }
            (Outcome::Failure { error_type }, false) => {
                spans::record(&self.span, "outcome", "failure");
                spans::record(&self.span, "error_type", error_type);
                let known = Some(error_type);
                match global {
                    Some(handles) => handles.fail_deferred(pipeline, error_type, known, seconds),
                    None => handles.fail(pipeline, error_type, known, seconds),
                }
            }
            _ => return self.finish_any(classified),
        }
        if global.is_some() {
            // Recorded, and nothing else to release but the span (closed on return): skip
            // `Drop`.
            let _span = std::mem::replace(&mut self.span, spans::none());
            std::mem::forget(self);
        }
    }

    /// [`Self::finish`] for any outcome and labels (`done` is set already).
    #[inline(never)]
    fn finish_any(self, classified: Classified) {
        let outcome = if self.timed_out {
            Outcome::Failure {
                error_type: "timeout",
            }
        } else {
            classified.outcome
        };
        self.record(outcome, Route::Cached);
    }

    fn record(&self, outcome: Outcome<'_>, route: Route) {
        let elapsed = self.started.elapsed();
        let (name, field, value) = match outcome {
            Outcome::Success => ("success", "", ""),
            Outcome::Failure { error_type } => ("failure", "error_type", error_type),
            Outcome::Crash { error_type } => ("crash", "error_type", error_type),
            Outcome::Blocked { reason } => ("blocked", "reason", reason),
        };
        spans::record(&self.span, "outcome", name);
        if !field.is_empty() {
            spans::record(&self.span, field, value);
        }
        // A guardrail check inside this call may have counted the block already.
        let count_block = !self.state.block_counted();
        match &self.labels {
            Labels::Bound { pipeline, handles } => {
                // SAFETY: the handles are owned by `pipeline`, held right here.
                let handles = unsafe { handles.get() };
                handles.finish(pipeline, outcome, elapsed, count_block, route)
            }
            Labels::Owned(unbound) => {
                let l = &unbound.labels;
                record_unbound(
                    route,
                    unbound.pipeline.as_deref(),
                    &ToolCallLabels {
                        server_name: &l.server,
                        tool_name: &l.tool,
                        project_id: &l.project,
                    },
                    outcome,
                    elapsed,
                    count_block,
                )
            }
        }
    }
}

impl Drop for ToolCallGuard {
    fn drop(&mut self) {
        if !self.done {
            let error_type = if std::thread::panicking() {
                "panic"
            } else {
                "cancelled"
            };
            // Maybe during thread-local teardown: no lookups that need thread-locals.
            self.record(Outcome::Crash { error_type }, Route::Unbound);
        }
    }
}
