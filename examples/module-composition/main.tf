# Module composition: one module wraps planton_kubernetes_job with its own
# variables and outputs; a migration job's outputs feed the workers' env;
# for_each fans the workers out; and the migration's image tag comes from a
# resource created in the same apply, so it is unknown when Terraform plans.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

variable "kubeconfig" {
  description = "Path to a kubeconfig; when null, KUBECONFIG or ~/.kube/config is used."
  type        = string
  default     = null
}

provider "planton" {
  config_path = var.kubeconfig
}

# Stands in for a release pipeline: the tag is known only once this
# resource exists.
resource "terraform_data" "release" {
  input = "1.36"
}

module "migrate" {
  source = "./modules/job"

  name             = "migrate"
  namespace        = "shop"
  create_namespace = true
  image_tag        = terraform_data.release.output
  command          = ["/bin/sh", "-c", "echo migrating"]
}

module "workers" {
  source   = "./modules/job"
  for_each = toset(["emails", "invoices"])

  name      = "worker-${each.key}"
  namespace = module.migrate.namespace
  image_tag = "1.36"
  command   = ["/bin/sh", "-c", "echo working on $QUEUE after $MIGRATION_JOB"]
  env = {
    QUEUE         = each.key
    MIGRATION_JOB = module.migrate.job_name
  }
}

output "migration" {
  description = "Namespace and name of the migration job."
  value       = module.migrate.outputs
}

output "workers" {
  description = "Each worker's job name and how many of its pods succeeded."
  value = {
    for queue, worker in module.workers : queue => {
      job_name  = worker.job_name
      succeeded = worker.status.succeeded
    }
  }
}
