//! The manifest functions: Planton's example manifests survive the round
//! trip, the result types are the resource's, and each kind of mistake is
//! one error that names its path.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::{Value as Json, json};

use std::collections::BTreeMap;

use super::messages::{closest, distance, enumerate};
use super::*;
use crate::tf::function::FunctionError;
use crate::tf::value::msgpack;
use crate::tf::{Type, Value};

/// A JSON document as Terraform's `yamldecode` hands it to a dynamic
/// parameter: mappings are objects, sequences tuples, and the whole value
/// carries its type.
fn decoded(json: &Json) -> Value {
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
    let (ty, value) = typed(json);
    Value::Dynamic(ty, Box::new(value))
}

/// A known value as JSON, the way `terraform output -json` shows it.
fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Unknown(_) => panic!("unknown value in a result that should be known"),
        Value::String(s) => Json::String(s.clone()),
        Value::Number(n) => Json::Number(n.to_string().parse().unwrap()),
        Value::Bool(b) => Json::Bool(*b),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            Json::Array(items.iter().map(to_json).collect())
        }
        Value::Map(m) | Value::Object(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Value::Dynamic(_, inner) => to_json(inner),
    }
}

fn manifests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/planton-manifests")
}

/// Every manifest under `examples/planton-manifests/`, by file name.
fn example_manifests() -> Vec<(String, Json)> {
    let mut out: Vec<(String, Json)> = std::fs::read_dir(manifests_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let json: Json = serde_yaml::from_str(&text).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), json)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn from_manifest(json: Json) -> Result<Value, String> {
    FromManifest::new().convert(&decoded(&json))
}

/// The error for a manifest; panics when it converts.
fn error_of(json: Json) -> String {
    match from_manifest(json) {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

/// A small valid manifest to break in one place.
fn base() -> Json {
    json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "job"},
        "spec": {
            "namespace": {"value": "jobs"},
            "image": {"repo": "busybox", "tag": "1.36"},
            "env": {"variables": {"LOG_LEVEL": {"value": "info"}}},
            "volumeMounts": [
                {"name": "a", "mountPath": "/a", "emptyDir": {}},
                {"name": "b", "mountPath": "/b", "configMap": {"name": "cm"}}
            ]
        }
    })
}

/// `base()` with `edit` applied.
fn with(edit: impl FnOnce(&mut Json)) -> Json {
    let mut m = base();
    edit(&mut m);
    m
}

fn to_manifest(metadata: &Value, spec: &Value) -> Result<Value, FunctionError> {
    ToManifest::new().convert(metadata, spec)
}

#[test]
fn the_nine_planton_examples_are_there() {
    let names: Vec<String> = example_manifests().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "cleanup-old-data.yaml",
            "data-migration.yaml",
            "database-backup.yaml",
            "db-migration.yaml",
            "etl-daily.yaml",
            "hello-world.yaml",
            "indexed-processor.yaml",
            "parallel-processor.yaml",
            "test-batch-job.yaml",
        ]
    );
}

/// Each Planton example, read and written again, is the same data; the
/// values in between have exactly the resource's types.
#[test]
fn planton_examples_survive_the_round_trip() {
    let ty = job_type();
    for (name, original) in example_manifests() {
        let job = from_manifest(original.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = msgpack::encode(&job, &ty).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msgpack::decode(&bytes, &ty).unwrap(), job, "{name}");
        let manifest = to_manifest(job.get("metadata"), job.get("spec")).unwrap();
        let Value::Dynamic(manifest_ty, _) = &manifest else {
            panic!("{name}: the manifest is not a dynamic value: {manifest:?}")
        };
        // Terraform can carry the result: it encodes with its own type.
        msgpack::encode(&manifest, &Type::Dynamic).unwrap();
        assert!(matches!(manifest_ty, Type::Object(_)), "{name}");
        assert_eq!(to_json(&manifest), original, "{name}");
    }
}

/// The result assigns to the resource as it is: its type is the type of
/// the resource's `metadata` and `spec`, and the function declares it.
#[test]
fn the_result_type_is_the_resource_metadata_and_spec() {
    let schema = crate::kubernetes_job::model::schema::schema();
    let expected = Type::object([
        (
            "metadata",
            schema.block.attribute("metadata").unwrap().value_type(),
        ),
        ("spec", schema.block.attribute("spec").unwrap().value_type()),
    ]);
    assert_eq!(job_type(), expected);
    assert_eq!(FromManifest::new().signature().return_type, expected);
    let to = ToManifest::new().signature();
    assert_eq!(to.return_type, Type::Dynamic);
    assert_eq!(
        to.parameters.iter().map(|p| &p.name).collect::<Vec<_>>(),
        ["metadata", "spec"]
    );
}

/// What the manifest leaves out is null, so the resource plans Planton's
/// defaults; map keys stay as written; numeric strings become numbers.
#[test]
fn unset_fields_are_null_and_map_keys_are_kept() {
    let job = from_manifest(with(|m| {
        m["spec"]["parallelism"] = json!("5");
        m["spec"]["activeDeadlineSeconds"] = json!("18446744073709551615");
        m["spec"]["configMaps"] = json!({"my.Config_File": "x"});
        m["metadata"]["labels"] = json!({"team/Name": "a"});
    }))
    .unwrap();
    let spec = job.get("spec");
    assert_eq!(spec.get("parallelism"), &Value::int(5));
    assert_eq!(
        spec.get("active_deadline_seconds")
            .as_number()
            .unwrap()
            .as_u64(),
        Some(u64::MAX)
    );
    for unset in [
        "resources",
        "completions",
        "suspend",
        "create_namespace",
        "args",
    ] {
        assert_eq!(spec.get(unset), &Value::Null, "{unset}");
    }
    assert_eq!(spec.get("image").get("pull_secret_name"), &Value::Null);
    assert_eq!(
        spec.get("env")
            .get("variables")
            .get("LOG_LEVEL")
            .get("value"),
        &Value::string("info")
    );
    assert_eq!(
        spec.get("config_maps").get("my.Config_File"),
        &Value::string("x")
    );
    assert_eq!(
        job.get("metadata").get("labels").get("team/Name"),
        &Value::string("a")
    );
    assert_eq!(
        spec.get("volume_mounts").as_elements().unwrap()[1]
            .get("config_map")
            .get("name"),
        &Value::string("cm")
    );
}

/// `status` is Planton's and is ignored; the proto's snake_case names are
/// accepted as protojson accepts them.
#[test]
fn status_is_ignored_and_proto_names_are_accepted() {
    let job = from_manifest(with(|m| {
        m["status"] = json!({"outputs": {"namespace": "jobs", "job_name": "job"}});
        m["spec"]["create_namespace"] = json!(true);
        m["spec"]["volume_mounts"] = m["spec"]["volumeMounts"].take();
        m["spec"].as_object_mut().unwrap().remove("volumeMounts");
    }))
    .unwrap();
    assert_eq!(job.get("spec").get("create_namespace"), &Value::Bool(true));
    assert_eq!(
        job.get("spec")
            .get("volume_mounts")
            .as_elements()
            .map(<[Value]>::len),
        Some(2)
    );
    assert_eq!(job.get("status"), &Value::Null);
}

/// Each kind of mistake is one error, naming the manifest path (and, for
/// an unknown field, the fields valid there and the nearest one).
#[test]
fn each_mistake_is_one_error_naming_its_path() {
    let cases: Vec<(&str, Json, &[&str])> = vec![
        (
            "wrong apiVersion",
            with(|m| m["apiVersion"] = json!("v1")),
            &[
                "apiVersion: expected \"kubernetes.project-planton.org/v1\", found the string \"v1\"",
            ],
        ),
        (
            "missing apiVersion",
            with(|m| {
                m.as_object_mut().unwrap().remove("apiVersion");
            }),
            &["apiVersion: missing"],
        ),
        (
            "wrong kind",
            with(|m| m["kind"] = json!("KubernetesCronJob")),
            &["kind: expected \"KubernetesJob\", found the string \"KubernetesCronJob\""],
        ),
        (
            "kind of the wrong type",
            with(|m| m["kind"] = json!(846)),
            &["kind: expected \"KubernetesJob\", found the number 846"],
        ),
        (
            "unknown top-level field",
            with(|m| m["metdata"] = json!({})),
            &[
                "metdata: unknown field \"metdata\".",
                "Did you mean \"metadata\"?",
                "fields apiVersion, kind, metadata, spec and status.",
            ],
        ),
        (
            "unknown field deep in a list",
            with(|m| m["spec"]["volumeMounts"][1]["configMap"]["nmae"] = json!("x")),
            &[
                "spec.volumeMounts[1].configMap.nmae: unknown field \"nmae\".",
                "Did you mean \"name\"?",
                "The fields of spec.volumeMounts[1].configMap are name, key, path and defaultMode.",
            ],
        ),
        (
            "unknown field in a map entry",
            with(|m| m["spec"]["env"]["variables"]["LOG_LEVEL"]["valu"] = json!("x")),
            &[
                "spec.env.variables.LOG_LEVEL.valu: unknown field \"valu\".",
                "Did you mean \"value\"?",
                "are value and valueFrom.",
            ],
        ),
        (
            "a misspelt field",
            with(|m| m["spec"]["imag"] = json!({})),
            &["spec.imag: unknown field \"imag\". Did you mean \"image\"?"],
        ),
        (
            "unknown field with no near match",
            with(|m| m["spec"]["replicas"] = json!(3)),
            &["spec.replicas: unknown field \"replicas\". The fields of spec are targetCluster,"],
        ),
        (
            "a number for a string",
            with(|m| m["spec"]["image"]["tag"] = json!(15)),
            &["spec.image.tag: expected a string, found the number 15. Quote it in YAML: \"15\"."],
        ),
        (
            "a number for an enum name",
            with(|m| m["spec"]["targetCluster"] = json!({"clusterKind": 607})),
            &[
                "spec.targetCluster.clusterKind: expected a string, found the number 607. Planton enum values are written by name",
            ],
        ),
        (
            "a bool for a number",
            with(|m| m["spec"]["parallelism"] = json!(true)),
            &[
                "spec.parallelism: expected a whole number from 0 to 4294967295 (a number, or a string of digits), found the bool true.",
            ],
        ),
        (
            "a fraction",
            with(|m| m["spec"]["backoffLimit"] = json!(1.5)),
            &["spec.backoffLimit: expected a whole number from 0 to 4294967295"],
        ),
        (
            "a negative unsigned number",
            with(|m| m["spec"]["completions"] = json!(-1)),
            &[
                "spec.completions: expected a whole number from 0 to 4294967295",
                "found the number -1",
            ],
        ),
        (
            "a string that is not digits",
            with(|m| m["spec"]["activeDeadlineSeconds"] = json!("1h")),
            &[
                "spec.activeDeadlineSeconds: expected a whole number from 0 to 18446744073709551615",
                "found the string \"1h\"",
            ],
        ),
        (
            "out of the int32 range",
            with(|m| {
                m["spec"]["volumeMounts"][1]["configMap"]["defaultMode"] = json!(4294967296u64)
            }),
            &[
                "spec.volumeMounts[1].configMap.defaultMode: expected a whole number from -2147483648 to 2147483647",
            ],
        ),
        (
            "a string for a bool",
            with(|m| m["spec"]["createNamespace"] = json!("true")),
            &["spec.createNamespace: expected true or false, found the string \"true\"."],
        ),
        (
            "a string for a list",
            with(|m| m["spec"]["command"] = json!("echo hi")),
            &["spec.command: expected a list (a YAML sequence), found the string \"echo hi\"."],
        ),
        (
            "a number in a list of strings",
            with(|m| m["spec"]["args"] = json!(["--n", 3])),
            &["spec.args[1]: expected a string, found the number 3."],
        ),
        (
            "a string for an object",
            with(|m| m["spec"]["image"] = json!("busybox:1.36")),
            &[
                "spec.image: expected an object (a YAML mapping), found the string \"busybox:1.36\".",
            ],
        ),
        (
            "a list for a map",
            with(|m| m["spec"]["configMaps"] = json!(["a"])),
            &["spec.configMaps: expected an object (a YAML mapping), found a list."],
        ),
        (
            "an object for a map value",
            with(|m| m["metadata"]["labels"] = json!({"team": {"a": "b"}})),
            &["metadata.labels.team: expected a string, found an object."],
        ),
        (
            "a null list element",
            with(|m| m["spec"]["volumeMounts"][0] = Json::Null),
            &["spec.volumeMounts[0]: null is not allowed here"],
        ),
        (
            "a map key that is not a plain name",
            with(|m| m["spec"]["env"]["secrets"] = json!({"A.B": {"secretRef": {"nmae": "s"}}})),
            &["spec.env.secrets[\"A.B\"].secretRef.nmae: unknown field \"nmae\"."],
        ),
        (
            "the same field under both names",
            with(|m| {
                m["spec"]["create_namespace"] = json!(true);
                m["spec"]["createNamespace"] = json!(false);
            }),
            &["spec: `createNamespace` and `create_namespace` are the same field; set it once."],
        ),
        (
            "missing spec",
            with(|m| {
                m.as_object_mut().unwrap().remove("spec");
            }),
            &["spec: missing."],
        ),
        (
            "not an object at all",
            json!(["apiVersion"]),
            &["A manifest is an object (a YAML mapping"],
        ),
    ];
    let mut failures = Vec::new();
    for (name, manifest, expected) in cases {
        let error = match from_manifest(manifest) {
            Ok(v) => {
                failures.push(format!("{name}: converted to {v:?}"));
                continue;
            }
            Err(e) => e,
        };
        for part in expected {
            if !error.contains(part) {
                failures.push(format!("{name}: {error:?}\n    lacks {part:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// With several mistakes, the error is the first in a stable order:
/// apiVersion and kind, then unknown fields, then fields in schema order.
#[test]
fn the_first_mistake_is_the_one_reported() {
    let two = with(|m| {
        m["spec"]["parallelism"] = json!(true);
        m["spec"]["zzz"] = json!(1);
        m["kind"] = json!("Job");
    });
    assert!(error_of(two.clone()).starts_with("kind:"));
    let mut without_kind = two;
    without_kind["kind"] = json!(KIND);
    assert!(error_of(without_kind.clone()).starts_with("spec.zzz:"));
    without_kind["spec"].as_object_mut().unwrap().remove("zzz");
    assert!(error_of(without_kind).starts_with("spec.parallelism:"));
}

/// The function names argument 0 in its error.
#[test]
fn the_function_error_names_the_manifest_argument() {
    let err = FromManifest::new()
        .call(vec![decoded(&with(|m| m["kind"] = json!("Job")))])
        .unwrap_err();
    assert_eq!(err.argument, Some(0));
    assert!(err.text.starts_with("kind:"), "{}", err.text);
}

/// A value not known yet stays unknown where it is; the rest converts. An
/// unknown `apiVersion` or `kind`, or an unknown manifest, gives an unknown
/// result.
#[test]
fn unknown_values_stay_where_they_are() {
    let mut manifest = decoded(&base());
    if let Value::Dynamic(_, inner) = &mut manifest
        && let Value::Object(top) = inner.as_mut()
        && let Some(Value::Object(spec)) = top.get_mut("spec")
        && let Some(Value::Object(image)) = spec.get_mut("image")
    {
        image.insert("tag".into(), Value::UNKNOWN);
    }
    let job = FromManifest::new().convert(&manifest).unwrap();
    assert!(job.get("spec").get("image").get("tag").is_unknown());
    assert_eq!(
        job.get("spec").get("image").get("repo"),
        &Value::string("busybox")
    );
    msgpack::encode(&job, &job_type()).unwrap();

    let mut unknown_kind = decoded(&base());
    if let Value::Dynamic(_, inner) = &mut unknown_kind
        && let Value::Object(top) = inner.as_mut()
    {
        top.insert("kind".into(), Value::UNKNOWN);
    }
    assert_eq!(
        FromManifest::new().convert(&unknown_kind).unwrap(),
        Value::UNKNOWN
    );
    assert_eq!(
        FromManifest::new().convert(&Value::UNKNOWN).unwrap(),
        Value::UNKNOWN
    );
}

// ---------------------------------------------------------------------------
// kubernetes_job_manifest

/// An object literal as HCL writes it: objects, and tuples for lists.
fn hcl(json: Json) -> Value {
    decoded(&json)
}

fn manifest_json(metadata: Json, spec: Json) -> Json {
    to_json(&to_manifest(&hcl(metadata), &hcl(spec)).unwrap())
}

#[test]
fn object_literals_become_a_planton_manifest() {
    let got = manifest_json(
        json!({"name": "job", "labels": {"Team.Name": "x"}, "id": null}),
        json!({
            "namespace": {"value": "jobs"},
            "image": {"repo": "busybox", "tag": 15},
            "parallelism": "3",
            "suspend": false,
            "env": {"variables": {"A_B": {"value": "1"}}, "secrets": null},
            "volume_mounts": [{"name": "d", "mount_path": "/d", "empty_dir": {"medium": null}}],
            "command": [],
            "resources": {"limits": {"cpu": null, "memory": null}},
        }),
    );
    assert_eq!(
        got,
        json!({
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "job", "labels": {"Team.Name": "x"}},
            "spec": {
                "namespace": {"value": "jobs"},
                "image": {"repo": "busybox", "tag": "15"},
                "parallelism": 3,
                "suspend": false,
                "env": {"variables": {"A_B": {"value": "1"}}},
                "volumeMounts": [{"name": "d", "mountPath": "/d"}],
            }
        })
    );
}

/// `target_cluster` only picks a provider cluster in Terraform; without a
/// kind Planton would refuse it, so it is left out.
#[test]
fn target_cluster_is_left_out_without_a_kind() {
    let spec = |tc: Json| {
        manifest_json(
            json!({"name": "job"}),
            json!({"namespace": {"value": "jobs"}, "target_cluster": tc}),
        )["spec"]
            .clone()
    };
    assert_eq!(
        spec(json!({"cluster_name": "prod"})).get("targetCluster"),
        None
    );
    assert_eq!(
        spec(json!({"cluster_kind": "", "cluster_name": "prod"})).get("targetCluster"),
        None
    );
    assert_eq!(
        spec(json!({"cluster_kind": "GcpGkeCluster", "cluster_name": "prod"}))["targetCluster"],
        json!({"clusterKind": "GcpGkeCluster", "clusterName": "prod"})
    );
}

/// The resource's own values (every attribute present, computed defaults
/// included) are accepted as they are.
#[test]
fn the_resource_values_are_accepted_as_they_are() {
    let job = from_manifest(base()).unwrap();
    let mut spec = job.get("spec").clone();
    if let Value::Object(fields) = &mut spec {
        fields.insert("parallelism".into(), Value::int(1));
        fields.insert("create_namespace".into(), Value::Bool(false));
    }
    let manifest = to_json(&to_manifest(job.get("metadata"), &spec).unwrap());
    assert_eq!(manifest["spec"]["parallelism"], json!(1));
    assert_eq!(manifest["spec"]["createNamespace"], json!(false));
    assert_eq!(manifest["metadata"], json!({"name": "job"}));
}

/// An attribute the resource does not have is an error on its argument,
/// naming it in Terraform's notation.
#[test]
fn unknown_attributes_are_errors_naming_them() {
    let err = to_manifest(
        &hcl(json!({"name": "job", "nmae": "x"})),
        &hcl(json!({"namespace": {"value": "jobs"}})),
    )
    .unwrap_err();
    assert_eq!(err.argument, Some(0));
    assert!(
        err.text
            .starts_with("metadata.nmae: unknown attribute \"nmae\". Did you mean \"name\"?"),
        "{}",
        err.text
    );
    let err = to_manifest(
        &hcl(json!({"name": "job"})),
        &hcl(json!({"env": {"secrets": {"A.B": {"secret_ref": {"nam": "s"}}}}})),
    )
    .unwrap_err();
    assert_eq!(err.argument, Some(1));
    assert!(
        err.text
            .starts_with("spec.env.secrets[\"A.B\"].secret_ref.nam: unknown attribute \"nam\"."),
        "{}",
        err.text
    );
    assert!(
        err.text.contains(
            "The attributes of spec.env.secrets[\"A.B\"].secret_ref are namespace, name and key."
        ),
        "{}",
        err.text
    );
    let err = to_manifest(
        &hcl(json!({"name": "job"})),
        &hcl(json!({"parallelism": {"n": 1}})),
    )
    .unwrap_err();
    assert_eq!(err.argument, Some(1));
    assert_eq!(
        err.text,
        "spec.parallelism: expected a number, found an object."
    );
}

/// Anything unknown makes the manifest unknown, but names are still
/// checked.
#[test]
fn unknown_values_make_the_manifest_unknown() {
    let spec = Value::object([("namespace", Value::UNKNOWN)]);
    let metadata = Value::object([("name", Value::string("job"))]);
    assert_eq!(to_manifest(&metadata, &spec).unwrap(), Value::UNKNOWN);
    assert_eq!(to_manifest(&Value::UNKNOWN, &spec).unwrap(), Value::UNKNOWN);
    let bad = Value::object([("name", Value::UNKNOWN), ("x", Value::Null)]);
    assert!(to_manifest(&bad, &spec).is_err());
}

#[test]
fn names_and_helpers() {
    assert_eq!(
        json_name("ttl_seconds_after_finished"),
        "ttlSecondsAfterFinished"
    );
    assert_eq!(json_name("pvc"), "pvc");
    assert_eq!(json_name("value_from"), "valueFrom");
    assert_eq!(distance("nmae", "name"), 1);
    assert_eq!(distance("kitten", "sitting"), 3);
    let valid: Vec<String> = ["volumeMounts", "configMaps", "command"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(closest("volume_mounts", &valid), Some("volumeMounts"));
    assert_eq!(closest("VOLUMEMOUNTS", &valid), Some("volumeMounts"));
    assert_eq!(closest("comand", &valid), Some("command"));
    assert_eq!(closest("zzz", &valid), None);
    assert_eq!(enumerate(&valid), "volumeMounts, configMaps and command");
}
