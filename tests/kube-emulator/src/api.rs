//! Routing of Kubernetes API paths and the verbs: get, list, watch, create,
//! update, patch, delete, deletecollection, and the status, log and finalize
//! subresources.

use std::sync::Arc;

use base64::Engine;
use http::Method;
use serde_json::{Value, json};

use crate::controllers::logs;
use crate::meta;
use crate::ops::{self, Ctx, DeleteOptions, Deleted, FieldValidation, PatchType};
use crate::resources::{self, ResourceType};
use crate::selectors::{FieldSelector, LabelSelector};
use crate::server::{ApiRequest, Reply, State};
use crate::status::{ApiError, FieldError, success_status};
use crate::{discovery, table, watch};

/// A request for a resource path.
pub struct Target {
    /// The resource.
    pub rt: &'static ResourceType,
    /// Namespace in the path.
    pub namespace: Option<String>,
    /// Object name.
    pub name: Option<String>,
    /// Subresource.
    pub subresource: Option<String>,
}

/// Answer one API request.
pub async fn handle(state: &Arc<State>, req: ApiRequest) -> Result<Reply, ApiError> {
    let path = req.path.clone();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let segs: Vec<&str> = if segs.last() == Some(&"") && segs.len() > 1 {
        segs[..segs.len() - 1].to_vec()
    } else {
        segs
    };
    let get_only = |r: Result<Reply, ApiError>| {
        if req.method == Method::GET {
            r
        } else {
            Err(ApiError::method_not_allowed())
        }
    };
    match segs.as_slice() {
        ["version"] => get_only(Ok(Reply::ok(discovery::version()))),
        ["api"] => get_only(Ok(Reply::ok(discovery::api_versions(state)))),
        ["apis"] => get_only(Ok(Reply::ok(discovery::api_groups()))),
        ["apis", group] => get_only(
            discovery::api_group(group)
                .map(Reply::ok)
                .ok_or_else(ApiError::path_not_found),
        ),
        ["api", "v1"] => get_only(Ok(Reply::ok(discovery::resource_list("", "v1")))),
        ["apis", group, version] => get_only(
            discovery::group_version_served(group, version)
                .then(|| Reply::ok(discovery::resource_list(group, version)))
                .ok_or_else(ApiError::path_not_found),
        ),
        ["openapi", "v3"] => get_only(Ok(Reply::ok(discovery::openapi_v3_index()))),
        ["openapi", "v3", rest @ ..] => get_only(
            discovery::openapi_v3_document(&rest.join("/"))
                .map(Reply::ok)
                .ok_or_else(ApiError::path_not_found),
        ),
        ["healthz" | "livez" | "readyz", ..] => get_only(Ok(Reply::Text {
            code: 200,
            body: "ok".into(),
        })),
        ["api", "v1", rest @ ..] if !rest.is_empty() => {
            resource_request(state, "", "v1", rest, &req).await
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            resource_request(state, group, version, rest, &req).await
        }
        _ => Err(ApiError::path_not_found()),
    }
}

fn parse_target(group: &str, version: &str, rest: &[&str]) -> Result<Target, ApiError> {
    let find =
        |plural: &str| resources::find(group, version, plural).ok_or_else(ApiError::path_not_found);
    let s = |x: &str| Some(x.to_string());
    let t = match rest {
        [plural] => Target {
            rt: find(plural)?,
            namespace: None,
            name: None,
            subresource: None,
        },
        ["namespaces", ns, plural]
            if resources::find(group, version, plural).is_some_and(|r| r.namespaced) =>
        {
            Target {
                rt: find(plural)?,
                namespace: s(ns),
                name: None,
                subresource: None,
            }
        }
        ["namespaces", ns, plural, name] => Target {
            rt: find(plural)?,
            namespace: s(ns),
            name: s(name),
            subresource: None,
        },
        ["namespaces", ns, plural, name, sub] => Target {
            rt: find(plural)?,
            namespace: s(ns),
            name: s(name),
            subresource: s(sub),
        },
        [plural, name] => Target {
            rt: find(plural)?,
            namespace: None,
            name: s(name),
            subresource: None,
        },
        [plural, name, sub] => Target {
            rt: find(plural)?,
            namespace: None,
            name: s(name),
            subresource: s(sub),
        },
        _ => return Err(ApiError::path_not_found()),
    };
    if t.rt.namespaced && t.namespace.is_none() && t.name.is_some() {
        return Err(ApiError::path_not_found());
    }
    if !t.rt.namespaced && t.namespace.is_some() {
        return Err(ApiError::path_not_found());
    }
    if let Some(sub) = &t.subresource
        && !t.rt.subresources.contains(&sub.as_str())
    {
        return Err(ApiError::path_not_found());
    }
    if t.name.as_deref() == Some("") || t.namespace.as_deref() == Some("") {
        return Err(ApiError::path_not_found());
    }
    Ok(t)
}

fn field_manager(req: &ApiRequest) -> Result<String, ApiError> {
    if let Some(m) = req.param("fieldManager") {
        if m.len() > 128 {
            return Err(ApiError::invalid_options(
                "PatchOptions",
                FieldError::too_long("fieldManager", "may not be more than 128 bytes"),
            ));
        }
        return Ok(m.to_string());
    }
    let ua = req.header("user-agent");
    let prefix = ua.split('/').next().unwrap_or("").trim();
    Ok(prefix.chars().take(128).collect())
}

fn ctx_for(state: &State, req: &ApiRequest, kind: &str, apply: bool) -> Result<Ctx, ApiError> {
    let options_kind = match (req.method.as_str(), apply) {
        ("POST", _) => "CreateOptions",
        ("PUT", _) => "UpdateOptions",
        ("PATCH", _) => "PatchOptions",
        _ => "DeleteOptions",
    };
    let dry_run = match req.param("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::invalid_options(
                options_kind,
                FieldError::not_supported("dryRun", &json!(other), &["All"]),
            ));
        }
    };
    let validation = match req.param("fieldValidation") {
        None | Some("") | Some("Warn") => FieldValidation::Warn,
        Some("Strict") => FieldValidation::Strict,
        Some("Ignore") => FieldValidation::Ignore,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fieldValidation must be one of \"Ignore\", \"Warn\", or \"Strict\", got {other:?}"
            )));
        }
    };
    let manager = if apply {
        req.param("fieldManager").unwrap_or("").to_string()
    } else {
        field_manager(req)?
    };
    let _ = kind;
    Ok(Ctx {
        manager,
        subresource: String::new(),
        dry_run,
        validation,
        require_service_account: state.config.controllers.service_accounts,
    })
}

fn parse_bool(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1" | "True"))
}

/// Decode a create/update body by its Content-Type.
fn read_body(rt: &ResourceType, req: &ApiRequest) -> Result<Value, ApiError> {
    let ct = req
        .header("content-type")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        "" | "application/json" | "*/*" => ops::parse_body(&req.body, false),
        "application/yaml" | "application/x-yaml" | "text/yaml" => ops::parse_body(&req.body, true),
        crate::proto::MEDIA_TYPE => crate::proto::decode(rt.kind, &rt.api_version(), &req.body),
        _ => Err(ApiError::unsupported_media_type(&[
            "application/json",
            "application/yaml",
            "application/vnd.kubernetes.protobuf",
            "application/cbor",
        ])),
    }
}

/// What representation the client asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Representation {
    Full,
    Table,
    Metadata,
}

fn representation(req: &ApiRequest) -> Result<Representation, ApiError> {
    let accept = req.header("accept");
    if accept.is_empty() {
        return Ok(Representation::Full);
    }
    let mut json_ok = false;
    for part in accept.split(',') {
        let part = part.trim();
        let media = part.split(';').next().unwrap_or("").trim();
        if !matches!(
            media,
            "application/json"
                | "*/*"
                | "application/*"
                | "application/yaml"
                | "application/json-seq"
        ) {
            continue;
        }
        if part.contains("as=Table") {
            return Ok(Representation::Table);
        }
        if part.contains("as=PartialObjectMetadata") {
            return Ok(Representation::Metadata);
        }
        if part.contains("as=APIGroupDiscoveryList") {
            continue;
        }
        json_ok = true;
    }
    if json_ok {
        Ok(Representation::Full)
    } else {
        Err(ApiError::not_acceptable(
            "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
        ))
    }
}

async fn resource_request(
    state: &Arc<State>,
    group: &str,
    version: &str,
    rest: &[&str],
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    let t = parse_target(group, version, rest)?;
    let rt = t.rt;
    let ns = t.namespace.clone().unwrap_or_default();
    let sub = t.subresource.as_deref();
    match (&req.method, t.name.as_deref(), sub) {
        (&Method::GET, None, None) => {
            if parse_bool(req.param("watch")) {
                require_verb(rt, "watch")?;
                watch::start(state, rt, t.namespace.as_deref(), req)
            } else {
                require_verb(rt, "list")?;
                list(state, rt, t.namespace.as_deref(), req)
            }
        }
        (&Method::GET, Some(name), None | Some("status")) => get(state, rt, &ns, name, req),
        (&Method::GET, Some(name), Some("log")) => logs::serve_log(state, &ns, name, req).await,
        (&Method::POST, None, None) => {
            require_verb(rt, "create")?;
            if rt.namespaced && t.namespace.is_none() {
                return Err(ApiError::method_not_allowed());
            }
            let body = read_body(rt, req)?;
            let ctx = ctx_for(state, req, rt.kind, false)?;
            let written = {
                let mut store = state.store();
                ops::create(&mut store, rt, t.namespace.as_deref(), body, &ctx)?
            };
            Ok(Reply::Json {
                code: 201,
                body: (*written.object).clone(),
                warnings: written.warnings,
            })
        }
        (&Method::PUT, Some(name), None | Some("status") | Some("finalize")) => {
            require_verb(rt, "update")?;
            let body = read_body(rt, req)?;
            let mut ctx = ctx_for(state, req, rt.kind, false)?;
            ctx.subresource = sub.unwrap_or("").to_string();
            let written = {
                let mut store = state.store();
                ops::update(&mut store, rt, &ns, name, body, &ctx)?
            };
            Ok(Reply::Json {
                code: 200,
                body: (*written.object).clone(),
                warnings: written.warnings,
            })
        }
        (&Method::PATCH, Some(name), None | Some("status")) => {
            require_verb(rt, "patch")?;
            let ptype =
                PatchType::from_content_type(req.header("content-type")).ok_or_else(|| {
                    ApiError::unsupported_media_type(&[
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                        "application/strategic-merge-patch+json",
                        "application/apply-patch+cbor",
                    ])
                })?;
            let apply = ptype == PatchType::Apply;
            let mut ctx = ctx_for(state, req, rt.kind, apply)?;
            ctx.subresource = sub.unwrap_or("").to_string();
            let force = match req.param("force") {
                None => false,
                Some(v) => parse_bool(Some(v)),
            };
            if !apply && req.param("force").is_some() {
                return Err(ApiError::invalid_options(
                    "PatchOptions",
                    FieldError::forbidden("force", "may not be specified for non-apply patch"),
                ));
            }
            let existed;
            let written = {
                let mut store = state.store();
                existed = store.get(rt.index(), &ns, name).is_some();
                ops::patch(&mut store, rt, &ns, name, ptype, &req.body, force, &ctx)?
            };
            let code = if apply && !existed { 201 } else { 200 };
            Ok(Reply::Json {
                code,
                body: (*written.object).clone(),
                warnings: written.warnings,
            })
        }
        (&Method::DELETE, Some(name), None) => {
            require_verb(rt, "delete")?;
            let (opts, dry_run) = delete_options(req)?;
            let mut ctx = ctx_for(state, req, rt.kind, false)?;
            ctx.dry_run |= dry_run;
            let result = {
                let mut store = state.store();
                ops::delete(&mut store, rt, &ns, name, &opts, &ctx)?
            };
            let warnings = orphan_warning(rt, &opts);
            let body = match result {
                Deleted::Gone(obj) if rt.returns_deleted_object => (*obj).clone(),
                Deleted::Gone(obj) => success_status(rt, name, meta::uid(&obj)),
                Deleted::Pending(obj) => (*obj).clone(),
            };
            Ok(Reply::Json {
                code: 200,
                body,
                warnings,
            })
        }
        (&Method::DELETE, None, None) => {
            require_verb(rt, "deletecollection")?;
            delete_collection(state, rt, t.namespace.as_deref(), req)
        }
        (&Method::POST | &Method::PUT | &Method::PATCH | &Method::DELETE | &Method::GET, _, _) => {
            Err(ApiError::method_not_allowed())
        }
        _ => Err(ApiError::method_not_allowed()),
    }
}

/// The warning kube-apiserver adds when a Job delete leaves the batch/v1 default (orphan).
fn orphan_warning(rt: &ResourceType, opts: &DeleteOptions) -> Vec<String> {
    if rt.kind == "Job" && opts.propagation.is_none() && opts.orphan_dependents.is_none() {
        vec![
            "child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning"
                .to_string(),
        ]
    } else {
        Vec::new()
    }
}

fn require_verb(rt: &ResourceType, verb: &str) -> Result<(), ApiError> {
    if rt.has_verb(verb) {
        Ok(())
    } else {
        Err(ApiError::method_not_allowed())
    }
}

fn delete_options(req: &ApiRequest) -> Result<(DeleteOptions, bool), ApiError> {
    let mut opts =
        DeleteOptions {
            propagation: req.param("propagationPolicy").map(str::to_string),
            orphan_dependents: req.param("orphanDependents").map(|v| parse_bool(Some(v))),
            grace_period: match req.param("gracePeriodSeconds") {
                Some(g) => Some(g.parse().map_err(|_| {
                    ApiError::bad_request(format!("invalid gracePeriodSeconds {g:?}"))
                })?),
                None => None,
            },
            precondition_uid: None,
            precondition_rv: None,
        };
    let mut dry_run = false;
    if !req.body.is_empty() {
        let body: Value = serde_json::from_slice(&req.body).map_err(|e| {
            ApiError::bad_request(format!("couldn't get version/kind; json parse error: {e}"))
        })?;
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "json: cannot unmarshal into Go value of type v1.DeleteOptions",
            ));
        }
        if let Some(p) = body.get("propagationPolicy").and_then(Value::as_str) {
            opts.propagation = Some(p.to_string());
        }
        if let Some(o) = body.get("orphanDependents").and_then(Value::as_bool) {
            opts.orphan_dependents = Some(o);
        }
        if let Some(g) = body.get("gracePeriodSeconds").and_then(Value::as_i64) {
            opts.grace_period = Some(g);
        }
        if let Some(u) = meta::get_str(&body, &["preconditions", "uid"]) {
            opts.precondition_uid = Some(u.to_string());
        }
        if let Some(rv) = meta::get_str(&body, &["preconditions", "resourceVersion"]) {
            opts.precondition_rv = Some(rv.to_string());
        }
        if let Some(d) = body.get("dryRun").and_then(Value::as_array) {
            dry_run = d.iter().any(|x| x == "All");
        }
    }
    Ok((opts, dry_run))
}

fn get(
    state: &Arc<State>,
    rt: &ResourceType,
    ns: &str,
    name: &str,
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    require_verb(rt, "get")?;
    let rep = representation(req)?;
    let obj = state
        .store()
        .get(rt.index(), ns, name)
        .ok_or_else(|| ApiError::not_found(rt, name))?;
    Ok(Reply::ok(match rep {
        Representation::Full => (*obj).clone(),
        Representation::Metadata => partial_metadata(&obj),
        Representation::Table => {
            let rv = meta::get_str(&obj, &["metadata", "resourceVersion"])
                .unwrap_or("")
                .to_string();
            table::render(rt, &[obj], &rv, req.param("includeObject"))
        }
    }))
}

fn partial_metadata(obj: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata").cloned().unwrap_or(json!({}))})
}

/// Parsed list options shared by list, watch and deletecollection.
pub struct ListFilter {
    /// `labelSelector`
    pub labels: LabelSelector,
    /// `fieldSelector`
    pub fields: FieldSelector,
}

impl ListFilter {
    /// From query parameters.
    pub fn from_request(rt: &ResourceType, req: &ApiRequest) -> Result<Self, ApiError> {
        Ok(Self {
            labels: LabelSelector::parse(req.param("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(req.param("fieldSelector").unwrap_or(""), rt.kind)?,
        })
    }

    /// Whether an object passes both selectors.
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches(obj)
    }
}

fn strip_type_meta(obj: &Value) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
    }
    o
}

fn list(
    state: &Arc<State>,
    rt: &ResourceType,
    ns: Option<&str>,
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    let rep = representation(req)?;
    let filter = ListFilter::from_request(rt, req)?;
    let limit: usize = match req.param("limit") {
        Some(l) if !l.is_empty() => l
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid limit {l:?}")))?,
        _ => 0,
    };
    let cont = req.param("continue").filter(|c| !c.is_empty());
    let (items, list_rv, more) = {
        let store = state.store();
        let current = store.current_rv();
        let mut list_rv = current;
        if let Some(rv) = req
            .param("resourceVersion")
            .filter(|v| !v.is_empty() && *v != "0")
        {
            let asked: u64 = rv
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?;
            if asked > current {
                return Err(ApiError::too_large_resource_version(asked, current));
            }
            if req.param("resourceVersionMatch") == Some("Exact") && asked < store.oldest_rv() {
                return Err(ApiError::expired(
                    "The resourceVersion for the provided list is too old.",
                ));
            }
        }
        let mut start_after: Option<(String, String)> = None;
        if let Some(c) = cont {
            let (rv, ns_key, name_key) = decode_continue(c)?;
            if rv < store.oldest_rv() {
                return Err(ApiError::expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
                ));
            }
            list_rv = rv;
            start_after = Some((ns_key, name_key));
        }
        let all = store.list(rt.index(), ns);
        let mut out = Vec::new();
        let mut more = None;
        for obj in all {
            if let Some((sns, sname)) = &start_after
                && (meta::namespace(&obj), meta::name(&obj)) <= (sns.as_str(), sname.as_str())
            {
                continue;
            }
            if !filter.matches(&obj) {
                continue;
            }
            if limit > 0 && out.len() == limit {
                more = Some(1usize);
                break;
            }
            out.push(obj);
        }
        (out, list_rv, more)
    };
    let rv = list_rv.to_string();
    let mut list_meta = serde_json::Map::new();
    list_meta.insert("resourceVersion".into(), json!(rv));
    if more.is_some()
        && let Some(last) = items.last()
    {
        list_meta.insert(
            "continue".into(),
            json!(encode_continue(
                list_rv,
                meta::namespace(last),
                meta::name(last)
            )),
        );
    }
    Ok(Reply::ok(match rep {
        Representation::Table => table::render(rt, &items, &rv, req.param("includeObject")),
        Representation::Metadata => json!({
            "kind": "PartialObjectMetadataList",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": Value::Object(list_meta),
            "items": items.iter().map(|o| partial_metadata(o)).collect::<Vec<_>>(),
        }),
        Representation::Full => json!({
            "kind": rt.list_kind(),
            "apiVersion": rt.api_version(),
            "metadata": Value::Object(list_meta),
            "items": items.iter().map(|o| strip_type_meta(o)).collect::<Vec<_>>(),
        }),
    }))
}

fn encode_continue(rv: u64, ns: &str, name: &str) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{ns}/{name}\u{0}")});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.to_string())
}

fn decode_continue(c: &str) -> Result<(u64, String, String), ApiError> {
    let bad = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .map_err(|_| bad("incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
    let v: Value =
        serde_json::from_slice(&raw).map_err(|_| bad("incorrect encoded start resourceVersion"))?;
    if v.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(bad("server does not recognize this encoded version"));
    }
    let rv = v
        .get("rv")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("incorrect encoded start resourceVersion"))?;
    let start = v
        .get("start")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim_end_matches('\u{0}');
    let (ns, name) = start
        .split_once('/')
        .ok_or_else(|| bad("invalid start key"))?;
    Ok((rv, ns.to_string(), name.to_string()))
}

fn delete_collection(
    state: &Arc<State>,
    rt: &ResourceType,
    ns: Option<&str>,
    req: &ApiRequest,
) -> Result<Reply, ApiError> {
    let filter = ListFilter::from_request(rt, req)?;
    let (opts, dry_run) = delete_options(req)?;
    let mut ctx = ctx_for(state, req, rt.kind, false)?;
    ctx.dry_run |= dry_run;
    let mut store = state.store();
    let targets: Vec<Arc<Value>> = store
        .list(rt.index(), ns)
        .into_iter()
        .filter(|o| filter.matches(o))
        .collect();
    let mut deleted = Vec::new();
    for obj in targets {
        match ops::delete(
            &mut store,
            rt,
            meta::namespace(&obj),
            meta::name(&obj),
            &opts,
            &ctx,
        ) {
            Ok(Deleted::Gone(o) | Deleted::Pending(o)) => deleted.push(strip_type_meta(&o)),
            Err(e) if e.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    let rv = store.current_rv().to_string();
    let warnings = orphan_warning(rt, &opts);
    Ok(Reply::Json {
        code: 200,
        warnings,
        body: json!({
            "kind": rt.list_kind(),
            "apiVersion": rt.api_version(),
            "metadata": {"resourceVersion": rv},
            "items": deleted,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue(42, "ns", "name");
        let (rv, ns, name) = decode_continue(&t).unwrap_or_default();
        assert_eq!((rv, ns.as_str(), name.as_str()), (42, "ns", "name"));
        assert!(decode_continue("!!").is_err());
    }

    #[test]
    fn paths_resolve_to_targets() {
        let t = parse_target("", "v1", &["namespaces", "a", "configmaps", "b"]).ok();
        assert!(t.is_some_and(|t| t.rt.plural == "configmaps" && t.name.as_deref() == Some("b")));
        let t = parse_target("", "v1", &["namespaces", "a", "status"]).ok();
        assert!(t.is_some_and(
            |t| t.rt.plural == "namespaces" && t.subresource.as_deref() == Some("status")
        ));
        assert!(parse_target("", "v1", &["foos"]).is_err());
        assert!(parse_target("", "v1", &["namespaces", "a", "pods", "b", "exec"]).is_err());
        assert!(parse_target("", "v1", &["configmaps", "b"]).is_err());
    }
}
