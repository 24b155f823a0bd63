resource "planton_kubernetes_job" "migrate" {
  metadata = {
    name = "db-migrate"
  }
  spec = {
    namespace = { value = "payments" }
    image     = { repo = "ghcr.io/example/payments-migrate", tag = "2.14.1" }
    args      = ["up"]
  }

  # Run the migration again after every change to it that updates the Job
  # in place (a change to its image replaces it, and that runs it anyway).
  lifecycle {
    action_trigger {
      events  = [after_update]
      actions = [action.planton_kubernetes_job_run.migrate]
    }
  }
}

# Or on request:
#   terraform apply -invoke=action.planton_kubernetes_job_run.migrate
action "planton_kubernetes_job_run" "migrate" {
  config {
    job     = planton_kubernetes_job.migrate.id
    timeout = "15m"
  }
}

# A dry run of the same Job, with other arguments and one more variable.
action "planton_kubernetes_job_run" "migrate_dry_run" {
  config {
    job  = planton_kubernetes_job.migrate.id
    args = ["up", "--dry-run"]
    env = {
      LOG_LEVEL = "debug"
    }
  }
}
