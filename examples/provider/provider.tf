# A kubeconfig and one of its contexts: the usual way to reach a cluster.
#
# Each setting may also come from its environment variable (here
# KUBE_CONFIG_PATH and KUBE_CTX); an attribute in the block wins. With no
# settings at all, the provider reads KUBECONFIG or ~/.kube/config, and in a
# Kubernetes pod the pod's service account. It never falls back to localhost.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

provider "planton" {
  config_path    = "~/.kube/config"
  config_context = "prod"
}
