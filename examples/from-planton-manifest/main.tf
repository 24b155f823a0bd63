# A Project Planton KubernetesJob manifest (job.yaml) managed by Terraform:
# kubernetes_job_from_manifest reads it into the resource's metadata and spec,
# and kubernetes_job_manifest writes the same data back as a manifest.
# Provider functions need Terraform 1.8 or later.

terraform {
  required_version = ">= 1.8"

  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

# The kubeconfig comes from KUBECONFIG (or set config_path here).
provider "planton" {}

locals {
  # Fields the manifest leaves out are null here, so the resource applies
  # Planton's defaults; a mistake in job.yaml fails the plan with its path.
  job = provider::planton::kubernetes_job_from_manifest(yamldecode(file("${path.module}/job.yaml")))
}

resource "planton_kubernetes_job" "report" {
  metadata = local.job.metadata
  spec     = local.job.spec

  # Settings of the Terraform resource itself stay in HCL.
  timeouts = {
    create = "10m"
  }
}

output "job" {
  description = "Namespace and name of the Job."
  value       = planton_kubernetes_job.report.outputs
}

output "manifest" {
  description = "The Job as a Planton manifest again, for `project-planton` or for review."
  value = yamlencode(provider::planton::kubernetes_job_manifest(
    local.job.metadata,
    local.job.spec,
  ))
}
