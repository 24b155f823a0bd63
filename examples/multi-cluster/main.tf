# One provider, many clusters: the same job fanned out to every cluster with
# for_each, which a provider block cannot do (provider blocks have no
# for_each). Each job names its cluster in spec.target_cluster.cluster_name.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

variable "clusters" {
  description = "The clusters to run the report in: a kubeconfig file and context each."
  type = map(object({
    config_path    = string
    config_context = string
  }))
  default = {
    east = {
      config_path    = "~/.kube/config"
      config_context = "east"
    }
    west = {
      config_path    = "~/.kube/config"
      config_context = "west"
    }
  }
}

provider "planton" {
  clusters = {
    for name, c in var.clusters : name => {
      config_path    = c.config_path
      config_context = c.config_context
    }
  }
}

module "report" {
  source   = "./modules/report"
  for_each = var.clusters

  cluster = each.key
}

output "reports" {
  description = "Where each report job runs."
  value       = { for name, m in module.report : name => m.job }
}
