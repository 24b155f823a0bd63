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
//! The policy is simpler than RBAC and reads the other way round: everyone may
//! do everything ([`Authorization`] is empty by default), and a user's
//! [`Policy`] takes away. `namespaces` limits the user to some namespaces (as
//! RoleBindings in those namespaces only would: no cluster-scope requests such
//! as listing namespaces, but a Namespace object in the list may be read,
//! because its namespace is itself); `deny` rules refuse a verb on a resource
//! in a namespace. Requests outside the API (`/version`, `/api`, `/apis/...`
//! discovery, OpenAPI, health) are allowed to every authenticated user, as
//! the default `system:discovery` and `system:public-info-viewer` roles allow
//! them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
}

/// What one user may not do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// When set, the only namespaces the user's requests may be in; requests
    /// at the cluster scope are refused.
    pub namespaces: Option<BTreeSet<String>>,
    /// Requests refused even where `namespaces` allows them.
    pub deny: Vec<Rule>,
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
        if outside || policy.deny.iter().any(|r| r.applies(a)) {
            return Err(forbidden(user, a));
        }
        Ok(())
    }
}

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
}
