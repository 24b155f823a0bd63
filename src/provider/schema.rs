//! The provider block's schema: the connection attributes, once at the
//! provider level (where each names the `KUBE_*` variable it wins over)
//! and once in each `clusters` entry, with the descriptions users read in
//! the docs.

use super::env::*;
use crate::kube::exec::EXEC_TIMEOUT;
use crate::kube::settings::CLUSTERS_ATTRIBUTE;
use crate::tf::schema::Block;
use crate::tf::{Attribute, Nesting, Schema, Type};

/// The provider block's schema.
pub fn provider_schema() -> Schema {
    let mut attributes = connection_attributes(true);
    attributes.push(
        Attribute::nested(
            CLUSTERS_ATTRIBUTE,
            Nesting::Map,
            connection_attributes(false),
            CLUSTERS,
        )
        .set_optional(),
    );
    Schema::new(Block::new(attributes, PROVIDER))
}

/// The connection attributes, at the provider level (with environment
/// variables) or in a `clusters` entry (without).
fn connection_attributes(provider_level: bool) -> Vec<Attribute> {
    let d = |text: &str, env: &str| describe(text, env, provider_level);
    vec![
        Attribute::optional(
            "config_path",
            Type::String,
            &d(CONFIG_PATH, KUBE_CONFIG_PATH),
        ),
        Attribute::optional(
            "config_paths",
            Type::list(Type::String),
            &d(CONFIG_PATHS, KUBE_CONFIG_PATHS),
        ),
        Attribute::optional("config_context", Type::String, &d(CONFIG_CONTEXT, KUBE_CTX)),
        Attribute::optional(
            "config_context_cluster",
            Type::String,
            &d(CONFIG_CONTEXT_CLUSTER, KUBE_CTX_CLUSTER),
        ),
        Attribute::optional(
            "config_context_auth_info",
            Type::String,
            &d(CONFIG_CONTEXT_AUTH_INFO, KUBE_CTX_AUTH_INFO),
        ),
        Attribute::optional("host", Type::String, &d(HOST, KUBE_HOST)),
        Attribute::optional("token", Type::String, &d(TOKEN, KUBE_TOKEN)).sensitive(),
        Attribute::optional(
            "cluster_ca_certificate",
            Type::String,
            &d(CLUSTER_CA_CERTIFICATE, KUBE_CLUSTER_CA_CERT_DATA),
        ),
        Attribute::optional(
            "client_certificate",
            Type::String,
            &d(CLIENT_CERTIFICATE, KUBE_CLIENT_CERT_DATA),
        ),
        Attribute::optional(
            "client_key",
            Type::String,
            &d(CLIENT_KEY, KUBE_CLIENT_KEY_DATA),
        )
        .sensitive(),
        Attribute::optional("insecure", Type::Bool, &d(INSECURE, KUBE_INSECURE)),
        Attribute::optional(
            "tls_server_name",
            Type::String,
            &d(TLS_SERVER_NAME, KUBE_TLS_SERVER_NAME),
        ),
        Attribute::optional("proxy_url", Type::String, &d(PROXY_URL, KUBE_PROXY_URL)),
        Attribute::nested(
            "exec",
            Nesting::Single,
            vec![
                Attribute::required("api_version", Type::String, EXEC_API_VERSION),
                Attribute::required("command", Type::String, EXEC_COMMAND),
                Attribute::optional("args", Type::list(Type::String), EXEC_ARGS),
                Attribute::optional("env", Type::map(Type::String), EXEC_ENV).sensitive(),
            ],
            &exec_description(),
        )
        .set_optional(),
    ]
}

/// A description with its environment variable named (provider level) or
/// the note that entries take no environment variables.
fn describe(text: &str, env: &str, provider_level: bool) -> String {
    if provider_level {
        format!("{text} Wins over the environment variable `{env}`.")
    } else {
        format!("{text} (In a `clusters` entry, no environment variable is read.)")
    }
}

const PROVIDER: &str = "The planton provider manages Project Planton's `KubernetesJob` as the Terraform \
resource `planton_kubernetes_job`: a Kubernetes Job with its namespace, env Secret, ConfigMaps and \
ServiceAccount, described with the same fields as a Planton manifest.

**Reaching a cluster.** For each setting the attribute wins over its `KUBE_*` environment variable, which wins \
over the kubeconfig. The kubeconfig is `config_path` or `config_paths`, else `KUBE_CONFIG_PATH`, else \
`KUBE_CONFIG_PATHS`, else (only when `host` is not set, or a `config_context*` attribute selects a context) the \
files in `KUBECONFIG`, else `~/.kube/config` if it exists. `host`, `token`, `cluster_ca_certificate`, \
`client_certificate`, `client_key`, `insecure`, `tls_server_name`, `proxy_url` and `exec` override what the \
kubeconfig says. With nothing configured at all, a provider running inside a Kubernetes pod uses the pod's \
service account; anywhere else, planning a job fails with an error. The provider never falls back to localhost.

**Several clusters.** `clusters` names further clusters, each with its own settings; a job picks one with \
`spec.target_cluster.cluster_name`, so one module can fan the same job out to many clusters with `for_each`.

**Settings known only after apply** (a cluster created in the same configuration): jobs on that cluster are \
planned without contacting it and without falling back to any other cluster, or deferred when Terraform allows \
deferral; the apply then uses the cluster once its settings are known.

**Terraform versions.** 1.8 and later, tested on 1.8.4 and 1.15.5. Some features need a later Terraform:

| Feature | Terraform |
|---|---|
| The resource, import by ID (`terraform import`, `import` blocks with `id`) | 1.8 |
| Provider functions `kubernetes_job_from_manifest` and `kubernetes_job_manifest` | 1.8 |
| `moved` from hashicorp/kubernetes (`kubernetes_job_v1`, `kubernetes_job`) | 1.8 |
| Write-only attributes `env_secrets_wo` and `docker_config_json_wo` | 1.11 |
| Resource identity, import by identity | 1.12 |
| `terraform query` with list resources | 1.14 |
| The action `planton_kubernetes_job_run` | 1.14 |
| Errors placed on the attribute inside `metadata` or `spec` (before 1.15, on the resource block) | 1.15 |

A write-only attribute on an older Terraform is an error that names 1.11: that Terraform would store its \
value in state.";

const CLUSTERS: &str = "Further clusters by name, each with the same connection settings as the provider \
block (without environment variables). A `planton_kubernetes_job` whose `spec.target_cluster.cluster_name` is a \
key of this map is managed in that cluster; a job without `target_cluster` uses the provider-level settings, and \
naming a cluster that is not here is a plan-time error. An entry must set `host`, `config_path`, \
`config_paths` or a `config_context*` attribute; an entry that selects a context without naming a file reads \
the provider-level kubeconfig files. Each cluster's client is built once per provider process, when a job \
first needs it.";

const CONFIG_PATH: &str = "Path to the kubeconfig file to read; a leading `~/` is the home directory. Wins \
over the `KUBECONFIG` variable and `~/.kube/config`. Set either `config_path` or `config_paths`, not both.";

const CONFIG_PATHS: &str = "Kubeconfig files to read and merge the way kubectl merges `KUBECONFIG`: the \
first file to define a context, cluster or user wins. Wins over the `KUBECONFIG` variable and \
`~/.kube/config`. Set either `config_path` or `config_paths`, not both.";

const CONFIG_CONTEXT: &str = "The kubeconfig context to use; without it, the kubeconfig's `current-context`. \
Selecting a context reads a kubeconfig even when `host` is set.";

const CONFIG_CONTEXT_CLUSTER: &str =
    "The kubeconfig cluster to use instead of the one the context names.";

const CONFIG_CONTEXT_AUTH_INFO: &str =
    "The kubeconfig user to use instead of the one the context names.";

const HOST: &str = "The API server's address, e.g. `https://203.0.113.10:6443` (`https://` is assumed \
without a scheme). Wins over the kubeconfig's `server`. When `host` is set and no kubeconfig is named \
(`config_path`, `config_paths`, their variables, or a `config_context*` attribute), no kubeconfig is read at \
all: `KUBECONFIG` and `~/.kube/config` are ignored, so the credentials of your default cluster are never sent \
to this host.";

const TOKEN: &str = "A bearer token to authenticate with. Wins over the kubeconfig user's token, token file \
and exec plugin. Set either `token` or `exec`, not both.";

const CLUSTER_CA_CERTIFICATE: &str = "PEM-encoded CA certificate(s) the API server's certificate must chain \
to (PEM text: for a kubeconfig's base64 `certificate-authority-data`, use `base64decode(...)`). Wins over the \
kubeconfig's `certificate-authority`. Without any CA, the system's trusted roots are used.";

const CLIENT_CERTIFICATE: &str = "PEM-encoded client certificate for TLS client authentication, with \
`client_key`. Wins over the kubeconfig user's certificate.";

const CLIENT_KEY: &str = "PEM-encoded private key of `client_certificate`. Wins over the kubeconfig user's \
key.";

const INSECURE: &str = "Skip verifying the API server's certificate. Off by default; `true` wins over the \
kubeconfig's `insecure-skip-tls-verify`, and `false` turns that off. Anyone on the network path can then read \
and change the traffic, credentials included, so the provider warns whenever verification is off. Cannot be \
combined with `cluster_ca_certificate`.";

const TLS_SERVER_NAME: &str = "The name to check the API server's certificate against, when it differs \
from the host in the address. Wins over the kubeconfig's `tls-server-name`.";

const PROXY_URL: &str = "URL of an HTTP proxy (`http://` or `https://`) for requests to the API server. \
Wins over the kubeconfig's `proxy-url`.";

/// The `exec` description, with the plugin's time limit as `exec.rs` sets it.
fn exec_description() -> String {
    format!(
        "An exec credential plugin: a program that prints an `ExecCredential` with a token or a client \
         certificate, such as `aws eks get-token`, `gke-gcloud-auth-plugin` or `kubelogin`. Wins over the \
         kubeconfig user's credentials; set either `token` or `exec`, not both. The plugin runs when a job first \
         needs the cluster (never during validation), without a terminal, and may take at most {} seconds; if it \
         fails or is stopped, the error names its command (not its arguments) and shows its standard error.",
        EXEC_TIMEOUT.as_secs()
    )
}

const EXEC_API_VERSION: &str = "The `ExecCredential` API version the plugin speaks, e.g. `client.authentication.k8s.io/v1beta1`.";

const EXEC_COMMAND: &str = "The program to run; looked up in `PATH` unless it contains a `/`.";

const EXEC_ARGS: &str = "Arguments to the program.";

const EXEC_ENV: &str =
    "Environment variables for the program, added to the provider's own environment.";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The schema: every connection attribute at the provider level and in a
    /// `clusters` entry, secrets sensitive, descriptions naming their variable.
    #[test]
    fn schema_attributes() {
        let schema = provider_schema();
        let names: Vec<&str> = schema
            .block
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "config_path",
                "config_paths",
                "config_context",
                "config_context_cluster",
                "config_context_auth_info",
                "host",
                "token",
                "cluster_ca_certificate",
                "client_certificate",
                "client_key",
                "insecure",
                "tls_server_name",
                "proxy_url",
                "exec",
                "clusters",
            ]
        );
        for a in &schema.block.attributes {
            assert!(a.optional && !a.required && !a.computed, "{}", a.name);
            assert_eq!(
                a.sensitive,
                a.name == "token" || a.name == "client_key",
                "{}",
                a.name
            );
            assert!(!a.description.is_empty());
        }
        assert!(
            schema
                .block
                .attribute("host")
                .unwrap()
                .description
                .contains(KUBE_HOST)
        );
        let crate::tf::AttributeKind::Nested(clusters) =
            &schema.block.attribute("clusters").unwrap().kind
        else {
            panic!()
        };
        assert_eq!(clusters.nesting, Nesting::Map);
        assert_eq!(clusters.attributes.len(), 14);
        assert!(
            clusters
                .attributes
                .iter()
                .all(|a| !a.description.contains("KUBE_"))
        );
        assert!(
            schema
                .block
                .description
                .contains("never falls back to localhost")
        );
    }
}
