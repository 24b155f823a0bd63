# A batch job with the settings a team varies; everything else is Planton's
# defaults.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

variable "name" {
  description = "Name of the job (a DNS-1123 label)."
  type        = string
}

variable "namespace" {
  description = "Namespace the job runs in."
  type        = string
}

variable "create_namespace" {
  description = "Whether this job creates (and on destroy deletes) the namespace."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Tag of the busybox image to run."
  type        = string
}

variable "command" {
  description = "The container's command."
  type        = list(string)
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

resource "planton_kubernetes_job" "this" {
  metadata = {
    name = var.name
  }
  spec = {
    namespace        = { value = var.namespace }
    create_namespace = var.create_namespace
    image = {
      repo = "busybox"
      tag  = var.image_tag
    }
    command = var.command
    env = {
      variables = { for name, value in var.env : name => { value = value } }
    }
  }
}

output "namespace" {
  description = "Namespace of the job."
  value       = planton_kubernetes_job.this.outputs.namespace
}

output "job_name" {
  description = "Name of the job."
  value       = planton_kubernetes_job.this.outputs.job_name
}

output "outputs" {
  description = "Planton's stack outputs of the job."
  value       = planton_kubernetes_job.this.outputs
}

output "status" {
  description = "The job's status after apply."
  value       = planton_kubernetes_job.this.status
}
