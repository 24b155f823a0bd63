//! Write-only secrets (Terraform 1.11+): `env_secrets_wo` and
//! `docker_config_json_wo`, top-level companions of `spec.env.secrets` and
//! `docker_config_json` whose values Terraform never stores, in state, plan
//! or private state. They sit outside `spec`, which keeps mirroring Planton.
//!
//! Terraform hands their values to the provider only in the configuration
//! (validate, plan, apply). Apply writes them into the env Secret and the
//! image pull Secret; what refresh and plan need afterwards is kept in
//! private state as a [`Record`]: the env var names (they are part of the
//! pod, so a new name replaces the Job) and a keyed hash of each value
//! (HMAC-SHA256 under a random key of the resource's own), so that an edit
//! of the live Secret is drift without the value ever being stored.
//!
//! A value changes only when its `*_version` attribute changes: bumping it
//! rolls the Secret in place (pods started later see the new value).

use std::collections::BTreeMap;

use aws_lc_rs::hmac;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as J};

use crate::kubernetes_job::model::names::{INJECTED_ENV, env_name_problem};
use crate::tf::resource::ClientCapabilities;
use crate::tf::{Attribute, AttributePath, Diagnostics, Type, Value};

/// Write-only env secret values, keyed by env var name.
pub const ENV_SECRETS: &str = "env_secrets_wo";
/// Bumped to roll [`ENV_SECRETS`].
pub const ENV_SECRETS_VERSION: &str = "env_secrets_wo_version";
/// Write-only Docker config JSON for the image pull Secret.
pub const DOCKER_CONFIG: &str = "docker_config_json_wo";
/// Bumped to roll [`DOCKER_CONFIG`].
pub const DOCKER_CONFIG_VERSION: &str = "docker_config_json_wo_version";

/// The key of the [`Record`] in the private state's JSON object.
const PRIVATE_KEY: &str = "write_only";

/// The schema of the four attributes.
pub fn attributes() -> Vec<Attribute> {
    vec![
        Attribute::optional(ENV_SECRETS, Type::map(Type::String), ENV_SECRETS_DOC)
            .sensitive()
            .write_only(),
        Attribute::optional(ENV_SECRETS_VERSION, Type::Number, ENV_SECRETS_VERSION_DOC),
        Attribute::optional(DOCKER_CONFIG, Type::String, DOCKER_CONFIG_DOC)
            .sensitive()
            .write_only(),
        Attribute::optional(
            DOCKER_CONFIG_VERSION,
            Type::Number,
            DOCKER_CONFIG_VERSION_DOC,
        ),
    ]
}

const ENV_SECRETS_DOC: &str = "Secret environment variables whose values never reach Terraform state or plan \
output (a write-only attribute, Terraform 1.11 or later), keyed by name: the recommended way to pass secret \
values. Each value is written to the Secret `<metadata.name>-env-secrets` and reaches the container through a \
`secretKeyRef`, like `spec.env.secrets[*].value`, whose names it must not repeat (same naming rules). Terraform \
does not see a changed value: bump `env_secrets_wo_version` to apply it. An edit of the live Secret shows as \
drift (detected through a keyed hash in private state, never the value).";

const ENV_SECRETS_VERSION_DOC: &str = "Version of `env_secrets_wo`: change it (for example increment it) to \
write the current values to the Secret. Changing it updates the Secret in place (pods started later see the new \
values); when the set of names in `env_secrets_wo` changed too, it replaces the Job (the names are part of the \
pod).";

const DOCKER_CONFIG_DOC: &str = "Content of a Docker config file for an image pull Secret \
`<metadata.name>-image-pull-secret`, like `docker_config_json`, but write-only (Terraform 1.11 or later): it never \
reaches Terraform state or plan output. Set at most one of the two. Bump `docker_config_json_wo_version` to \
apply a changed value.";

const DOCKER_CONFIG_VERSION_DOC: &str = "Version of `docker_config_json_wo`: change it to write the current \
value to the image pull Secret (in place). Setting or removing `docker_config_json_wo` replaces the Job.";

/// The write-only values of one configuration.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WriteOnly {
    /// `env_secrets_wo`, known entries only.
    pub env: BTreeMap<String, String>,
    /// Whether `env_secrets_wo` holds a value not known yet.
    pub env_unknown: bool,
    /// `docker_config_json_wo`, when set and not empty.
    pub docker_config_json: Option<String>,
    /// Whether `docker_config_json_wo` is not known yet.
    pub docker_unknown: bool,
}

impl std::fmt::Debug for WriteOnly {
    // Names only: the values are secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteOnly")
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("docker_config_json", &self.docker_config_json.is_some())
            .finish()
    }
}

impl WriteOnly {
    /// Reads them from a configuration (plans and states hold them null).
    pub fn from_config(config: &Value) -> WriteOnly {
        let mut wo = WriteOnly::default();
        match config.get(ENV_SECRETS) {
            Value::Unknown(_) => wo.env_unknown = true,
            Value::Map(entries) => {
                for (k, v) in entries {
                    match v {
                        Value::Unknown(_) => wo.env_unknown = true,
                        v => {
                            if let Some(s) = v.as_str() {
                                wo.env.insert(k.clone(), s.to_string());
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        match config.get(DOCKER_CONFIG) {
            Value::Unknown(_) => wo.docker_unknown = true,
            v => wo.docker_config_json = v.as_str().filter(|s| !s.is_empty()).map(str::to_string),
        }
        wo
    }

    /// Whether any write-only value is set.
    pub fn is_set(&self) -> bool {
        !self.env.is_empty()
            || self.docker_config_json.is_some()
            || self.env_unknown
            || self.docker_unknown
    }

    /// The env var names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.env.keys().cloned().collect()
    }
}

/// What private state keeps of the write-only values: names and keyed
/// hashes, never the values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The HMAC key (random, hex), the resource's own.
    pub key: String,
    /// `env_secrets_wo`: name to hash of the value.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Hash of `docker_config_json_wo`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker_config_json: Option<String>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("docker_config_json", &self.docker_config_json.is_some())
            .finish()
    }
}

impl Record {
    /// The record of `wo`, hashed under `previous`'s key when there is one.
    pub fn of(wo: &WriteOnly, previous: Option<&Record>) -> Option<Record> {
        if wo.env.is_empty() && wo.docker_config_json.is_none() {
            return None;
        }
        let key = previous
            .map(|r| r.key.clone())
            .filter(|k| !k.is_empty())
            .unwrap_or_else(random_key);
        let hash = |v: &str| keyed_hash(&key, v);
        Some(Record {
            env: wo.env.iter().map(|(k, v)| (k.clone(), hash(v))).collect(),
            docker_config_json: wo.docker_config_json.as_deref().map(hash),
            key,
        })
    }

    /// Whether `value` is the one recorded under this record's key.
    pub fn matches(&self, recorded: &str, value: &str) -> bool {
        keyed_hash(&self.key, value) == recorded
    }

    /// The env var names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.env.keys().cloned().collect()
    }

    /// Write-only values with the recorded names and empty values: what
    /// refresh renders to know which Secrets exist and how they are
    /// labelled, without the values.
    pub fn placeholders(&self) -> WriteOnly {
        WriteOnly {
            env: self
                .env
                .keys()
                .map(|k| (k.clone(), String::new()))
                .collect(),
            docker_config_json: self.docker_config_json.as_ref().map(|_| String::new()),
            ..WriteOnly::default()
        }
    }

    /// Reads it from private bytes.
    pub fn from_private(bytes: &[u8]) -> Option<Record> {
        let mut j: J = serde_json::from_slice(bytes).ok()?;
        serde_json::from_value(j.get_mut(PRIVATE_KEY)?.take()).ok()
    }

    /// Writes `record` (or removes it, when `None`) into private bytes,
    /// keeping every other key.
    pub fn merge_into(record: Option<&Record>, bytes: Vec<u8>) -> Vec<u8> {
        let mut object = match serde_json::from_slice::<J>(&bytes) {
            Ok(J::Object(m)) => m,
            _ if bytes.is_empty() => Map::new(),
            _ => return bytes,
        };
        match record.and_then(|r| serde_json::to_value(r).ok()) {
            Some(v) => {
                object.insert(PRIVATE_KEY.to_string(), v);
            }
            None => {
                object.remove(PRIVATE_KEY);
            }
        }
        if object.is_empty() {
            return Vec::new();
        }
        serde_json::to_vec(&J::Object(object)).unwrap_or(bytes)
    }
}

pub(crate) fn random_key() -> String {
    let mut bytes = [0u8; 32];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        // Without randomness the hash is still keyed by the value alone;
        // the resource's instance already differs per state.
        return String::from("0");
    }
    hex(&bytes)
}

pub(crate) fn keyed_hash(key: &str, value: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    hex(hmac::sign(&key, value.as_bytes()).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Plan-time checks of the write-only attributes.
pub fn validate(config: &Value, capabilities: &ClientCapabilities) -> Diagnostics {
    let mut d = Diagnostics::new();
    let wo = WriteOnly::from_config(config);
    let set = |name: &str| !config.get(name).is_null();
    if (set(ENV_SECRETS) || set(DOCKER_CONFIG)) && !capabilities.write_only_attributes_allowed {
        let name = if set(ENV_SECRETS) {
            ENV_SECRETS
        } else {
            DOCKER_CONFIG
        };
        d.attribute_error(
            AttributePath::root(name),
            "Write-Only Attribute Needs Terraform 1.11",
            format!(
                "`{name}` is a write-only attribute, which Terraform supports from version 1.11; this \
                 Terraform does not, and would store the value in state. Upgrade Terraform, or use \
                 `spec.env.secrets` / `docker_config_json` (stored in state, marked sensitive)."
            ),
        );
    }
    let literal = config
        .get("spec")
        .get("env")
        .get("secrets")
        .as_entries()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let variables = config
        .get("spec")
        .get("env")
        .get("variables")
        .as_entries()
        .map(|m| m.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    if let Value::Map(entries) = config.get(ENV_SECRETS) {
        for name in entries.keys() {
            let p = AttributePath::root(ENV_SECRETS).key(name.clone());
            if literal.contains(name) {
                d.attribute_error(
                    p,
                    "Secret Given Twice",
                    format!(
                        "{name} is set both in `spec.env.secrets` and in `{ENV_SECRETS}`. A variable has one \
                         value: remove one of the two (prefer `{ENV_SECRETS}`, which keeps the value out of state)."
                    ),
                );
            } else if variables.contains(name) {
                d.attribute_error(
                    p,
                    "Variable Given Twice",
                    format!(
                        "{name} is set both in `spec.env.variables` and in `{ENV_SECRETS}`; names must be unique \
                         across the container's environment."
                    ),
                );
            } else if let Some(problem) = env_name_problem(name) {
                d.attribute_error(
                    p,
                    "Invalid Environment Variable Name",
                    format!(
                        "The name {name:?} in `{ENV_SECRETS}` is not an environment variable name ({problem}): \
                         letters, digits, '_', '-' and '.', not starting with a digit."
                    ),
                );
            } else if INJECTED_ENV.contains(&name.as_str()) {
                d.attribute_error(
                    p,
                    "Duplicate Environment Variable",
                    format!(
                        "{name} is set by the provider itself (as in Planton); choose another name."
                    ),
                );
            }
        }
    }
    if wo.docker_config_json.is_some()
        && config
            .get("docker_config_json")
            .as_str()
            .is_some_and(|s| !s.is_empty())
    {
        d.attribute_error(
            AttributePath::root(DOCKER_CONFIG),
            "Docker Config Given Twice",
            "Both `docker_config_json` and `docker_config_json_wo` are set; the image pull Secret has one content. \
             Keep `docker_config_json_wo`, which stays out of state.",
        );
    }
    if let Some(text) = &wo.docker_config_json
        && !matches!(serde_json::from_str::<J>(text), Ok(J::Object(_)))
    {
        // Never quote the value.
        d.attribute_error(
            AttributePath::root(DOCKER_CONFIG),
            "Invalid Docker Config JSON",
            "`docker_config_json_wo` is not a JSON object. It is the content of a Docker config file, for \
             example `jsonencode({ auths = { \"registry.example.com\" = { auth = base64encode(\"user:password\") } } })`.",
        );
    }
    d
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)], docker: Option<&str>) -> Value {
        Value::object([
            (
                ENV_SECRETS,
                if env.is_empty() {
                    Value::Null
                } else {
                    Value::Map(
                        env.iter()
                            .map(|(k, v)| (k.to_string(), Value::string(*v)))
                            .collect(),
                    )
                },
            ),
            (
                DOCKER_CONFIG,
                docker.map(Value::string).unwrap_or(Value::Null),
            ),
        ])
    }

    /// The record holds names and hashes that match the values, never the
    /// values, and keeps its key from one apply to the next.
    #[test]
    fn records_hold_hashes_not_values() {
        let wo = WriteOnly::from_config(&config(&[("API_KEY", "hunter2")], Some("{}")));
        let record = Record::of(&wo, None).unwrap();
        let bytes = Record::merge_into(Some(&record), br#"{"instance":"x"}"#.to_vec());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let back = Record::from_private(&bytes).unwrap();
        assert_eq!(back, record);
        assert!(back.matches(&back.env["API_KEY"], "hunter2"));
        assert!(!back.matches(&back.env["API_KEY"], "hunter3"));
        let again = Record::of(&wo, Some(&back)).unwrap();
        assert_eq!(again, back);
        let other = Record::of(&wo, None).unwrap();
        assert_ne!(
            other.env["API_KEY"], back.env["API_KEY"],
            "the key is random"
        );
        assert!(!format!("{wo:?} {back:?}").contains("hunter2"));
        assert_eq!(
            Record::merge_into(None, bytes),
            br#"{"instance":"x"}"#.to_vec()
        );
    }

    #[test]
    fn a_name_given_twice_or_an_old_terraform_is_refused() {
        let mut c = config(&[("DB_PASSWORD", "x")], None);
        if let Value::Object(m) = &mut c {
            m.insert(
                "spec".into(),
                Value::object([(
                    "env",
                    Value::object([(
                        "secrets",
                        Value::Map(
                            [(
                                "DB_PASSWORD".to_string(),
                                Value::object([("value", Value::string("y"))]),
                            )]
                            .into(),
                        ),
                    )]),
                )]),
            );
        }
        let caps = ClientCapabilities {
            write_only_attributes_allowed: true,
            ..ClientCapabilities::default()
        };
        let d = validate(&c, &caps);
        assert_eq!(d.0.len(), 1, "{d:?}");
        assert_eq!(d.0[0].summary, "Secret Given Twice");
        assert_eq!(
            d.0[0].path.as_ref().unwrap().to_string(),
            "env_secrets_wo[\"DB_PASSWORD\"]"
        );
        assert!(!d.0[0].detail.contains('x') || !d.0[0].detail.contains("\"x\""));

        let d = validate(&config(&[("A", "1")], None), &ClientCapabilities::default());
        assert_eq!(d.0[0].summary, "Write-Only Attribute Needs Terraform 1.11");
        let d = validate(&config(&[("1BAD", "1")], None), &caps);
        assert_eq!(d.0[0].summary, "Invalid Environment Variable Name");
    }
}
