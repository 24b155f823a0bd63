# Secret values kept out of Terraform state: write-only attributes (Terraform
# 1.11 or later) reach the Job's Secrets but never the state file, the plan or
# its output. Terraform cannot see a changed write-only value, so bump the
# version attribute to roll it; an edit of the live Secret shows as drift.
# Prefer these over `spec.env.secrets[*].value` and `docker_config_json`.

variable "payments_api_token" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "payments_registry_auth" {
  description = "base64 of user:password for registry.acme.example"
  type        = string
  sensitive   = true
  ephemeral   = true
}

resource "planton_kubernetes_job" "payments_reconcile" {
  metadata = {
    name = "payments-reconcile"
  }

  spec = {
    namespace = {
      value = "payments"
    }

    image = {
      repo = "registry.acme.example/payments/reconcile"
      tag  = "2026.12.1"
    }

    command = ["/app/reconcile", "--since", "24h"]
  }

  env_secrets_wo = {
    PAYMENTS_API_TOKEN = var.payments_api_token
  }
  # Bump when the token rotates.
  env_secrets_wo_version = 3

  docker_config_json_wo = jsonencode({
    auths = {
      "registry.acme.example" = { auth = var.payments_registry_auth }
    }
  })
  docker_config_json_wo_version = 1
}
