//! [`render`]: a fully known job to every object it manages (the table in
//! [`super`]), with the `planton.ai/*` [`labels`] every object carries and
//! the rule that says whether a label set makes an object this job's. The
//! container and the pod volumes are built in [`super::pod`].

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::batch::v1::{Job, JobSpec as K8sJobSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, LocalObjectReference, Namespace, PodSpec, PodTemplateSpec, Secret, ServiceAccount,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::kubernetes_job::model::options::Options;
use crate::kubernetes_job::model::spec::{Field, KubernetesJob};
use crate::tf::{AttributePath, Number};

use super::error::{RenderError, Result, int32, need, opt, sp};
use super::names::{
    DOCKER_CONFIG_KEY, DOCKER_CONFIG_TYPE, KIND, LABEL_ENVIRONMENT, LABEL_ID, LABEL_KIND,
    LABEL_NAME, LABEL_ORGANIZATION, LABEL_RESOURCE, env_secret_name, pull_secret_name,
};
use super::objects::Rendered;
use super::pod::{container, volumes};

/// The `planton.ai/*` labels of every object (Planton's `locals.go`).
pub fn labels(job: &KubernetesJob) -> Result<BTreeMap<String, String>> {
    let meta = need(&job.metadata, || AttributePath::root("metadata"))?;
    let mp = || AttributePath::root("metadata");
    let mut labels = BTreeMap::new();
    labels.insert(LABEL_RESOURCE.to_string(), "true".to_string());
    labels.insert(
        LABEL_NAME.to_string(),
        need(&meta.name, || mp().attr("name"))?.clone(),
    );
    labels.insert(LABEL_KIND.to_string(), KIND.to_string());
    for (key, field, attr) in [
        (LABEL_ID, &meta.id, "id"),
        (LABEL_ORGANIZATION, &meta.org, "org"),
        (LABEL_ENVIRONMENT, &meta.env, "env"),
    ] {
        if let Some(v) = opt(field, || mp().attr(attr))?.filter(|v| !v.is_empty()) {
            labels.insert(key.to_string(), v.clone());
        }
    }
    Ok(labels)
}

/// Whether an existing object's labels say it belongs to the job `name`
/// (so an apply may adopt it).
pub fn is_owned_by(labels: Option<&BTreeMap<String, String>>, name: &str) -> bool {
    let Some(labels) = labels else {
        return false;
    };
    labels.get(LABEL_RESOURCE).map(String::as_str) == Some("true")
        && labels.get(LABEL_KIND).map(String::as_str) == Some(KIND)
        && labels.get(LABEL_NAME).map(String::as_str) == Some(name)
}

/// Renders every object of a fully known job.
pub fn render(job: &KubernetesJob, options: &Options) -> Result<Rendered> {
    let meta = need(&job.metadata, || AttributePath::root("metadata"))?;
    let name = need(&meta.name, || AttributePath::root("metadata").attr("name"))?.clone();
    let spec = need(&job.spec, sp)?;
    let ns_value = need(&spec.namespace, || sp().attr("namespace"))?;
    let namespace = need(&ns_value.value, || sp().attr("namespace").attr("value"))?.clone();
    let labels = labels(job)?;
    let object_meta = |object_name: &str, in_namespace: bool| ObjectMeta {
        name: Some(object_name.to_string()),
        namespace: in_namespace.then(|| namespace.clone()),
        labels: Some(labels.clone()),
        ..ObjectMeta::default()
    };

    let create_namespace = opt(&spec.create_namespace, || sp().attr("create_namespace"))?
        .copied()
        .unwrap_or(false);
    let namespace_object = create_namespace.then(|| Namespace {
        metadata: object_meta(&namespace, false),
        ..Namespace::default()
    });

    let service_account = ServiceAccount {
        metadata: object_meta(&name, true),
        ..ServiceAccount::default()
    };

    // Literal secret values, by name (sorted: BTreeMap).
    let mut literal_secrets = BTreeMap::new();
    if let Some(env) = opt(&spec.env, || sp().attr("env"))?
        && let Some(secrets) = opt(&env.secrets, || sp().attr("env").attr("secrets"))?
    {
        for (key, secret) in secrets {
            let p = || sp().attr("env").attr("secrets").key(key.clone());
            let Some(secret) = opt(secret, p)? else {
                continue;
            };
            if let Some(value) = opt(&secret.value, || p().attr("value"))? {
                literal_secrets.insert(key.clone(), ByteString(value.clone().into_bytes()));
            }
        }
    }
    let env_secret = (!literal_secrets.is_empty()).then(|| Secret {
        metadata: object_meta(&env_secret_name(&name), true),
        type_: Some("Opaque".to_string()),
        data: Some(literal_secrets),
        ..Secret::default()
    });

    let pull_secret = options.docker_config_json.as_ref().map(|json| Secret {
        metadata: object_meta(&pull_secret_name(&name), true),
        type_: Some(DOCKER_CONFIG_TYPE.to_string()),
        data: Some(BTreeMap::from([(
            DOCKER_CONFIG_KEY.to_string(),
            ByteString(json.clone().into_bytes()),
        )])),
        ..Secret::default()
    });

    let mut config_maps = Vec::new();
    if let Some(entries) = opt(&spec.config_maps, || sp().attr("config_maps"))? {
        for (key, data) in entries {
            let data = need(data, || sp().attr("config_maps").key(key.clone()))?;
            config_maps.push(ConfigMap {
                metadata: object_meta(key, true),
                data: Some(BTreeMap::from([(key.clone(), data.clone())])),
                ..ConfigMap::default()
            });
        }
    }

    let (container, env_origins) = container(spec, &name)?;
    let mut pull_secrets = Vec::new();
    if let Some(s) = &pull_secret
        && let Some(n) = &s.metadata.name
    {
        pull_secrets.push(LocalObjectReference { name: n.clone() });
    }
    let image = need(&spec.image, || sp().attr("image"))?;
    if let Some(extra) = opt(&image.pull_secret_name, || {
        sp().attr("image").attr("pull_secret_name")
    })?
    .filter(|n| !n.is_empty())
        && !pull_secrets.iter().any(|r| &r.name == extra)
    {
        pull_secrets.push(LocalObjectReference {
            name: extra.clone(),
        });
    }

    let volumes = volumes(spec)?;
    let pod = PodSpec {
        containers: vec![container],
        restart_policy: Some(need(&spec.restart_policy, || sp().attr("restart_policy"))?.clone()),
        service_account_name: Some(name.clone()),
        image_pull_secrets: (!pull_secrets.is_empty()).then_some(pull_secrets),
        volumes: (!volumes.is_empty()).then_some(volumes),
        ..PodSpec::default()
    };

    let number = |field: &Field<Number>, attr: &'static str| -> Result<Option<i32>> {
        opt(field, || sp().attr(attr))?
            .map(|n| int32(n, || sp().attr(attr)))
            .transpose()
    };
    // Planton's modules leave these out when they are 0 (zero means unset),
    // so Kubernetes' own defaults apply; `backoff_limit` of 0 is kept.
    let unless_zero = |field: &Field<Number>, attr: &'static str| -> Result<Option<i32>> {
        Ok(number(field, attr)?.filter(|n| *n != 0))
    };
    let active_deadline_seconds = opt(&spec.active_deadline_seconds, || {
        sp().attr("active_deadline_seconds")
    })?
    .map(|n| {
        n.as_i64().ok_or_else(|| RenderError {
            path: sp().attr("active_deadline_seconds"),
            problem: "not a 64-bit whole number",
        })
    })
    .transpose()?
    .filter(|n| *n != 0);
    let job_object = Job {
        metadata: object_meta(&name, true),
        spec: Some(K8sJobSpec {
            parallelism: unless_zero(&spec.parallelism, "parallelism")?,
            completions: unless_zero(&spec.completions, "completions")?,
            backoff_limit: number(&spec.backoff_limit, "backoff_limit")?,
            active_deadline_seconds,
            ttl_seconds_after_finished: unless_zero(
                &spec.ttl_seconds_after_finished,
                "ttl_seconds_after_finished",
            )?,
            completion_mode: opt(&spec.completion_mode, || sp().attr("completion_mode"))?.cloned(),
            suspend: opt(&spec.suspend, || sp().attr("suspend"))?.copied(),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..ObjectMeta::default()
                }),
                spec: Some(pod),
            },
            ..K8sJobSpec::default()
        }),
        status: None,
    };

    Ok(Rendered {
        namespace: namespace_object,
        service_account,
        env_secret,
        pull_secret,
        config_maps,
        job: job_object,
        env_origins,
    })
}
