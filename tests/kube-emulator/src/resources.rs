//! The resource types the emulator serves, with their discovery facts.

/// One served resource (one group/version/plural).
#[derive(Debug)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Plural resource name (URL segment).
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl short names.
    pub short_names: &'static [&'static str],
    /// Verbs advertised by discovery.
    pub verbs: &'static [&'static str],
    /// Subresources served (`status`, `log`, `finalize`).
    pub subresources: &'static [&'static str],
    /// Discovery categories (`all`).
    pub categories: &'static [&'static str],
    /// Whether DELETE answers with the deleted object rather than a `Status`.
    pub returns_deleted_object: bool,
}

impl ResourceType {
    /// `v1` or `batch/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `jobs.batch` or `configmaps`: how messages name the resource.
    pub fn group_resource(&self) -> String {
        self.with_group(self.plural)
    }

    /// `Job.batch` or `ConfigMap`.
    pub fn qualified_kind(&self) -> String {
        self.with_group(self.kind)
    }

    /// `name.group`, or `name` in the core group.
    fn with_group(&self, name: &str) -> String {
        if self.group.is_empty() {
            name.to_string()
        } else {
            format!("{name}.{}", self.group)
        }
    }

    /// The list kind (`JobList`).
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Whether a verb is served.
    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// The index of this resource in [`RESOURCES`].
    pub fn index(&self) -> usize {
        RESOURCES
            .iter()
            .position(|r| std::ptr::eq(r, self))
            .unwrap_or(0)
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Every served resource. The order fixes the store's indexes.
pub static RESOURCES: &[ResourceType] = &[
    ResourceType {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        verbs: &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
        subresources: &["status", "finalize"],
        categories: &[],
        returns_deleted_object: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        returns_deleted_object: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        returns_deleted_object: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short_names: &["sa"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        returns_deleted_object: false,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short_names: &["po"],
        verbs: ALL_VERBS,
        subresources: &["status", "log"],
        categories: &["all"],
        returns_deleted_object: true,
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "events",
        singular: "event",
        kind: "Event",
        namespaced: true,
        short_names: &["ev"],
        verbs: ALL_VERBS,
        subresources: &[],
        categories: &[],
        returns_deleted_object: false,
    },
    ResourceType {
        group: "batch",
        version: "v1",
        plural: "jobs",
        singular: "job",
        kind: "Job",
        namespaced: true,
        short_names: &[],
        verbs: ALL_VERBS,
        subresources: &["status"],
        categories: &["all"],
        returns_deleted_object: false,
    },
];

/// Index of namespaces in [`RESOURCES`].
pub const NAMESPACES: usize = 0;
/// Index of configmaps.
pub const CONFIGMAPS: usize = 1;
/// Index of secrets.
pub const SECRETS: usize = 2;
/// Index of serviceaccounts.
pub const SERVICEACCOUNTS: usize = 3;
/// Index of pods.
pub const PODS: usize = 4;
/// Index of events.
pub const EVENTS: usize = 5;
/// Index of jobs.
pub const JOBS: usize = 6;

/// The resource at an index.
pub fn by_index(i: usize) -> &'static ResourceType {
    &RESOURCES[i.min(RESOURCES.len() - 1)]
}

/// Look a resource up by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Group versions served, as (group, version).
pub fn group_versions() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for r in RESOURCES {
        if !out.contains(&(r.group, r.version)) {
            out.push((r.group, r.version));
        }
    }
    out
}
