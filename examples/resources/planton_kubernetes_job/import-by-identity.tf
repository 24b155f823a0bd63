# Import a Job by its resource identity (Terraform 1.12 and later):
# `namespace` and `name` are required; `cluster` names one of the provider's
# `clusters` and is left out for the provider-level cluster.
import {
  to = planton_kubernetes_job.db_migrate
  identity = {
    namespace = "db"
    name      = "migrate"
  }
}
