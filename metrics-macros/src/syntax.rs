//! Parsing of attribute arguments: `key = value` pairs and bare flags, each error on the
//! offending token.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitBool, LitStr, Path, Token};

/// One argument as written.
pub struct Arg {
    pub key: Ident,
    pub value: Option<Expr>,
}

/// All arguments of one attribute, in order.
pub struct RawArgs(pub Vec<Arg>);

impl Parse for RawArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Vec::new();
        while !input.is_empty() {
            let key = Ident::parse_any(input).map_err(|e| {
                syn::Error::new(e.span(), "expected an argument: `name = value` or a flag")
            })?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            args.push(Arg { key, value });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(RawArgs(args))
    }
}

/// What a macro accepts: each argument's key, aliases and kind.
pub struct Spec {
    pub macro_name: &'static str,
    pub keys: &'static [Key],
}

#[derive(Clone, Copy)]
pub struct Key {
    /// The canonical name.
    pub name: &'static str,
    /// Other spellings of the same argument (`server_name` for `server`).
    pub aliases: &'static [&'static str],
    /// A flag takes no value (`allow_unbounded_labels`).
    pub flag: bool,
}

impl Key {
    pub const fn value(name: &'static str) -> Key {
        Key {
            name,
            aliases: &[],
            flag: false,
        }
    }
    pub const fn alias(name: &'static str, aliases: &'static [&'static str]) -> Key {
        Key {
            name,
            aliases,
            flag: false,
        }
    }
    pub const fn flag(name: &'static str) -> Key {
        Key {
            name,
            aliases: &[],
            flag: true,
        }
    }
}

/// Arguments checked against a [`Spec`]: known, not repeated, values where values belong.
pub struct Args {
    found: Vec<(&'static str, Arg)>,
    /// The attribute these arguments were written in, for errors about a missing argument.
    pub span: proc_macro2::Span,
}

impl Args {
    pub fn check(raw: RawArgs, spec: &Spec, span: proc_macro2::Span) -> syn::Result<Args> {
        let mut found: Vec<(&'static str, Arg)> = Vec::new();
        for arg in raw.0 {
            let written = arg.key.unraw().to_string();
            let key = spec
                .keys
                .iter()
                .find(|k| k.name == written || k.aliases.contains(&written.as_str()))
                .ok_or_else(|| {
                    let names: Vec<&str> = spec.keys.iter().map(|k| k.name).collect();
                    syn::Error::new(
                        arg.key.span(),
                        format!(
                            "unknown argument `{written}` for #[{}]; expected one of: {}",
                            spec.macro_name,
                            names.join(", ")
                        ),
                    )
                })?;
            if let Some((_, first)) = found.iter().find(|(name, _)| *name == key.name) {
                let first_written = first.key.unraw().to_string();
                let message = if first_written == written {
                    format!("duplicate argument `{written}`")
                } else {
                    format!(
                        "`{written}` conflicts with `{first_written}`: both set the {}; keep one",
                        key.name
                    )
                };
                return Err(syn::Error::new(arg.key.span(), message));
            }
            match (&arg.value, key.flag) {
                (Some(v), true) => {
                    return Err(syn::Error::new(
                        v.span(),
                        format!("`{written}` is a flag and takes no value; write just `{written}`"),
                    ))
                }
                (None, false) => {
                    return Err(syn::Error::new(
                        arg.key.span(),
                        format!("`{written}` needs a value: `{written} = ...`"),
                    ))
                }
                _ => {}
            }
            found.push((key.name, arg));
        }
        Ok(Args { found, span })
    }

    fn get(&self, name: &str) -> Option<&Arg> {
        self.found.iter().find(|(n, _)| *n == name).map(|(_, a)| a)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value expression of `name`, if given.
    pub fn expr(&self, name: &str) -> Option<&Expr> {
        self.get(name).and_then(|a| a.value.as_ref())
    }

    /// The key token of `name`, for errors about the argument as a whole.
    pub fn key_span(&self, name: &str) -> Option<Span> {
        self.get(name).map(|a| a.key.span())
    }

    /// A string literal value.
    pub fn str(&self, name: &str, example: &str) -> syn::Result<Option<LitStr>> {
        self.literal(
            name,
            |lit| match lit {
                Lit::Str(s) => Some(s.clone()),
                _ => None,
            },
            || format!("`{name}` takes a string literal, e.g. `{name} = {example}`"),
        )
    }

    /// A `true` / `false` value.
    pub fn bool(&self, name: &str) -> syn::Result<Option<LitBool>> {
        self.literal(
            name,
            |lit| match lit {
                Lit::Bool(b) => Some(b.clone()),
                _ => None,
            },
            || format!("`{name}` takes `true` or `false`"),
        )
    }

    /// The literal value of `name` that `pick` accepts; anything else is an error saying
    /// `expected`, on the value.
    fn literal<T>(
        &self,
        name: &str,
        pick: impl Fn(&Lit) -> Option<T>,
        expected: impl FnOnce() -> String,
    ) -> syn::Result<Option<T>> {
        let Some(expr) = self.expr(name) else {
            return Ok(None);
        };
        match expr {
            Expr::Lit(ExprLit { lit, .. }) => pick(lit),
            _ => None,
        }
        .map(Some)
        .ok_or_else(|| syn::Error::new(expr.span(), expected()))
    }

    /// A bare word or a string literal from a fixed set (`direction = input`).
    pub fn word(&self, name: &str, allowed: &[&str]) -> syn::Result<Option<(String, Span)>> {
        let Some(expr) = self.expr(name) else {
            return Ok(None);
        };
        let (word, span) = match expr {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let ident = p.path.get_ident().expect("checked");
                (ident.unraw().to_string(), ident.span())
            }
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => (s.value(), s.span()),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    format!("`{name}` takes one of: {}", allowed.join(", ")),
                ))
            }
        };
        if allowed.contains(&word.as_str()) {
            Ok(Some((word, span)))
        } else {
            Err(syn::Error::new(
                span,
                format!(
                    "unknown {name} `{word}`; expected one of: {}",
                    allowed.join(", ")
                ),
            ))
        }
    }

    /// The `crate = path` override, else `::mcp_gateway_metrics`.
    pub fn krate(&self) -> syn::Result<Path> {
        match self.expr("crate") {
            None => Ok(runtime_path()),
            Some(Expr::Path(p)) => Ok(p.path.clone()),
            Some(other) => Err(syn::Error::new(
                other.span(),
                "`crate` takes a path, e.g. `crate = ::my_reexport::mcp_gateway_metrics`",
            )),
        }
    }
}

/// The runtime as the crate being compiled names it: `::mcp_gateway_metrics`, or the name a
/// renamed dependency gives it (`metrics = { package = "mcp-gateway-metrics", .. }` →
/// `::metrics`), read from that crate's `Cargo.toml` once per expansion. `crate = path` on the
/// attribute overrides it (a runtime re-exported by another crate).
pub fn runtime_path() -> Path {
    use proc_macro_crate::{crate_name, FoundCrate};
    match crate_name("mcp-gateway-metrics") {
        Ok(FoundCrate::Name(name)) if name != "mcp_gateway_metrics" => {
            let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
            syn::parse_quote!(::#ident)
        }
        // The runtime's own doctests and tests (`Itself`), the usual name, or no manifest to
        // read (a build outside cargo): the package's own name.
        _ => syn::parse_quote!(::mcp_gateway_metrics),
    }
}

/// A duration string such as `15s` or `500ms`, parsed at compile time.
pub fn duration(lit: &LitStr) -> syn::Result<std::time::Duration> {
    let d = humantime::parse_duration(&lit.value()).map_err(|e| {
        syn::Error::new(
            lit.span(),
            format!(
                "cannot parse {:?} as a duration ({e}); write e.g. \"15s\", \"500ms\" or \"2m\"",
                lit.value()
            ),
        )
    })?;
    if d.is_zero() {
        return Err(syn::Error::new(
            lit.span(),
            "a timeout must be greater than zero",
        ));
    }
    Ok(d)
}
