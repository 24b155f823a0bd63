# Quickstart: a Job that reads a ConfigMap mounted as a file, gets a password
# from an env Secret, and writes scratch data to an emptyDir volume.
# scripts/quickstart.sh runs init, apply, output and destroy on this file
# against a local API-server emulator.

terraform {
  required_providers {
    planton = {
      source = "project-planton/planton"
    }
  }
}

# The kubeconfig comes from KUBECONFIG (or set config_path here).
provider "planton" {}

variable "report_db_password" {
  description = "Password the report job uses for its database."
  type        = string
  sensitive   = true
  default     = "quickstart-only"
}

resource "planton_kubernetes_job" "report" {
  metadata = {
    name = "nightly-report"
    org  = "acme"
    env  = "dev"
  }

  spec = {
    namespace = {
      value = "reports"
    }
    create_namespace = true

    image = {
      repo = "busybox"
      tag  = "1.36"
    }

    command = ["/bin/sh", "-c"]
    args = [<<-EOT
      echo "report for $REPORT_DAY"
      cat /etc/report/report.yaml
      test -n "$DB_PASSWORD" && echo "database password is set"
      date > /scratch/started-at
    EOT
    ]

    env = {
      variables = {
        REPORT_DAY = { value = "yesterday" }
      }
      secrets = {
        # Stored in the Secret nightly-report-env-secrets, never in the pod spec.
        DB_PASSWORD = { value = var.report_db_password }
      }
    }

    # One ConfigMap per entry: the key names the ConfigMap and its single data key.
    config_maps = {
      "nightly-report-config" = <<-EOT
        format: csv
        recipients:
          - finance@example.com
      EOT
    }

    volume_mounts = [
      {
        name       = "config"
        mount_path = "/etc/report"
        read_only  = true
        config_map = {
          name = "nightly-report-config"
          key  = "nightly-report-config"
          path = "report.yaml"
        }
      },
      {
        name       = "scratch"
        mount_path = "/scratch"
        empty_dir = {
          size_limit = "64Mi"
        }
      },
    ]

    backoff_limit              = 2
    ttl_seconds_after_finished = 3600
  }
}

output "job_id" {
  description = "The job's id, <namespace>/<name>, known once it is created."
  value       = planton_kubernetes_job.report.id
}

output "outputs" {
  description = "Planton's stack outputs: the Job's namespace and name."
  value       = planton_kubernetes_job.report.outputs
}

output "status" {
  description = "The Job's status when apply finished waiting for it."
  value       = planton_kubernetes_job.report.status
}
