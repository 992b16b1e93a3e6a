//! The tool names a server listed: the only tool names that become label values.

use std::collections::HashSet;
use std::sync::RwLock;

use super::UNLISTED_TOOL;

/// At most this many listed names are kept (a server listing more is unusual; the rest are
/// recorded as [`UNLISTED_TOOL`]), so a hostile server cannot create series at will either.
pub const MAX_LISTED_TOOLS: usize = 1_000;

/// The names of the tools a server listed last.
#[derive(Debug, Default)]
pub(crate) struct ToolNames {
    /// `None` until the server listed its tools once.
    listed: RwLock<Option<HashSet<Box<str>>>>,
}

impl ToolNames {
    /// Replaces the known names with those of a fresh listing.
    pub(crate) fn learn<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let names = names
            .into_iter()
            .take(MAX_LISTED_TOOLS)
            .map(Box::from)
            .collect();
        *self.listed.write().unwrap_or_else(|p| p.into_inner()) = Some(names);
    }

    /// Adds the names of one page of a listing (a server's listing may come in pages).
    pub(crate) fn extend<'a>(&self, names: impl IntoIterator<Item = &'a str>) {
        let mut listed = self.listed.write().unwrap_or_else(|p| p.into_inner());
        let listed = listed.get_or_insert_with(HashSet::new);
        for name in names {
            if listed.len() >= MAX_LISTED_TOOLS {
                break;
            }
            if !listed.contains(name) {
                listed.insert(name.into());
            }
        }
    }

    /// Whether the server listed its tools at least once.
    pub(crate) fn known(&self) -> bool {
        self.listed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
    }

    /// `name` if the server listed it, else [`UNLISTED_TOOL`].
    pub(crate) fn label<'a>(&self, name: &'a str) -> &'a str {
        let listed = self.listed.read().unwrap_or_else(|p| p.into_inner());
        match &*listed {
            Some(names) if names.contains(name) => name,
            _ => UNLISTED_TOOL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_names_pass() {
        let names = ToolNames::default();
        assert!(!names.known());
        assert_eq!(names.label("search"), UNLISTED_TOOL);
        names.learn(["search", "fetch"]);
        assert!(names.known());
        assert_eq!(names.label("search"), "search");
        assert_eq!(names.label("rm -rf"), UNLISTED_TOOL);
        names.learn(["fetch"]);
        assert_eq!(names.label("search"), UNLISTED_TOOL);
        names.extend(["search"]);
        assert_eq!(names.label("search"), "search");
        assert_eq!(names.label("fetch"), "fetch");
    }

    #[test]
    fn a_huge_listing_is_capped() {
        let names = ToolNames::default();
        let many: Vec<String> = (0..MAX_LISTED_TOOLS + 10)
            .map(|i| format!("t{i}"))
            .collect();
        names.learn(many.iter().map(String::as_str));
        let admitted = many
            .iter()
            .filter(|n| names.label(n) != UNLISTED_TOOL)
            .count();
        assert_eq!(admitted, MAX_LISTED_TOOLS);
    }
}
