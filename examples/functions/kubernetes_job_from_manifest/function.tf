# Manage a Project Planton KubernetesJob manifest with Terraform: the
# function's result assigns to the resource's metadata and spec as it is.
locals {
  job = provider::planton::kubernetes_job_from_manifest(yamldecode(file("${path.module}/job.yaml")))
}

resource "planton_kubernetes_job" "from_manifest" {
  metadata = local.job.metadata
  spec     = local.job.spec
}

# Values of the manifest can be read like any other object.
output "job_image" {
  value = "${local.job.spec.image.repo}:${local.job.spec.image.tag}"
}
