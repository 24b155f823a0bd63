# A database migration: the migration tool reads its settings from a
# ConfigMap mounted as a file, takes the database password from the env
# Secret, and keeps scratch files on an emptyDir volume. `terraform apply`
# waits until the Job has finished and fails with the pods' exit codes and
# logs if it fails.

variable "db_password" {
  description = "Password of the orders database's migration user."
  type        = string
  sensitive   = true
}

resource "planton_kubernetes_job" "db_migrate" {
  metadata = {
    name = "migrate"
    org  = "acme"
    env  = "production"
  }

  spec = {
    namespace = {
      value = "db"
    }

    image = {
      repo = "ghcr.io/acme/orders-migrations"
      tag  = "v2.4.0"
    }

    command = ["/app/migrate", "--config", "/etc/migrate/migrate.yaml", "up"]

    env = {
      variables = {
        DATABASE_HOST = { value = "postgres.db.svc.cluster.local" }
        DATABASE_NAME = { value = "orders" }
      }
      secrets = {
        # Stored in the Secret migrate-env-secrets, never in the pod spec.
        DATABASE_PASSWORD = { value = var.db_password }
      }
    }

    # One ConfigMap per entry: the key names the ConfigMap and its data key.
    config_maps = {
      "migrate-config" = <<-EOT
        lock_timeout: 30s
        statement_timeout: 15m
      EOT
    }

    volume_mounts = [
      {
        name       = "config"
        mount_path = "/etc/migrate"
        read_only  = true
        config_map = {
          name = "migrate-config"
          key  = "migrate-config"
          path = "migrate.yaml"
        }
      },
      {
        name       = "scratch"
        mount_path = "/scratch"
        empty_dir = {
          size_limit = "256Mi"
        }
      },
    ]

    resources = {
      limits   = { cpu = "500m", memory = "512Mi" }
      requests = { cpu = "100m", memory = "128Mi" }
    }

    backoff_limit              = 2
    active_deadline_seconds    = 1800
    ttl_seconds_after_finished = 86400
  }
}
