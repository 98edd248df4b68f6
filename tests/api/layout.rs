//! The code's rooms stay livable: no source file outgrows its line limit, and the domain's modules import
//! one another without going round in circles.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a file under `src/domain` may hold.
const DOMAIN_LIMIT: usize = 500;
/// The most lines any other source or test file may hold.
const OTHER_LIMIT: usize = 600;

/// Module path (`task::review`) to module path, for the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively, in path order, skipping `target` and the insta snapshots.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a readable directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name == "target") || path.ends_with("tests/api/snapshots") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_domain_file_is_over_500_lines_and_no_other_source_or_test_file_over_600() {
    let root = root();
    let domain_dir = root.join("src/domain");
    let domain = domain_dir.as_path();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.iter().any(|path| path.starts_with(domain)), "no file found under {}", domain.display());
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).expect("a readable source file").lines().count();
            let limit = if path.starts_with(domain) { DOMAIN_LIMIT } else { OTHER_LIMIT };
            let shown = path.strip_prefix(root).unwrap_or(path).display();
            (lines > limit).then(|| format!("  {shown}: {lines} lines (limit {limit})"))
        })
        .collect();
    assert!(offenders.is_empty(), "files over their line limit; split them into rooms:\n{}", offenders.join("\n"));
}

/// Each `.rs` file under `src/domain` by module path (`task::review`; `gig` for `gig/mod.rs` or `gig.rs`), with
/// its text. The domain's own `mod.rs` is left out: it declares every module and is imported by none.
fn domain_modules() -> BTreeMap<String, String> {
    let domain_dir = root().join("src/domain");
    let domain = domain_dir.as_path();
    let mut files = Vec::new();
    rust_files(domain, &mut files);
    files
        .iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(domain).ok()?.with_extension("");
            let mut parts: Vec<String> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|last| last == "mod") {
                parts.pop();
            }
            let name = parts.join("::");
            (!name.is_empty()).then(|| (name, std::fs::read_to_string(path).expect("a readable source file")))
        })
        .collect()
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Whether the byte before `at` ends no word (so a keyword starting at `at` is a whole word).
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at.checked_sub(1).and_then(|before| bytes.get(before)).is_none_or(|byte| !is_word(*byte))
}

/// The tree of every `use ...;` statement (the text between `use` and `;`), and whether it is a re-export
/// (`pub use`, `pub(crate) use`).
fn use_trees(code: &str) -> Vec<(&str, bool)> {
    use_statements(code).into_iter().map(|(tree, reexport, _)| (tree, reexport)).collect()
}

/// The code with its `use` statements blanked out (inline paths are read from what is left).
fn without_uses(code: &str) -> String {
    let mut out = code.to_owned();
    for (_, _, (start, end)) in use_statements(code) {
        out.replace_range(start..end, &" ".repeat(end.saturating_sub(start)));
    }
    out
}

/// Each `use` statement: its tree, whether it is a re-export, and its byte range.
fn use_statements(code: &str) -> Vec<(&str, bool, (usize, usize))> {
    let bytes = code.as_bytes();
    let mut trees = Vec::new();
    let mut at = 0;
    while let Some(found) = code.get(at..).and_then(|rest| rest.find("use")) {
        let start = at.saturating_add(found);
        let after = start.saturating_add("use".len());
        at = after;
        if !starts_word(bytes, start) || !bytes.get(after).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(length) = code.get(after..).and_then(|rest| rest.find(';')) else { break };
        let end = after.saturating_add(length);
        let before = code.get(..start).unwrap_or_default().trim_end();
        let visibility =
            before.rfind(['\n', ';', '}']).map_or(before, |at| before.get(at.saturating_add(1)..).unwrap_or_default());
        let reexport = visibility.trim_start().starts_with("pub");
        trees.push((code.get(after..end).unwrap_or_default(), reexport, (start, end)));
        at = end.saturating_add(1);
    }
    trees
}

/// The paths a use tree names, brace groups expanded: `a::{b, c::{self, D as E}}` gives `a::b`, `a::c::self`,
/// `a::c::D`.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or_default().trim();
        return vec![path.split("::").map(str::to_owned).collect()];
    };
    let close = tree.rfind('}').unwrap_or(tree.len());
    let inner = tree.get(open.saturating_add(1)..close).unwrap_or_default();
    let prefix: Vec<String> = tree
        .get(..open)
        .unwrap_or_default()
        .trim_end_matches(':')
        .split("::")
        .map(str::trim)
        .filter(|segment| !segment.is_empty())
        .map(str::to_owned)
        .collect();
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, character) in inner.char_indices() {
        match character {
            '{' => depth = depth.saturating_add(1),
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(inner.get(start..at).unwrap_or_default());
                start = at.saturating_add(1);
            }
            _ => {}
        }
    }
    items.push(inner.get(start..).unwrap_or_default());
    items
        .into_iter()
        .filter(|item| !item.trim().is_empty())
        .flat_map(expand)
        .map(|path| prefix.iter().cloned().chain(path).collect())
        .collect()
}

/// Inline `crate::domain::a::b` and `super::a` / `super::super::a` paths (lowercase segments only, so
/// they end before a type or function name in capitals, and before `{`).
fn inline_paths(code: &str, children: &[&str]) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut paths = Vec::new();
    let mut at = 0;
    let heads: Vec<&str> = ["crate::domain", "super", "self"].into_iter().chain(children.iter().copied()).collect();
    while at < bytes.len() {
        let rest = bytes.get(at..).unwrap_or_default();
        let head = heads.iter().copied().find(|head| rest.starts_with(head.as_bytes()));
        let Some(head) = head.filter(|_| starts_word(bytes, at) && bytes.get(at.saturating_sub(2)..at) != Some(b"::"))
        else {
            at = at.saturating_add(1);
            continue;
        };
        let mut end = at.saturating_add(head.len());
        let mut segments = 0usize;
        while let Some(tail) = bytes.get(end..).and_then(|tail| tail.strip_prefix(b"::")) {
            let length = tail.iter().take_while(|byte| byte.is_ascii_lowercase() || **byte == b'_').count();
            if length == 0 {
                break;
            }
            end = end.saturating_add(2).saturating_add(length);
            segments = segments.saturating_add(1);
        }
        if segments == 0 {
            at = at.saturating_add(1);
            continue;
        }
        paths.push(code.get(at..end).unwrap_or_default().split("::").map(str::to_owned).collect());
        at = end;
    }
    paths
}

/// The domain paths (segments after `crate::domain`) that the source of module `name` names, `//` comments
/// stripped, each with whether a re-export names it; `super` is resolved against `name` (in `a::b`, `super` is
/// `a`; in a top-level module, the domain), `self` and a submodule's name (`criteria::x` in `outcome`)
/// against `name` itself.
fn referenced_paths(name: &str, source: &str, children: &[&str]) -> Vec<(Vec<String>, bool)> {
    // Unit tests (at the end of a file, by habit) are not what the module depends on.
    let source = source.split("#[cfg(test)]").next().unwrap_or_default();
    let code = source.lines().map(|line| line.find("//").map_or(line, |at| line.get(..at).unwrap_or_default()));
    let code = code.collect::<Vec<_>>().join("\n");
    let parent: Vec<String> =
        name.rsplit_once("::").map(|(parent, _)| parent.split("::").map(str::to_owned).collect()).unwrap_or_default();
    let own: Vec<String> = name.split("::").map(str::to_owned).collect();
    let mut raw: Vec<(Vec<String>, bool)> = use_trees(&code)
        .into_iter()
        .flat_map(|(tree, reexport)| expand(tree).into_iter().map(move |path| (path, reexport)))
        .collect();
    raw.extend(inline_paths(&without_uses(&code), children).into_iter().map(|path| (path, false)));
    raw.into_iter()
        .filter_map(|(path, reexport)| {
            let segments: Vec<String> = path
                .iter()
                .map(|segment| segment.trim())
                .filter(|segment| !segment.is_empty())
                .map(str::to_owned)
                .collect();
            match segments.as_slice() {
                [first, second, rest @ ..] if first == "crate" && second == "domain" => Some(rest.to_vec()),
                [first, rest @ ..] if first == "super" => {
                    let ups = rest.iter().take_while(|segment| *segment == "super").count();
                    let mut base = parent.clone();
                    base.truncate(base.len().saturating_sub(ups));
                    base.extend(rest.iter().skip(ups).cloned());
                    Some(base)
                }
                [first, rest @ ..] if first == "self" => Some(own.iter().chain(rest).cloned().collect()),
                [first, ..] if children.contains(&first.as_str()) => {
                    Some(own.iter().chain(&segments).cloned().collect())
                }
                _ => None,
            }
            .map(|path| (path, reexport))
        })
        .collect()
}

fn top_level(name: &str) -> &str {
    name.split("::").next().unwrap_or(name)
}

/// The import graph between files (`task::review`) or, with `top`, between top-level modules (`task`). A path
/// resolves to its longest prefix that is a module; self edges and a parent's re-exports of its own
/// submodules are left out (a parent that calls its submodule depends on it like any other module).
fn import_edges(modules: &BTreeMap<String, String>, top: bool) -> Graph {
    let mut edges = Graph::new();
    for (name, source) in modules {
        let from = if top { top_level(name) } else { name.as_str() };
        let children: Vec<&str> = modules
            .keys()
            .filter_map(|m| m.strip_prefix(name.as_str())?.strip_prefix("::"))
            .filter(|child| !child.contains("::"))
            .collect();
        for (path, reexport) in referenced_paths(name, source, &children) {
            let mut prefixes = (1..=path.len()).rev().map(|length| path.get(..length).unwrap_or_default().join("::"));
            let Some(target) = prefixes.find(|prefix| modules.contains_key(prefix)) else { continue };
            let to = if top { top_level(&target).to_owned() } else { target };
            let descendant = to.strip_prefix(from).is_some_and(|rest| rest.starts_with("::"));
            if to != from && !(descendant && reexport) {
                edges.entry(from.to_owned()).or_default().insert(to);
            }
        }
    }
    edges
}

/// Every module `from` reaches through one or more edges.
fn reachable<'a>(edges: &'a Graph, from: &'a str) -> BTreeSet<&'a str> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from];
    while let Some(module) = todo.pop() {
        for next in edges.get(module).into_iter().flatten() {
            if seen.insert(next.as_str()) {
                todo.push(next.as_str());
            }
        }
    }
    seen
}

/// The strongly connected components of more than one module: the import circles.
fn circles(edges: &Graph) -> Vec<BTreeSet<&str>> {
    let reach: BTreeMap<&str, BTreeSet<&str>> =
        edges.keys().map(|module| (module.as_str(), reachable(edges, module))).collect();
    let mut found: Vec<BTreeSet<&str>> = Vec::new();
    for (module, from_module) in &reach {
        if !from_module.contains(module) {
            continue;
        }
        let circle: BTreeSet<&str> = from_module
            .iter()
            .copied()
            .filter(|other| reach.get(other).is_some_and(|from_other| from_other.contains(module)))
            .collect();
        if !found.contains(&circle) {
            found.push(circle);
        }
    }
    found
}

/// A circle's members and the edges between them, so a reader sees which import to break.
fn describe(edges: &Graph, circle: &BTreeSet<&str>) -> String {
    let members: Vec<&str> = circle.iter().copied().collect();
    let mut lines = vec![format!("{} modules in a circle: {}", members.len(), members.join(", "))];
    for from in circle {
        let to: Vec<&str> =
            edges.get(*from).into_iter().flatten().map(String::as_str).filter(|to| circle.contains(to)).collect();
        lines.push(format!("    {from} -> {}", to.join(", ")));
    }
    lines.join("\n")
}

#[test]
fn domain_modules_import_no_circle() {
    let modules = domain_modules();
    assert!(modules.contains_key("task") && modules.contains_key("gig"), "the domain's modules are not found");
    let mut report = Vec::new();
    for (level, top) in [("top-level modules", true), ("files", false)] {
        let edges = import_edges(&modules, top);
        for circle in circles(&edges) {
            report.push(format!("  {level}: {}", describe(&edges, &circle)));
        }
    }
    assert!(
        report.is_empty(),
        "the domain's imports go round in circles; break one edge of each:\n{}",
        report.join("\n")
    );
}

#[test]
fn the_import_parser_expands_use_trees_resolves_super_and_skips_comments_and_descendants() {
    let file = |name: &str, source: &str| (name.to_owned(), source.to_owned());
    let modules: BTreeMap<String, String> = [
        file(
            "x",
            "pub(crate) use crate::{auth::Viewer, domain::{activity::{self, Action}, page}};\n\
             // use crate::domain::gig;\n",
        ),
        file("activity", ""),
        file("page", ""),
        file(
            "gig",
            "pub mod proposal;\npub use self::proposal::Proposal;\npub(crate) use crate::domain::gig::proposal::Draft as D;\n",
        ),
        file(
            "gig::proposal",
            "use super::{Gig, super::ledger::{self as books}};\nfn f() { crate::domain::task::review::run(); }\n",
        ),
        file("ledger", "use crate::domain::gig::proposal::Proposal;\n"),
        file("task", ""),
        file("task::review", "fn g() { super::super::page::show(); super::Task::new(); }\n"),
        // A parent that calls its submodule depends on it; re-exporting one is no import.
        file("outcome", "pub mod criteria;\npub use criteria::tick;\nfn add() { criteria::validate(); }\n"),
        file("outcome::criteria", "use super::Managed;\n"),
        file("event", "pub mod rsvp;\npub use rsvp::rsvp;\n"),
        file("event::rsvp", "use super::lock;\n"),
    ]
    .into_iter()
    .collect();
    let fine = import_edges(&modules, false);
    let targets =
        |from: &str| fine.get(from).map(|to| to.iter().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
    assert_eq!(targets("x"), ["activity", "page"]);
    assert_eq!(targets("gig"), Vec::<&str>::new(), "a parent naming its submodule is no import");
    assert_eq!(targets("gig::proposal"), ["gig", "ledger", "task::review"]);
    assert_eq!(targets("task::review"), ["page"], "`super::Task` is a type, not a module path");
    assert_eq!(targets("outcome"), ["outcome::criteria"], "a call into a submodule is an import");
    assert_eq!(targets("event"), Vec::<&str>::new(), "re-exports, even of a same-named item, are not");
    let circle: BTreeSet<&str> = ["gig::proposal", "ledger"].into_iter().collect();
    let called: BTreeSet<&str> = ["outcome", "outcome::criteria"].into_iter().collect();
    let found = circles(&fine);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.contains(&circle) && found.contains(&called), "{found:?}");
    let top = import_edges(&modules, true);
    assert_eq!(top.get("gig").map(BTreeSet::len), Some(2), "gig -> ledger and gig -> task: {top:?}");
    let circle: BTreeSet<&str> = ["gig", "ledger"].into_iter().collect();
    assert_eq!(circles(&top), [circle]);
    assert!(describe(&top, &circles(&top)[0]).contains("ledger -> gig"));
}
