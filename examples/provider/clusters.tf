# Named clusters in one provider block: a job picks one with
# spec.target_cluster.cluster_name (see examples/multi-cluster). An entry
# that selects a context without naming a file reads the provider's
# kubeconfig files.

provider "planton" {
  alias = "fleet"

  config_path = "~/.kube/config"
  clusters = {
    staging = {
      config_context = "staging"
    }
    prod = {
      host                   = "https://203.0.113.10:6443"
      token                  = var.cluster_token
      cluster_ca_certificate = var.cluster_ca_certificate
    }
  }
}
