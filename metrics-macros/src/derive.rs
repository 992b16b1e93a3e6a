//! `#[derive(ErrorType)]` for enums: each variant's name in snake_case, adjustable per variant
//! with `#[error_type("name")]`, `#[error_type(name = "x", status = 400, blocked)]` or
//! `#[error_type(crash)]` or `#[error_type(transparent)]`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, ExprLit, Fields, Lit, LitStr, Path, Variant};

use crate::syntax::RawArgs;

struct VariantSpec {
    name: LitStr,
    status: Option<u16>,
    blocked: bool,
    crash: bool,
    transparent: bool,
}

pub fn derive(input: DeriveInput) -> syn::Result<TokenStream> {
    let Data::Enum(data) = &input.data else {
        let keyword = match &input.data {
            Data::Struct(s) => s.struct_token.span,
            Data::Union(u) => u.union_token.span,
            Data::Enum(_) => unreachable!(),
        };
        return Err(syn::Error::new(
            keyword,
            "#[derive(ErrorType)] is for enums (one error_type per variant); for a struct, \
             implement `mcp_gateway_metrics::ErrorType` by hand",
        ));
    };
    let runtime = enum_crate(&input)?;
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let mut error_types = Vec::new();
    let mut blocked = Vec::new();
    let mut statuses = Vec::new();
    let mut crashes = Vec::new();
    for variant in &data.variants {
        let spec = variant_spec(variant)?;
        let v = &variant.ident;
        if spec.transparent {
            let (pattern, field) = single_field(variant)?;
            let f = quote_spanned!(field.span()=> #runtime::ErrorType);
            error_types.push(quote!(Self::#v #pattern => #f::error_type(__mr_field)));
            blocked.push(quote!(Self::#v #pattern => #f::blocked_reason(__mr_field)));
            statuses.push(quote!(Self::#v #pattern => #f::status_code(__mr_field)));
            crashes.push(quote!(Self::#v #pattern => #f::is_crash(__mr_field)));
            continue;
        }
        let name = &spec.name;
        error_types.push(quote!(Self::#v { .. } => #name));
        if spec.blocked {
            blocked.push(quote!(Self::#v { .. } => #runtime::__private::Some(#name)));
        }
        if spec.crash {
            crashes.push(quote!(Self::#v { .. } => true));
        }
        if let Some(status) = spec.status {
            statuses.push(quote!(Self::#v { .. } => #status));
        }
    }
    Ok(quote! {
        #[automatically_derived]
        impl #impl_generics #runtime::ErrorType for #ident #ty_generics #where_clause {
            fn error_type(&self) -> &'static str {
                match self {
                    #(#error_types,)*
                }
            }
            #[allow(unreachable_patterns)]
            fn blocked_reason(&self) -> #runtime::__private::Option<&'static str> {
                match self {
                    #(#blocked,)*
                    _ => #runtime::__private::None,
                }
            }
            #[allow(unreachable_patterns)]
            fn status_code(&self) -> u16 {
                match self {
                    #(#statuses,)*
                    _ => 500,
                }
            }
            #[allow(unreachable_patterns)]
            fn is_crash(&self) -> bool {
                match self {
                    #(#crashes,)*
                    _ => false,
                }
            }
        }
    })
}

fn enum_crate(input: &DeriveInput) -> syn::Result<Path> {
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("error_type"))
    {
        let args: RawArgs = attr.parse_args()?;
        if let Some(arg) = args.0.into_iter().next() {
            return match (arg.key.to_string().as_str(), arg.value) {
                ("crate", Some(Expr::Path(p))) => Ok(p.path),
                _ => Err(syn::Error::new(
                    arg.key.span(),
                    "on the enum, #[error_type] takes only `crate = path`; put the other \
                     options on the variants",
                )),
            };
        }
    }
    Ok(syn::parse_quote!(::mcp_gateway_metrics))
}

fn variant_spec(variant: &Variant) -> syn::Result<VariantSpec> {
    let default_name = crate::snake::snake_case(&variant.ident.to_string());
    let mut spec = VariantSpec {
        name: LitStr::new(&default_name, variant.ident.span()),
        status: None,
        blocked: false,
        crash: false,
        transparent: false,
    };
    let mut named = false;
    for attr in variant
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("error_type"))
    {
        // `#[error_type("name", more..)]`: an optional leading name, then options.
        let (lit, args) = attr.parse_args_with(|input: syn::parse::ParseStream| {
            let lit = if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                if !input.is_empty() {
                    input.parse::<syn::Token![,]>()?;
                }
                Some(lit)
            } else {
                None
            };
            Ok((lit, input.parse::<RawArgs>()?))
        })?;
        if let Some(lit) = lit {
            set_name(&mut spec, &mut named, lit)?;
        }
        for arg in args.0 {
            let key = arg.key.to_string();
            match (key.as_str(), &arg.value) {
                (
                    "name",
                    Some(Expr::Lit(ExprLit {
                        lit: Lit::Str(s), ..
                    })),
                ) => set_name(&mut spec, &mut named, s.clone())?,
                (
                    "status",
                    Some(Expr::Lit(ExprLit {
                        lit: Lit::Int(i), ..
                    })),
                ) => {
                    let status: u16 = i
                        .base10_parse()
                        .ok()
                        .filter(|s| (100..=599).contains(s))
                        .ok_or_else(|| {
                            syn::Error::new(i.span(), "a status code is a number from 100 to 599")
                        })?;
                    spec.status = Some(status);
                }
                ("blocked", None) => spec.blocked = true,
                ("crash", None) => spec.crash = true,
                ("transparent", None) => spec.transparent = true,
                ("name" | "status", Some(v)) => {
                    return Err(syn::Error::new(
                        v.span(),
                        format!(
                            "`{key}` takes {}",
                            if key == "name" {
                                "a string literal"
                            } else {
                                "an integer such as 400"
                            }
                        ),
                    ))
                }
                _ => {
                    return Err(syn::Error::new(
                        arg.key.span(),
                        format!(
                        "unknown #[error_type] option `{key}`; expected \"name\", name = \"..\", \
                             status = N, blocked, crash or transparent"
                    ),
                    ))
                }
            }
        }
    }
    if spec.transparent && (named || spec.blocked || spec.crash || spec.status.is_some()) {
        return Err(syn::Error::new(
            variant.ident.span(),
            "`transparent` takes everything from the field; it cannot be combined with a name, \
             `status` or `blocked`",
        ));
    }
    Ok(spec)
}

fn set_name(spec: &mut VariantSpec, named: &mut bool, lit: LitStr) -> syn::Result<()> {
    let value = lit.value();
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(syn::Error::new(
            lit.span(),
            "an error_type is a snake_case label value such as \"upstream_timeout\"",
        ));
    }
    spec.name = lit;
    *named = true;
    Ok(())
}

fn single_field(variant: &Variant) -> syn::Result<(TokenStream, &syn::Field)> {
    let fields: Vec<&syn::Field> = variant.fields.iter().collect();
    if fields.len() != 1 {
        return Err(syn::Error::new(
            variant.ident.span(),
            "`transparent` needs a variant with exactly one field, whose type implements ErrorType",
        ));
    }
    let pattern = match (&variant.fields, &fields[0].ident) {
        (Fields::Named(_), Some(name)) => quote!({ #name: __mr_field }),
        _ => quote!((__mr_field)),
    };
    Ok((pattern, fields[0]))
}
