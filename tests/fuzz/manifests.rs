//! Target: the provider functions. `kubernetes_job_from_manifest` takes
//! whatever `yamldecode` made of a file (random JSON-like documents, and
//! Planton's example manifests with one to three things changed, unknowns
//! included); `kubernetes_job_manifest` takes any values for `metadata` and
//! `spec`. Neither may panic; a result is a value of the declared return
//! type (the resource's `metadata` and `spec` types), and an error names an
//! argument and has text.

use planton_provider::kubernetes_job::manifest::{FromManifest, ToManifest, job_type};
use planton_provider::kubernetes_job::model::schema;
use planton_provider::tf::value::msgpack;
use planton_provider::tf::{Function, Type, Value};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::inputs::{
    Shape, Target, arb_json, arb_mutation, arb_object, arb_value, cases, decoded,
    example_manifests, mutate,
};

/// `result` is a value of the function's declared return type.
fn of_return_type(result: &Value, ty: &Type) -> Result<(), TestCaseError> {
    msgpack::encode(result, ty).map_err(|e| {
        TestCaseError::fail(format!(
            "the result is not of the return type: {e}\n{result:?}"
        ))
    })?;
    Ok(())
}

fn from_manifest(f: &FromManifest, manifest: Value, target: &Target) -> Result<(), TestCaseError> {
    match f.call(vec![manifest]) {
        Ok(v) => {
            target.reached("converted");
            of_return_type(&v, &job_type())
        }
        Err(e) => {
            prop_assert!(!e.text.trim().is_empty());
            prop_assert_eq!(e.argument, Some(0));
            Ok(())
        }
    }
}

#[test]
fn from_manifest_takes_any_document() {
    let f = FromManifest::new();
    let target = Target::new("kubernetes_job_from_manifest: random documents");
    let manifest = prop_oneof![
        4 => arb_json().prop_map(|doc| {
            // Most documents get the right header, so that conversion goes on.
            let mut doc = doc;
            if let serde_json::Value::Object(m) = &mut doc {
                m.insert("apiVersion".into(), "kubernetes.project-planton.org/v1".into());
                m.insert("kind".into(), "KubernetesJob".into());
            }
            decoded(&doc)
        }),
        1 => arb_json().prop_map(|doc| decoded(&doc)),
        1 => arb_value(&Type::Dynamic),
    ];
    target.run(cases(4000), manifest, |m| from_manifest(&f, m, &target));
}

#[test]
fn from_manifest_takes_mutated_example_manifests() {
    let f = FromManifest::new();
    let examples: Vec<Value> = example_manifests().iter().map(decoded).collect();
    for (i, m) in examples.iter().enumerate() {
        let converted = f.call(vec![m.clone()]);
        assert!(
            converted.is_ok(),
            "example manifest {i} does not convert: {converted:?}"
        );
    }
    let target = Target::new("kubernetes_job_from_manifest: mutated examples");
    let n = examples.len();
    let cases = cases(3000);
    target.run(
        cases,
        (0..n, vec(arb_mutation(), 1..4)),
        |(which, mutations)| {
            let mut m = examples[which].clone();
            for mutation in &mutations {
                mutate(&mut m, mutation, false);
            }
            from_manifest(&f, m, &target)
        },
    );
    target.assert_reached("converted", cases, 0.5);
}

#[test]
fn to_manifest_takes_any_metadata_and_spec() {
    let f = ToManifest::new();
    let attributes = schema::schema().block.attributes;
    let nested = |name: &str| {
        let a = attributes.iter().find(|a| a.name == name).unwrap().clone();
        match a.kind {
            planton_provider::tf::AttributeKind::Nested(n) => n.attributes,
            planton_provider::tf::AttributeKind::Type(_) => panic!("{name} is not nested"),
        }
    };
    let (metadata, spec) = (nested("metadata"), nested("spec"));
    let metadata_ty = Type::Object(
        metadata
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect(),
    );
    let spec_ty = Type::Object(
        spec.iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect(),
    );
    let dynamic = move |v: Value, ty: Type| Value::Dynamic(ty, Box::new(v));
    let md = metadata_ty.clone();
    let st = spec_ty.clone();
    let args = prop_oneof![
        4 => (arb_object(&metadata, Shape::Config), arb_object(&spec, Shape::Config))
            .prop_map(move |(m, s)| vec![dynamic(m, md.clone()), dynamic(s, st.clone())]),
        1 => vec(arb_value(&Type::Dynamic), 0..4),
    ];
    let target = Target::new("kubernetes_job_manifest: random metadata and spec");
    target.run(cases(1000), args, |args| {
        match f.call(args) {
            Ok(v) => {
                target.reached("written");
                of_return_type(&v, &Type::Dynamic)?;
            }
            Err(e) => prop_assert!(!e.text.trim().is_empty()),
        }
        Ok(())
    });
}
