# Planton metadata and relationships: `metadata.org`, `env` and `id` become
# the labels `planton.ai/organization`, `planton.ai/environment` and
# `planton.ai/id` on every object, pods included. `relationships` record the
# Job's place in Planton's resource graph: `kind` is a Planton
# CloudResourceKind name and `type` one of `depends_on`, `runs_on`,
# `managed_by` or `uses`. They create no Terraform dependency: Terraform
# orders resources by references.

resource "planton_kubernetes_job" "loyalty_points_sync" {
  metadata = {
    name = "loyalty-points-sync"
    id   = "k8sjob-01hzx4m7q2v9c3n8k5r6t1w0yb"
    org  = "acme"
    env  = "staging"

    relationships = [
      {
        kind = "KubernetesNamespace"
        name = "loyalty"
        type = "runs_on"
      },
      {
        kind = "KubernetesPostgres"
        name = "loyalty-db"
        type = "depends_on"
      },
      {
        kind = "KubernetesRedis"
        name = "session-cache"
        env  = "staging-shared"
        type = "uses"
      },
    ]
  }

  spec = {
    namespace = {
      value = "loyalty"
    }

    image = {
      repo = "ghcr.io/acme/loyalty-sync"
      tag  = "0.7.4"
    }
  }
}
