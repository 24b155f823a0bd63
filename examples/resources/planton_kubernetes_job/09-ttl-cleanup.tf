# Clean up finished Jobs and run again on the next apply: Kubernetes deletes
# the Job an hour after it finishes (`spec.ttl_seconds_after_finished`), and
# `after_ttl_deletion = "recreate"` makes the next plan create it again, so a
# daily scheduled `terraform apply` runs the report each day. With the
# default, `"keep"`, the deleted Job stays in state as finished and is not
# run again. A TTL of 0, like leaving it out, means no automatic cleanup, as
# in Planton.

resource "planton_kubernetes_job" "usage_report" {
  metadata = {
    name = "usage-report"
  }

  after_ttl_deletion = "recreate"

  spec = {
    namespace = {
      value = "reports"
    }

    image = {
      repo = "ghcr.io/acme/usage-report"
      tag  = "4.2.0"
    }

    args = ["--period", "daily", "--send-to", "finance@acme.example"]

    ttl_seconds_after_finished = 3600
  }
}
