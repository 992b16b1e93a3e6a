//! Control-flow helpers for expansions of synchronous functions.

use std::convert::Infallible;
use std::ops::ControlFlow;

/// Runs the body of a synchronous function as a closure called once, so that its `return`s
/// and `?`s produce the value the guard classifies. (`FnOnce` lets the body move out of and
/// return borrows of its captures, exactly as the function body could.)
#[inline(always)]
pub fn once<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `?` for `#[track_caller]` bodies, which stay inline: splits a value into the one to go on
/// with and the one to leave with.
pub trait Branch {
    /// The value `?` evaluates to.
    type Output;
    /// What leaves the function.
    type Residual;
    /// Splits `self`.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Branch for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(v) => ControlFlow::Continue(v),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

impl<T> Branch for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(v) => ControlFlow::Continue(v),
            None => ControlFlow::Break(None),
        }
    }
}

/// Builds the function's return value from a residual, converting the error as `?` does.
pub trait FromResidual<R> {
    /// The conversion.
    fn from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(From::from(e)),
            Ok(never) => match never {},
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

/// A string-like label value (`&str`, `String`, `Box<str>`, `Arc<str>`, `Cow<str>`).
#[diagnostic::on_unimplemented(
    message = "a metric label value must be a string, not `{Self}`",
    label = "this becomes a label value",
    note = "pass a `&str` or a `String` (for a number, format it once and keep the label set small)"
)]
pub trait LabelValue {
    /// The value.
    fn label_value(&self) -> &str;
}

impl LabelValue for str {
    fn label_value(&self) -> &str {
        self
    }
}
impl LabelValue for String {
    fn label_value(&self) -> &str {
        self
    }
}
impl LabelValue for Box<str> {
    fn label_value(&self) -> &str {
        self
    }
}
impl LabelValue for std::sync::Arc<str> {
    fn label_value(&self) -> &str {
        self
    }
}
impl LabelValue for std::borrow::Cow<'_, str> {
    fn label_value(&self) -> &str {
        self
    }
}
impl<T: LabelValue + ?Sized> LabelValue for &T {
    fn label_value(&self) -> &str {
        (**self).label_value()
    }
}
impl<T: LabelValue + ?Sized> LabelValue for &mut T {
    fn label_value(&self) -> &str {
        (**self).label_value()
    }
}

/// The label value of `v`.
#[inline(always)]
pub fn label<T: LabelValue + ?Sized>(v: &T) -> &str {
    v.label_value()
}

/// The end of an instrumented `async fn .. -> !` after its body, which never completes: gives
/// the function its type; never called.
#[cold]
pub fn never_returned() -> ! {
    unreachable!("an async fn returning `!` completed")
}
