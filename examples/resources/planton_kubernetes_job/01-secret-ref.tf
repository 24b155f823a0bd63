# An env secret from an existing Secret: the database operator already keeps
# the password in the Secret orders-db-credentials, so the Job reads that key
# instead of copying the value into Terraform state. Kubernetes resolves
# secret references only in the pod's own namespace, so the Secret must be in
# the Job's namespace (`secret_ref.namespace` may be left out; when set it
# must equal `spec.namespace.value`).

resource "planton_kubernetes_job" "orders_export" {
  metadata = {
    name = "orders-export"
  }

  spec = {
    namespace = {
      value = "orders"
    }

    image = {
      repo = "ghcr.io/acme/orders-export"
      tag  = "v1.8.2"
    }

    env = {
      variables = {
        DATABASE_URL = { value = "postgres://export@orders-db.orders.svc:5432/orders" }
      }
      secrets = {
        DATABASE_PASSWORD = {
          secret_ref = {
            name = "orders-db-credentials"
            key  = "password"
          }
        }
      }
    }
  }
}
