# The nightly report job, in the cluster the caller names.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

variable "cluster" {
  description = "A key of the provider's `clusters`."
  type        = string
}

resource "planton_kubernetes_job" "report" {
  metadata = {
    name = "nightly-report"
  }
  spec = {
    namespace        = { value = "reports" }
    create_namespace = true
    image            = { repo = "busybox", tag = "1.36" }
    target_cluster   = { cluster_name = var.cluster }
    command          = ["sh", "-c", "echo report done"]
  }
}

output "job" {
  description = "The job's cluster and id."
  value = {
    cluster = var.cluster
    id      = planton_kubernetes_job.report.id
  }
}
