# Facts about a Job this configuration does not manage: here the nightly
# export that another team's pipeline runs (with kubectl, Helm or their own
# planton_kubernetes_job). The Job is read afresh on every plan; a Job that
# does not exist fails the plan.

data "planton_kubernetes_job" "export" {
  namespace = "analytics"
  name      = "nightly-export"
}

locals {
  export_finished = anytrue([
    for c in data.planton_kubernetes_job.export.status.conditions :
    c.type == "Complete" && c.status == "True"
  ])
}

output "export" {
  value = {
    finished  = local.export_finished
    image     = data.planton_kubernetes_job.export.image
    succeeded = data.planton_kubernetes_job.export.pods.succeeded
    failed    = data.planton_kubernetes_job.export.pods.failed
    # Set only when a planton_kubernetes_job made the Job.
    planton_outputs = data.planton_kubernetes_job.export.outputs
  }
}
