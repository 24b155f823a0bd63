//! The list resource `planton_kubernetes_job`, for `terraform query`
//! (`list` blocks in `*.tfquery.hcl`): every Job in a namespace, or in
//! every namespace, optionally filtered by a label selector, in the
//! provider-level cluster or a named one.
//!
//! Each result carries the Job's identity (which an `import` block can
//! use), `namespace/name` as its display name, and, when Terraform asks
//! for it, the whole object as `planton_kubernetes_job` state, mapped the
//! way import maps it ([`crate::kubernetes_job::adopt::reverse`]). For that, the objects
//! that belong to the Jobs are read with one list request per kind, not
//! one per Job.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use kube::api::ListParams;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;

use crate::kube::{ObjectRef, errors};
use crate::kubernetes_job::adopt::fetch::{Found, planton_selector};
use crate::kubernetes_job::adopt::identity::ImportId;
use crate::kubernetes_job::adopt::reverse::reverse;
use crate::tf::resource::{ListRequest, ListResult, ListSink};
use crate::tf::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

/// Jobs are read in pages of this many.
const PAGE_SIZE: u32 = 200;

/// The schema of a `list "planton_kubernetes_job"` block's `config`.
pub fn schema() -> Schema {
    Schema::new(Block::new(
        vec![
            Attribute::optional("namespace", Type::String, NAMESPACE),
            Attribute::optional("label_selector", Type::String, LABEL_SELECTOR),
            Attribute::optional("cluster", Type::String, CLUSTER),
        ],
        DESCRIPTION,
    ))
}

const DESCRIPTION: &str = "Finds existing Kubernetes Jobs, for `terraform query` and bulk import \
(`terraform query -generate-config-out=FILE`). Every Job is listed, whether a planton_kubernetes_job \
created it or not; each result's identity imports it.";

const NAMESPACE: &str = "Namespace to list Jobs in. Leave it out to list the Jobs of every namespace the \
provider's credentials can read.";

const LABEL_SELECTOR: &str = "Kubernetes label selector the Jobs must match, for example \
`app=report,tier!=dev` or `planton.ai/resource=true` (only Jobs a planton_kubernetes_job created).";

const CLUSTER: &str = "Name of the provider's `clusters` entry to list in; the provider-level cluster when \
not set.";

/// The `config` block, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListConfig {
    /// `namespace`; `None` for every namespace.
    pub namespace: Option<String>,
    /// `label_selector`.
    pub label_selector: Option<String>,
    /// `cluster`.
    pub cluster: Option<String>,
}

impl ListConfig {
    /// Reads the `config` block (null attributes and empty strings are unset).
    pub fn from_value(v: &Value) -> ListConfig {
        let text = |name: &str| {
            v.get(name)
                .as_str()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        ListConfig {
            namespace: text("namespace"),
            label_selector: text("label_selector"),
            cluster: text("cluster"),
        }
    }
}

/// Checks the `config` block: a namespace must be a DNS-1123 label, and a
/// label selector must at least be well formed enough to send.
pub fn validate(config: &Value) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(ns) = config.get("namespace").as_str()
        && !ns.is_empty()
        && let Err(e) = ImportId::parse(&format!("{ns}/x"))
    {
        d.attribute_error(
            AttributePath::root("namespace"),
            "Invalid Namespace",
            format!("`namespace` is {ns:?}, which is not a namespace name: {e}."),
        );
    }
    if let Some(sel) = config.get("label_selector").as_str()
        && let Some(problem) = selector_problem(sel)
    {
        d.attribute_error(
            AttributePath::root("label_selector"),
            "Invalid Label Selector",
            format!(
                "`label_selector` is {sel:?}: {problem}. Write it as kubectl's `-l` takes it, for example \
                 `app=report,tier!=dev`, `env in (prod,staging)` or `!legacy`."
            ),
        );
    }
    d
}

/// An obvious mistake in a label selector (the API server checks the rest).
fn selector_problem(selector: &str) -> Option<String> {
    let mut depth = 0i32;
    for c in selector.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return Some("it closes a parenthesis it never opened".into());
        }
    }
    if depth != 0 {
        return Some("a parenthesis is not closed".into());
    }
    if selector.split(',').any(|part| part.trim().is_empty()) && !selector.trim().is_empty() {
        return Some("it has an empty requirement between commas".into());
    }
    None
}

/// Lists the Jobs `req` asks for and sends each to `out`.
pub async fn list(client: &Client, req: &ListRequest, out: &ListSink) -> Diagnostics {
    let config = ListConfig::from_value(&req.config);
    let mut d = Diagnostics::new();
    let jobs: Api<Job> = match &config.namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    let mut params = ListParams::default().limit(PAGE_SIZE);
    if let Some(sel) = &config.label_selector {
        params = params.labels(sel);
    }
    let what = ObjectRef {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        namespace: config.namespace.clone().unwrap_or_default(),
        name: "(all)".into(),
    };
    let mut sent: i64 = 0;
    let mut continue_token: Option<String> = None;
    loop {
        if req.cancel.is_cancelled() {
            d.error(
                "List Interrupted",
                "Terraform asked the provider to stop before every Job was listed.",
            );
            return d;
        }
        let page_params = match &continue_token {
            Some(t) => params.clone().continue_token(t),
            None => params.clone(),
        };
        let page = match jobs.list(&page_params).await {
            Ok(p) => p,
            Err(e) => {
                d.extend(errors::diagnostics(
                    "listing",
                    &what,
                    &e,
                    &errors::no_fields,
                ));
                return d;
            }
        };
        let related = if req.include_resource_object {
            match Related::read(client, config.namespace.as_deref(), &page.items).await {
                Ok(r) => Some(r),
                Err(e) => {
                    d.extend(e);
                    return d;
                }
            }
        } else {
            None
        };
        for job in page.items {
            let (Some(ns), Some(name)) =
                (job.metadata.namespace.clone(), job.metadata.name.clone())
            else {
                continue;
            };
            let id = ImportId {
                cluster: config.cluster.clone(),
                namespace: ns.clone(),
                name: name.clone(),
            };
            let mut result = ListResult {
                identity: id.identity(),
                display_name: format!("{ns}/{name}"),
                resource_object: None,
                diagnostics: Diagnostics::new(),
            };
            if let Some(related) = &related {
                let found = related.found_for(job);
                let imported = reverse(
                    &id,
                    &found,
                    &crate::kubernetes_job::model::schema::schema().value_type(),
                );
                // Warnings about fields the spec cannot express are for the
                // import; errors mean the object could not be mapped.
                if imported.diagnostics.has_error() {
                    result.diagnostics = imported.diagnostics;
                } else {
                    result.resource_object = Some(imported.state);
                }
            }
            if !out.send(result).await {
                return d;
            }
            sent += 1;
            if req.limit > 0 && sent >= req.limit {
                return d;
            }
        }
        continue_token = page.metadata.continue_.filter(|t| !t.is_empty());
        if continue_token.is_none() {
            return d;
        }
    }
}

/// The objects that may belong to a page of Jobs, read by kind.
struct Related {
    namespaces: Vec<Namespace>,
    service_accounts: Vec<ServiceAccount>,
    secrets: Vec<Secret>,
    config_maps: Vec<ConfigMap>,
}

impl Related {
    async fn read(
        client: &Client,
        namespace: Option<&str>,
        jobs: &[Job],
    ) -> Result<Related, Diagnostics> {
        if jobs.is_empty() {
            return Ok(Related {
                namespaces: Vec::new(),
                service_accounts: Vec::new(),
                secrets: Vec::new(),
                config_maps: Vec::new(),
            });
        }
        let selector = planton_selector();
        let (namespaces, service_accounts, secrets, config_maps) = futures::join!(
            list_all::<Namespace>(Api::all(client.clone()), &selector, true),
            list_all::<ServiceAccount>(scoped(client, namespace), &selector, false),
            list_all::<Secret>(scoped(client, namespace), &selector, false),
            list_all::<ConfigMap>(scoped(client, namespace), &selector, false),
        );
        Ok(Related {
            namespaces: namespaces?,
            service_accounts: service_accounts?,
            secrets: secrets?,
            config_maps: config_maps?,
        })
    }

    fn found_for(&self, job: Job) -> Found {
        Found::assemble(
            job,
            &self.namespaces,
            &self.service_accounts,
            &self.secrets,
            &self.config_maps,
        )
    }
}

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as Resource>::DynamicType: Default,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// Every object of a kind matching `selector`, all pages. Namespaces may
/// be unreadable for credentials scoped to one namespace: then none is
/// known to be ours (`create_namespace` imports as false).
async fn list_all<K>(
    api: Api<K>,
    selector: &str,
    forbidden_is_empty: bool,
) -> Result<Vec<K>, Diagnostics>
where
    K: Resource + Clone + DeserializeOwned + std::fmt::Debug,
    <K as Resource>::DynamicType: Default,
{
    let mut out = Vec::new();
    let mut params = ListParams::default().labels(selector).limit(500);
    loop {
        match api.list(&params).await {
            Ok(page) => {
                out.extend(page.items);
                match page.metadata.continue_.filter(|t| !t.is_empty()) {
                    Some(t) => params = params.continue_token(&t),
                    None => return Ok(out),
                }
            }
            Err(kube::Error::Api(s)) if forbidden_is_empty && s.code == 403 => {
                return Ok(Vec::new());
            }
            Err(e) => {
                let what = ObjectRef {
                    api_version: K::api_version(&Default::default()).into_owned(),
                    kind: K::kind(&Default::default()).into_owned(),
                    namespace: String::new(),
                    name: format!("(labelled {selector})"),
                };
                return Err(errors::diagnostics(
                    "listing",
                    &what,
                    &e,
                    &errors::no_fields,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The config block reads unset and empty as "not given".
    #[test]
    fn config_reading() {
        let v = Value::object([
            ("namespace", Value::string("batch")),
            ("label_selector", Value::string(" ")),
            ("cluster", Value::Null),
        ]);
        assert_eq!(
            ListConfig::from_value(&v),
            ListConfig {
                namespace: Some("batch".into()),
                ..ListConfig::default()
            }
        );
    }

    /// A bad namespace or selector is reported on its attribute.
    #[test]
    fn validation_table() {
        let cases = [
            ("valid", Some("batch"), Some("app=x,tier!=dev"), None),
            (
                "uppercase namespace",
                Some("Batch"),
                None,
                Some("namespace"),
            ),
            (
                "open parenthesis",
                None,
                Some("env in (a,b"),
                Some("label_selector"),
            ),
            (
                "empty requirement",
                None,
                Some("a=b,,c=d"),
                Some("label_selector"),
            ),
        ];
        for (name, ns, sel, want) in cases {
            let v = Value::object([
                ("namespace", ns.map(Value::string).unwrap_or_default()),
                ("label_selector", sel.map(Value::string).unwrap_or_default()),
                ("cluster", Value::Null),
            ]);
            let d = validate(&v);
            let got = d
                .iter()
                .next()
                .map(|x| x.path.as_ref().unwrap().to_string());
            assert_eq!(got.as_deref(), want, "{name}");
        }
    }

    /// The schema has the three filters, all optional.
    #[test]
    fn schema_has_filters() {
        let s = schema();
        let names: Vec<_> = s.block.attributes.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["namespace", "label_selector", "cluster"]);
        assert!(s.block.attributes.iter().all(|a| a.optional && !a.required));
    }
}
