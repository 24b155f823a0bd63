//! The pod of the Job: its one container (image, command, injected and
//! user env, resources, volume mounts), in `container`, and the pod
//! volumes of `spec.volume_mounts`, in `volumes`, each source as Planton
//! renders it (a 0 mode or empty medium leaves Kubernetes' default).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource as K8sConfigMapSource, Container, EmptyDirVolumeSource, EnvVar,
    EnvVarSource, HostPathVolumeSource, KeyToPath, ObjectFieldSelector,
    PersistentVolumeClaimVolumeSource, ResourceRequirements, SecretKeySelector,
    SecretVolumeSource as K8sSecretSource, Volume, VolumeMount as K8sVolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::kubernetes_job::model::names::INJECTED_ENV;
use crate::kubernetes_job::model::spec::{
    ConfigMapVolumeSource, CpuMemory, Field, JobSpec, VolumeMount,
};
use crate::tf::AttributePath;

use super::error::{Result, int32, need, opt, sp};
use super::names::{CONTAINER_NAME, env_secret_name};
use super::objects::EnvOrigin;

/// The image reference: `repo:tag`, or `repo` alone when the tag is empty.
pub fn image_reference(repo: &str, tag: &str) -> String {
    if tag.is_empty() {
        repo.to_string()
    } else {
        format!("{repo}:{tag}")
    }
}

pub(super) fn container(spec: &JobSpec, name: &str) -> Result<(Container, Vec<EnvOrigin>)> {
    let image = need(&spec.image, || sp().attr("image"))?;
    let repo = need(&image.repo, || sp().attr("image").attr("repo"))?;
    let tag = opt(&image.tag, || sp().attr("image").attr("tag"))?
        .map(String::as_str)
        .unwrap_or("");

    let mut env = vec![
        EnvVar {
            name: INJECTED_ENV[0].to_string(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: None,
                    field_path: "status.podIP".to_string(),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
        EnvVar {
            name: INJECTED_ENV[1].to_string(),
            value_from: Some(EnvVarSource {
                field_ref: Some(ObjectFieldSelector {
                    api_version: Some("v1".to_string()),
                    field_path: "metadata.name".to_string(),
                }),
                ..EnvVarSource::default()
            }),
            ..EnvVar::default()
        },
    ];
    let mut origins = vec![EnvOrigin::Injected, EnvOrigin::Injected];
    if let Some(e) = opt(&spec.env, || sp().attr("env"))? {
        let ep = || sp().attr("env");
        if let Some(vars) = opt(&e.variables, || ep().attr("variables"))? {
            for (key, var) in vars {
                let p = || ep().attr("variables").key(key.clone());
                let var = need(var, p)?;
                let value = need(&var.value, || p().attr("value"))?;
                env.push(EnvVar {
                    name: key.clone(),
                    value: Some(value.clone()),
                    ..EnvVar::default()
                });
                origins.push(EnvOrigin::Variable(key.clone()));
            }
        }
        if let Some(secrets) = opt(&e.secrets, || ep().attr("secrets"))? {
            for (key, secret) in secrets {
                let p = || ep().attr("secrets").key(key.clone());
                let secret = need(secret, p)?;
                let selector = match opt(&secret.secret_ref, || p().attr("secret_ref"))? {
                    Some(r) => SecretKeySelector {
                        name: need(&r.name, || p().attr("secret_ref").attr("name"))?.clone(),
                        key: need(&r.key, || p().attr("secret_ref").attr("key"))?.clone(),
                        optional: None,
                    },
                    None => {
                        need(&secret.value, || p().attr("value"))?;
                        SecretKeySelector {
                            name: env_secret_name(name),
                            key: key.clone(),
                            optional: None,
                        }
                    }
                };
                env.push(EnvVar {
                    name: key.clone(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(selector),
                        ..EnvVarSource::default()
                    }),
                    ..EnvVar::default()
                });
                origins.push(EnvOrigin::Secret(key.clone()));
            }
        }
    }

    let strings = |field: &crate::kubernetes_job::model::spec::FieldList<String>,
                   attr: &'static str|
     -> Result<Option<Vec<String>>> {
        let Some(items) = opt(field, || sp().attr(attr))? else {
            return Ok(None);
        };
        let items = items
            .iter()
            .enumerate()
            .map(|(i, s)| need(s, || sp().attr(attr).index(i)).cloned())
            .collect::<Result<Vec<_>>>()?;
        Ok((!items.is_empty()).then_some(items))
    };

    let resources = match opt(&spec.resources, || sp().attr("resources"))? {
        None => None,
        Some(r) => {
            let side = |f: &Field<CpuMemory>,
                        attr: &'static str|
             -> Result<Option<BTreeMap<String, Quantity>>> {
                let p = || sp().attr("resources").attr(attr);
                let Some(cm) = opt(f, p)? else {
                    return Ok(None);
                };
                let mut m = BTreeMap::new();
                if let Some(cpu) = opt(&cm.cpu, || p().attr("cpu"))?.filter(|s| !s.is_empty()) {
                    m.insert("cpu".to_string(), Quantity(cpu.clone()));
                }
                if let Some(mem) = opt(&cm.memory, || p().attr("memory"))?.filter(|s| !s.is_empty())
                {
                    m.insert("memory".to_string(), Quantity(mem.clone()));
                }
                Ok((!m.is_empty()).then_some(m))
            };
            let limits = side(&r.limits, "limits")?;
            let requests = side(&r.requests, "requests")?;
            (limits.is_some() || requests.is_some()).then_some(ResourceRequirements {
                limits,
                requests,
                ..ResourceRequirements::default()
            })
        }
    };

    let mut mounts = Vec::new();
    if let Some(items) = opt(&spec.volume_mounts, || sp().attr("volume_mounts"))? {
        for (i, m) in items.iter().enumerate() {
            let p = || sp().attr("volume_mounts").index(i);
            let m = need(m, p)?;
            mounts.push(K8sVolumeMount {
                name: need(&m.name, || p().attr("name"))?.clone(),
                mount_path: need(&m.mount_path, || p().attr("mount_path"))?.clone(),
                read_only: Some(
                    opt(&m.read_only, || p().attr("read_only"))?
                        .copied()
                        .unwrap_or(false),
                ),
                sub_path: opt(&m.sub_path, || p().attr("sub_path"))?
                    .filter(|s| !s.is_empty())
                    .cloned(),
                ..K8sVolumeMount::default()
            });
        }
    }

    let container = Container {
        name: CONTAINER_NAME.to_string(),
        image: Some(image_reference(repo, tag)),
        command: strings(&spec.command, "command")?,
        args: strings(&spec.args, "args")?,
        env: Some(env),
        resources,
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        ..Container::default()
    };
    Ok((container, origins))
}

pub(super) fn volumes(spec: &JobSpec) -> Result<Vec<Volume>> {
    let mut out = Vec::new();
    let Some(items) = opt(&spec.volume_mounts, || sp().attr("volume_mounts"))? else {
        return Ok(out);
    };
    for (i, m) in items.iter().enumerate() {
        let p = || sp().attr("volume_mounts").index(i);
        let m: &VolumeMount = need(m, p)?;
        let mut volume = Volume {
            name: need(&m.name, || p().attr("name"))?.clone(),
            ..Volume::default()
        };
        // Validation guarantees exactly one source; Planton's precedence
        // decides should that ever not hold.
        if let Some(cm) = opt(&m.config_map, || p().attr("config_map"))? {
            let (name, items, mode) = keyed(cm, &|| p().attr("config_map"))?;
            volume.config_map = Some(K8sConfigMapSource {
                name,
                items,
                default_mode: mode,
                ..K8sConfigMapSource::default()
            });
        } else if let Some(s) = opt(&m.secret, || p().attr("secret"))? {
            let (name, items, mode) = keyed(s, &|| p().attr("secret"))?;
            volume.secret = Some(K8sSecretSource {
                secret_name: Some(name),
                items,
                default_mode: mode,
                ..K8sSecretSource::default()
            });
        } else if let Some(h) = opt(&m.host_path, || p().attr("host_path"))? {
            volume.host_path = Some(HostPathVolumeSource {
                path: need(&h.path, || p().attr("host_path").attr("path"))?.clone(),
                type_: opt(&h.r#type, || p().attr("host_path").attr("type"))?
                    .filter(|t| !t.is_empty())
                    .cloned(),
            });
        } else if let Some(e) = opt(&m.empty_dir, || p().attr("empty_dir"))? {
            volume.empty_dir = Some(EmptyDirVolumeSource {
                medium: opt(&e.medium, || p().attr("empty_dir").attr("medium"))?
                    .filter(|t| !t.is_empty())
                    .cloned(),
                size_limit: opt(&e.size_limit, || p().attr("empty_dir").attr("size_limit"))?
                    .filter(|t| !t.is_empty())
                    .map(|s| Quantity(s.clone())),
                ..EmptyDirVolumeSource::default()
            });
        } else if let Some(c) = opt(&m.pvc, || p().attr("pvc"))? {
            volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                claim_name: need(&c.claim_name, || p().attr("pvc").attr("claim_name"))?.clone(),
                read_only: Some(
                    opt(&c.read_only, || p().attr("pvc").attr("read_only"))?
                        .copied()
                        .unwrap_or(false),
                ),
            });
        }
        out.push(volume);
    }
    Ok(out)
}

pub(super) type Keyed = (String, Option<Vec<KeyToPath>>, Option<i32>);

pub(super) fn keyed(
    source: &ConfigMapVolumeSource,
    p: &dyn Fn() -> AttributePath,
) -> Result<Keyed> {
    let name = need(&source.name, || p().attr("name"))?.clone();
    let key = opt(&source.key, || p().attr("key"))?.filter(|k| !k.is_empty());
    let path = opt(&source.path, || p().attr("path"))?.filter(|k| !k.is_empty());
    let items = key.map(|k| {
        vec![KeyToPath {
            key: k.clone(),
            path: path.unwrap_or(k).clone(),
            ..KeyToPath::default()
        }]
    });
    // As in Planton, 0 leaves the volume's default mode (0644).
    let mode = opt(&source.default_mode, || p().attr("default_mode"))?
        .map(|n| int32(n, || p().attr("default_mode")))
        .transpose()?
        .filter(|m| *m != 0);
    Ok((name, items, mode))
}
