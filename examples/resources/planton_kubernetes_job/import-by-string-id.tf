# Import a Job by ID: NAMESPACE/NAME, or CLUSTER:NAMESPACE/NAME for a Job in
# one of the provider's named `clusters`.
import {
  to = planton_kubernetes_job.nightly_report
  id = "reports/nightly-report"
}
