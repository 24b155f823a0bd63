//! What every target shares: case counts, the report line, panic
//! detection in tasks, and the strategies that make inputs (random types,
//! values of a type, values shaped like a configuration or a state of a
//! schema, JSON-like documents, the example manifests).

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use planton_provider::tf::schema::{Attribute, AttributeKind, Nesting};
use planton_provider::tf::{Number, Type, Value};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestError, TestRunner};
use serde_json::Value as Json;

// ---------------------------------------------------------------------------
// Running a target

/// The number of cases a target runs: `PLANTON_FUZZ_CASES` when set,
/// else `short`, the default of the test command.
pub fn cases(short: u32) -> u32 {
    std::env::var("PLANTON_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(short)
}

/// For targets that talk to a server: `PLANTON_FUZZ_CASES` divided by
/// `divisor` when set, else `short`.
pub fn network_cases(short: u32, divisor: u32) -> u32 {
    std::env::var("PLANTON_FUZZ_CASES")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .map_or(short, |n| (n / divisor).max(1))
}

/// One fuzz target's run: counts executions and what they reached, and
/// reports them when finished.
pub struct Target {
    name: &'static str,
    started: Instant,
    executions: AtomicU64,
    counters: std::sync::Mutex<BTreeMap<&'static str, u64>>,
}

impl Target {
    /// Starts the clock of target `name`.
    pub fn new(name: &'static str) -> Target {
        Target {
            name,
            started: Instant::now(),
            executions: AtomicU64::new(0),
            counters: std::sync::Mutex::default(),
        }
    }

    /// Counts one execution of the target (shrinking steps included).
    pub fn executed(&self) {
        self.executions.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one case that reached `what` (for example "plan checked").
    pub fn reached(&self, what: &'static str) {
        *self.counters.lock().unwrap().entry(what).or_default() += 1;
    }

    /// Fails unless at least `fraction` of `cases` reached `what`: a
    /// target whose inputs stopped reaching deep proves nothing. (Below 20
    /// cases chance decides too much to tell.)
    #[track_caller]
    pub fn assert_reached(&self, what: &'static str, cases: u32, fraction: f64) {
        if cases < 20 {
            return;
        }
        let got = self
            .counters
            .lock()
            .unwrap()
            .get(what)
            .copied()
            .unwrap_or(0);
        let want = (f64::from(cases) * fraction).ceil().max(1.0);
        assert!(
            got as f64 >= want,
            "fuzz target {}: only {got} of {cases} cases reached {what:?} (want {want})",
            self.name
        );
    }

    /// Runs `test` on `cases` inputs from `strategy`; reports, then panics
    /// with the shrunk input if a case failed.
    pub fn run<S: Strategy>(
        &self,
        cases: u32,
        strategy: S,
        test: impl Fn(S::Value) -> Result<(), TestCaseError>,
    ) where
        S::Value: std::fmt::Debug,
    {
        let mut runner = TestRunner::new(Config {
            cases,
            // Failures become named regression tests, not files.
            failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
            max_shrink_iters: 4096,
            ..Config::default()
        });
        let result = runner.run(&strategy, |input| {
            self.executed();
            let before = panics_on_this_thread();
            let outcome = test(input);
            if panics_on_this_thread() != before {
                return Err(TestCaseError::fail(
                    "a task on this thread panicked (see the panic message above)",
                ));
            }
            outcome
        });
        self.report(cases, result.is_ok());
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, input)) => {
                panic!(
                    "fuzz target {}: {reason}\nminimal failing input:\n{input:#?}",
                    self.name
                )
            }
            Err(TestError::Abort(reason)) => panic!("fuzz target {} aborted: {reason}", self.name),
        }
    }

    fn report(&self, cases: u32, passed: bool) {
        let counters = self.counters.lock().unwrap().clone();
        let line = serde_json::json!({
            "target": self.name,
            "cases": cases,
            "executions": self.executions.load(Ordering::Relaxed),
            "seconds": self.started.elapsed().as_secs_f64(),
            "passed": passed,
            "reached": counters,
        });
        eprintln!("fuzz: {line}");
        if let Some(path) = std::env::var_os("PLANTON_FUZZ_REPORT").map(PathBuf::from) {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
            writeln!(file, "{line}").unwrap();
        }
    }
}

thread_local! {
    static PANICS: Cell<u64> = const { Cell::new(0) };
}

/// Panics seen on this thread so far (a panic in a task that tokio caught
/// counts: targets run their runtime on the test thread).
pub fn panics_on_this_thread() -> u64 {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info);
        }));
    });
    PANICS.with(Cell::get)
}

/// A runtime on the current thread, so that a panic in any task it runs
/// is seen by [`panics_on_this_thread`].
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------
// Leaves

/// Strings that mean something somewhere in the provider: names valid and
/// not, quantities, durations, enum values, paths, image references,
/// cluster kinds, and what breaks parsers.
const NOTABLE_STRINGS: &[&str] = &[
    "",
    " ",
    "a",
    "job",
    "nightly-report",
    "-leading-dash",
    "trailing-dash-",
    "UPPER",
    "under_score",
    "dots.in.name",
    "a/b",
    "ns/name",
    "c:ns/name",
    "::",
    "a-very-long-name-that-is-longer-than-sixty-three-characters-in-total",
    "0",
    "1",
    "-1",
    "1.5",
    "1e3",
    "100m",
    "250m",
    "0.5",
    "1Gi",
    "512Mi",
    "64Mi",
    "1Ei",
    "99999999999999999999999Ei",
    "1e-400",
    "NaN",
    "10s",
    "1m",
    "1h30m",
    "0s",
    "-5m",
    "1d",
    "9999999999999h",
    "Indexed",
    "NonIndexed",
    "Never",
    "OnFailure",
    "Always",
    "keep",
    "recreate",
    "Foreground",
    "Background",
    "Orphan",
    "Memory",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "Socket",
    "/",
    "/etc/report",
    "relative/path",
    "../escape",
    "/etc/report/../..",
    "busybox",
    "registry.example.com:5000/team/app",
    "ghcr.io/a/b@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "latest",
    "v1.0.0",
    "GcpGkeCluster",
    "AwsEksCluster",
    "KubernetesPostgres",
    "KubernetesJob",
    "kubernetes.project-planton.org/v1",
    "metadata.name",
    "status.outputs.namespace",
    "HOSTNAME",
    "K8S_POD_ID",
    "EMULATOR_RUN_SECONDS",
    "PATH=/bin",
    "${var.x}",
    "%{if true}x%{endif}",
    "\u{0}",
    "\n",
    "\t\r",
    "é",
    "日本語",
    "\u{1F600}",
    "\u{202E}rtl",
    "'\"\\",
    "{\"a\":1}",
    "[1,2]",
    "true",
    "null",
    "http://127.0.0.1:1",
    "https://example.com",
];

/// Numbers on boundaries Kubernetes, Planton or a codec cares about.
const NOTABLE_NUMBERS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "5",
    "6",
    "10",
    "100",
    "0.5",
    "-0.5",
    "1.0000000000000000000001",
    "256",
    "420",
    "511",
    "512",
    "2147483647",
    "2147483648",
    "-2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "1e100",
    "1e400",
    "-1e400",
    "1e-400",
];

/// Any string: notable ones, short printable ones, any characters, and
/// sometimes a long one.
pub fn arb_string() -> BoxedStrategy<String> {
    prop_oneof![
        6 => proptest::sample::select(NOTABLE_STRINGS).prop_map(str::to_string),
        4 => "[a-z0-9][a-z0-9-]{0,12}",
        2 => "[ -~]{0,16}",
        2 => vec(any::<char>(), 0..12).prop_map(String::from_iter),
        1 => ("[a-z]", 60usize..70).prop_map(|(c, n)| c.repeat(n)),
        1 => (any::<char>(), 200usize..2000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// Any number: notable ones, 64-bit integers, small integers, decimals.
pub fn arb_number() -> BoxedStrategy<Number> {
    prop_oneof![
        3 => proptest::sample::select(NOTABLE_NUMBERS).prop_map(|s| s.parse().unwrap()),
        3 => (-5i64..2000).prop_map(Number::from),
        2 => any::<i64>().prop_map(Number::from),
        1 => any::<u64>().prop_map(Number::from),
        1 => ("-?[0-9]{1,30}", "[0-9]{1,30}", -50i32..50)
            .prop_map(|(i, f, e)| format!("{i}.{f}e{e}").parse().unwrap()),
    ]
    .boxed()
}

/// An unknown of `ty` as Terraform sends it: plain, or with the
/// refinements (extension 12) that apply to the type: definitely not null,
/// and for strings a known prefix.
fn arb_unknown(ty: &Type) -> BoxedStrategy<Value> {
    // {1: true}: definitely not null.
    let not_null = Value::Unknown(Some(vec![0x81, 0x01, 0xc3]));
    match ty {
        Type::Dynamic => Just(Value::UNKNOWN).boxed(),
        Type::String => prop_oneof![
            4 => Just(Value::UNKNOWN),
            1 => Just(not_null),
            // {1: true, 2: "ab"}: a string starting with "ab".
            1 => Just(Value::Unknown(Some(vec![0x82, 0x01, 0xc3, 0x02, 0xa2, b'a', b'b']))),
        ]
        .boxed(),
        _ => prop_oneof![4 => Just(Value::UNKNOWN), 1 => Just(not_null)].boxed(),
    }
}

// ---------------------------------------------------------------------------
// Types and values of a type

/// A random type, at most three levels deep.
pub fn arb_type() -> BoxedStrategy<Type> {
    let leaf = prop_oneof![
        Just(Type::String),
        Just(Type::Number),
        Just(Type::Bool),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
    .boxed()
}

/// A value of `ty`: null, unknown or known (recursively so).
pub fn arb_value(ty: &Type) -> BoxedStrategy<Value> {
    arb_value_with(ty, 2, true)
}

fn arb_value_with(ty: &Type, dynamic_budget: u32, unknowns: bool) -> BoxedStrategy<Value> {
    let known = arb_known(ty, dynamic_budget, unknowns);
    if unknowns {
        prop_oneof![1 => Just(Value::Null), 1 => arb_unknown(ty), 6 => known].boxed()
    } else {
        prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
    }
}

fn arb_known(ty: &Type, budget: u32, unknowns: bool) -> BoxedStrategy<Value> {
    let inner = move |t: &Type| arb_value_with(t, budget, unknowns);
    match ty {
        Type::String => arb_string().prop_map(Value::String).boxed(),
        Type::Number => arb_number().prop_map(Value::Number).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::List(e) => vec(inner(e), 0..4).prop_map(Value::List).boxed(),
        Type::Set(e) => vec(inner(e), 0..4)
            .prop_map(|items| Value::Set(dedup(items)))
            .boxed(),
        Type::Map(e) => btree_map(arb_string(), inner(e), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Type::Object(attrs) => attrs
            .iter()
            .map(|(name, t)| {
                let name = name.clone();
                inner(t).prop_map(move |v| (name.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
            .boxed(),
        Type::Tuple(elems) => elems
            .iter()
            .map(inner)
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Dynamic => {
            let concrete = if budget == 0 {
                prop_oneof![Just(Type::String), Just(Type::Number), Just(Type::Bool)].boxed()
            } else {
                arb_type()
                    .prop_filter("concrete", |t| *t != Type::Dynamic)
                    .boxed()
            };
            concrete
                .prop_flat_map(move |t| {
                    let tagged = t.clone();
                    arb_value_with(&t, budget.saturating_sub(1), unknowns)
                        .prop_map(move |v| Value::Dynamic(tagged.clone(), Box::new(v)))
                })
                .boxed()
        }
    }
}

/// A set holds each element once.
fn dedup(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        if !out.iter().any(|x| x.semantically_equal(&item)) {
            out.push(item);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Values shaped by a schema

/// Which values a schema-shaped value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A configuration: computed-only attributes null, required ones set
    /// (known or unknown), unknowns anywhere.
    Config,
    /// A state: wholly known, write-only attributes null, computed ones
    /// set or not.
    State,
}

/// A value of the object type of `attributes`, shaped as `shape` says.
pub fn arb_object(attributes: &[Attribute], shape: Shape) -> BoxedStrategy<Value> {
    attributes
        .iter()
        .map(|a| {
            let name = a.name.clone();
            arb_attribute(a, shape).prop_map(move |v| (name.clone(), v))
        })
        .collect::<Vec<_>>()
        .prop_map(|entries| Value::Object(entries.into_iter().collect()))
        .boxed()
}

fn arb_attribute(a: &Attribute, shape: Shape) -> BoxedStrategy<Value> {
    let settable = a.required || a.optional;
    match shape {
        Shape::Config if !settable => return Just(Value::Null).boxed(),
        Shape::State if a.write_only => return Just(Value::Null).boxed(),
        _ => {}
    }
    let known = match &a.kind {
        AttributeKind::Type(t) => match shape {
            Shape::Config => arb_known(t, 1, true),
            Shape::State => arb_known(t, 1, false),
        },
        AttributeKind::Nested(n) => {
            let object = arb_object(&n.attributes, shape);
            match n.nesting {
                Nesting::Single | Nesting::Group => object,
                Nesting::List => vec(object, 0..3).prop_map(Value::List).boxed(),
                Nesting::Set => vec(object, 0..3).prop_map(|v| Value::Set(dedup(v))).boxed(),
                Nesting::Map => btree_map(arb_string(), object, 0..3)
                    .prop_map(Value::Map)
                    .boxed(),
            }
        }
    };
    let ty = a.value_type();
    match (shape, a.required) {
        (Shape::Config, true) => prop_oneof![1 => arb_unknown(&ty), 8 => known].boxed(),
        (Shape::Config, false) => {
            prop_oneof![4 => Just(Value::Null), 1 => arb_unknown(&ty), 4 => known].boxed()
        }
        (Shape::State, _) => prop_oneof![1 => Just(Value::Null), 2 => known].boxed(),
    }
}

// ---------------------------------------------------------------------------
// Mutations of a value

/// Where to change a value and what to put there: the index picks one of
/// its nodes (depth first), the replacement is drawn for that node's type.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// Which node.
    pub at: proptest::sample::Index,
    /// What to do with it.
    pub kind: MutationKind,
}

/// What a mutation does to the node it picks.
#[derive(Debug, Clone)]
pub enum MutationKind {
    /// Null it.
    Null,
    /// Make it unknown.
    Unknown,
    /// Put this string there, if the node is a string.
    String(String),
    /// Put this number there, if the node is a number.
    Number(Number),
    /// Flip it, if the node is a bool.
    Flip,
    /// Drop one entry or element, if it is a collection.
    Shrink(proptest::sample::Index),
    /// Duplicate one entry under another key, or an element, if it is a
    /// map, list or set.
    Grow(proptest::sample::Index, String),
}

/// A random mutation.
pub fn arb_mutation() -> BoxedStrategy<Mutation> {
    let kind = prop_oneof![
        1 => Just(MutationKind::Null),
        1 => Just(MutationKind::Unknown),
        3 => arb_string().prop_map(MutationKind::String),
        3 => arb_number().prop_map(MutationKind::Number),
        1 => Just(MutationKind::Flip),
        1 => any::<proptest::sample::Index>().prop_map(MutationKind::Shrink),
        1 => (any::<proptest::sample::Index>(), arb_string())
            .prop_map(|(i, k)| MutationKind::Grow(i, k)),
    ];
    (any::<proptest::sample::Index>(), kind)
        .prop_map(|(at, kind)| Mutation { at, kind })
        .boxed()
}

/// Applies `m` to a node of `value` below its root (Terraform always
/// sends a known object at the root); `keep_known` forbids unknowns.
pub fn mutate(value: &mut Value, m: &Mutation, keep_known: bool) {
    let nodes = count_nodes(value);
    if nodes < 2 {
        return;
    }
    let mut target = 1 + m.at.index(nodes - 1);
    visit(value, &mut target, &|node| {
        apply_mutation(node, &m.kind, keep_known)
    });
}

fn count_nodes(v: &Value) -> usize {
    1 + match v {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter().map(count_nodes).sum()
        }
        Value::Map(m) | Value::Object(m) => m.values().map(count_nodes).sum(),
        Value::Dynamic(_, inner) => count_nodes(inner),
        _ => 0,
    }
}

/// Calls `f` on the `target`-th node, depth first.
fn visit(v: &mut Value, target: &mut usize, f: &dyn Fn(&mut Value)) -> bool {
    if *target == 0 {
        f(v);
        return true;
    }
    *target -= 1;
    match v {
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            items.iter_mut().any(|i| visit(i, target, f))
        }
        Value::Map(m) | Value::Object(m) => m.values_mut().any(|i| visit(i, target, f)),
        Value::Dynamic(_, inner) => visit(inner, target, f),
        _ => false,
    }
}

fn apply_mutation(node: &mut Value, kind: &MutationKind, keep_known: bool) {
    match (kind, &mut *node) {
        (MutationKind::Null, _) => *node = Value::Null,
        (MutationKind::Unknown, _) if !keep_known => *node = Value::UNKNOWN,
        (MutationKind::String(s), Value::String(old)) => *old = s.clone(),
        (MutationKind::Number(n), Value::Number(old)) => *old = n.clone(),
        (MutationKind::Flip, Value::Bool(b)) => *b = !*b,
        (MutationKind::Shrink(i), Value::List(items) | Value::Set(items)) if !items.is_empty() => {
            items.remove(i.index(items.len()));
        }
        (MutationKind::Shrink(i), Value::Map(m)) if !m.is_empty() => {
            let key = m.keys().nth(i.index(m.len())).cloned().unwrap();
            m.remove(&key);
        }
        (MutationKind::Grow(i, _), Value::List(items)) if !items.is_empty() => {
            let copy = items[i.index(items.len())].clone();
            items.push(copy);
        }
        (MutationKind::Grow(i, key), Value::Map(m)) if !m.is_empty() => {
            let copy = m.values().nth(i.index(m.len())).cloned().unwrap();
            m.insert(key.clone(), copy);
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Documents and manifests

/// A JSON document as Terraform's `yamldecode`/`jsondecode` hands it to a
/// dynamic parameter: mappings are objects, sequences tuples, and the whole
/// value carries its type.
pub fn decoded(json: &Json) -> Value {
    let (ty, value) = typed(json);
    Value::Dynamic(ty, Box::new(value))
}

fn typed(json: &Json) -> (Type, Value) {
    match json {
        Json::Null => (Type::Dynamic, Value::Null),
        Json::Bool(b) => (Type::Bool, Value::Bool(*b)),
        Json::Number(n) => (Type::Number, Value::Number(n.to_string().parse().unwrap())),
        Json::String(s) => (Type::String, Value::string(s)),
        Json::Array(items) => {
            let (types, values) = items.iter().map(typed).unzip();
            (Type::Tuple(types), Value::Tuple(values))
        }
        Json::Object(fields) => {
            let mut types = BTreeMap::new();
            let mut values = BTreeMap::new();
            for (k, v) in fields {
                let (t, v) = typed(v);
                types.insert(k.clone(), t);
                values.insert(k.clone(), v);
            }
            (Type::Object(types), Value::Object(values))
        }
    }
}

/// The manifests under `examples/planton-manifests/`, as JSON.
pub fn example_manifests() -> Vec<Json> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/planton-manifests");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no manifests in {}", dir.display());
    paths
        .iter()
        .map(|p| serde_yaml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// A JSON-like document: what `yamldecode` can give, with protojson and
/// Planton names in the keys often enough to reach deep.
pub fn arb_json() -> BoxedStrategy<Json> {
    let key = prop_oneof![
        3 => proptest::sample::select(&[
            "apiVersion", "kind", "metadata", "spec", "name", "namespace", "value",
            "valueFrom", "value_from", "image", "repo", "tag", "env", "variables", "secrets",
            "secretRef", "configMaps", "volumeMounts", "mountPath", "resources", "limits",
            "requests", "cpu", "memory", "parallelism", "completions", "backoffLimit",
            "completionMode", "restartPolicy", "suspend", "targetCluster", "clusterKind",
            "labels", "annotations", "tags", "command", "args", "emptyDir", "configMap",
            "hostPath", "pvc", "defaultMode", "ttlSecondsAfterFinished",
        ][..])
        .prop_map(str::to_string),
        1 => arb_string(),
    ];
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        arb_number().prop_map(|n| Json::Number(
            n.to_string().parse().unwrap_or(serde_json::Number::from(0))
        )),
        arb_string().prop_map(Json::String),
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Json::Array),
            vec((key.clone(), inner), 0..6).prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}
