//! Keeps the `terraform validate` fixtures in `tests/fixtures/validate/` in
//! step with the validator, without Terraform: each fixture's resource block
//! is read with a small reader for the HCL subset the fixtures use (literals,
//! lists, objects, heredocs; no references or functions), checked against
//! the schema as Terraform would, and validated.
//!
//! - `invalid/*.tf`: exactly one error, the one named by the
//!   `# expect-summary:` and `# expect-path:` header lines.
//! - `valid/*.tf`: no diagnostics at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value as J};

use super::testing;
use super::validate::tests::{cases, errors_of};

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/validate")
        .join(kind)
}

fn fixtures(kind: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(fixture_dir(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tf"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix('#'))
        .filter_map(|l| l.trim().strip_prefix(key))
        .map(str::trim)
        .next()
}

/// The `planton_kubernetes_job` resource body of a fixture as JSON, after
/// checking the file has the expected provider setup.
fn resource_body(name: &str, text: &str) -> J {
    let items = Reader::new(text)
        .body(true)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut resources = Vec::new();
    let mut has_provider = false;
    let mut has_source = false;
    for item in items {
        match item {
            Item::Block(kind, labels, body) => match kind.as_str() {
                "terraform" => {
                    has_source = body.iter().any(|i| matches!(i, Item::Block(k, _, b) if k == "required_providers"
                        && b.iter().any(|i| matches!(i, Item::Attr(n, J::Object(m)) if n == "planton"
                            && m.get("source") == Some(&J::String("registry.terraform.io/project-planton/planton".into()))))));
                }
                "provider" => has_provider = labels == ["planton"],
                "resource" => {
                    assert_eq!(labels, ["planton_kubernetes_job", "test"], "{name}");
                    resources.push(body);
                }
                other => panic!("{name}: unexpected block {other}"),
            },
            Item::Attr(a, _) => panic!("{name}: unexpected top-level attribute {a}"),
        }
    }
    assert!(has_source, "{name}: missing required_providers source");
    assert!(has_provider, "{name}: missing provider \"planton\" block");
    assert_eq!(resources.len(), 1, "{name}: want one resource");
    let mut object = Map::new();
    for item in resources.remove(0) {
        match item {
            Item::Attr(k, v) => {
                assert!(object.insert(k.clone(), v).is_none(), "{name}: {k} twice");
            }
            Item::Block(k, ..) => panic!("{name}: unexpected block {k} in the resource"),
        }
    }
    J::Object(object)
}

fn validate_fixture(name: &str, text: &str) -> Vec<(String, String)> {
    let json = resource_body(name, text);
    let value = testing::config(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
    errors_of(&value)
}

/// Each invalid fixture yields exactly its one expected error.
#[test]
fn invalid_fixtures_give_their_one_error() {
    let files = fixtures("invalid");
    assert!(files.len() >= 32, "only {} invalid fixtures", files.len());
    let mut failures = Vec::new();
    for (name, text) in &files {
        let summary =
            header(text, "expect-summary:").unwrap_or_else(|| panic!("{name}: no summary"));
        let path = header(text, "expect-path:").unwrap_or_else(|| panic!("{name}: no path"));
        let got = validate_fixture(name, text);
        let want = vec![(summary.to_string(), path.to_string())];
        if got != want {
            failures.push(format!("{name}:\n  want {want:?}\n  got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Each valid fixture (Planton's examples) validates cleanly.
#[test]
fn valid_fixtures_are_clean() {
    let files = fixtures("valid");
    assert!(files.len() >= 9, "only {} valid fixtures", files.len());
    for (name, text) in &files {
        assert_eq!(
            validate_fixture(name, text),
            Vec::<(String, String)>::new(),
            "{name}"
        );
    }
}

/// Every summary an invalid fixture expects is also produced by a unit case,
/// so the fast table covers what the end-to-end test checks.
#[test]
fn fixture_summaries_have_unit_cases() {
    let unit: BTreeSet<&str> = cases()
        .iter()
        .flat_map(|c| c.expect.iter().map(|(s, _)| *s))
        .collect();
    for (name, text) in fixtures("invalid") {
        let summary = header(&text, "expect-summary:").unwrap();
        assert!(
            unit.contains(summary),
            "{name}: no unit case for {summary:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// A reader for the HCL subset the fixtures use.

#[derive(Debug)]
enum Item {
    Attr(String, J),
    Block(String, Vec<String>, Vec<Item>),
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            s: text.as_bytes(),
            pos: 0,
        }
    }

    fn err<T>(&self, msg: &str) -> Result<T, String> {
        let line = self.s[..self.pos].iter().filter(|b| **b == b'\n').count() + 1;
        Err(format!("line {line}: {msg}"))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// Skips blanks and comments, and newlines too when `newlines`.
    fn skip(&mut self, newlines: bool) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' if newlines => self.pos += 1,
                b'#' => self.skip_line(),
                b'/' if self.s.get(self.pos + 1) == Some(&b'/') => self.skip_line(),
                b'/' if self.s.get(self.pos + 1) == Some(&b'*') => {
                    self.pos += 2;
                    while self.pos < self.s.len() && !self.s[self.pos..].starts_with(b"*/") {
                        self.pos += 1;
                    }
                    self.pos += 2;
                }
                _ => break,
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }

    fn ident(&mut self) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' {
                self.pos += 1;
            } else {
                break;
            }
        }
        if start == self.pos {
            return self.err("expected a name");
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// Items until `}` (or the end of the file when `top`).
    fn body(&mut self, top: bool) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        loop {
            self.skip(true);
            match self.peek() {
                None if top => return Ok(items),
                None => return self.err("unexpected end of file"),
                Some(b'}') if !top => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => {}
            }
            let name = self.ident()?;
            self.skip(false);
            if self.peek() == Some(b'=') {
                self.pos += 1;
                self.skip(false);
                items.push(Item::Attr(name, self.expr()?));
                continue;
            }
            let mut labels = Vec::new();
            while self.peek() == Some(b'"') {
                labels.push(self.string()?);
                self.skip(false);
            }
            if self.peek() != Some(b'{') {
                return self.err("expected '=' or a block");
            }
            self.pos += 1;
            let body = self.body(false)?;
            items.push(Item::Block(name, labels, body));
        }
    }

    fn expr(&mut self) -> Result<J, String> {
        match self.peek() {
            Some(b'"') => self.string().map(J::String),
            Some(b'<') => self.heredoc().map(J::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip(true);
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        return Ok(J::Array(items));
                    }
                    items.push(self.expr()?);
                    self.skip(true);
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {}
                        _ => return self.err("expected ',' or ']'"),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut map = Map::new();
                loop {
                    self.skip(true);
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(J::Object(map));
                    }
                    let key = if self.peek() == Some(b'"') {
                        self.string()?
                    } else {
                        self.ident()?
                    };
                    self.skip(false);
                    if !matches!(self.peek(), Some(b'=' | b':')) {
                        return self.err("expected '=' in an object");
                    }
                    self.pos += 1;
                    self.skip(false);
                    let value = self.expr()?;
                    if map.insert(key.clone(), value).is_some() {
                        return self.err(&format!("duplicate key {key}"));
                    }
                    self.skip(false);
                    if self.peek() == Some(b',') {
                        self.pos += 1;
                    }
                }
            }
            Some(c) if c == b'-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while let Some(c) = self.peek() {
                    if c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-') {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                let text = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
                serde_json::from_str::<J>(&text)
                    .or_else(|_| self.err(&format!("bad number {text}")))
            }
            _ => match self.ident()?.as_str() {
                "true" => Ok(J::Bool(true)),
                "false" => Ok(J::Bool(false)),
                "null" => Ok(J::Null),
                other => self.err(&format!("unsupported expression {other}")),
            },
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1; // opening quote
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\n' => return self.err("newline in a string"),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 1;
                    out.push(match e {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'"' => b'"',
                        b'\\' => b'\\',
                        _ => return self.err("unsupported escape"),
                    });
                }
                b'$' | b'%' if self.peek() == Some(b'{') => {
                    return self.err("template sequences are not supported in fixtures");
                }
                b'$' | b'%'
                    if self.peek() == Some(c) && self.s.get(self.pos + 1) == Some(&b'{') =>
                {
                    // `$${` and `%%{` are literal `${` and `%{`.
                    self.pos += 1;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        String::from_utf8(out).or_else(|_| self.err("invalid UTF-8"))
    }

    /// `<<EOT` or `<<-EOT` (indentation stripped) up to the closing marker.
    fn heredoc(&mut self) -> Result<String, String> {
        if !self.s[self.pos..].starts_with(b"<<") {
            return self.err("expected a heredoc");
        }
        self.pos += 2;
        let indented = self.peek() == Some(b'-');
        if indented {
            self.pos += 1;
        }
        let marker = self.ident()?;
        self.skip_line();
        self.pos += 1;
        let mut lines = Vec::new();
        loop {
            let start = self.pos;
            self.skip_line();
            let line = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
            if self.pos >= self.s.len() && line.trim() != marker {
                return self.err("unterminated heredoc");
            }
            self.pos += 1;
            if line.trim() == marker {
                break;
            }
            if line.contains("${") || line.contains("%{") {
                return self.err("template sequences are not supported in fixtures");
            }
            lines.push(line);
        }
        if indented {
            let indent = lines
                .iter()
                .filter(|l| !l.trim().is_empty())
                .map(|l| l.len() - l.trim_start().len())
                .min()
                .unwrap_or(0);
            for l in &mut lines {
                *l = l.get(indent..).unwrap_or("").to_string();
            }
        }
        let mut text = lines.join("\n");
        text.push('\n');
        Ok(text)
    }
}

/// The reader understands what the fixtures need.
#[test]
fn reader_handles_the_subset() {
    let text = r#"
# comment
terraform {
  required_providers {
    planton = { source = "x" }
  }
}
resource "a" "b" {
  s = "a\"b$${c}"   // trailing
  n = -1.5
  l = ["x", 2,
    true, null,]
  o = { "k-1" = 1, k2: "v" }
  h = <<-EOT
    line one
      line two
    EOT
}
"#;
    let items = Reader::new(text).body(true).unwrap();
    let Item::Block(_, labels, body) = &items[1] else {
        panic!()
    };
    assert_eq!(labels, &["a", "b"]);
    let attrs: Map<String, J> = body
        .iter()
        .map(|i| match i {
            Item::Attr(k, v) => (k.clone(), v.clone()),
            Item::Block(..) => panic!(),
        })
        .collect();
    assert_eq!(attrs["s"], J::String("a\"b${c}".into()));
    assert_eq!(attrs["n"].to_string(), "-1.5");
    assert_eq!(attrs["l"], serde_json::json!(["x", 2, true, null]));
    assert_eq!(attrs["o"], serde_json::json!({"k-1": 1, "k2": "v"}));
    assert_eq!(attrs["h"], J::String("line one\n  line two\n".into()));
}
