//! The request context: values that belong to the request being served (the project the caller
//! authenticated for, its user), set once by the gateway's auth layer and read by every
//! instrumented function that runs for that request.
//!
//! The context is carried in a thread-local that [`RequestContext::scope`] sets around every
//! poll of the request's future (so it follows the task across threads of any executor) and
//! [`RequestContext::enter`] sets for synchronous code.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Request-scoped label values.
///
/// ```
/// use mcp_gateway_metrics::RequestContext;
///
/// let ctx = RequestContext::new("project-42").with_user("user-7");
/// let _entered = ctx.clone().enter();
/// assert_eq!(RequestContext::current_project_id().as_deref(), Some("project-42"));
/// ```
#[derive(Debug, Clone)]
pub struct RequestContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    project_id: Box<str>,
    user_id: Option<Box<str>>,
}

thread_local! {
    static CURRENT: RefCell<Current> = const { RefCell::new(Current(None)) };
    /// The project id of the context in `CURRENT`, as a pointer into that context's shared
    /// value: what the recording hot path reads (one plain thread-local load, where
    /// `with_current` takes a borrow and a closure). Written only with `CURRENT`, see
    /// [`current_project`].
    static PROJECT: Cell<Option<NonNull<str>>> = const { Cell::new(None) };
}

/// The current context. Dropped with the thread's locals, it clears [`PROJECT`] first, so
/// that no later reader (another thread-local's destructor) finds a pointer into a context
/// being freed.
struct Current(Option<RequestContext>);

impl Drop for Current {
    fn drop(&mut self) {
        let _ = PROJECT.try_with(|p| p.set(None));
    }
}

impl RequestContext {
    /// A context for a request of `project_id`.
    pub fn new(project_id: impl Into<Box<str>>) -> Self {
        RequestContext {
            inner: Arc::new(Inner {
                project_id: project_id.into(),
                user_id: None,
            }),
        }
    }

    /// The same context with a user id.
    pub fn with_user(self, user_id: impl Into<Box<str>>) -> Self {
        RequestContext {
            inner: Arc::new(Inner {
                project_id: self.inner.project_id.clone(),
                user_id: Some(user_id.into()),
            }),
        }
    }

    /// The project id.
    pub fn project_id(&self) -> &str {
        &self.inner.project_id
    }

    /// The user id, if known.
    pub fn user_id(&self) -> Option<&str> {
        self.inner.user_id.as_deref()
    }

    /// Runs `future` with this context current, on whatever thread polls it.
    ///
    /// ```
    /// use mcp_gateway_metrics::RequestContext;
    /// # futures_lite_block_on(async {
    /// let project = RequestContext::new("p1")
    ///     .scope(async { RequestContext::current_project_id() })
    ///     .await;
    /// assert_eq!(project.as_deref(), Some("p1"));
    /// # });
    /// # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     let waker = std::task::Waker::noop();
    /// #     let mut cx = std::task::Context::from_waker(&waker);
    /// #     let mut f = std::pin::pin!(f);
    /// #     loop { if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } }
    /// # }
    /// ```
    pub fn scope<F: Future>(self, future: F) -> InRequest<F> {
        InRequest {
            context: self,
            future,
        }
    }

    /// Makes this context current on this thread until the guard is dropped.
    pub fn enter(self) -> EnteredContext {
        EnteredContext {
            previous: swap(Some(self)),
        }
    }

    /// The current request's project id, if a context is current.
    pub fn current_project_id() -> Option<Box<str>> {
        with_current(|c| c.map(|c| c.inner.project_id.clone()))
    }
}

/// Runs `f` with the current context (without cloning it).
///
/// During thread-local teardown (a future dropped by a thread-local's destructor) there is no
/// current context.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&RequestContext>) -> R) -> R {
    let mut f = Some(f);
    let mut call = |c: Option<&RequestContext>| (f.take().expect("called once"))(c);
    match CURRENT.try_with(|c| match c.try_borrow() {
        Ok(c) => call(c.0.as_ref()),
        Err(_) => call(None),
    }) {
        Ok(r) => r,
        Err(_) => call(None),
    }
}

/// The current request's project id, or `None` outside a context (or during thread-local
/// teardown), without a borrow or a closure.
///
/// # Safety
/// The caller must stop using the returned string before anything can change this thread's
/// current context: entering or leaving a [`RequestContext`] (an [`EnteredContext`] dropped,
/// an [`InRequest`] polled) or the thread's end. The lifetime is the caller's to choose and
/// keep that short (the recording hot path uses it for one lookup in the label-set cache).
#[inline]
pub(crate) unsafe fn current_project<'a>() -> Option<&'a str> {
    let project = PROJECT.try_with(Cell::get).ok().flatten()?;
    // SAFETY: `PROJECT` is `Some` only while it points at the project id of the context held
    // in `CURRENT`: `swap` writes both together (under `CURRENT`'s borrow, before the context
    // it replaced is dropped), and `Current`'s drop clears it before the context it held is
    // dropped. The context's shared value (an `Arc`) does not move and lives at least as long
    // as `CURRENT` holds it, which, by the caller's contract, is as long as the string is
    // used. `tests/tests/context_stress.rs` enters, leaves and tears down contexts around
    // recording calls on several threads.
    Some(unsafe { project.as_ref() })
}

/// Makes `context` current, returning the previous one; during thread-local teardown it
/// changes nothing.
fn swap(context: Option<RequestContext>) -> Option<RequestContext> {
    CURRENT
        .try_with(|c| {
            c.try_borrow_mut().ok().and_then(|mut c| {
                let project = context
                    .as_ref()
                    .map(|c| NonNull::from(&*c.inner.project_id));
                let previous = std::mem::replace(&mut c.0, context);
                let _ = PROJECT.try_with(|p| p.set(project));
                previous
            })
        })
        .ok()
        .flatten()
}

/// Restores the previous context when dropped.
#[derive(Debug)]
#[must_use = "the context is current only while the guard lives"]
pub struct EnteredContext {
    previous: Option<RequestContext>,
}

impl Drop for EnteredContext {
    fn drop(&mut self) {
        swap(self.previous.take());
    }
}

pin_project_lite::pin_project! {
    /// A future that runs with a [`RequestContext`] current.
    #[derive(Debug)]
    pub struct InRequest<F> {
        context: RequestContext,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for InRequest<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let previous = swap(Some(this.context.clone()));
        let _restore = EnteredContext { previous };
        this.future.poll(cx)
    }
}
