//! The crate's layers, checked from its source. ARCHITECTURE.md explains
//! them; this test keeps them true.
//!
//! The test reads `src/` as Rust (with `syn`), following `mod` declarations
//! from `src/lib.rs` the way the compiler does, so every module is one file
//! and `#[path]` files land where they belong. An import is any path in the
//! code that starts with `crate::`, `super::`, `self::` or the name of a
//! child module (`use` trees, paths in expressions and types, and paths
//! inside macro calls); it points at the deepest module file it names.
//! Comments and doc links are not imports.
//!
//! Two rules:
//! - **Layers** ([`LAYERS`]): a module may import only the modules its
//!   layer lists, and inside a folder with ordered parts only the parts
//!   before its own. No part imports the `mod.rs` of its folder: a folder's
//!   root sits above its parts.
//! - **No circles** between module files, test modules left out (a test
//!   module may use its parent).
//!
//! Test-only modules (declared under `#[cfg(test)]`) follow the layers
//! too, except that they may use their folder's root and any part of it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The layers, top-level modules first, then the folders whose parts are
/// ordered. Each entry: a module, and what it may import besides itself
/// and its own descendants.
///
/// - For a top-level module: the other top-level modules it may use.
/// - For a folder with parts: its parts from the bottom up, each of which
///   may use the parts listed before it (and what its top-level module may
///   use).
const LAYERS: &[Layer] = &[
    Layer::Top("tf", &[]),
    Layer::Top("kube", &["tf"]),
    Layer::Top("server", &["tf"]),
    Layer::Top("kubernetes_job", &["tf", "kube"]),
    Layer::Top("provider", &["tf", "kube", "kubernetes_job"]),
    Layer::Parts(
        "kubernetes_job",
        &[
            "model",
            "validate",
            "render",
            "cluster",
            "adopt",
            "lifecycle",
            "manifest",
            "run",
            "data_source",
        ],
    ),
];

/// One line of [`LAYERS`].
enum Layer {
    /// A top-level module and the top-level modules it may import.
    Top(&'static str, &'static [&'static str]),
    /// A folder and its parts, bottom first.
    Parts(&'static str, &'static [&'static str]),
}

/// A module path inside the crate, `kube::budget` style (`""` is the crate
/// root).
type ModPath = String;

/// One module file of the crate.
#[derive(Debug, Clone)]
struct Module {
    file: PathBuf,
    test_only: bool,
    /// The child modules it declares.
    children: BTreeSet<String>,
    /// The names its `use` items bring in, with the full paths they stand
    /// for: a path through a re-export (`crate::tf::Value`) is an import of
    /// the module that defines the name (`tf::value`).
    uses: BTreeMap<String, Vec<String>>,
}

/// An import of one module by another.
#[derive(Debug, Clone, Copy)]
struct Seen {
    /// The first line of the importer that names the module.
    line: usize,
    /// Only test code (a `#[cfg(test)]` module) imports it.
    in_test: bool,
}

/// The module files and the imports between them.
#[derive(Debug, Default)]
struct Graph {
    modules: BTreeMap<ModPath, Module>,
    /// Importing module -> imported module -> where.
    imports: BTreeMap<ModPath, BTreeMap<ModPath, Seen>>,
}

/// Where the crate's sources come from: the disk, or (in this test's own
/// unit tests) a map of file names to texts.
trait Sources {
    fn read(&self, path: &Path) -> Option<String>;
}

/// The files under a directory (the package's), named relative to it.
struct Disk(PathBuf);

impl Sources for Disk {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

impl Sources for BTreeMap<PathBuf, String> {
    fn read(&self, path: &Path) -> Option<String> {
        self.get(path).cloned()
    }
}

/// Reads the crate from `root` (the `src/lib.rs`).
fn read_crate(root: &Path, sources: &dyn Sources) -> Graph {
    let mut graph = Graph::default();
    let mut files: Vec<(ModPath, PathBuf, bool, syn::File)> = Vec::new();
    let mut queue = vec![(String::new(), root.to_path_buf(), false, true)];
    while let Some((path, file, test_only, is_dir_owner)) = queue.pop() {
        let text = sources
            .read(&file)
            .unwrap_or_else(|| panic!("{} is declared but cannot be read", file.display()));
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()));
        let dir = child_dir(&file, is_dir_owner);
        let mut children = BTreeSet::new();
        for item in &ast.items {
            let syn::Item::Mod(m) = item else { continue };
            if m.content.is_some() {
                continue;
            }
            let name = m.ident.to_string();
            children.insert(name.clone());
            let child_test = test_only || has_cfg_test(&m.attrs);
            let (child_file, owner) = match path_attr(&m.attrs) {
                // `#[path]` is relative to the directory of the declaring
                // file.
                Some(p) => {
                    let base = file.parent().unwrap_or(Path::new(""));
                    let f = base.join(p);
                    let owner = f.file_name().is_some_and(|n| n == "mod.rs");
                    (f, owner)
                }
                None => {
                    let flat = dir.join(format!("{name}.rs"));
                    if sources.read(&flat).is_some() {
                        (flat, false)
                    } else {
                        (dir.join(&name).join("mod.rs"), true)
                    }
                }
            };
            queue.push((join(&path, &name), child_file, child_test, owner));
        }
        let mut uses = BTreeMap::new();
        for item in &ast.items {
            let syn::Item::Use(u) = item else { continue };
            let mut named = Vec::new();
            use_names(&u.tree, &mut Vec::new(), &mut named);
            for (name, segments) in named {
                if let Some(full) = absolute(&split(&path), &children, &segments) {
                    uses.insert(name, full);
                }
            }
        }
        graph.modules.insert(
            path.clone(),
            Module {
                file: file.clone(),
                test_only,
                children,
                uses,
            },
        );
        files.push((path, file, test_only, ast));
    }
    for (path, _, _, ast) in &files {
        let mut finder = Finder {
            graph: &graph,
            module: path.clone(),
            test_only: graph.modules.get(path).is_some_and(|m| m.test_only),
            inline: Vec::new(),
            tests: 0,
            found: BTreeMap::new(),
        };
        finder.visit_file(ast);
        let found = finder.found;
        graph.imports.insert(path.clone(), found);
    }
    graph
}

/// The directory in which a file's child modules live.
fn child_dir(file: &Path, is_dir_owner: bool) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("")).to_path_buf();
    if is_dir_owner {
        parent
    } else {
        let stem = file
            .file_stem()
            .map(|s| s.to_os_string())
            .unwrap_or_default();
        parent.join(stem)
    }
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}::{name}")
    }
}

fn has_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().split_whitespace().any(|t| t == "test"))
    })
}

fn path_attr(attrs: &[syn::Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        let nv = a.meta.require_name_value().ok()?;
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// Collects the imports of one file.
struct Finder<'g> {
    graph: &'g Graph,
    /// The file's module.
    module: ModPath,
    /// The file is test code.
    test_only: bool,
    /// Inline modules (`mod tests { ... }`) around the current item.
    inline: Vec<String>,
    /// How many of those are `#[cfg(test)]`.
    tests: usize,
    found: BTreeMap<ModPath, Seen>,
}

impl Finder<'_> {
    /// The module the code at hand is in, inline modules included.
    fn here(&self) -> Vec<String> {
        let mut segs: Vec<String> = split(&self.module);
        segs.extend(self.inline.iter().cloned());
        segs
    }

    /// Records the module file that a path (as segments) points into.
    fn record(&mut self, segments: &[String], line: usize) {
        let children = match (self.inline.is_empty(), self.graph.modules.get(&self.module)) {
            (true, Some(m)) => m.children.clone(),
            _ => BTreeSet::new(),
        };
        let Some(full) = absolute(&self.here(), &children, segments) else {
            return;
        };
        let Some(target) = self.graph.resolve(&full, 0) else {
            return;
        };
        if target == self.module {
            return;
        }
        let seen = Seen {
            line,
            in_test: self.test_only || self.tests > 0,
        };
        let entry = self.found.entry(target).or_insert(seen);
        if entry.in_test && !seen.in_test {
            *entry = seen;
        }
    }

    /// Paths inside a macro call's tokens: `crate :: a :: b`, `super :: x`.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < trees.len() {
            match &trees[i] {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                TokenTree::Ident(id)
                    if (id == "crate" || id == "super") && !after_colons(&trees, i) =>
                {
                    let line = id.span().start().line;
                    let mut segs = vec![id.to_string()];
                    let mut j = i + 1;
                    while is_colons(&trees, j) {
                        match trees.get(j + 2) {
                            Some(TokenTree::Ident(next)) => {
                                segs.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if segs.len() > 1 {
                        self.record(&segs, line);
                    }
                    i = j;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The full path inside the crate that `segments`, written in module
/// `here` (which declares `children`), stands for; `None` for a path into
/// another crate, a local item or the prelude.
fn absolute(
    here: &[String],
    children: &BTreeSet<String>,
    segments: &[String],
) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => Some(here.iter().chain(&segments[1..]).cloned().collect()),
        "super" => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let keep = here.len().checked_sub(ups)?;
            Some(
                here[..keep]
                    .iter()
                    .chain(&segments[ups..])
                    .cloned()
                    .collect(),
            )
        }
        name if children.contains(name) => Some(here.iter().chain(segments).cloned().collect()),
        _ => None,
    }
}

impl Graph {
    /// The module file that defines what a full path names, following the
    /// `use` items of the module it passes through.
    fn resolve(&self, full: &[String], depth: usize) -> Option<ModPath> {
        let mut deepest = None;
        for n in 0..=full.len() {
            if self.modules.contains_key(&full[..n].join("::")) {
                deepest = Some(n);
            }
        }
        let n = deepest?;
        let module = full[..n].join("::");
        if let (Some(name), true) = (full.get(n), depth < 8)
            && let Some(source) = self.modules.get(&module).and_then(|m| m.uses.get(name))
        {
            let through: Vec<String> = source.iter().chain(&full[n + 1..]).cloned().collect();
            return self.resolve(&through, depth + 1);
        }
        Some(module)
    }
}

fn is_colons(trees: &[TokenTree], at: usize) -> bool {
    matches!((trees.get(at), trees.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':')
}

fn after_colons(trees: &[TokenTree], at: usize) -> bool {
    at >= 2 && is_colons(trees, at - 2)
}

fn split(path: &str) -> Vec<String> {
    if path.is_empty() {
        Vec::new()
    } else {
        path.split("::").map(str::to_string).collect()
    }
}

/// The names a `use` tree brings into scope, each with the path it stands
/// for (globs bring no name of their own).
fn use_names(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<(String, Vec<String>)>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_names(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix.clone();
            let name = if n.ident == "self" {
                prefix.last().cloned().unwrap_or_default()
            } else {
                full.push(n.ident.to_string());
                n.ident.to_string()
            };
            out.push((name, full));
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push((r.rename.to_string(), full));
        }
        syn::UseTree::Glob(_) => {}
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_names(t, prefix, out);
            }
        }
    }
}

/// Every full path a `use` tree names.
fn use_paths(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_paths(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix.clone();
            if n.ident != "self" {
                full.push(n.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix.clone();
            if r.ident != "self" {
                full.push(r.ident.to_string());
            }
            out.push(full);
        }
        syn::UseTree::Glob(_) => out.push(prefix.clone()),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_paths(t, prefix, out);
            }
        }
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_some() {
            let test = has_cfg_test(&m.attrs);
            self.inline.push(m.ident.to_string());
            self.tests += usize::from(test);
            syn::visit::visit_item_mod(self, m);
            self.tests -= usize::from(test);
            self.inline.pop();
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.use_token.span.start().line;
        let mut paths = Vec::new();
        use_paths(&u.tree, &mut Vec::new(), &mut paths);
        for p in paths {
            self.record(&p, line);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = p
            .segments
            .first()
            .map(|s| s.ident.span().start().line)
            .unwrap_or(0);
        if p.leading_colon.is_none() && segs.len() > 1 {
            self.record(&segs, line);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.scan_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }
}

/// What is wrong with the graph, one line per finding.
fn check(graph: &Graph, layers: &[Layer]) -> Vec<String> {
    let mut problems = Vec::new();
    for (from, targets) in &graph.imports {
        let Some(module) = graph.modules.get(from) else {
            continue;
        };
        for (to, seen) in targets {
            let line = seen.line;
            if let Some(why) = forbidden(from, to, seen.in_test, layers) {
                problems.push(format!(
                    "{}:{line}: `{from}` imports `{to}`: {why}",
                    module.file.display()
                ));
            }
        }
    }
    for circle in circles(graph) {
        let files: Vec<String> = circle
            .iter()
            .map(|m| match graph.modules.get(m) {
                Some(x) => x.file.display().to_string(),
                None => m.clone(),
            })
            .collect();
        problems.push(format!("a circle of imports: {}", files.join(" -> ")));
    }
    problems
}

/// Why `from` may not import `to`, if it may not.
fn forbidden(from: &str, to: &str, test_only: bool, layers: &[Layer]) -> Option<String> {
    if to.is_empty() {
        return None; // the crate root declares modules; it holds no code
    }
    // Descendants are free to use: a module owns what is below it.
    if to.starts_with(&format!("{from}::")) || from.is_empty() {
        return None;
    }
    let (from_top, to_top) = (top(from), top(to));
    if from_top != to_top {
        let allowed = layers.iter().find_map(|l| match l {
            Layer::Top(name, may) if *name == from_top => Some(*may),
            _ => None,
        });
        return match allowed {
            None => Some(format!("`{from_top}` is not in the layers")),
            Some(may) if may.contains(&to_top) => None,
            Some(may) => Some(format!(
                "`{from_top}` may import only {}",
                if may.is_empty() {
                    "itself".to_string()
                } else {
                    may.iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )),
        };
    }
    // Inside one top-level module: the ordered parts of the deepest folder
    // that holds both.
    for layer in layers {
        let Layer::Parts(folder, parts) = layer else {
            continue;
        };
        let prefix = format!("{folder}::");
        let (Some(from_rest), Some(to_rest)) =
            (strip(from, folder, &prefix), strip(to, folder, &prefix))
        else {
            continue;
        };
        if from_rest.is_empty() {
            return None; // the folder's root may use all its parts
        }
        let from_part = from_rest.split("::").next().unwrap_or_default();
        if to_rest.is_empty() {
            return (!test_only).then(|| {
                format!("a part of `{folder}` runs up to the folder's root; move what it needs into a part")
            });
        }
        let to_part = to_rest.split("::").next().unwrap_or_default();
        if from_part == to_part {
            return None;
        }
        let index = |p: &str| parts.iter().position(|x| *x == p);
        return match (index(from_part), index(to_part)) {
            (_, None) if test_only => None,
            (None, _) if test_only => None,
            (None, _) => Some(format!(
                "`{folder}::{from_part}` is not a listed part of `{folder}`"
            )),
            (_, None) => Some(format!(
                "`{folder}::{to_part}` is not a listed part of `{folder}`"
            )),
            (Some(f), Some(t)) if t < f => None,
            (Some(_), Some(_)) if test_only => None,
            (Some(_), Some(_)) => Some(format!(
                "`{folder}::{from_part}` sits below `{folder}::{to_part}` and may not use it"
            )),
        };
    }
    None
}

fn top(path: &str) -> &str {
    path.split("::").next().unwrap_or_default()
}

/// The rest of `path` below `folder` (`""` for the folder itself).
fn strip<'a>(path: &'a str, folder: &str, prefix: &str) -> Option<&'a str> {
    if path == folder {
        Some("")
    } else {
        path.strip_prefix(prefix)
    }
}

/// The circles among non-test modules (strongly connected components of
/// more than one module, Tarjan's algorithm), each listed once, closed
/// back to its first module.
fn circles(graph: &Graph) -> Vec<Vec<ModPath>> {
    let nodes: Vec<&ModPath> = graph
        .modules
        .iter()
        .filter(|(_, m)| !m.test_only)
        .map(|(p, _)| p)
        .collect();
    let index_of: BTreeMap<&ModPath, usize> =
        nodes.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let edges: Vec<Vec<usize>> = nodes
        .iter()
        .map(|p| {
            graph
                .imports
                .get(*p)
                .map(|ts| {
                    ts.iter()
                        .filter(|(_, seen)| !seen.in_test)
                        .filter_map(|(t, _)| index_of.get(t).copied())
                        .collect()
                })
                .unwrap_or_default()
        })
        .collect();
    struct Tarjan<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    self.found.push(component);
                }
            }
        }
    }
    let n = nodes.len();
    let mut t = Tarjan {
        edges: &edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.found
        .into_iter()
        .map(|component| {
            // One real path round the circle, from its first module back
            // to it (breadth first, inside the component).
            let inside: BTreeSet<usize> = component.iter().copied().collect();
            let start = component[0];
            let mut came_from: BTreeMap<usize, usize> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut closing = None;
            while let Some(v) = queue.pop_front() {
                for &w in &edges[v] {
                    if w == start {
                        closing = Some(v);
                        break;
                    }
                    if inside.contains(&w) && !came_from.contains_key(&w) {
                        came_from.insert(w, v);
                        queue.push_back(w);
                    }
                }
                if closing.is_some() {
                    break;
                }
            }
            let mut path = vec![start];
            let mut at = closing.unwrap_or(start);
            while at != start {
                path.push(at);
                at = came_from.get(&at).copied().unwrap_or(start);
            }
            path[1..].reverse();
            path.push(start);
            let mut names: Vec<ModPath> = path.iter().map(|&i| nodes[i].clone()).collect();
            let others = component.len() + 1 - path.len();
            if others > 0 {
                names.push(format!("(and {others} more in the same tangle)"));
            }
            names
        })
        .collect()
}

#[test]
fn the_crate_keeps_its_layers_and_has_no_circles() {
    let package = Disk(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let graph = read_crate(Path::new("src/lib.rs"), &package);
    // The reader must have found the crate, not an empty tree: every
    // top-level layer is a module, and there are imports to judge.
    for layer in LAYERS {
        let (Layer::Top(name, _) | Layer::Parts(name, _)) = layer;
        assert!(
            graph.modules.contains_key(*name),
            "module `{name}` not found"
        );
    }
    let edges: usize = graph.imports.values().map(BTreeMap::len).sum();
    assert!(
        edges > 100,
        "only {edges} imports found: the reader is broken"
    );
    let problems = check(&graph, LAYERS);
    assert!(
        problems.is_empty(),
        "the layers of ARCHITECTURE.md are broken:\n{}",
        problems.join("\n")
    );
}

/// A small crate of its own, to show what the checks catch.
fn fake_crate(files: &[(&str, &str)]) -> Graph {
    let sources: BTreeMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    read_crate(Path::new("src/lib.rs"), &sources)
}

const FAKE_LIB: &str = "pub mod tf; pub mod kube; pub mod kubernetes_job;";

#[test]
fn an_import_that_runs_up_a_layer_is_reported() {
    let graph = fake_crate(&[
        ("src/lib.rs", FAKE_LIB),
        ("src/tf/mod.rs", "pub fn f() { crate::kube::g(); }"),
        ("src/kube/mod.rs", "use crate::tf::f; pub fn g() {}"),
        ("src/kubernetes_job/mod.rs", "pub mod model;"),
        ("src/kubernetes_job/model.rs", ""),
    ]);
    let problems = check(&graph, LAYERS);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("src/tf/mod.rs:1: `tf` imports `kube`: `tf` may import only itself"),
        "{problems:#?}"
    );
    assert!(
        problems[1].starts_with("a circle of imports: src/kube/mod.rs -> src/tf/mod.rs"),
        "{problems:#?}"
    );
}

#[test]
fn a_part_that_uses_a_higher_part_or_its_folder_root_is_reported() {
    let graph = fake_crate(&[
        ("src/lib.rs", FAKE_LIB),
        ("src/tf/mod.rs", ""),
        ("src/kube/mod.rs", ""),
        (
            "src/kubernetes_job/mod.rs",
            "pub mod model; pub mod render; pub const NAME: &str = \"x\";\n#[cfg(test)]\nmod testing;",
        ),
        // A macro call hides the path from the parser: it must be found.
        (
            "src/kubernetes_job/model.rs",
            "fn f() -> String { format!(\"{}\", super::render::X) }",
        ),
        (
            "src/kubernetes_job/render/mod.rs",
            "pub const X: u8 = 1;\nmod objects;",
        ),
        (
            "src/kubernetes_job/render/objects.rs",
            "use crate::kubernetes_job::NAME;",
        ),
        // Test-only modules may use their folder's root and every part.
        (
            "src/kubernetes_job/testing.rs",
            "use super::{NAME, render::X, model};",
        ),
    ]);
    let problems = check(&graph, LAYERS);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems.iter().any(|p| {
            p.contains(
        "src/kubernetes_job/model.rs:1: `kubernetes_job::model` imports `kubernetes_job::render`: \
         `kubernetes_job::model` sits below `kubernetes_job::render`"
    )
        }),
        "{problems:#?}"
    );
    assert!(problems.iter().any(|p| p.contains(
        "`kubernetes_job::render::objects` imports `kubernetes_job`: a part of `kubernetes_job` runs up to the folder's root"
    )), "{problems:#?}");
}

#[test]
fn a_circle_inside_one_folder_is_reported() {
    let graph = fake_crate(&[
        ("src/lib.rs", FAKE_LIB),
        ("src/tf/mod.rs", "mod a; mod b; mod c;"),
        ("src/tf/a.rs", "use super::b::B; pub struct A;"),
        ("src/tf/b.rs", "pub struct B; fn f(_: crate::tf::c::C) {}"),
        ("src/tf/c.rs", "pub struct C(super::a::A);"),
        ("src/kube/mod.rs", ""),
        ("src/kubernetes_job/mod.rs", ""),
    ]);
    let problems = check(&graph, LAYERS);
    assert_eq!(
        problems,
        vec![
            "a circle of imports: src/tf/a.rs -> src/tf/b.rs -> src/tf/c.rs -> src/tf/a.rs"
                .to_string()
        ]
    );
}

/// The items ARCHITECTURE.md names as `` `src/file.rs::item` ``, each with
/// whether the file defines it.
fn named_items(doc: &str, package: &Path) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for quoted in doc.split('`').skip(1).step_by(2) {
        let Some((file, item)) = quoted.split_once(".rs::") else {
            continue;
        };
        if !file.starts_with("src/") {
            continue;
        }
        let text = std::fs::read_to_string(package.join(format!("{file}.rs"))).unwrap_or_default();
        let defined = ["fn", "struct", "enum", "trait", "const", "type", "mod"]
            .iter()
            .any(|kind| {
                text.match_indices(&format!("{kind} {item}"))
                    .any(|(at, m)| {
                        let next = text[at + m.len()..].chars().next();
                        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    })
            });
        found.push((quoted.to_string(), defined));
    }
    found
}

#[test]
fn architecture_md_names_only_functions_that_exist() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(package.join("ARCHITECTURE.md")).unwrap();
    let named = named_items(&doc, package);
    assert!(
        named.len() >= 10,
        "ARCHITECTURE.md's walk names only {} items",
        named.len()
    );
    let missing: Vec<&str> = named
        .iter()
        .filter(|(_, defined)| !defined)
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names items that do not exist: {missing:#?}"
    );
    for layer in LAYERS {
        let (Layer::Top(name, _) | Layer::Parts(name, _)) = layer;
        assert!(
            doc.contains(&format!("`{name}/`")),
            "ARCHITECTURE.md does not describe `{name}/`"
        );
    }
    if let Some(Layer::Parts(folder, parts)) = LAYERS.iter().find(|l| matches!(l, Layer::Parts(..)))
    {
        for part in *parts {
            assert!(
                doc.contains(&format!("`{folder}/{part}/`"))
                    || doc.contains(&format!("`{folder}/{part}.rs`")),
                "ARCHITECTURE.md does not describe the part `{folder}/{part}`"
            );
        }
    }
}

#[test]
fn a_walk_that_names_a_missing_function_is_caught() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = "Then `src/lib.rs::no_such_function` runs, after `src/main.rs::main`.";
    let named = named_items(doc, package);
    assert_eq!(
        named,
        vec![
            ("src/lib.rs::no_such_function".to_string(), false),
            ("src/main.rs::main".to_string(), true),
        ]
    );
}

/// Every `.rs` file under `dir`, relative to `package`.
fn rust_files(package: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(package.join(dir)) else {
        return;
    };
    for entry in entries.flatten() {
        let path = dir.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            rust_files(package, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn a_file_longer_than_900_lines_is_a_listed_exception() {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(package.join("ARCHITECTURE.md")).unwrap();
    let listed = doc
        .split_once("## Files longer than 900 lines")
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or_default())
        .expect("ARCHITECTURE.md has a section \"Files longer than 900 lines\"");
    let mut files = Vec::new();
    rust_files(package, Path::new("src"), &mut files);
    assert!(
        files.len() > 50,
        "only {} files found under src/",
        files.len()
    );
    let mut long = Vec::new();
    for file in files {
        let lines = std::fs::read_to_string(package.join(&file))
            .unwrap()
            .lines()
            .count();
        let name = file.display().to_string();
        if lines > 900 && !listed.contains(&format!("`{name}`")) {
            long.push(format!("{name}: {lines} lines"));
        }
    }
    assert!(
        long.is_empty(),
        "files over 900 lines that ARCHITECTURE.md does not list as exceptions:\n{}",
        long.join("\n")
    );
}
