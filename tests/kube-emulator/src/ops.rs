//! Object operations on a locked [`Store`]: create, update, patch, apply, delete.
//!
//! This is the write path every request and every controller goes through, in
//! kube-apiserver's order: decode (typed normal form and defaults), admission
//! (namespace lifecycle, service accounts), the kind's strategy (PrepareForCreate /
//! PrepareForUpdate: system metadata, status reset, generation, Job selector),
//! validation, managedFields, optimistic concurrency, then the store. A write that
//! changes nothing is not stored and keeps its resourceVersion.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::apply;
use crate::decode;
use crate::defaults;
use crate::meta;
use crate::patch;
use crate::resources::{self, NAMESPACES, ResourceType, SERVICEACCOUNTS};
use crate::status::ApiError;
use crate::store::Store;
use crate::validate;

/// How unknown fields are treated (`fieldValidation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FieldValidation {
    /// Drop silently.
    Ignore,
    /// Drop with a warning header (the server default).
    #[default]
    Warn,
    /// Refuse the request.
    Strict,
}

/// Who writes, and how.
#[derive(Clone, Debug)]
pub struct Ctx {
    /// The field manager.
    pub manager: String,
    /// `""` for the main resource, or `"status"`.
    pub subresource: String,
    /// `dryRun=All`: everything but the store write.
    pub dry_run: bool,
    /// Unknown-field handling.
    pub validation: FieldValidation,
    /// Whether pods need an existing service account (the ServiceAccount admission plugin).
    pub require_service_account: bool,
}

impl Ctx {
    /// A controller's context: its manager name, no dry run.
    pub fn controller(manager: &str) -> Self {
        Self {
            manager: manager.to_string(),
            subresource: String::new(),
            dry_run: false,
            validation: FieldValidation::Ignore,
            require_service_account: false,
        }
    }

    /// The same context for the status subresource.
    pub fn status(mut self) -> Self {
        self.subresource = "status".into();
        self
    }
}

/// A written object and the warnings to send back.
#[derive(Debug)]
pub struct Written {
    /// The object as stored (or as it would be, under dry run).
    pub object: Arc<Value>,
    /// `Warning` header texts.
    pub warnings: Vec<String>,
}

fn check_type_meta(rt: &ResourceType, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(format!(
            "{} in version {} cannot be handled as a {}: json: cannot unmarshal {} into Go value of type struct",
            rt.kind,
            crate::status::go_quote(rt.version),
            rt.kind,
            json_type(body)
        )));
    }
    if let Some(kind) = body.get("kind").and_then(Value::as_str)
        && !kind.is_empty()
        && kind != rt.kind
    {
        return Err(ApiError::bad_request(format!(
            "the body of the request was of kind {kind:?}, not {:?} as expected by {}",
            rt.kind,
            rt.group_resource()
        )));
    }
    if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
        && !av.is_empty()
        && av != rt.api_version()
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            rt.api_version()
        )));
    }
    Ok(())
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Decode a body into the kind's normal form with defaults; report unknown fields.
pub fn decode_body(
    rt: &ResourceType,
    mut body: Value,
    ctx: &Ctx,
) -> Result<(Value, Vec<String>), ApiError> {
    check_type_meta(rt, &body)?;
    if let Some(m) = body.as_object_mut() {
        m.insert("apiVersion".into(), json!(rt.api_version()));
        m.insert("kind".into(), json!(rt.kind));
    }
    let decoded = decode::normalize(rt, body)?;
    let mut warnings = Vec::new();
    if !decoded.unknown_fields.is_empty() {
        match ctx.validation {
            FieldValidation::Strict => {
                let list: Vec<String> = decoded
                    .unknown_fields
                    .iter()
                    .map(|f| format!("unknown field {}", crate::status::go_quote(f)))
                    .collect();
                return Err(ApiError::bad_request(format!(
                    "strict decoding error: {}",
                    list.join(", ")
                )));
            }
            FieldValidation::Warn => {
                warnings.extend(
                    decoded
                        .unknown_fields
                        .iter()
                        .map(|f| format!("unknown field {}", crate::status::go_quote(f))),
                );
            }
            FieldValidation::Ignore => {}
        }
    }
    let mut obj = decoded.object;
    defaults::apply_defaults(rt.kind, &mut obj);
    Ok((obj, warnings))
}

fn namespace_admission(
    store: &Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
) -> Result<(), ApiError> {
    if !rt.namespaced {
        return Ok(());
    }
    match store.get(NAMESPACES, "", ns) {
        None => Err(ApiError::namespace_not_found(ns)),
        Some(n) if meta::is_deleting(&n) => Err(ApiError::forbidden(
            rt,
            name,
            &format!(
                "unable to create new content in namespace {ns} because it is being terminated"
            ),
            vec![
                json!({"reason": "NamespaceTerminating", "message": format!("namespace {ns} is being terminated"), "field": "metadata.namespace"}),
            ],
        )),
        Some(_) => Ok(()),
    }
}

fn service_account_admission(
    store: &Store,
    rt: &ResourceType,
    obj: &Value,
    ctx: &Ctx,
) -> Result<(), ApiError> {
    if rt.kind != "Pod" || !ctx.require_service_account {
        return Ok(());
    }
    let ns = meta::namespace(obj);
    let sa = meta::get_str(obj, &["spec", "serviceAccountName"]).unwrap_or("default");
    if store.get(SERVICEACCOUNTS, ns, sa).is_none() {
        return Err(ApiError::forbidden(
            rt,
            meta::name(obj),
            &format!(
                "error looking up service account {ns}/{sa}: serviceaccount {} not found",
                crate::status::go_quote(sa)
            ),
            Vec::new(),
        ));
    }
    Ok(())
}

fn has_status(rt: &ResourceType) -> bool {
    matches!(rt.kind, "Job" | "Pod" | "Namespace")
}

fn prepare_create(rt: &ResourceType, obj: &mut Value, now: &str) {
    meta::set(obj, &["metadata", "uid"], json!(meta::new_uid()));
    meta::set(obj, &["metadata", "creationTimestamp"], json!(now));
    for f in [
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "selfLink",
        "resourceVersion",
        "generation",
        "managedFields",
    ] {
        meta::remove(obj, &["metadata", f]);
    }
    match rt.kind {
        "Job" => {
            meta::set(obj, &["metadata", "generation"], json!(1));
            meta::set(obj, &["status"], json!({}));
            defaults::prepare_job_create(obj);
            // Objects read back from storage are defaulted again: a Job without
            // labels takes its template's, the generated ones included.
            defaults::apply_defaults(rt.kind, obj);
        }
        "Pod" => {
            meta::set(obj, &["metadata", "generation"], json!(1));
            let qos = obj
                .get("spec")
                .map(defaults::qos_class)
                .unwrap_or("BestEffort");
            meta::set(
                obj,
                &["status"],
                json!({"phase": "Pending", "qosClass": qos}),
            );
        }
        "Namespace" => {
            meta::set(obj, &["status"], json!({"phase": "Active"}));
            let name = meta::name(obj).to_string();
            meta::set(
                obj,
                &["metadata", "labels", "kubernetes.io/metadata.name"],
                json!(name),
            );
        }
        _ => {}
    }
}

/// Create an object in namespace `ns` (None for cluster-scoped kinds).
pub fn create(
    store: &mut Store,
    rt: &ResourceType,
    ns: Option<&str>,
    body: Value,
    ctx: &Ctx,
) -> Result<Written, ApiError> {
    if meta::get_str(&body, &["metadata", "resourceVersion"]).is_some_and(|s| !s.is_empty()) {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    let (mut obj, warnings) = decode_body(rt, body, ctx)?;
    if let Some(ns) = ns {
        let body_ns = meta::namespace(&obj).to_string();
        if body_ns.is_empty() {
            meta::set(&mut obj, &["metadata", "namespace"], json!(ns));
        } else if body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
    } else {
        meta::remove(&mut obj, &["metadata", "namespace"]);
    }
    let ns = meta::namespace(&obj).to_string();
    namespace_admission(store, rt, &ns, meta::name(&obj))?;
    if meta::name(&obj).is_empty()
        && let Some(prefix) =
            meta::get_str(&obj, &["metadata", "generateName"]).filter(|p| !p.is_empty())
    {
        let prefix = prefix.to_string();
        let mut name = format!("{prefix}{}", meta::random_suffix());
        while store.get(rt.index(), &ns, &name).is_some() {
            name = format!("{prefix}{}", meta::random_suffix());
        }
        meta::set(&mut obj, &["metadata", "name"], json!(name));
    }
    service_account_admission(store, rt, &obj, ctx)?;
    let now = meta::now_time();
    // Decode-time defaults are owned by the creator; generated fields are not.
    apply::record_update(
        rt.kind,
        None,
        &mut obj,
        &ctx.manager,
        &ctx.subresource,
        &rt.api_version(),
        &now,
    );
    let managed = meta::get(&obj, &["metadata", "managedFields"]).cloned();
    prepare_create(rt, &mut obj, &now);
    if let Some(m) = managed {
        meta::set(&mut obj, &["metadata", "managedFields"], m);
    }
    let errs = validate::validate_create(rt, &obj);
    if !errs.is_empty() {
        return Err(ApiError::invalid_object(rt, meta::name(&obj), &errs));
    }
    let name = meta::name(&obj).to_string();
    if store.get(rt.index(), &ns, &name).is_some() {
        return Err(ApiError::already_exists(rt, &name));
    }
    let object = if ctx.dry_run {
        Arc::new(obj)
    } else {
        store.insert(rt.index(), obj)
    };
    Ok(Written { object, warnings })
}

/// Replace an object (PUT), on the main resource or `ctx.subresource`.
pub fn update(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    body: Value,
    ctx: &Ctx,
) -> Result<Written, ApiError> {
    check_type_meta(rt, &body)?;
    let body_name = meta::name(&body).to_string();
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let body_ns = meta::namespace(&body).to_string();
    if rt.namespaced && !body_ns.is_empty() && body_ns != ns {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let old = store
        .get(rt.index(), ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    let (mut new, warnings) = decode_body(rt, body, ctx)?;
    meta::set(&mut new, &["metadata", "name"], json!(name));
    if rt.namespaced {
        meta::set(&mut new, &["metadata", "namespace"], json!(ns));
    }
    let rv = meta::get_str(&new, &["metadata", "resourceVersion"])
        .unwrap_or("")
        .to_string();
    if !rv.is_empty() && rv != meta::get_str(&old, &["metadata", "resourceVersion"]).unwrap_or("") {
        return Err(ApiError::conflict_modified(rt, name));
    }
    if meta::get(&new, &["metadata", "managedFields"]).is_none()
        && let Some(m) = meta::get(&old, &["metadata", "managedFields"])
    {
        meta::set(&mut new, &["metadata", "managedFields"], m.clone());
    }
    let object = commit_update(store, rt, &old, new, ctx, true)?;
    Ok(Written { object, warnings })
}

fn copy_system_meta(old: &Value, new: &mut Value) {
    for f in [
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ] {
        match meta::get(old, &["metadata", f]) {
            Some(v) => meta::set(new, &["metadata", f], v.clone()),
            None => {
                meta::remove(new, &["metadata", f]);
            }
        }
    }
    if meta::uid(new).is_empty() {
        meta::set(new, &["metadata", "uid"], json!(meta::uid(old)));
    }
    meta::remove(new, &["metadata", "selfLink"]);
}

fn prepare_update(rt: &ResourceType, old: &Value, new: &mut Value, subresource: &str) {
    copy_system_meta(old, new);
    match subresource {
        "status" => {
            // Only status changes through the status endpoint.
            let status = new.get("status").cloned();
            let mut base = old.clone();
            match status {
                Some(s) => meta::set(&mut base, &["status"], s),
                None => {
                    meta::remove(&mut base, &["status"]);
                }
            }
            if let Some(m) = meta::get(new, &["metadata", "managedFields"]) {
                meta::set(&mut base, &["metadata", "managedFields"], m.clone());
            }
            if let Some(rv) = meta::get(new, &["metadata", "resourceVersion"]) {
                meta::set(&mut base, &["metadata", "resourceVersion"], rv.clone());
            }
            *new = base;
        }
        "finalize" => {
            let fins = meta::get(new, &["spec", "finalizers"]).cloned();
            let mut base = old.clone();
            match fins {
                Some(f) => meta::set(&mut base, &["spec", "finalizers"], f),
                None => {
                    meta::remove(&mut base, &["spec", "finalizers"]);
                }
            }
            *new = base;
        }
        _ => {
            if has_status(rt) {
                match old.get("status") {
                    Some(s) => meta::set(new, &["status"], s.clone()),
                    None => {
                        meta::remove(new, &["status"]);
                    }
                }
            }
            if rt.kind == "Namespace" {
                if let Some(f) = meta::get(old, &["spec", "finalizers"]) {
                    meta::set(new, &["spec", "finalizers"], f.clone());
                }
                let name = meta::name(new).to_string();
                meta::set(
                    new,
                    &["metadata", "labels", "kubernetes.io/metadata.name"],
                    json!(name),
                );
            }
            if matches!(rt.kind, "Job" | "Pod") && old.get("spec") != new.get("spec") {
                let g = meta::get_i64(old, &["metadata", "generation"]).unwrap_or(0);
                meta::set(new, &["metadata", "generation"], json!(g + 1));
            }
        }
    }
}

fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    meta::remove(&mut v, &["metadata", "resourceVersion"]);
    v
}

/// Validate and store `new` as the next state of `old`. `record` adds an Update
/// managedFields entry for `ctx.manager`.
pub fn commit_update(
    store: &mut Store,
    rt: &ResourceType,
    old: &Arc<Value>,
    mut new: Value,
    ctx: &Ctx,
    record: bool,
) -> Result<Arc<Value>, ApiError> {
    prepare_update(rt, old, &mut new, &ctx.subresource);
    let errs = validate::validate_update(rt, old, &new, &ctx.subresource);
    if !errs.is_empty() {
        return Err(ApiError::invalid_object(rt, meta::name(old), &errs));
    }
    if record {
        let now = meta::now_time();
        apply::record_update(
            rt.kind,
            Some(old),
            &mut new,
            &ctx.manager,
            &ctx.subresource,
            &rt.api_version(),
            &now,
        );
    }
    if comparable(&new) == comparable(old) {
        return Ok(old.clone());
    }
    if ctx.dry_run {
        return Ok(Arc::new(new));
    }
    let ns = meta::namespace(old).to_string();
    let name = meta::name(old).to_string();
    if finished_deleting(rt, &new) {
        let mut last = new;
        meta::set(
            &mut last,
            &["metadata", "resourceVersion"],
            json!(meta::resource_version(old).to_string()),
        );
        store.replace(rt.index(), last);
        return Ok(store
            .remove(rt.index(), &ns, &name)
            .unwrap_or_else(|| old.clone()));
    }
    Ok(store.replace(rt.index(), new))
}

/// Whether an object marked for deletion has nothing left holding it.
fn finished_deleting(rt: &ResourceType, obj: &Value) -> bool {
    if !meta::is_deleting(obj) || !meta::finalizers(obj).is_empty() {
        return false;
    }
    if rt.kind == "Namespace" {
        return meta::get(obj, &["spec", "finalizers"])
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
    }
    if rt.kind == "Pod" {
        return meta::get_i64(obj, &["metadata", "deletionGracePeriodSeconds"]).unwrap_or(0) == 0;
    }
    true
}

/// The body formats PATCH takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    /// `application/json-patch+json`
    Json,
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json`
    Strategic,
    /// `application/apply-patch+yaml`
    Apply,
}

impl PatchType {
    /// From a Content-Type.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        match ct.split(';').next().unwrap_or("").trim() {
            "application/json-patch+json" => Some(Self::Json),
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Parse a body as JSON (or YAML for apply patches).
pub fn parse_body(bytes: &[u8], yaml: bool) -> Result<Value, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Ok(v),
        Err(json_err) if yaml => {
            let y: serde_yaml::Value = serde_yaml::from_slice(bytes)
                .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
            serde_json::to_value(y)
                .map_err(|_| ApiError::bad_request(format!("error decoding YAML: {json_err}")))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "couldn't get version/kind; json parse error: {}",
            go_json_error(&e)
        ))),
    }
}

fn go_json_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        "unexpected end of JSON input".to_string()
    } else {
        e.to_string()
    }
}

/// PATCH an object.
#[allow(clippy::too_many_arguments)]
pub fn patch(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    ptype: PatchType,
    body: &[u8],
    force: bool,
    ctx: &Ctx,
) -> Result<Written, ApiError> {
    if ptype == PatchType::Apply {
        return apply_patch(store, rt, ns, name, body, force, ctx);
    }
    if force {
        return Err(ApiError::invalid_options(
            "PatchOptions",
            crate::status::FieldError::forbidden(
                "force",
                "may not be specified for non-apply patch",
            ),
        ));
    }
    let patch_doc = parse_body(body, false)?;
    let old = store
        .get(rt.index(), ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    let mut base = (*old).clone();
    let patched = match ptype {
        PatchType::Merge => {
            if !patch_doc.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            patch::merge_patch(&base, &patch_doc)
        }
        PatchType::Strategic => {
            if !patch_doc.is_object() {
                return Err(ApiError::bad_request(
                    "json: cannot unmarshal array into Go value of type map[string]interface {}",
                ));
            }
            patch::strategic_merge_patch(rt.kind, &base, &patch_doc)?
        }
        PatchType::Json => patch::json_patch(&base, &patch_doc)?,
        PatchType::Apply => base.clone(),
    };
    base = patched;
    check_type_meta(rt, &base)?;
    let rv = meta::get_str(&base, &["metadata", "resourceVersion"])
        .unwrap_or("")
        .to_string();
    if !rv.is_empty() && rv != meta::get_str(&old, &["metadata", "resourceVersion"]).unwrap_or("") {
        return Err(ApiError::conflict_modified(rt, name));
    }
    if meta::name(&base) != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta::name(&base)
        )));
    }
    let (new, warnings) = decode_body(rt, base, ctx)?;
    let object = commit_update(store, rt, &old, new, ctx, true)?;
    Ok(Written { object, warnings })
}

fn apply_patch(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    body: &[u8],
    force: bool,
    ctx: &Ctx,
) -> Result<Written, ApiError> {
    if ctx.manager.is_empty() {
        return Err(ApiError::invalid_options(
            "PatchOptions",
            crate::status::FieldError::required("fieldManager", "is required for apply patch"),
        ));
    }
    let config = parse_body(body, true)?;
    if !config.is_object() {
        return Err(ApiError::bad_request(format!(
            "error decoding YAML: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_type(&config)
        )));
    }
    check_type_meta(rt, &config)?;
    if config
        .get("apiVersion")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        || config
            .get("kind")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {}",
            if config.get("kind").is_none() {
                "/, Kind="
            } else {
                "missing apiVersion"
            }
        )));
    }
    let cfg_name = meta::name(&config);
    if cfg_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({cfg_name}) does not match the name on the URL ({name})"
        )));
    }
    let cfg_ns = meta::namespace(&config);
    if rt.namespaced && !cfg_ns.is_empty() && cfg_ns != ns {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    // Type errors and unknown fields in the configuration itself.
    let mut probe = config.clone();
    meta::set(&mut probe, &["metadata", "name"], json!(name));
    let (_, warnings) = decode_body(rt, probe, ctx)?;
    let now = meta::now_time();
    let live = store.get(rt.index(), ns, name);
    // A UID in the configuration is a precondition (kube-apiserver's patch
    // handler): it never creates, and never changes another object.
    let cfg_uid = meta::uid(&config).to_string();
    if !cfg_uid.is_empty() {
        match &live {
            None => {
                return Err(ApiError::conflict(
                    rt,
                    name,
                    &format!(
                        "uid mismatch: the provided object specified uid {cfg_uid}, and no existing object was found"
                    ),
                ));
            }
            Some(live) if meta::uid(live) != cfg_uid => {
                return Err(ApiError::invalid_object(
                    rt,
                    name,
                    &[crate::status::FieldError::immutable(
                        "metadata.uid",
                        &json!(cfg_uid),
                    )],
                ));
            }
            Some(_) => {}
        }
    }
    if let (Some(live), Some(rv)) = (
        &live,
        meta::get_str(&config, &["metadata", "resourceVersion"]),
    ) && !rv.is_empty()
        && rv != meta::get_str(live, &["metadata", "resourceVersion"]).unwrap_or("")
    {
        return Err(ApiError::conflict_modified(rt, name));
    }
    let applied = apply::apply(
        rt.kind,
        live.as_deref(),
        &config,
        &ctx.manager,
        force,
        &ctx.subresource,
        &rt.api_version(),
        &now,
    )?;
    let mut merged = applied.object;
    let managed = meta::get(&merged, &["metadata", "managedFields"]).cloned();
    meta::set(&mut merged, &["metadata", "name"], json!(name));
    if rt.namespaced {
        meta::set(&mut merged, &["metadata", "namespace"], json!(ns));
    }
    let quiet = Ctx {
        validation: FieldValidation::Ignore,
        ..ctx.clone()
    };
    match live {
        None => {
            if !ctx.subresource.is_empty() {
                return Err(ApiError::not_found(rt, name));
            }
            meta::remove(&mut merged, &["metadata", "resourceVersion"]);
            let (mut obj, _) = decode_body(rt, merged, &quiet)?;
            let ns_name = meta::namespace(&obj).to_string();
            namespace_admission(store, rt, &ns_name, name)?;
            service_account_admission(store, rt, &obj, ctx)?;
            prepare_create(rt, &mut obj, &now);
            if let Some(m) = managed {
                meta::set(&mut obj, &["metadata", "managedFields"], m);
            }
            let errs = validate::validate_create(rt, &obj);
            if !errs.is_empty() {
                return Err(ApiError::invalid_object(rt, name, &errs));
            }
            let object = if ctx.dry_run {
                Arc::new(obj)
            } else {
                store.insert(rt.index(), obj)
            };
            Ok(Written { object, warnings })
        }
        Some(live) => {
            let (mut new, _) = decode_body(rt, merged, &quiet)?;
            if let Some(m) = managed {
                meta::set(&mut new, &["metadata", "managedFields"], m);
            }
            let object = commit_update(store, rt, &live, new, ctx, false)?;
            Ok(Written { object, warnings })
        }
    }
}

/// DELETE options.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    /// `propagationPolicy`
    pub propagation: Option<String>,
    /// `orphanDependents` (deprecated form)
    pub orphan_dependents: Option<bool>,
    /// `gracePeriodSeconds`
    pub grace_period: Option<i64>,
    /// `preconditions.uid`
    pub precondition_uid: Option<String>,
    /// `preconditions.resourceVersion`
    pub precondition_rv: Option<String>,
}

/// What a delete did.
#[derive(Debug)]
pub enum Deleted {
    /// The object is gone; its last state.
    Gone(Arc<Value>),
    /// The object is marked for deletion and still there (finalizers, grace period).
    Pending(Arc<Value>),
}

fn default_propagation(rt: &ResourceType) -> &'static str {
    // batch/v1 Jobs keep the old default of orphaning their pods.
    if rt.kind == "Job" {
        "Orphan"
    } else {
        "Background"
    }
}

/// Delete an object.
pub fn delete(
    store: &mut Store,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    opts: &DeleteOptions,
    ctx: &Ctx,
) -> Result<Deleted, ApiError> {
    let old = store
        .get(rt.index(), ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    if let Some(uid) = &opts.precondition_uid
        && uid != meta::uid(&old)
    {
        return Err(ApiError::conflict(
            rt,
            name,
            &format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta::uid(&old)
            ),
        ));
    }
    if let Some(rv) = &opts.precondition_rv
        && rv != meta::get_str(&old, &["metadata", "resourceVersion"]).unwrap_or("")
    {
        return Err(ApiError::conflict(
            rt,
            name,
            &format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                meta::get_str(&old, &["metadata", "resourceVersion"]).unwrap_or("")
            ),
        ));
    }
    let policy = match (&opts.propagation, opts.orphan_dependents) {
        (Some(p), _) => p.clone(),
        (None, Some(true)) => "Orphan".into(),
        (None, Some(false)) => "Background".into(),
        (None, None) => default_propagation(rt).into(),
    };
    if !matches!(policy.as_str(), "Orphan" | "Background" | "Foreground") {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            crate::status::FieldError::not_supported(
                "propagationPolicy",
                &json!(policy),
                &["Foreground", "Background", "Orphan", "nil"],
            ),
        ));
    }
    if let Some(g) = opts.grace_period
        && g < 0
    {
        return Err(ApiError::invalid_options(
            "DeleteOptions",
            crate::status::FieldError::invalid(
                "gracePeriodSeconds",
                &json!(g),
                "must be greater than or equal to 0",
            ),
        ));
    }
    let now = meta::now_secs();
    let mut new = (*old).clone();
    if rt.kind == "Namespace" {
        if meta::is_deleting(&old) {
            return Err(ApiError::conflict(
                rt,
                name,
                "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
            ));
        }
        meta::set(
            &mut new,
            &["metadata", "deletionTimestamp"],
            json!(meta::format_time(now)),
        );
        meta::set(
            &mut new,
            &["metadata", "deletionGracePeriodSeconds"],
            json!(0),
        );
        meta::set(&mut new, &["status", "phase"], json!("Terminating"));
        add_policy_finalizer(&mut new, &policy);
        let obj = if ctx.dry_run {
            Arc::new(new)
        } else {
            store.replace(rt.index(), new)
        };
        return Ok(Deleted::Pending(obj));
    }
    let mut grace = 0;
    if rt.kind == "Pod" {
        let scheduled = meta::get_str(&old, &["spec", "nodeName"]).is_some_and(|n| !n.is_empty());
        let phase = meta::get_str(&old, &["status", "phase"]).unwrap_or("");
        let terminal = matches!(phase, "Succeeded" | "Failed");
        grace = opts
            .grace_period
            .or_else(|| meta::get_i64(&old, &["spec", "terminationGracePeriodSeconds"]))
            .unwrap_or(30);
        if !scheduled || terminal {
            grace = 0;
        }
    }
    if meta::is_deleting(&old) {
        // Already terminating: a shorter grace period may still speed it up.
        let current = meta::get_i64(&old, &["metadata", "deletionGracePeriodSeconds"]).unwrap_or(0);
        if rt.kind == "Pod" && grace < current {
            meta::set(
                &mut new,
                &["metadata", "deletionGracePeriodSeconds"],
                json!(grace),
            );
            meta::set(
                &mut new,
                &["metadata", "deletionTimestamp"],
                json!(meta::format_time(now + grace as f64)),
            );
            if ctx.dry_run {
                return Ok(Deleted::Pending(Arc::new(new)));
            }
            if finished_deleting(rt, &new) {
                store.replace(rt.index(), new);
                return Ok(Deleted::Gone(
                    store.remove(rt.index(), ns, name).unwrap_or(old),
                ));
            }
            return Ok(Deleted::Pending(store.replace(rt.index(), new)));
        }
        return Ok(Deleted::Pending(old));
    }
    add_policy_finalizer(&mut new, &policy);
    let pending = grace > 0 || !meta::finalizers(&new).is_empty();
    if !pending {
        if ctx.dry_run {
            return Ok(Deleted::Gone(old));
        }
        return Ok(Deleted::Gone(
            store.remove(rt.index(), ns, name).unwrap_or(old),
        ));
    }
    meta::set(
        &mut new,
        &["metadata", "deletionTimestamp"],
        json!(meta::format_time(now + grace as f64)),
    );
    meta::set(
        &mut new,
        &["metadata", "deletionGracePeriodSeconds"],
        json!(grace),
    );
    if ctx.dry_run {
        return Ok(Deleted::Pending(Arc::new(new)));
    }
    Ok(Deleted::Pending(store.replace(rt.index(), new)))
}

fn add_policy_finalizer(obj: &mut Value, policy: &str) {
    let fin = match policy {
        "Orphan" => "orphan",
        "Foreground" => "foregroundDeletion",
        _ => return,
    };
    let mut fins = meta::finalizers(obj);
    if !fins.iter().any(|f| f == fin) {
        fins.push(fin.to_string());
    }
    meta::set(obj, &["metadata", "finalizers"], json!(fins));
}

/// Record a core/v1 Event about `involved` (controllers' events).
pub fn record_event(
    store: &mut Store,
    involved: &Value,
    kind: &str,
    event_type: &str,
    reason: &str,
    message: &str,
    component: &str,
) {
    let ns = meta::namespace(involved);
    let ns = if ns.is_empty() { "default" } else { ns };
    if store
        .get(NAMESPACES, "", ns)
        .is_none_or(|n| meta::is_deleting(&n))
    {
        return;
    }
    let api_version = involved
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("v1");
    let now = meta::now_secs();
    let name = format!("{}.{:016x}", meta::name(involved), meta::random_u64());
    let event = json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ns, "uid": meta::new_uid(), "creationTimestamp": meta::format_time(now)},
        "involvedObject": {
            "kind": kind,
            "namespace": meta::namespace(involved),
            "name": meta::name(involved),
            "uid": meta::uid(involved),
            "apiVersion": api_version,
            "resourceVersion": meta::get_str(involved, &["metadata", "resourceVersion"]).unwrap_or(""),
        },
        "reason": reason,
        "message": message,
        "source": {"component": component},
        "firstTimestamp": meta::format_time(now),
        "lastTimestamp": meta::format_time(now),
        "count": 1,
        "type": event_type,
        "eventTime": null,
        "reportingComponent": component,
        "reportingInstance": "",
    });
    store.insert(resources::EVENTS, event);
}

/// A controller's write that skips validation (the controllers only produce valid
/// objects): managedFields for `manager`, no-op detection, finalization.
pub fn internal_write(
    store: &mut Store,
    res: usize,
    old: &Arc<Value>,
    mut new: Value,
    manager: &str,
    subresource: &str,
) -> Arc<Value> {
    let rt = resources::by_index(res);
    let now = meta::now_time();
    apply::record_update(
        rt.kind,
        Some(old),
        &mut new,
        manager,
        subresource,
        &rt.api_version(),
        &now,
    );
    if comparable(&new) == comparable(old) {
        return old.clone();
    }
    if finished_deleting(rt, &new) {
        let (ns, name) = (
            meta::namespace(old).to_string(),
            meta::name(old).to_string(),
        );
        store.replace(res, new);
        return store.remove(res, &ns, &name).unwrap_or_else(|| old.clone());
    }
    store.replace(res, new)
}
