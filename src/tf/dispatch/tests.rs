//! The framework's rules, one test (or a few) each, on the small provider
//! of the testing file: how ApplyResourceChange dispatches, what a destroy
//! answers, where identities come from, how imports stop, how lists
//! stream and stop, how function calls are held to their signature, what
//! a data source's read answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::function::Called;
use super::identity::{Identified, NewIdentity};
use super::list::ListEvent;
use super::managed::apply_resource_change;
use super::registry::{Dispatcher, ResourceEntry};
use super::testing::{TYPE, TestProvider, Thing, identity, schema, state};
use crate::tf::diag::Severity;
use crate::tf::function::FunctionError;
use crate::tf::plan::PlanInput;
use crate::tf::resource::{
    ApplyRequest, ClientCapabilities, ImportRequest, MoveRequest, ReadRequest, Resource,
    UpgradeIdentityRequest, UpgradeRequest,
};
use crate::tf::types::Type;
use crate::tf::value::Value;

fn dispatcher(count: usize) -> (Dispatcher, Arc<Thing>) {
    let provider = TestProvider::new(count);
    let thing = provider.thing.clone();
    (Dispatcher::new(Arc::new(provider)), thing)
}

fn entry(d: &Dispatcher) -> &ResourceEntry {
    d.resource(TYPE).unwrap()
}

fn apply_req(prior: Value, planned: Value) -> ApplyRequest {
    ApplyRequest {
        config: planned.clone(),
        prior_state: prior,
        planned_state: planned,
        planned_private: Vec::new(),
        cancel: CancellationToken::new(),
    }
}

fn plan_input(prior: Value, proposed: Value) -> PlanInput {
    PlanInput {
        config: proposed.clone(),
        prior_state: prior,
        proposed_new_state: proposed,
        prior_private: Vec::new(),
        capabilities: ClientCapabilities::default(),
    }
}

fn set(v: Value) -> Identified {
    Identified {
        identity: NewIdentity::Set(v),
        problem: None,
    }
}

fn plain(identity: NewIdentity) -> Identified {
    Identified {
        identity,
        problem: None,
    }
}

/// A null prior state creates, a null planned state deletes, both
/// present update.
#[tokio::test]
async fn apply_dispatches_on_which_state_is_null() {
    let thing = Thing::default();
    apply_resource_change(&thing, apply_req(Value::Null, state("a"))).await;
    apply_resource_change(&thing, apply_req(state("a"), state("a"))).await;
    apply_resource_change(&thing, apply_req(state("a"), Value::Null)).await;
    assert_eq!(
        *thing.calls.lock().unwrap(),
        vec!["create", "update", "delete"]
    );
}

/// A delete that succeeds answers a null state whatever the resource
/// said; one that fails answers what the resource says still exists.
#[tokio::test]
async fn a_destroy_answers_a_null_state() {
    let thing = Thing::default();
    let done = apply_resource_change(&thing, apply_req(state("a"), Value::Null)).await;
    assert!(!done.diagnostics.has_error());
    assert_eq!(done.new_state, Value::Null);
    let stuck = apply_resource_change(&thing, apply_req(state("stuck"), Value::Null)).await;
    assert!(stuck.diagnostics.has_error());
    assert_eq!(stuck.new_state, state("stuck"));
}

/// Create, read and import return the identity of the state; an update
/// keeps the prior identity; a destroy plans none.
#[tokio::test]
async fn identities_follow_the_state() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    let planned = Value::object([
        ("name", Value::string("n")),
        ("size", Value::int(1)),
        ("id", Value::UNKNOWN),
    ]);
    let want = identity("n");
    let (applied, id) = e.apply(apply_req(Value::Null, planned)).await;
    assert_eq!(id, set(want.clone()));

    let (read, id) = e
        .read(ReadRequest {
            current_state: applied.new_state.clone(),
            private: Vec::new(),
            cancel: CancellationToken::new(),
        })
        .await;
    assert_eq!(read.new_state, applied.new_state);
    assert_eq!(id, set(want.clone()));

    let state = applied.new_state;
    let (_, id) = e.plan(plan_input(state.clone(), state.clone()), true).await;
    assert_eq!(id, plain(NewIdentity::KeepPrior));

    let (destroy, id) = e.plan(plan_input(state.clone(), Value::Null), true).await;
    assert_eq!(destroy.planned_state, Value::Null);
    assert_eq!(id, plain(NewIdentity::Absent));

    let imported = e
        .import(
            ImportRequest {
                id: "n".into(),
                identity: None,
            },
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(imported.identity, set(want));
}

/// Where the resource cannot tell an identity, read and apply keep what
/// Terraform had; a plan without a prior identity derives one only from
/// a wholly known state.
#[tokio::test]
async fn identity_fallbacks() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    let (_, id) = e
        .read(ReadRequest {
            current_state: state("nameless"),
            private: Vec::new(),
            cancel: CancellationToken::new(),
        })
        .await;
    assert_eq!(id, plain(NewIdentity::KeepPrior));
    let (_, id) = e
        .apply(apply_req(state("nameless"), state("nameless")))
        .await;
    assert_eq!(id, plain(NewIdentity::KeepPrior));
    // Gone: Terraform keeps what it had.
    let (_, id) = e
        .read(ReadRequest {
            current_state: Value::Null,
            private: Vec::new(),
            cancel: CancellationToken::new(),
        })
        .await;
    assert_eq!(id, plain(NewIdentity::KeepPrior));
    // A delete has no identity.
    let (_, id) = e.apply(apply_req(state("a"), Value::Null)).await;
    assert_eq!(id, plain(NewIdentity::Absent));

    // A create whose name is unknown cannot tell its identity yet.
    let unknown = Value::object([
        ("name", Value::UNKNOWN),
        ("size", Value::int(1)),
        ("id", Value::UNKNOWN),
    ]);
    let (_, id) = e.plan(plan_input(Value::Null, unknown), false).await;
    assert_eq!(id, plain(NewIdentity::Absent));
    // A state written before identities: derived from the prior state.
    let (_, id) = e.plan(plan_input(state("old"), state("old")), false).await;
    assert_eq!(id, set(identity("old")));
}

/// An identity that does not fit the identity schema is reported, and
/// the answer falls back as it would without one.
#[tokio::test]
async fn an_identity_of_the_wrong_type_is_a_provider_bug() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    let (_, id) = e
        .read(ReadRequest {
            current_state: state("bad"),
            private: Vec::new(),
            cancel: CancellationToken::new(),
        })
        .await;
    assert_eq!(id.identity, NewIdentity::KeepPrior);
    let problem = id.problem.unwrap();
    assert_eq!(problem.summary, "Provider Produced An Invalid Value");
    assert!(
        problem.detail.contains("identity of test_thing"),
        "{problem:?}"
    );
    let (_, id) = e.plan(plan_input(Value::Null, state("bad")), false).await;
    assert_eq!(id.identity, NewIdentity::Absent);
    assert!(id.problem.is_some());
}

/// StopProvider ends an import that is waiting (ImportRequest carries no
/// stop token): it answers at once that it was interrupted.
#[tokio::test]
async fn stop_provider_interrupts_an_import() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    let import = e.import(
        ImportRequest {
            id: "hang".into(),
            identity: None,
        },
        d.stop_token(),
    );
    // `join!` polls the import first: it is waiting when the stop comes.
    let stop = async { d.stop() };
    let (imported, ()) = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        tokio::join!(import, stop)
    })
    .await
    .expect("the import ended on StopProvider");
    let diags = imported.unwrap_err();
    assert_eq!(diags.0.len(), 1);
    assert_eq!(diags.0[0].summary, "Import Interrupted");

    // Later imports run normally.
    let again = e
        .import(
            ImportRequest {
                id: "n".into(),
                identity: None,
            },
            d.stop_token(),
        )
        .await
        .unwrap();
    assert!(again.resp.diagnostics.is_empty());
    assert_eq!(again.resp.state, state("n"));
}

/// An import the resource refuses answers only its diagnostics.
#[tokio::test]
async fn a_failed_import_answers_only_diagnostics() {
    let (d, _) = dispatcher(0);
    let diags = entry(&d)
        .import(
            ImportRequest {
                id: "missing".into(),
                identity: None,
            },
            d.stop_token(),
        )
        .await
        .unwrap_err();
    assert_eq!(diags.0[0].summary, "Not Found");
}

/// Generated configuration leaves out computed attributes and defaults.
#[tokio::test]
async fn generated_configuration() {
    let (d, _) = dispatcher(0);
    let state = Value::object([
        ("name", Value::string("n")),
        ("size", Value::int(1)),
        ("id", Value::string("x")),
    ]);
    let (config, diags) = entry(&d).generate_config(state).await;
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(
        config.unwrap(),
        Value::object([
            ("name", Value::string("n")),
            ("size", Value::Null),
            ("id", Value::Null),
        ])
    );
}

/// A state kept only in Terraform 0.11's flat format is refused; an
/// upgrade that produces neither a state nor an error is a provider bug.
#[tokio::test]
async fn state_upgrades() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    let flat = e
        .upgrade_state(
            UpgradeRequest {
                version: 0,
                raw_json: Vec::new(),
            },
            true,
        )
        .await;
    assert_eq!(flat.diagnostics.0[0].summary, "Unsupported State Format");
    let json = br#"{"name":"n","size":1,"id":"x"}"#.to_vec();
    let ok = e
        .upgrade_state(
            UpgradeRequest {
                version: 0,
                raw_json: json,
            },
            false,
        )
        .await;
    assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
    assert_eq!(ok.state.unwrap().get("name"), &Value::string("n"));
    let old = e
        .upgrade_state(
            UpgradeRequest {
                version: 7,
                raw_json: Vec::new(),
            },
            false,
        )
        .await;
    assert_eq!(old.diagnostics.0[0].summary, "Unsupported State Version");
}

/// Identities of the current version are read as JSON; others are
/// refused with the versions named.
#[tokio::test]
async fn identity_upgrades() {
    let thing = Thing::default();
    let ok = thing
        .upgrade_identity(UpgradeIdentityRequest {
            version: 0,
            raw_json: br#"{"name":"n"}"#.to_vec(),
        })
        .await;
    assert_eq!(ok.identity, Some(identity("n")));
    let newer = thing
        .upgrade_identity(UpgradeIdentityRequest {
            version: 2,
            raw_json: br#"{"name":"n"}"#.to_vec(),
        })
        .await;
    assert_eq!(newer.identity, None);
    assert_eq!(
        newer.diagnostics.0[0].summary,
        "Unsupported Identity Version"
    );
    assert!(newer.diagnostics.0[0].detail.contains("version 2"));
}

/// No resource takes moved state; a type the provider lacks answers the
/// same.
#[tokio::test]
async fn moves_are_not_supported() {
    let (d, _) = dispatcher(0);
    for target in [TYPE, "nope"] {
        let resp = d
            .move_state(MoveRequest {
                source_type_name: "other_thing".into(),
                source_provider_address: "example.com/x/y".into(),
                source_schema_version: 0,
                source_state: b"{}".to_vec(),
                target_type_name: target.into(),
            })
            .await;
        assert!(resp.state.is_none());
        let d = &resp.diagnostics.0[0];
        assert_eq!(d.summary, "Move Not Supported");
        assert!(d.detail.contains("other_thing (example.com/x/y)"), "{d:?}");
    }
}

/// Unknown names answer what the provider has.
#[test]
fn unknown_names_list_what_exists() {
    let (d, _) = dispatcher(0);
    let unknown = d.resource("nope").err().unwrap();
    assert_eq!(unknown.summary, "Unknown Resource Type");
    assert!(unknown.detail.contains("are: test_thing."), "{unknown:?}");
    let unknown = d.data_source("nope").err().unwrap();
    assert_eq!(unknown.summary, "Unknown Data Source Type");
    assert!(unknown.detail.contains("\"nope\""), "{unknown:?}");
    assert!(unknown.detail.contains("are: test_thing."), "{unknown:?}");
    let unknown = d.list("nope").err().unwrap();
    assert_eq!(unknown.summary, "Unknown List Resource Type");
    let unknown = d.function("nope").err().unwrap();
    assert!(unknown.text.contains("Its functions are: shout."));
    assert_eq!(unknown.argument, None);
}

/// Every event of a list, in order.
async fn events(d: &Dispatcher, prefix: &str, include: bool, limit: i64) -> Vec<ListEvent> {
    let types = d.list_types(TYPE).unwrap();
    let config = Value::object([("prefix", Value::string(prefix))]);
    let mut rx = d.start_list(types.entry, config, include, limit);
    let mut out = Vec::new();
    while let Some(event) = rx.recv().await {
        out.push(event);
    }
    out
}

fn found(event: &ListEvent) -> &crate::tf::resource::ListResult {
    match event {
        ListEvent::Found(r) => r,
        ListEvent::Done(d) => panic!("not a result: {d:?}"),
    }
}

/// Results stream with identity and display name; the limit stops the
/// list; the whole object only when asked; the list's own diagnostics
/// come last.
#[tokio::test]
async fn list_streams_and_stops_at_the_limit() {
    let (d, _) = dispatcher(5);
    let limited = events(&d, "a", false, 3).await;
    assert_eq!(limited.len(), 3, "{limited:?}");
    assert_eq!(found(&limited[2]).display_name, "a-2");
    assert_eq!(found(&limited[0]).identity, identity("a-0"));
    assert!(found(&limited[0]).resource_object.is_none());

    let all = events(&d, "a", true, 100).await;
    assert_eq!(all.len(), 6);
    let object = found(&all[0]).resource_object.clone().unwrap();
    assert_eq!(object.get("name"), &Value::string("a-0"));
    match all.last().unwrap() {
        ListEvent::Done(diags) => {
            assert_eq!(diags.0[0].summary, "Partial List");
            assert_eq!(diags.0[0].severity, Severity::Warning);
        }
        ListEvent::Found(r) => panic!("the diagnostics come last, not {r:?}"),
    }
}

fn call(d: &Dispatcher, arg: Value) -> Result<Called<'_>, FunctionError> {
    d.call_function("shout", 1, |_, _| Ok(arg.clone()))
}

/// An unknown argument the function does not accept gives an unknown
/// result without a call; a null one is an error on that argument; the
/// arity is checked before any argument is read.
#[test]
fn calls_keep_the_signatures_promises() {
    let (d, _) = dispatcher(0);
    let ok = call(&d, Value::string("hi")).unwrap();
    assert_eq!(ok.value, Value::string("HI"));
    assert!(!ok.skipped);
    assert_eq!(ok.ty, &Type::String);
    let unknown = call(&d, Value::UNKNOWN).unwrap();
    assert!(unknown.value.is_unknown() && unknown.skipped);
    let null = call(&d, Value::Null).unwrap_err();
    assert_eq!(null.argument, Some(0));
    assert_eq!(null.text, "Argument \"text\" must not be null.");
    let extra = d
        .call_function("shout", 2, |_, _| panic!("read before the arity check"))
        .unwrap_err();
    assert_eq!(extra.argument, None);
    assert!(
        extra
            .text
            .contains("takes 1 argument(s) (text), but the call passed 2")
    );
    // A read that fails stops the call with its error.
    let unread = d
        .call_function("shout", 1, |i, _| {
            Err(FunctionError::argument(i, "unreadable"))
        })
        .unwrap_err();
    assert_eq!(unread.argument, Some(0));
}

/// The schema and identity types are derived once, at registration.
#[test]
fn registration_derives_types() {
    let (d, _) = dispatcher(0);
    let e = entry(&d);
    assert_eq!(e.ty, schema().value_type());
    assert_eq!(
        e.identity.as_ref().unwrap().1,
        super::testing::identity_ty()
    );
    assert!(d.lists.contains_key(TYPE) && d.functions.contains_key("shout"));
    assert_eq!(
        d.data_sources[TYPE].ty,
        d.data_sources[TYPE].schema.value_type()
    );
}

/// A data source's read: its state as answered; a deferral answers the
/// configuration with its computed attributes unknown, and is a provider
/// bug when Terraform does not accept deferral; no state and no error is a
/// provider bug too.
#[tokio::test]
async fn data_source_reads() {
    let (d, _) = dispatcher(0);
    let entry = d.data_source(TYPE).unwrap();
    let config = |name: &str| Value::object([("name", Value::string(name)), ("size", Value::Null)]);
    let deferring = ClientCapabilities {
        deferral_allowed: true,
        ..ClientCapabilities::default()
    };

    let resp = d.read_data_source(entry, config("abc"), deferring).await;
    assert!(resp.diagnostics.is_empty() && resp.deferred.is_none());
    assert_eq!(resp.state.get("size"), &Value::int(3));

    let resp = d.read_data_source(entry, config("later"), deferring).await;
    assert!(resp.diagnostics.is_empty(), "{:?}", resp.diagnostics);
    assert!(resp.deferred.is_some());
    assert_eq!(
        resp.state,
        Value::object([("name", Value::string("later")), ("size", Value::UNKNOWN)])
    );

    let resp = d
        .read_data_source(entry, config("later"), ClientCapabilities::default())
        .await;
    assert!(resp.deferred.is_none());
    assert_eq!(
        resp.diagnostics.0[0].summary,
        "Invalid Deferred Data Source Response"
    );

    let resp = d
        .read_data_source(entry, config("nothing"), deferring)
        .await;
    assert_eq!(resp.diagnostics.0[0].summary, "Provider Produced No State");
    assert_eq!(resp.diagnostics.0[0].severity, Severity::Error);
}
