//! Kubernetes `Status` error bodies, with the message formats kube-apiserver uses.
//!
//! Every failure the emulator answers is an [`ApiError`]; it turns into a `Status`
//! object (`kind: Status`, `apiVersion: v1`, `status: Failure`) at one boundary
//! ([`ApiError::to_body`]). Field-level validation errors are [`FieldError`]s,
//! formatted as apimachinery's `field.Error` (`spec.x: Invalid value: 3: detail`).

use serde_json::{Map, Value, json};

use crate::resources::ResourceType;

/// The kind of a field-level validation error (apimachinery `field.ErrorType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldErrorType {
    /// `FieldValueNotFound`
    NotFound,
    /// `FieldValueRequired`
    Required,
    /// `FieldValueDuplicate`
    Duplicate,
    /// `FieldValueInvalid`
    Invalid,
    /// `FieldValueNotSupported`
    NotSupported,
    /// `FieldValueForbidden`
    Forbidden,
    /// `FieldValueTooLong`
    TooLong,
}

impl FieldErrorType {
    fn reason(self) -> &'static str {
        match self {
            Self::NotFound => "FieldValueNotFound",
            Self::Required => "FieldValueRequired",
            Self::Duplicate => "FieldValueDuplicate",
            Self::Invalid => "FieldValueInvalid",
            Self::NotSupported => "FieldValueNotSupported",
            Self::Forbidden => "FieldValueForbidden",
            Self::TooLong => "FieldValueTooLong",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Self::NotFound => "Not found",
            Self::Required => "Required value",
            Self::Duplicate => "Duplicate value",
            Self::Invalid => "Invalid value",
            Self::NotSupported => "Unsupported value",
            Self::Forbidden => "Forbidden",
            Self::TooLong => "Too long",
        }
    }
}

/// One field-level validation error.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// What is wrong.
    pub kind: FieldErrorType,
    /// The field path, as `spec.template.spec.containers[0].name`.
    pub field: String,
    /// The offending value, rendered the way Go's `%v`/`%q` would (already formatted).
    pub value: Option<String>,
    /// Extra explanation appended after the value.
    pub detail: String,
}

impl FieldError {
    /// `Required value`
    pub fn required(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorType::Required,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }
    /// `Invalid value: <value>: <detail>`
    pub fn invalid(field: impl Into<String>, value: &Value, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorType::Invalid,
            field: field.into(),
            value: Some(go_value(value)),
            detail: detail.into(),
        }
    }
    /// `Unsupported value: <value>: supported values: "a", "b"`
    pub fn not_supported(field: impl Into<String>, value: &Value, supported: &[&str]) -> Self {
        let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
        let detail = if quoted.is_empty() {
            String::new()
        } else {
            format!("supported values: {}", quoted.join(", "))
        };
        Self {
            kind: FieldErrorType::NotSupported,
            field: field.into(),
            value: Some(go_value(value)),
            detail,
        }
    }
    /// `Forbidden: <detail>`
    pub fn forbidden(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorType::Forbidden,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }
    /// `Duplicate value: <value>`
    pub fn duplicate(field: impl Into<String>, value: &Value) -> Self {
        Self {
            kind: FieldErrorType::Duplicate,
            field: field.into(),
            value: Some(go_value(value)),
            detail: String::new(),
        }
    }
    /// `Not found: <value>`
    pub fn not_found(field: impl Into<String>, value: &Value) -> Self {
        Self {
            kind: FieldErrorType::NotFound,
            field: field.into(),
            value: Some(go_value(value)),
            detail: String::new(),
        }
    }
    /// `Too long: may not be more than N bytes` style errors.
    pub fn too_long(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self {
            kind: FieldErrorType::TooLong,
            field: field.into(),
            value: None,
            detail: detail.into(),
        }
    }
    /// The `field is immutable` error of `ValidateImmutableField`.
    pub fn immutable(field: impl Into<String>, new_value: &Value) -> Self {
        Self::invalid(field, new_value, "field is immutable")
    }

    /// The message without the field name (apimachinery `ErrorBody`).
    pub fn body(&self) -> String {
        let mut s = self.kind.text().to_string();
        let shows_value = !matches!(
            self.kind,
            FieldErrorType::Required | FieldErrorType::Forbidden | FieldErrorType::TooLong
        );
        if shows_value {
            s.push_str(": ");
            s.push_str(self.value.as_deref().unwrap_or("null"));
        }
        if !self.detail.is_empty() {
            s.push_str(": ");
            s.push_str(&self.detail);
        }
        s
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}

/// Render a JSON value the way Go prints a field error's bad value: strings quoted
/// (`%q`), numbers and booleans plain, anything else as compact JSON (Go prints its
/// internal struct with `%#v`, which an emulator cannot reproduce byte for byte).
pub fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::String(s) => go_quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// Go's `%q` for a string: double quotes with Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A failed API request: HTTP code plus the `Status` body fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// HTTP status code, repeated in the body's `code`.
    pub code: u16,
    /// `reason` (NotFound, AlreadyExists, Conflict, Invalid, ...); empty for none.
    pub reason: &'static str,
    /// Human-readable message, in kube-apiserver's wording.
    pub message: String,
    /// `details`, when the error names an object.
    pub details: Option<Box<Value>>,
    /// `Retry-After` seconds (429, 504).
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn object_details(rt: &ResourceType, name: &str) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !rt.group.is_empty() {
        d.insert("group".into(), json!(rt.group));
    }
    d.insert("kind".into(), json!(rt.plural));
    Value::Object(d)
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// This error with `details`.
    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// `jobs.batch "x" not found`
    pub fn not_found(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} {} not found", rt.group_resource(), go_quote(name)),
        )
        .with_details(object_details(rt, name))
    }

    /// `namespaces "x" not found` for a namespace that a namespaced request names.
    pub fn namespace_not_found(ns: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("namespaces {} not found", go_quote(ns)),
        )
        .with_details(json!({"name": ns, "kind": "namespaces"}))
    }

    /// `jobs.batch "x" already exists`
    pub fn already_exists(rt: &ResourceType, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} {} already exists", rt.group_resource(), go_quote(name)),
        )
        .with_details(object_details(rt, name))
    }

    /// The optimistic-concurrency conflict of an update with a stale resourceVersion.
    pub fn conflict_modified(rt: &ResourceType, name: &str) -> Self {
        Self::conflict(
            rt,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `Operation cannot be fulfilled on jobs.batch "x": <why>`
    pub fn conflict(rt: &ResourceType, name: &str, why: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} {}: {}",
                rt.group_resource(),
                go_quote(name),
                why
            ),
        )
        .with_details(object_details(rt, name))
    }

    /// Server-side apply conflicts: message and causes as the field manager builds them.
    pub fn apply_conflict(message: String, causes: Vec<Value>) -> Self {
        Self::new(409, "Conflict", message).with_details(json!({ "causes": causes }))
    }

    /// `Job.batch "x" is invalid: <errors>` (422).
    pub fn invalid(group: &str, kind: &str, name: &str, errs: &[FieldError]) -> Self {
        let qualified = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let rendered: Vec<String> = dedup(errs).iter().map(|e| e.to_string()).collect();
        let summary = match rendered.len() {
            0 => String::new(),
            1 => rendered[0].clone(),
            _ => format!("[{}]", rendered.join(", ")),
        };
        let message = format!("{} {} is invalid: {}", qualified, go_quote(name), summary);
        let causes: Vec<Value> = dedup(errs)
            .iter()
            .map(|e| json!({"reason": e.kind.reason(), "message": e.body(), "field": e.field}))
            .collect();
        let mut d = Map::new();
        d.insert("name".into(), json!(name));
        if !group.is_empty() {
            d.insert("group".into(), json!(group));
        }
        d.insert("kind".into(), json!(kind));
        d.insert("causes".into(), Value::Array(causes));
        Self::new(422, "Invalid", message).with_details(Value::Object(d))
    }

    /// `<Kind>.meta.k8s.io "" is invalid: <error>`: a request's options (`kind`
    /// `CreateOptions`, `PatchOptions`, ...) refused.
    pub fn invalid_options(kind: &str, err: FieldError) -> Self {
        Self::invalid("meta.k8s.io", kind, "", &[err])
    }

    /// Invalid errors on a resource's own kind.
    pub fn invalid_object(rt: &ResourceType, name: &str, errs: &[FieldError]) -> Self {
        Self::invalid(rt.group, rt.kind, name, errs)
    }

    /// `configmaps "x" is forbidden: <why>` (403).
    pub fn forbidden(rt: &ResourceType, name: &str, why: &str, causes: Vec<Value>) -> Self {
        let mut e = Self::new(
            403,
            "Forbidden",
            format!(
                "{} {} is forbidden: {}",
                rt.group_resource(),
                go_quote(name),
                why
            ),
        );
        let mut d = object_details(rt, name);
        if !causes.is_empty()
            && let Some(m) = d.as_object_mut()
        {
            m.insert("causes".into(), Value::Array(causes));
        }
        e.details = Some(Box::new(d));
        e
    }

    /// The 403 of kube-apiserver's authorization filter (`NewForbidden` on the
    /// request's group and resource): `jobs.batch "x" is forbidden: <why>`,
    /// without the name for collections, details `{name, group, kind}` with
    /// the empty ones left out.
    pub fn forbidden_by_authorizer(group: &str, resource: &str, name: &str, why: &str) -> Self {
        let qualified = if group.is_empty() {
            resource.to_string()
        } else {
            format!("{resource}.{group}")
        };
        let message = if qualified.is_empty() {
            format!("forbidden: {why}")
        } else if name.is_empty() {
            format!("{qualified} is forbidden: {why}")
        } else {
            format!("{qualified} {} is forbidden: {why}", go_quote(name))
        };
        let mut e = Self::new(403, "Forbidden", message);
        let mut d = Map::new();
        for (k, v) in [("name", name), ("group", group), ("kind", resource)] {
            if !v.is_empty() {
                d.insert(k.into(), json!(v));
            }
        }
        e.details = Some(Box::new(Value::Object(d)));
        e
    }

    /// 400 BadRequest with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 404 for a path the server does not serve.
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    /// 410 Gone with reason Expired (`too old resource version: 5 (100)`).
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 413 for a body over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            format!("Request entity too large: limit is {limit}"),
        )
    }

    /// 415 for a body in a format the endpoint does not take.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
    }

    /// 406 for an Accept header the emulator cannot honour.
    pub fn not_acceptable(message: impl Into<String>) -> Self {
        Self::new(406, "NotAcceptable", message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 500 with a message.
    pub fn internal(message: impl Into<String>) -> Self {
        let mut e = Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        );
        e.details = Some(Box::new(
            json!({"causes": [{"message": e.message.clone()}]}),
        ));
        e
    }

    /// 429 Too Many Requests (as API Priority and Fairness answers it).
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        );
        e.details = Some(Box::new(json!({"retryAfterSeconds": retry_after})));
        e.retry_after = Some(retry_after);
        e
    }

    /// 503 Service Unavailable.
    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// 504 with reason Timeout (a list/watch asking for a resourceVersion from the future).
    pub fn too_large_resource_version(asked: u64, current: u64) -> Self {
        let mut e = Self::new(
            504,
            "Timeout",
            format!("Timeout: Too large resource version: {asked}, current: {current}"),
        );
        e.details = Some(Box::new(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1
        })));
        e.retry_after = Some(1);
        e
    }

    /// A request that names something the emulator deliberately does not emulate.
    pub fn not_emulated(what: &str) -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            format!(
                "{what} is not emulated by kube-emulator (see the crate documentation for what is)"
            ),
        )
        .with_details(json!({}))
    }

    /// The same error with another message.
    pub fn with_message(mut self, message: String) -> Self {
        self.message = message;
        self
    }

    /// The `Status` body.
    pub fn to_body(&self) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), json!("Status"));
        m.insert("apiVersion".into(), json!("v1"));
        m.insert("metadata".into(), json!({}));
        m.insert("status".into(), json!("Failure"));
        m.insert("message".into(), json!(self.message));
        if !self.reason.is_empty() {
            m.insert("reason".into(), json!(self.reason));
        }
        if let Some(d) = &self.details {
            m.insert("details".into(), (**d).clone());
        }
        m.insert("code".into(), json!(self.code));
        Value::Object(m)
    }
}

fn dedup(errs: &[FieldError]) -> Vec<&FieldError> {
    let mut seen = std::collections::HashSet::new();
    errs.iter().filter(|e| seen.insert(e.to_string())).collect()
}

/// A `Status` with `status: Success`, as DELETE answers for most kinds.
pub fn success_status(rt: &ResourceType, name: &str, uid: &str) -> Value {
    let mut d = Map::new();
    d.insert("name".into(), json!(name));
    if !rt.group.is_empty() {
        d.insert("group".into(), json!(rt.group));
    }
    d.insert("kind".into(), json!(rt.plural));
    if !uid.is_empty() {
        d.insert("uid".into(), json!(uid));
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": Value::Object(d)
    })
}
