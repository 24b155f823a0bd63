//! The objects one resource manages, in their typed k8s-openapi form:
//! [`Rendered`] holds them all with the origin of each container env entry,
//! [`Object`] is one of them as apply sends it. Beyond what [`super::render`]
//! makes from the spec, this is where a rendering is stamped with the
//! resource instance's ownership label and gets the configuration's
//! write-only values. `Debug` never prints a Secret's data.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, EnvVar, EnvVarSource, LocalObjectReference, Namespace, Secret, SecretKeySelector,
    ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::kube::ObjectRef;
use crate::kubernetes_job::model::ownership::{Instance, LABEL_INSTANCE};
use crate::kubernetes_job::model::write_only::WriteOnly;

use super::names::{
    DOCKER_CONFIG_KEY, DOCKER_CONFIG_TYPE, KIND, LABEL_KIND, LABEL_RESOURCE, env_secret_name,
    pull_secret_name,
};

/// One object to apply, in its typed form.
#[derive(Clone, PartialEq)]
pub enum Object {
    /// The namespace (only when `create_namespace`).
    Namespace(Namespace),
    /// The pod's ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// The env Secret or the image pull Secret.
    Secret(Secret),
    /// One `config_maps` entry.
    ConfigMap(ConfigMap),
    /// The Job.
    Job(Box<Job>),
}

/// A Secret with its data values replaced, for `Debug`: the data holds
/// the job's secrets.
pub(super) fn redacted(secret: &Secret) -> Secret {
    let mut s = secret.clone();
    for data in [s.data.as_mut()].into_iter().flatten() {
        for v in data.values_mut() {
            *v = ByteString(b"<redacted>".to_vec());
        }
    }
    for data in [s.string_data.as_mut()].into_iter().flatten() {
        for v in data.values_mut() {
            *v = "<redacted>".to_string();
        }
    }
    s
}

impl std::fmt::Debug for Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Object::Namespace(o) => f.debug_tuple("Namespace").field(o).finish(),
            Object::ServiceAccount(o) => f.debug_tuple("ServiceAccount").field(o).finish(),
            Object::Secret(o) => f.debug_tuple("Secret").field(&redacted(o)).finish(),
            Object::ConfigMap(o) => f.debug_tuple("ConfigMap").field(o).finish(),
            Object::Job(o) => f.debug_tuple("Job").field(o).finish(),
        }
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rendered")
            .field("namespace", &self.namespace)
            .field("service_account", &self.service_account)
            .field("env_secret", &self.env_secret.as_ref().map(redacted))
            .field("pull_secret", &self.pull_secret.as_ref().map(redacted))
            .field("config_maps", &self.config_maps)
            .field("job", &self.job)
            .field("env_origins", &self.env_origins)
            .finish()
    }
}

impl Object {
    /// Which object this is.
    pub fn object_ref(&self) -> ObjectRef {
        let (meta, r) = match self {
            Object::Namespace(o) => (&o.metadata, ObjectRef::of::<Namespace>("", "")),
            Object::ServiceAccount(o) => (&o.metadata, ObjectRef::of::<ServiceAccount>("", "")),
            Object::Secret(o) => (&o.metadata, ObjectRef::of::<Secret>("", "")),
            Object::ConfigMap(o) => (&o.metadata, ObjectRef::of::<ConfigMap>("", "")),
            Object::Job(o) => (&o.metadata, ObjectRef::of::<Job>("", "")),
        };
        ObjectRef {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone().unwrap_or_default(),
            ..r
        }
    }

    /// The object as JSON, as it is sent to the API server.
    pub fn to_json(&self) -> serde_json::Value {
        let v = match self {
            Object::Namespace(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ConfigMap(o) => serde_json::to_value(o),
            Object::Job(o) => serde_json::to_value(o),
        };
        v.unwrap_or(serde_json::Value::Null)
    }
}

/// Where one entry of the container's env came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvOrigin {
    /// `HOSTNAME` or `K8S_POD_ID`.
    Injected,
    /// `spec.env.variables[key]`.
    Variable(String),
    /// `spec.env.secrets[key]`.
    Secret(String),
    /// `env_secrets_wo[key]`.
    WriteOnly(String),
}

/// Everything one resource manages, in apply order.
#[derive(Clone, PartialEq)]
pub struct Rendered {
    /// The Namespace, when this resource creates it.
    pub namespace: Option<Namespace>,
    /// The pod's ServiceAccount.
    pub service_account: ServiceAccount,
    /// The Secret with the literal secret values, when there are any.
    pub env_secret: Option<Secret>,
    /// The image pull Secret, when `docker_config_json` is set.
    pub pull_secret: Option<Secret>,
    /// One ConfigMap per `config_maps` entry, sorted by name.
    pub config_maps: Vec<ConfigMap>,
    /// The Job.
    pub job: Job,
    /// The origin of each container env entry, by index.
    pub env_origins: Vec<EnvOrigin>,
}

impl Rendered {
    /// The objects in dependency order: Namespace, ServiceAccount, Secrets,
    /// ConfigMaps, Job.
    pub fn objects(&self) -> Vec<Object> {
        let mut out = Vec::new();
        if let Some(ns) = &self.namespace {
            out.push(Object::Namespace(ns.clone()));
        }
        out.push(Object::ServiceAccount(self.service_account.clone()));
        if let Some(s) = &self.env_secret {
            out.push(Object::Secret(s.clone()));
        }
        if let Some(s) = &self.pull_secret {
            out.push(Object::Secret(s.clone()));
        }
        out.extend(self.config_maps.iter().cloned().map(Object::ConfigMap));
        out.push(Object::Job(Box::new(self.job.clone())));
        out
    }

    /// Marks the objects as `instance`'s ([`crate::kubernetes_job::model::ownership`]): the label
    /// `planton.ai/instance` on each object (not on the pod template, which
    /// would change the pods), and on the Namespace, which several jobs may
    /// share, this job's claim in place of its own labels.
    pub fn stamp(&mut self, instance: &Instance) {
        let label = |meta: &mut ObjectMeta| {
            meta.labels
                .get_or_insert_with(BTreeMap::new)
                .insert(LABEL_INSTANCE.to_string(), instance.as_str().to_string());
        };
        label(&mut self.service_account.metadata);
        for secret in [&mut self.env_secret, &mut self.pull_secret]
            .into_iter()
            .flatten()
        {
            label(&mut secret.metadata);
        }
        for cm in &mut self.config_maps {
            label(&mut cm.metadata);
        }
        label(&mut self.job.metadata);
        if let Some(ns) = &mut self.namespace {
            let job_name = self.job.metadata.name.clone().unwrap_or_default();
            ns.metadata.labels = Some(BTreeMap::from([
                (LABEL_RESOURCE.to_string(), "true".to_string()),
                (LABEL_KIND.to_string(), KIND.to_string()),
                (instance.claim_label(), job_name),
            ]));
        }
    }

    /// Adds the write-only values of the configuration ([`crate::kubernetes_job::model::write_only`]):
    /// each env secret into the env Secret (made when the spec has no
    /// literal secrets) and into the container's env, among the other
    /// secrets in name order; the image pull Secret from
    /// `docker_config_json_wo`. Apply passes the values; refresh passes the
    /// recorded names with empty values, to compare labels.
    pub fn add_write_only(&mut self, wo: &WriteOnly) {
        let job_name = self.job.metadata.name.clone().unwrap_or_default();
        let meta = |name: String| ObjectMeta {
            name: Some(name),
            ..self.service_account.metadata.clone()
        };
        if !wo.env.is_empty() {
            let secret = self.env_secret.get_or_insert_with(|| Secret {
                metadata: meta(env_secret_name(&job_name)),
                type_: Some("Opaque".to_string()),
                data: Some(BTreeMap::new()),
                ..Secret::default()
            });
            let data = secret.data.get_or_insert_with(BTreeMap::new);
            for (k, v) in &wo.env {
                data.insert(k.clone(), ByteString(v.clone().into_bytes()));
            }
        }
        if let Some(json) = &wo.docker_config_json {
            let name = pull_secret_name(&job_name);
            self.pull_secret = Some(Secret {
                metadata: meta(name.clone()),
                type_: Some(DOCKER_CONFIG_TYPE.to_string()),
                data: Some(BTreeMap::from([(
                    DOCKER_CONFIG_KEY.to_string(),
                    ByteString(json.clone().into_bytes()),
                )])),
                ..Secret::default()
            });
            if let Some(pod) = self
                .job
                .spec
                .as_mut()
                .and_then(|s| s.template.spec.as_mut())
            {
                let refs = pod.image_pull_secrets.get_or_insert_with(Vec::new);
                if !refs.iter().any(|r| r.name == name) {
                    refs.insert(0, LocalObjectReference { name });
                }
            }
        }
        let Some(container) = self
            .job
            .spec
            .as_mut()
            .and_then(|s| s.template.spec.as_mut())
            .and_then(|p| p.containers.first_mut())
        else {
            return;
        };
        let env = container.env.get_or_insert_with(Vec::new);
        let mut entries: Vec<(EnvVar, EnvOrigin)> =
            env.drain(..).zip(self.env_origins.drain(..)).collect();
        for k in wo.env.keys() {
            entries.push((
                EnvVar {
                    name: k.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: env_secret_name(&job_name),
                            key: k.clone(),
                            optional: None,
                        }),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                },
                EnvOrigin::WriteOnly(k.clone()),
            ));
        }
        // Injected, then variables, then all secrets, each group by name.
        let group = |o: &EnvOrigin| match o {
            EnvOrigin::Injected => 0,
            EnvOrigin::Variable(_) => 1,
            EnvOrigin::Secret(_) | EnvOrigin::WriteOnly(_) => 2,
        };
        entries.sort_by(|(a, ao), (b, bo)| {
            group(ao).cmp(&group(bo)).then_with(|| match group(ao) {
                0 => std::cmp::Ordering::Equal,
                _ => a.name.cmp(&b.name),
            })
        });
        for (var, origin) in entries {
            env.push(var);
            self.env_origins.push(origin);
        }
    }

    /// The references of [`Rendered::objects`].
    pub fn refs(&self) -> Vec<ObjectRef> {
        self.objects().iter().map(Object::object_ref).collect()
    }
}
