//! Authorization: a small stand-in for RBAC, so that tests can meet a user who
//! may not do something and see the answer a real cluster gives.
//!
//! Authentication ([`crate::server`]) names the user: the configured `token`
//! and a client certificate of the generated admin are [`ADMIN_USER`], the
//! tokens of [`crate::EmulatorConfig::token_users`] the users they name, any
//! other client certificate signed by the CA its subject's common name, and a
//! request to an emulator that requires no credentials [`ANONYMOUS_USER`].
//!
//! Like kube-apiserver, the emulator derives the request's attributes from its
//! method and URL alone ([`RequestAttributes::parse`], after apiserver's
//! `RequestInfoFactory`) and decides before the request reaches any object, so
//! a refused request is 403 whether the object exists or not. The refusal is
//! the `Status` kube-apiserver's authorization filter writes:
//!
//! ```text
//! jobs.batch "x" is forbidden: User "alice" cannot get resource "jobs" in API group "batch" in the namespace "private"
//! jobs.batch is forbidden: User "alice" cannot list resource "jobs" in API group "batch" in the namespace "private"
//! namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" at the cluster scope
//! ```
//!
//! with `details` `{name, group, kind}` (`kind` is the resource, as in every
//! `Status`). RBAC's own reason is empty when no rule allows a request, so
//! nothing follows the sentence.
//!
//! By default the policy reads the other way round from RBAC: everyone may
//! do everything ([`Authorization`] is empty by default), and a user's
//! [`Policy`] takes away. `namespaces` limits the user to some namespaces (as
//! RoleBindings in those namespaces only would: no cluster-scope requests such
//! as listing namespaces, but a Namespace object in the list may be read,
//! because its namespace is itself); `deny` rules refuse a verb on a resource
//! in a namespace. Requests outside the API (`/version`, `/api`, `/apis/...`
//! discovery, OpenAPI, health) are allowed to every authenticated user, as
//! the default `system:discovery` and `system:public-info-viewer` roles allow
//! them.
//!
//! # RBAC
//!
//! A user marked [`Policy::rbac_only`] may instead do only what RBAC objects
//! grant them, as with kube-apiserver's RBAC authorizer (deny by default):
//! Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, read from the
//! YAML a user would `kubectl apply` ([`RbacObjects::from_yaml`]) and held in
//! [`Authorization::rbac`]. A RoleBinding grants its Role's (or ClusterRole's)
//! rules in its own namespace, a Namespace object included (a request for
//! the Namespace `team` is in the namespace `team`); a ClusterRoleBinding
//! grants its ClusterRole's rules everywhere, the cluster scope included.
//! Rules match as RBAC's `RuleAllows` does: verbs, API groups (`""` is core),
//! resources (`pods/log` is a resource of its own, `*/log` any resource's
//! `log`, `*` anything) and `resourceNames` (which a create, a list without
//! a `metadata.name` field selector, or a watch of a collection never
//! match). Subjects are Users by name, ServiceAccounts
//! (`system:serviceaccount:NS:NAME`; a RoleBinding's namespace when the
//! subject has none) and the groups every user is in
//! (`system:authenticated`, or `system:unauthenticated` for
//! [`ANONYMOUS_USER`]). Not supported: aggregated ClusterRoles
//! (`aggregationRule` is refused when loading) and `nonResourceURLs` rules
//! (non-resource requests are allowed anyway, see above).
//!
//! [`Rbac`] is shared by the clones of an [`Authorization`], so a test that
//! keeps one can change the RBAC objects while the emulator runs, as
//! `kubectl apply` of a Role would on a cluster: the next request is
//! decided by the new rules. The refusals an emulator answered are recorded
//! ([`Authorization::refusals`]), so that a test can see a 403 its client
//! swallowed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};

use serde::Deserialize;

use crate::status::{ApiError, go_quote};

/// The user of the configured token and of the generated client certificate.
pub const ADMIN_USER: &str = "kube-emulator-admin";

/// The user of a request to an emulator that requires no credentials.
pub const ANONYMOUS_USER: &str = "system:anonymous";

/// What each user may not do. Users without a [`Policy`] may do everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorization {
    /// Policies by user name.
    pub users: BTreeMap<String, Policy>,
    /// The RBAC objects that decide for users with [`Policy::rbac_only`];
    /// shared with every clone, and changeable while the emulator runs.
    pub rbac: Rbac,
    /// The refusals answered so far (shared with every clone).
    refusals: Refusals,
}

/// What one user may not do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// When set, the only namespaces the user's requests may be in; requests
    /// at the cluster scope are refused.
    pub namespaces: Option<BTreeSet<String>>,
    /// Requests refused even where `namespaces` allows them.
    pub deny: Vec<Rule>,
    /// The user may do only what [`Authorization::rbac`] grants them
    /// (deny by default); `namespaces` and `deny` refuse on top of it.
    pub rbac_only: bool,
}

/// A refused (verb, resource, namespace), each a list where `*` matches
/// anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `deletecollection`.
    pub verbs: Vec<String>,
    /// Resource plurals (`jobs`, `configmaps`), or `resource/subresource`
    /// (`jobs/status`, `pods/log`): as in RBAC, `jobs` does not cover
    /// `jobs/status`.
    pub resources: Vec<String>,
    /// Namespaces; a cluster-scope request matches only `*`.
    pub namespaces: Vec<String>,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn matches(patterns: &[String], value: &str) -> bool {
    patterns.iter().any(|p| p == "*" || p == value)
}

impl Rule {
    fn applies(&self, a: &RequestAttributes) -> bool {
        let resource = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        matches(&self.verbs, &a.verb)
            && matches(&self.resources, &resource)
            && (self.namespaces.iter().any(|n| n == "*")
                || (!a.namespace.is_empty() && matches(&self.namespaces, &a.namespace)))
    }
}

impl Authorization {
    /// Whether no user has a policy (everyone may do everything).
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Refuses `user` the `verbs` on the `resources` in the `namespaces`.
    pub fn deny(
        mut self,
        user: &str,
        verbs: &[&str],
        resources: &[&str],
        namespaces: &[&str],
    ) -> Self {
        self.users
            .entry(user.to_string())
            .or_default()
            .deny
            .push(Rule {
                verbs: strings(verbs),
                resources: strings(resources),
                namespaces: strings(namespaces),
            });
        self
    }

    /// Limits `user` to the `namespaces` (more calls add more namespaces).
    pub fn allow_namespaces(mut self, user: &str, namespaces: &[&str]) -> Self {
        self.users
            .entry(user.to_string())
            .or_default()
            .namespaces
            .get_or_insert_with(BTreeSet::new)
            .extend(strings(namespaces));
        self
    }

    /// Adds a deny rule written `USER:VERBS:RESOURCES:NAMESPACES` (the
    /// binary's `--deny`): comma-separated lists, `*` for any. The user name
    /// may itself contain colons (`system:serviceaccount:ns:sa`); the last
    /// three fields never do.
    pub fn add_deny_flag(&mut self, text: &str) -> Result<(), String> {
        let mut fields = text.rsplitn(4, ':');
        let (Some(namespaces), Some(resources), Some(verbs), Some(user)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "--deny {text:?}: expected USER:VERBS:RESOURCES:NAMESPACES"
            ));
        };
        let list = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        };
        let rule = Rule {
            verbs: list(verbs),
            resources: list(resources),
            namespaces: list(namespaces),
        };
        if user.is_empty()
            || rule.verbs.is_empty()
            || rule.resources.is_empty()
            || rule.namespaces.is_empty()
        {
            return Err(format!(
                "--deny {text:?}: USER, VERBS, RESOURCES and NAMESPACES must not be empty"
            ));
        }
        self.users
            .entry(user.to_string())
            .or_default()
            .deny
            .push(rule);
        Ok(())
    }

    /// Adds namespaces written `USER:NS[,NS...]` (the binary's
    /// `--allow-namespaces`).
    pub fn add_allow_namespaces_flag(&mut self, text: &str) -> Result<(), String> {
        let Some((user, namespaces)) = text.rsplit_once(':') else {
            return Err(format!(
                "--allow-namespaces {text:?}: expected USER:NAMESPACE[,NAMESPACE...]"
            ));
        };
        let namespaces: Vec<&str> = namespaces
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if user.is_empty() || namespaces.is_empty() {
            return Err(format!(
                "--allow-namespaces {text:?}: USER and NAMESPACES must not be empty"
            ));
        }
        *self = std::mem::take(self).allow_namespaces(user, &namespaces);
        Ok(())
    }

    /// Whether `user` may make the request; a refusal is kube-apiserver's 403.
    pub fn authorize(&self, user: &str, a: &RequestAttributes) -> Result<(), ApiError> {
        if !a.resource_request {
            return Ok(());
        }
        let Some(policy) = self.users.get(user) else {
            return Ok(());
        };
        let outside = policy
            .namespaces
            .as_ref()
            .is_some_and(|allowed| !allowed.contains(&a.namespace));
        let not_granted = policy.rbac_only && !self.rbac.allows(user, a);
        if outside || not_granted || policy.deny.iter().any(|r| r.applies(a)) {
            let refusal = forbidden(user, a);
            self.refusals.record(&refusal.message);
            return Err(refusal);
        }
        Ok(())
    }

    /// Makes `user` a user who may do only what [`Authorization::rbac`]
    /// grants them.
    pub fn rbac_only(mut self, user: &str) -> Self {
        self.users.entry(user.to_string()).or_default().rbac_only = true;
        self
    }

    /// Adds `objects` to the RBAC objects.
    pub fn with_rbac(self, objects: RbacObjects) -> Self {
        self.rbac.update(|o| o.extend(objects));
        self
    }

    /// The messages of the 403s answered so far, oldest first.
    pub fn refusals(&self) -> Vec<String> {
        self.refusals.all()
    }

    /// Forgets the refusals answered so far.
    pub fn clear_refusals(&self) {
        self.refusals.clear();
    }
}

/// The refusals an [`Authorization`] answered (never part of equality).
#[derive(Clone, Default)]
struct Refusals(Arc<Mutex<Vec<String>>>);

impl Refusals {
    fn record(&self, message: &str) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.to_string());
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl fmt::Debug for Refusals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Refusals({})", self.all().len())
    }
}

impl PartialEq for Refusals {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Refusals {}

/// The refusal, worded as apiserver's `forbiddenMessage` and `NewForbidden`.
fn forbidden(user: &str, a: &RequestAttributes) -> ApiError {
    let resource = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    let scope = if a.namespace.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace {}", go_quote(&a.namespace))
    };
    let why = format!(
        "User {} cannot {} resource {} in API group {} {scope}",
        go_quote(user),
        a.verb,
        go_quote(&resource),
        go_quote(&a.api_group),
    );
    // The filter keeps its messages from looking like HTML.
    let why = why
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    ApiError::forbidden_by_authorizer(&a.api_group, &a.resource, &a.name, &why)
}

/// What an authorizer sees of a request (apiserver's `RequestInfo`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestAttributes {
    /// Under `/api` or `/apis/GROUP` with a version and more; anything else
    /// (discovery, `/version`, health) is a non-resource request.
    pub resource_request: bool,
    /// The verb: `get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection` (the lower-cased method for non-resource
    /// requests).
    pub verb: String,
    /// The API group (`""` for core).
    pub api_group: String,
    /// The API version.
    pub api_version: String,
    /// The namespace (`""` at the cluster scope; a Namespace's is itself).
    pub namespace: String,
    /// The resource plural.
    pub resource: String,
    /// The subresource (`status`, `log`, `finalize`).
    pub subresource: String,
    /// The object's name, when the request names one (a list or watch with
    /// `fieldSelector=metadata.name=X` names X).
    pub name: String,
}

/// Whether a query parameter's text means true, as apiserver decodes a
/// boolean query parameter: anything but `0` and `false`.
fn query_true(v: &str) -> bool {
    !(v == "0" || v.eq_ignore_ascii_case("false"))
}

/// The name a field selector requires exactly (`metadata.name=X` or
/// `metadata.name==X` among its terms).
fn exact_name(selector: &str) -> Option<&str> {
    selector.split(',').find_map(|term| {
        let (field, value) = term
            .split_once("==")
            .or_else(|| term.split_once('='))
            .filter(|(f, _)| !f.ends_with('!'))?;
        (field.trim() == "metadata.name").then_some(value.trim())
    })
}

/// Whether `name` can be a path segment (apimachinery `IsValidPathSegmentName`).
fn valid_path_segment(name: &str) -> bool {
    name != "." && name != ".." && !name.contains('/') && !name.contains('%')
}

impl RequestAttributes {
    /// The attributes of a request, from its method, path and query.
    pub fn parse(method: &str, path: &str, query: &HashMap<String, String>) -> Self {
        let mut a = RequestAttributes {
            verb: method.to_ascii_lowercase(),
            ..Default::default()
        };
        let trimmed = path.trim_matches('/');
        let parts: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        if parts.len() < 3 || !matches!(parts[0], "api" | "apis") {
            return a;
        }
        let mut rest = &parts[1..];
        if parts[0] == "apis" {
            if rest.len() < 3 {
                return a;
            }
            a.api_group = rest[0].to_string();
            rest = &rest[1..];
        }
        a.resource_request = true;
        a.api_version = rest[0].to_string();
        rest = &rest[1..];
        let mut via_path = false;
        if matches!(rest[0], "watch" | "proxy") {
            // kube-apiserver fails such a request outright; nothing to authorize.
            if rest.len() < 2 {
                a.resource_request = false;
                return a;
            }
            a.verb = rest[0].to_string();
            rest = &rest[1..];
            via_path = true;
        }
        if !via_path {
            a.verb = match method {
                "POST" => "create",
                "GET" | "HEAD" => "get",
                "PUT" => "update",
                "PATCH" => "patch",
                "DELETE" => "delete",
                _ => "",
            }
            .to_string();
        }
        if rest[0] == "namespaces" && rest.len() > 1 {
            a.namespace = rest[1].to_string();
            if rest.len() > 2 && !matches!(rest[2], "status" | "finalize") {
                rest = &rest[2..];
            }
        }
        if rest.len() >= 3 && a.verb != "proxy" {
            a.subresource = rest[2].to_string();
        }
        if rest.len() >= 2 {
            a.name = rest[1].to_string();
        }
        a.resource = rest[0].to_string();
        if a.name.is_empty() && a.verb == "get" {
            let watch = query.get("watch").is_some_and(|v| query_true(v));
            a.verb = if watch { "watch" } else { "list" }.to_string();
            if let Some(name) = query
                .get("fieldSelector")
                .and_then(|s| exact_name(s))
                .filter(|n| valid_path_segment(n))
            {
                a.name = name.to_string();
            }
        }
        if a.name.is_empty() && a.verb == "delete" {
            a.verb = "deletecollection".to_string();
        }
        a
    }
}

// ---------------------------------------------------------------------------
// RBAC

/// The API group of the RBAC kinds.
const RBAC_API_VERSION: &str = "rbac.authorization.k8s.io/v1";

/// One resource rule of a Role or ClusterRole (rbac/v1 `PolicyRule`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyRule {
    /// API groups (`""` is core, `*` any).
    pub api_groups: Vec<String>,
    /// Resources (`jobs`, `pods/log`, `*/log`, `*`).
    pub resources: Vec<String>,
    /// Verbs (`get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection`, `*`).
    pub verbs: Vec<String>,
    /// When not empty, the only object names the rule allows.
    pub resource_names: Vec<String>,
}

impl PolicyRule {
    /// Whether the rule allows the request (RBAC's `RuleAllows`).
    pub fn allows(&self, a: &RequestAttributes) -> bool {
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let resource_matches = self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty() && r.strip_prefix("*/") == Some(&a.subresource))
        });
        let name_matches = self.resource_names.is_empty()
            || (!a.name.is_empty() && self.resource_names.contains(&a.name));
        matches(&self.verbs, &a.verb)
            && matches(&self.api_groups, &a.api_group)
            && resource_matches
            && name_matches
    }
}

/// A Role (`namespace` set) or a ClusterRole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RbacRole {
    /// A ClusterRole.
    pub cluster: bool,
    /// A Role's namespace; empty for a ClusterRole.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its resource rules.
    pub rules: Vec<PolicyRule>,
}

impl RbacRole {
    fn describe(&self) -> String {
        match self.cluster {
            true => format!("ClusterRole {}", self.name),
            false => format!("Role {}/{}", self.namespace, self.name),
        }
    }
}

/// Who a binding grants its role to (rbac/v1 `Subject`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: String,
    /// The user, group or service account name.
    pub name: String,
    /// A ServiceAccount's namespace (empty: the RoleBinding's).
    pub namespace: String,
}

/// A RoleBinding (`namespace` set) or a ClusterRoleBinding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RbacBinding {
    /// A ClusterRoleBinding.
    pub cluster: bool,
    /// A RoleBinding's namespace; empty for a ClusterRoleBinding.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// `Role` or `ClusterRole`.
    pub role_kind: String,
    /// The role's name.
    pub role_name: String,
    /// Whom it grants the role to.
    pub subjects: Vec<Subject>,
}

impl RbacBinding {
    fn applies_to(&self, user: &str) -> bool {
        self.subjects.iter().any(|s| match s.kind.as_str() {
            "User" => s.name == user,
            "Group" => groups_of(user).contains(&s.name.as_str()),
            "ServiceAccount" => {
                let namespace = if s.namespace.is_empty() {
                    self.namespace.as_str()
                } else {
                    s.namespace.as_str()
                };
                !namespace.is_empty()
                    && user == format!("system:serviceaccount:{namespace}:{}", s.name)
            }
            _ => false,
        })
    }
}

/// The groups the emulator's authentication puts a user in.
fn groups_of(user: &str) -> &'static [&'static str] {
    if user == ANONYMOUS_USER {
        &["system:unauthenticated"]
    } else {
        &["system:authenticated"]
    }
}

/// One verb on one resource that a role grants: what a test takes away to
/// see that it is needed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Permission {
    /// The role: `Role NAMESPACE/NAME` or `ClusterRole NAME`.
    pub role: String,
    /// The API group.
    pub api_group: String,
    /// The resource, as the rule names it (`pods/log`).
    pub resource: String,
    /// The verb.
    pub verb: String,
}

impl fmt::Display for Permission {
    /// `create jobs (batch) of ClusterRole x`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.api_group.is_empty() {
            "core"
        } else {
            self.api_group.as_str()
        };
        write!(
            f,
            "{} {} ({group}) of {}",
            self.verb, self.resource, self.role
        )
    }
}

/// Roles, ClusterRoles and their bindings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RbacObjects {
    /// Roles and ClusterRoles.
    pub roles: Vec<RbacRole>,
    /// RoleBindings and ClusterRoleBindings.
    pub bindings: Vec<RbacBinding>,
}

/// An object of a manifest, before its kind is known.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

impl RbacObjects {
    /// Reads the RBAC objects of a YAML manifest (documents separated by
    /// `---`, as `kubectl apply -f` reads them). Roles and RoleBindings
    /// without a namespace are put in `namespace`, as `kubectl apply -n`
    /// would. Objects of other kinds, rules the API server would refuse,
    /// and what the emulator does not support are errors.
    pub fn from_yaml(text: &str, namespace: &str) -> Result<RbacObjects, String> {
        use k8s_openapi::api::rbac::v1 as rbac;
        let mut out = RbacObjects::default();
        for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
            let at = format!("document {}", i + 1);
            let value = serde_yaml::Value::deserialize(doc).map_err(|e| format!("{at}: {e}"))?;
            if value.is_null() {
                continue;
            }
            let json = serde_json::to_value(value).map_err(|e| format!("{at}: {e}"))?;
            let meta: TypeMeta =
                serde_json::from_value(json.clone()).map_err(|e| format!("{at}: {e}"))?;
            if meta.api_version != RBAC_API_VERSION {
                return Err(format!(
                    "{at}: apiVersion {:?} is not {RBAC_API_VERSION}",
                    meta.api_version
                ));
            }
            let decode_error = |e: serde_json::Error| format!("{at} ({}): {e}", meta.kind);
            let scoped = |ns: Option<String>| -> Result<String, String> {
                match ns.filter(|n| !n.is_empty()) {
                    Some(n) => Ok(n),
                    None if !namespace.is_empty() => Ok(namespace.to_string()),
                    None => Err(format!("{at} ({}): no namespace", meta.kind)),
                }
            };
            match meta.kind.as_str() {
                "Role" => {
                    let role: rbac::Role = serde_json::from_value(json).map_err(decode_error)?;
                    let name = named(&at, role.metadata.name)?;
                    out.roles.push(RbacRole {
                        cluster: false,
                        namespace: scoped(role.metadata.namespace)?,
                        rules: rules(&at, role.rules.unwrap_or_default(), false)?,
                        name,
                    });
                }
                "ClusterRole" => {
                    let role: rbac::ClusterRole =
                        serde_json::from_value(json).map_err(decode_error)?;
                    if role.aggregation_rule.is_some() {
                        return Err(format!(
                            "{at} (ClusterRole): aggregationRule is not supported by the emulator"
                        ));
                    }
                    out.roles.push(RbacRole {
                        cluster: true,
                        namespace: String::new(),
                        name: named(&at, role.metadata.name)?,
                        rules: rules(&at, role.rules.unwrap_or_default(), true)?,
                    });
                }
                "RoleBinding" => {
                    let b: rbac::RoleBinding =
                        serde_json::from_value(json).map_err(decode_error)?;
                    if !matches!(b.role_ref.kind.as_str(), "Role" | "ClusterRole") {
                        return Err(format!(
                            "{at} (RoleBinding): roleRef.kind {:?} is not Role or ClusterRole",
                            b.role_ref.kind
                        ));
                    }
                    out.bindings.push(RbacBinding {
                        cluster: false,
                        namespace: scoped(b.metadata.namespace)?,
                        name: named(&at, b.metadata.name)?,
                        role_kind: b.role_ref.kind,
                        role_name: b.role_ref.name,
                        subjects: subjects(&at, b.subjects.unwrap_or_default())?,
                    });
                }
                "ClusterRoleBinding" => {
                    let b: rbac::ClusterRoleBinding =
                        serde_json::from_value(json).map_err(decode_error)?;
                    if b.role_ref.kind != "ClusterRole" {
                        return Err(format!(
                            "{at} (ClusterRoleBinding): roleRef.kind {:?} is not ClusterRole",
                            b.role_ref.kind
                        ));
                    }
                    out.bindings.push(RbacBinding {
                        cluster: true,
                        namespace: String::new(),
                        name: named(&at, b.metadata.name)?,
                        role_kind: b.role_ref.kind,
                        role_name: b.role_ref.name,
                        subjects: subjects(&at, b.subjects.unwrap_or_default())?,
                    });
                }
                other => return Err(format!("{at}: kind {other:?} is not an RBAC kind")),
            }
        }
        Ok(out)
    }

    /// Adds `other`'s objects.
    pub fn extend(&mut self, other: RbacObjects) {
        self.roles.extend(other.roles);
        self.bindings.extend(other.bindings);
    }

    /// Whether the bindings that name `user` grant the request.
    pub fn allows(&self, user: &str, a: &RequestAttributes) -> bool {
        self.bindings
            .iter()
            .filter(|b| b.applies_to(user))
            // A RoleBinding grants in its namespace only.
            .filter(|b| b.cluster || b.namespace == a.namespace)
            .filter_map(|b| self.role_of(b))
            .any(|role| role.rules.iter().any(|r| r.allows(a)))
    }

    /// The role a binding refers to, if it exists.
    fn role_of(&self, b: &RbacBinding) -> Option<&RbacRole> {
        self.roles.iter().find(|r| match b.role_kind.as_str() {
            "ClusterRole" => r.cluster && r.name == b.role_name,
            _ => !r.cluster && r.namespace == b.namespace && r.name == b.role_name,
        })
    }

    /// Every verb on every resource of every role, in the roles' order, once
    /// each.
    pub fn permissions(&self) -> Vec<Permission> {
        let mut out: Vec<Permission> = Vec::new();
        for role in &self.roles {
            for rule in &role.rules {
                for group in &rule.api_groups {
                    for resource in &rule.resources {
                        for verb in &rule.verbs {
                            let p = Permission {
                                role: role.describe(),
                                api_group: group.clone(),
                                resource: resource.clone(),
                                verb: verb.clone(),
                            };
                            if !out.contains(&p) {
                                out.push(p);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// A copy whose role grants `p` no longer: every rule that lists its
    /// group, resource and verb is split into rules for the rest (a `*` in
    /// a rule is not split: it still grants `p`).
    pub fn without(&self, p: &Permission) -> RbacObjects {
        let mut out = self.clone();
        for role in out.roles.iter_mut().filter(|r| r.describe() == p.role) {
            let mut rules = Vec::new();
            for rule in role.rules.drain(..) {
                let grants = rule.api_groups.contains(&p.api_group)
                    && rule.resources.contains(&p.resource)
                    && rule.verbs.contains(&p.verb);
                if !grants {
                    rules.push(rule);
                    continue;
                }
                let others = |items: &[String], taken: &str| -> Vec<String> {
                    items.iter().filter(|i| *i != taken).cloned().collect()
                };
                let split = [
                    PolicyRule {
                        api_groups: others(&rule.api_groups, &p.api_group),
                        ..rule.clone()
                    },
                    PolicyRule {
                        api_groups: vec![p.api_group.clone()],
                        resources: others(&rule.resources, &p.resource),
                        ..rule.clone()
                    },
                    PolicyRule {
                        api_groups: vec![p.api_group.clone()],
                        resources: vec![p.resource.clone()],
                        verbs: others(&rule.verbs, &p.verb),
                        ..rule.clone()
                    },
                ];
                rules.extend(split.into_iter().filter(|r| {
                    !r.api_groups.is_empty() && !r.resources.is_empty() && !r.verbs.is_empty()
                }));
            }
            role.rules = rules;
        }
        out
    }
}

fn named(at: &str, name: Option<String>) -> Result<String, String> {
    name.filter(|n| !n.is_empty())
        .ok_or_else(|| format!("{at}: metadata.name is required"))
}

/// The resource rules, checked as the API server's RBAC validation checks
/// them; a ClusterRole's `nonResourceURLs` rules are dropped.
fn rules(
    at: &str,
    given: Vec<k8s_openapi::api::rbac::v1::PolicyRule>,
    cluster: bool,
) -> Result<Vec<PolicyRule>, String> {
    let mut out = Vec::new();
    for (i, r) in given.into_iter().enumerate() {
        let at = format!("{at}: rules[{i}]");
        let non_resource = r.non_resource_urls.unwrap_or_default();
        let rule = PolicyRule {
            api_groups: r.api_groups.unwrap_or_default(),
            resources: r.resources.unwrap_or_default(),
            verbs: r.verbs,
            resource_names: r.resource_names.unwrap_or_default(),
        };
        if rule.verbs.is_empty() {
            return Err(format!(
                "{at}.verbs: Required value: verbs must contain at least one value"
            ));
        }
        if !non_resource.is_empty() {
            if !cluster {
                return Err(format!(
                    "{at}.nonResourceURLs: Invalid value: namespaced rules cannot apply to non-resource URLs"
                ));
            }
            if !rule.api_groups.is_empty() || !rule.resources.is_empty() {
                return Err(format!(
                    "{at}.nonResourceURLs: Invalid value: rules cannot apply to both regular resources and non-resource URLs"
                ));
            }
            continue;
        }
        if rule.api_groups.is_empty() {
            return Err(format!(
                "{at}.apiGroups: Required value: resource rules must supply at least one api group"
            ));
        }
        if rule.resources.is_empty() {
            return Err(format!(
                "{at}.resources: Required value: resource rules must supply at least one resource"
            ));
        }
        out.push(rule);
    }
    Ok(out)
}

fn subjects(
    at: &str,
    given: Vec<k8s_openapi::api::rbac::v1::Subject>,
) -> Result<Vec<Subject>, String> {
    given
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            if !matches!(s.kind.as_str(), "User" | "Group" | "ServiceAccount") {
                return Err(format!(
                    "{at}: subjects[{i}].kind: Unsupported value: {:?}: supported values: \"Group\", \"ServiceAccount\", \"User\"",
                    s.kind
                ));
            }
            Ok(Subject {
                kind: s.kind,
                name: s.name,
                namespace: s.namespace.unwrap_or_default(),
            })
        })
        .collect()
}

/// The RBAC objects of an [`Authorization`], shared by its clones: a change
/// through any clone decides the next request.
#[derive(Clone, Default)]
pub struct Rbac(Arc<RwLock<RbacObjects>>);

impl Rbac {
    /// The objects now.
    pub fn objects(&self) -> RbacObjects {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the objects.
    pub fn set(&self, objects: RbacObjects) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = objects;
    }

    /// Changes the objects in place.
    pub fn update(&self, change: impl FnOnce(&mut RbacObjects)) {
        change(&mut self.0.write().unwrap_or_else(|e| e.into_inner()));
    }

    /// Whether the objects grant `user` the request.
    pub fn allows(&self, user: &str, a: &RequestAttributes) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .allows(user, a)
    }
}

impl fmt::Debug for Rbac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.objects().fmt(f)
    }
}

impl PartialEq for Rbac {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.objects() == other.objects()
    }
}

impl Eq for Rbac {}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(method: &str, url: &str) -> RequestAttributes {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        RequestAttributes::parse(method, path, &crate::server::parse_query(query))
    }

    /// Request attributes follow apiserver's RequestInfo for each URL shape.
    #[test]
    fn attributes_from_urls() {
        // (method, url, verb, group, namespace, resource, subresource, name)
        let cases = [
            (
                "GET",
                "/api/v1/namespaces/a/pods/p",
                "get",
                "",
                "a",
                "pods",
                "",
                "p",
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods",
                "list",
                "",
                "a",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods?watch=1",
                "watch",
                "",
                "a",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods?watch=false",
                "list",
                "",
                "a",
                "pods",
                "",
                "",
            ),
            (
                "GET",
                "/apis/batch/v1/jobs",
                "list",
                "batch",
                "",
                "jobs",
                "",
                "",
            ),
            (
                "GET",
                "/apis/batch/v1/namespaces/a/jobs?fieldSelector=metadata.name%3Dj&watch=true",
                "watch",
                "batch",
                "a",
                "jobs",
                "",
                "j",
            ),
            (
                "POST",
                "/apis/batch/v1/namespaces/a/jobs",
                "create",
                "batch",
                "a",
                "jobs",
                "",
                "",
            ),
            (
                "PATCH",
                "/apis/batch/v1/namespaces/a/jobs/j/status",
                "patch",
                "batch",
                "a",
                "jobs",
                "status",
                "j",
            ),
            (
                "PUT",
                "/apis/batch/v1/namespaces/a/jobs/j",
                "update",
                "batch",
                "a",
                "jobs",
                "",
                "j",
            ),
            (
                "DELETE",
                "/apis/batch/v1/namespaces/a/jobs/j",
                "delete",
                "batch",
                "a",
                "jobs",
                "",
                "j",
            ),
            (
                "DELETE",
                "/apis/batch/v1/namespaces/a/jobs",
                "deletecollection",
                "batch",
                "a",
                "jobs",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/a/pods/p/log",
                "get",
                "",
                "a",
                "pods",
                "log",
                "p",
            ),
            (
                "GET",
                "/api/v1/namespaces",
                "list",
                "",
                "",
                "namespaces",
                "",
                "",
            ),
            (
                "GET",
                "/api/v1/namespaces/a",
                "get",
                "",
                "a",
                "namespaces",
                "",
                "a",
            ),
            (
                "PUT",
                "/api/v1/namespaces/a/finalize",
                "update",
                "",
                "a",
                "namespaces",
                "finalize",
                "a",
            ),
            (
                "GET",
                "/api/v1/watch/namespaces/a/pods",
                "watch",
                "",
                "a",
                "pods",
                "",
                "",
            ),
            (
                "POST",
                "/api/v1/namespaces",
                "create",
                "",
                "",
                "namespaces",
                "",
                "",
            ),
        ];
        for (method, url, verb, group, ns, resource, sub, name) in cases {
            let a = attrs(method, url);
            assert!(a.resource_request, "{method} {url}");
            assert_eq!(
                (
                    a.verb.as_str(),
                    a.api_group.as_str(),
                    a.namespace.as_str(),
                    a.resource.as_str(),
                    a.subresource.as_str(),
                    a.name.as_str()
                ),
                (verb, group, ns, resource, sub, name),
                "{method} {url}"
            );
        }
        for url in [
            "/version",
            "/api",
            "/api/v1",
            "/apis",
            "/apis/batch",
            "/apis/batch/v1",
            "/openapi/v3",
            "/healthz",
        ] {
            assert!(!attrs("GET", url).resource_request, "{url}");
        }
    }

    /// Refusals read as kube-apiserver's, for named objects, collections, the
    /// core group and the cluster scope.
    #[test]
    fn refusals_word_the_user_verb_and_scope() {
        let authz = Authorization::default()
            .deny("alice", &["*"], &["*"], &["private"])
            .allow_namespaces("bob", &["team-a"]);
        let refuse = |user: &str, method: &str, url: &str| {
            authz.authorize(user, &attrs(method, url)).unwrap_err()
        };
        let e = refuse("alice", "GET", "/apis/batch/v1/namespaces/private/jobs/x");
        assert_eq!((e.code, e.reason), (403, "Forbidden"));
        assert_eq!(
            e.message,
            r#"jobs.batch "x" is forbidden: User "alice" cannot get resource "jobs" in API group "batch" in the namespace "private""#
        );
        assert_eq!(
            e.to_body()["details"],
            serde_json::json!({"name": "x", "group": "batch", "kind": "jobs"})
        );
        let e = refuse("alice", "GET", "/apis/batch/v1/namespaces/private/jobs");
        assert_eq!(
            e.message,
            r#"jobs.batch is forbidden: User "alice" cannot list resource "jobs" in API group "batch" in the namespace "private""#
        );
        let e = refuse("alice", "GET", "/api/v1/namespaces/private/configmaps/c");
        assert_eq!(
            e.message,
            r#"configmaps "c" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "private""#
        );
        assert_eq!(
            e.to_body()["details"],
            serde_json::json!({"name": "c", "kind": "configmaps"})
        );
        let e = refuse("bob", "GET", "/api/v1/namespaces");
        assert_eq!(
            e.message,
            r#"namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" at the cluster scope"#
        );
        let e = refuse("bob", "PATCH", "/apis/batch/v1/namespaces/b/jobs/j/status");
        assert_eq!(
            e.message,
            r#"jobs.batch "j" is forbidden: User "bob" cannot patch resource "jobs/status" in API group "batch" in the namespace "b""#
        );
        for (user, method, url) in [
            ("alice", "GET", "/apis/batch/v1/namespaces/public/jobs/x"),
            ("alice", "GET", "/api/v1/namespaces"),
            ("bob", "GET", "/api/v1/namespaces/team-a"),
            ("bob", "POST", "/api/v1/namespaces/team-a/configmaps"),
            ("bob", "GET", "/apis/batch/v1"),
            ("carol", "DELETE", "/api/v1/namespaces/private"),
        ] {
            assert!(
                authz.authorize(user, &attrs(method, url)).is_ok(),
                "{user} {method} {url}"
            );
        }
    }

    /// A rule names a verb, a resource (subresources apart) and namespaces.
    #[test]
    fn rules_match_verb_resource_and_namespace() {
        let authz = Authorization::default().deny("u", &["get", "list"], &["jobs"], &["a", "b"]);
        let denied = |method: &str, url: &str| authz.authorize("u", &attrs(method, url)).is_err();
        assert!(denied("GET", "/apis/batch/v1/namespaces/a/jobs/j"));
        assert!(denied("GET", "/apis/batch/v1/namespaces/b/jobs"));
        assert!(!denied("GET", "/apis/batch/v1/namespaces/c/jobs"));
        assert!(
            !denied("GET", "/apis/batch/v1/jobs"),
            "cluster scope needs *"
        );
        assert!(!denied(
            "GET",
            "/apis/batch/v1/namespaces/a/jobs?watch=true"
        ));
        assert!(!denied("DELETE", "/apis/batch/v1/namespaces/a/jobs/j"));
        assert!(!denied("GET", "/apis/batch/v1/namespaces/a/jobs/j/status"));
        assert!(!denied("GET", "/api/v1/namespaces/a/pods/p"));
    }

    /// The binary's flag forms, including user names with colons.
    #[test]
    fn flags_parse() {
        let mut authz = Authorization::default();
        authz
            .add_deny_flag("system:serviceaccount:ci:deployer:get,list:jobs,pods/log:private")
            .unwrap();
        authz
            .add_allow_namespaces_flag("bob:team-a,team-b")
            .unwrap();
        let expected = Authorization::default()
            .deny(
                "system:serviceaccount:ci:deployer",
                &["get", "list"],
                &["jobs", "pods/log"],
                &["private"],
            )
            .allow_namespaces("bob", &["team-a", "team-b"]);
        assert_eq!(authz, expected);
        assert!(authz.add_deny_flag("alice:get:jobs").is_err());
        assert!(authz.add_deny_flag("alice:get::x").is_err());
        assert!(authz.add_allow_namespaces_flag("bob").is_err());
        assert!(authz.add_allow_namespaces_flag("bob:").is_err());
    }

    /// A team's Role and RoleBinding, and a ClusterRole bound cluster-wide
    /// to another user, as `kubectl apply` would read them.
    const MANIFEST: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: jobs
rules:
  - apiGroups: ["batch"]
    resources: ["jobs"]
    verbs: ["get", "list", "watch"]
  - apiGroups: [""]
    resources: ["pods/log"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["configmaps"]
    resourceNames: ["settings"]
    verbs: ["get", "list", "watch", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: jobs
subjects:
  - kind: User
    name: alice
    apiGroup: rbac.authorization.k8s.io
  - kind: ServiceAccount
    name: deployer
roleRef:
  kind: Role
  name: jobs
  apiGroup: rbac.authorization.k8s.io
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: namespaces
rules:
  - apiGroups: [""]
    resources: ["namespaces"]
    verbs: ["list", "create"]
  - apiGroups: ["*"]
    resources: ["*/status"]
    verbs: ["get"]
  - nonResourceURLs: ["/healthz"]
    verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: namespaces
subjects:
  - kind: User
    name: bob
    apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: ClusterRole
  name: namespaces
  apiGroup: rbac.authorization.k8s.io
"#;

    fn rbac(users: &[&str]) -> Authorization {
        let objects = RbacObjects::from_yaml(MANIFEST, "team").unwrap();
        users
            .iter()
            .fold(Authorization::default().with_rbac(objects), |a, u| {
                a.rbac_only(u)
            })
    }

    /// RBAC users may do only what a binding that names them grants, where
    /// it grants it: a RoleBinding in its namespace (the Namespace object
    /// included), a ClusterRoleBinding everywhere; users without a policy
    /// keep every right.
    #[test]
    fn rbac_grants_by_binding_scope_and_denies_the_rest() {
        let authz = rbac(&[
            "alice",
            "bob",
            "system:serviceaccount:team:deployer",
            "system:serviceaccount:other:deployer",
        ]);
        let allowed = |user: &str, method: &str, url: &str| {
            authz.authorize(user, &attrs(method, url)).is_ok()
        };
        assert!(allowed(
            "alice",
            "GET",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        assert!(allowed(
            "alice",
            "GET",
            "/apis/batch/v1/namespaces/team/jobs?watch=1"
        ));
        assert!(!allowed(
            "alice",
            "GET",
            "/apis/batch/v1/namespaces/other/jobs/j"
        ));
        assert!(
            !allowed("alice", "GET", "/apis/batch/v1/jobs"),
            "cluster scope"
        );
        assert!(!allowed(
            "alice",
            "POST",
            "/apis/batch/v1/namespaces/team/jobs"
        ));
        assert!(!allowed(
            "alice",
            "DELETE",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        assert!(!allowed(
            "alice",
            "PATCH",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        assert!(allowed(
            "system:serviceaccount:team:deployer",
            "GET",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        assert!(!allowed(
            "system:serviceaccount:other:deployer",
            "GET",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        // bob's ClusterRole: cluster scope and any namespace.
        assert!(allowed("bob", "GET", "/api/v1/namespaces"));
        assert!(allowed("bob", "POST", "/api/v1/namespaces"));
        assert!(!allowed("bob", "GET", "/api/v1/namespaces/team"));
        assert!(!allowed("bob", "DELETE", "/api/v1/namespaces/team"));
        assert!(allowed(
            "bob",
            "GET",
            "/apis/batch/v1/namespaces/x/jobs/j/status"
        ));
        assert!(allowed("bob", "GET", "/api/v1/namespaces/x/pods/p/status"));
        assert!(!allowed("bob", "GET", "/api/v1/namespaces/x/pods/p"));
        assert!(!allowed(
            "bob",
            "GET",
            "/apis/batch/v1/namespaces/team/jobs/j"
        ));
        // Non-resource requests stay allowed; carol has no policy at all.
        assert!(allowed("alice", "GET", "/version"));
        assert!(allowed("carol", "DELETE", "/api/v1/namespaces/team"));
        let e = authz
            .authorize(
                "alice",
                &attrs("POST", "/apis/batch/v1/namespaces/team/jobs"),
            )
            .unwrap_err();
        assert_eq!(
            e.message,
            r#"jobs.batch is forbidden: User "alice" cannot create resource "jobs" in API group "batch" in the namespace "team""#
        );
    }

    /// Rules match subresources only as named (`pods/log`, `*/status`), and
    /// `resourceNames` only requests that name an object.
    #[test]
    fn rbac_rules_match_subresources_and_resource_names() {
        let authz = rbac(&["alice"]);
        let allowed =
            |method: &str, url: &str| authz.authorize("alice", &attrs(method, url)).is_ok();
        assert!(allowed("GET", "/api/v1/namespaces/team/pods/p/log"));
        assert!(!allowed("GET", "/api/v1/namespaces/team/pods/p"));
        assert!(!allowed("GET", "/api/v1/namespaces/team/pods"));
        assert!(!allowed(
            "GET",
            "/apis/batch/v1/namespaces/team/jobs/j/status"
        ));
        assert!(allowed(
            "GET",
            "/api/v1/namespaces/team/configmaps/settings"
        ));
        assert!(allowed(
            "PATCH",
            "/api/v1/namespaces/team/configmaps/settings"
        ));
        assert!(!allowed("GET", "/api/v1/namespaces/team/configmaps/other"));
        assert!(
            !allowed("GET", "/api/v1/namespaces/team/configmaps"),
            "a list names no object"
        );
        assert!(allowed(
            "GET",
            "/api/v1/namespaces/team/configmaps?fieldSelector=metadata.name%3Dsettings&watch=true"
        ));
        assert!(
            !allowed("POST", "/api/v1/namespaces/team/configmaps"),
            "a create names no object"
        );
    }

    /// Groups and missing roles: every authenticated user is in
    /// `system:authenticated`; a binding to a role that does not exist
    /// grants nothing.
    #[test]
    fn rbac_groups_and_missing_roles() {
        let objects = RbacObjects::from_yaml(
            r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone}
subjects: [{kind: Group, name: "system:authenticated", apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: reader, apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: ghost, namespace: team}
subjects: [{kind: User, name: dave, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: Role, name: missing, apiGroup: rbac.authorization.k8s.io}
"#,
            "",
        )
        .unwrap();
        let authz = Authorization::default()
            .with_rbac(objects)
            .rbac_only("dave")
            .rbac_only(ANONYMOUS_USER);
        let url = "/api/v1/namespaces/team/configmaps";
        assert!(authz.authorize("dave", &attrs("GET", url)).is_err());
        authz.rbac.update(|o| {
            o.extend(
                RbacObjects::from_yaml(
                    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\nrules: [{apiGroups: [''], resources: [configmaps], verbs: [list]}]\n",
                    "",
                )
                .unwrap(),
            )
        });
        assert!(authz.authorize("dave", &attrs("GET", url)).is_ok());
        assert!(authz.authorize(ANONYMOUS_USER, &attrs("GET", url)).is_err());
    }

    /// What the API server would refuse, and what the emulator does not
    /// support, is an error when loading.
    #[test]
    fn rbac_manifests_that_cannot_load() {
        let role = |rules: &str| {
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: r}}\nrules: {rules}\n"
            )
        };
        for (text, namespace, expected) in [
            (role("[{apiGroups: [''], resources: [pods]}]"), "team", "verbs"),
            (role("[{resources: [pods], verbs: [get]}]"), "team", "api group"),
            (role("[{apiGroups: [''], verbs: [get]}]"), "team", "at least one resource"),
            (role("[{nonResourceURLs: [/healthz], verbs: [get]}]"), "team", "non-resource URLs"),
            (role("[]"), "", "no namespace"),
            (
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n".to_string(),
                "team",
                "apiVersion",
            ),
            (
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: c}\naggregationRule: {clusterRoleSelectors: []}\n".to_string(),
                "",
                "aggregationRule",
            ),
            (
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\n".to_string(),
                "",
                "is not ClusterRole",
            ),
            (
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b}\nsubjects: [{kind: Robot, name: r}]\nroleRef: {kind: Role, name: r, apiGroup: rbac.authorization.k8s.io}\n".to_string(),
                "team",
                "Unsupported value",
            ),
            (role("{verbs: oops}"), "team", "Role"),
        ] {
            let e = RbacObjects::from_yaml(&text, namespace).unwrap_err();
            assert!(e.contains(expected), "{text}\n=> {e}");
        }
    }

    /// `permissions` lists each verb on each resource once; `without` takes
    /// exactly one away, splitting the rules that grant it.
    #[test]
    fn rbac_permissions_and_taking_one_away() {
        let objects = RbacObjects::from_yaml(MANIFEST, "team").unwrap();
        let all = objects.permissions();
        let role_jobs = "Role team/jobs";
        let listed: Vec<String> = all
            .iter()
            .filter(|p| p.role == role_jobs)
            .map(|p| format!("{} {}", p.verb, p.resource))
            .collect();
        assert_eq!(
            listed,
            [
                "get jobs",
                "list jobs",
                "watch jobs",
                "get pods/log",
                "get configmaps",
                "list configmaps",
                "watch configmaps",
                "patch configmaps"
            ]
        );
        assert_eq!(all[0].to_string(), "get jobs (batch) of Role team/jobs");
        let authz = Authorization::default()
            .rbac_only("alice")
            .with_rbac(objects.clone());
        for p in all.iter().filter(|p| p.role == role_jobs) {
            let fewer = objects.without(p);
            let rest: Vec<&Permission> = all.iter().filter(|q| *q != p).collect();
            assert_eq!(
                fewer.permissions().iter().collect::<Vec<_>>().len(),
                rest.len(),
                "{p}"
            );
            for q in &rest {
                assert!(fewer.permissions().contains(q), "{p}: lost {q}");
            }
            assert!(!fewer.permissions().contains(p), "{p}");
            // resourceNames stay on the split rules.
            authz.rbac.set(fewer);
            let cm = "/api/v1/namespaces/team/configmaps/other";
            assert!(authz.authorize("alice", &attrs("GET", cm)).is_err(), "{p}");
        }
        authz.rbac.set(objects.without(&Permission {
            role: role_jobs.into(),
            api_group: "batch".into(),
            resource: "jobs".into(),
            verb: "list".into(),
        }));
        let refused =
            |method: &str, url: &str| authz.authorize("alice", &attrs(method, url)).is_err();
        assert!(refused("GET", "/apis/batch/v1/namespaces/team/jobs"));
        assert!(!refused("GET", "/apis/batch/v1/namespaces/team/jobs/j"));
        assert!(!refused(
            "GET",
            "/apis/batch/v1/namespaces/team/jobs?watch=true"
        ));
    }

    /// A change through any clone decides the next request, and every
    /// refusal is recorded until cleared.
    #[test]
    fn rbac_changes_apply_at_once_and_refusals_are_recorded() {
        let authz = rbac(&["alice"]);
        let served = authz.clone();
        let url = "/apis/batch/v1/namespaces/team/jobs/j";
        assert!(served.authorize("alice", &attrs("GET", url)).is_ok());
        authz.rbac.set(RbacObjects::default());
        assert!(served.authorize("alice", &attrs("GET", url)).is_err());
        assert_eq!(
            authz.refusals(),
            [
                r#"jobs.batch "j" is forbidden: User "alice" cannot get resource "jobs" in API group "batch" in the namespace "team""#
            ]
        );
        authz.clear_refusals();
        assert!(served.refusals().is_empty());
        assert_eq!(authz, served);
    }
}
