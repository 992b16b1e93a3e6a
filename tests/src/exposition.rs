//! Reads Prometheus text exposition into families, strictly: every line must parse.

use std::collections::{BTreeMap, BTreeSet};

use prometheus_parse::LineInfo;

/// One metric family as exposed: its TYPE, HELP and samples.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Family {
    /// The `# TYPE` word.
    pub kind: String,
    /// The `# HELP` text.
    pub help: String,
    /// Every sample line: (series name, labels, value).
    pub samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Family {
    /// The label keys of the family's samples, without histogram's `le`.
    pub fn label_keys(&self) -> BTreeSet<String> {
        self.samples
            .iter()
            .flat_map(|(_, labels, _)| labels.keys().cloned())
            .filter(|k| k != "le")
            .collect()
    }

    /// The distinct `le` values of a histogram's `_bucket` samples, in exposition order.
    pub fn bucket_bounds(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, labels, _) in &self.samples {
            if name.ends_with("_bucket") {
                let le = labels.get("le").cloned().unwrap_or_default();
                if !out.contains(&le) {
                    out.push(le);
                }
            }
        }
        out
    }

    /// The value of the sample named `series` whose labels include all of `labels`, summed.
    pub fn value(&self, series: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(name, l, _)| {
                name == series
                    && labels
                        .iter()
                        .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }
}

/// Parses exposition text. Fails on any line the independent `prometheus-parse` grammar does
/// not recognise, on a sample that belongs to no declared family, and on a malformed value.
pub fn parse(text: &str) -> Result<BTreeMap<String, Family>, String> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        match LineInfo::parse(line) {
            LineInfo::Empty => {}
            LineInfo::Ignored => {
                return Err(format!("line {n} is not exposition format: {line:?}"))
            }
            LineInfo::Doc { metric_name, doc } => {
                families.entry(metric_name.to_owned()).or_default().help = doc.to_owned();
            }
            LineInfo::Type {
                metric_name,
                metric_alias,
                sample_type,
            } => {
                let name = metric_alias.unwrap_or(metric_name);
                let word = line.split_whitespace().nth(3).unwrap_or_default();
                let _ = sample_type;
                families.entry(name).or_default().kind = word.to_owned();
            }
            LineInfo::Sample {
                metric_name,
                labels,
                value,
                ..
            } => {
                let family = family_of(metric_name, &families)
                    .ok_or_else(|| format!("line {n}: sample {metric_name} has no # TYPE"))?;
                let value: f64 = match value {
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    v => v
                        .parse()
                        .map_err(|_| format!("line {n}: bad value {v:?}"))?,
                };
                let labels = parse_labels(labels.unwrap_or(""))
                    .map_err(|e| format!("line {n}: {e}: {line:?}"))?;
                families
                    .get_mut(&family)
                    .expect("found above")
                    .samples
                    .push((metric_name.to_owned(), labels, value));
            }
        }
    }
    Ok(families)
}

fn family_of(sample: &str, families: &BTreeMap<String, Family>) -> Option<String> {
    if families.contains_key(sample) {
        return Some(sample.to_owned());
    }
    ["_bucket", "_sum", "_count"].iter().find_map(|suffix| {
        let base = sample.strip_suffix(suffix)?;
        (families.get(base)?.kind == "histogram").then(|| base.to_owned())
    })
}

/// `a="x",b="y"` with the exposition's escapes (`\\`, `\"`, `\n`).
fn parse_labels(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").ok_or("label without =\"")?;
        let key = key.trim().trim_start_matches(',').trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!("bad label name {key:?}"));
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => match chars.next() {
                    Some((_, 'n')) => value.push('\n'),
                    Some((_, c)) => value.push(c),
                    None => return Err("dangling escape".into()),
                },
                Some((i, '"')) => break i,
                Some((_, c)) => value.push(c),
                None => return Err("unterminated label value".into()),
            }
        };
        if out.insert(key.to_owned(), value).is_some() {
            return Err(format!("label {key} repeated"));
        }
        rest = after[end + 1..].trim_start_matches(',').trim();
    }
    Ok(out)
}
