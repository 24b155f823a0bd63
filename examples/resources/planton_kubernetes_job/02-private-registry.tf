# Images from a private registry, in either of two ways. With
# `docker_config_json` the resource manages the pull Secret
# `<metadata.name>-image-pull-secret` itself; with `spec.image.pull_secret_name`
# the pod uses a `kubernetes.io/dockerconfigjson` Secret that already exists in
# the Job's namespace.

variable "registry_password" {
  description = "Token of the CI robot account on registry.acme.example."
  type        = string
  sensitive   = true
}

resource "planton_kubernetes_job" "invoice_render" {
  metadata = {
    name = "invoice-render"
  }

  # Sensitive: hidden in plan output, but stored in Terraform state.
  docker_config_json = jsonencode({
    auths = {
      "registry.acme.example" = {
        auth = base64encode("ci-robot:${var.registry_password}")
      }
    }
  })

  spec = {
    namespace = {
      value = "billing"
    }

    image = {
      repo = "registry.acme.example/billing/invoice-render"
      tag  = "2025.06.1"
    }
  }
}

resource "planton_kubernetes_job" "ledger_check" {
  metadata = {
    name = "ledger-check"
  }

  spec = {
    namespace = {
      value = "billing"
    }

    image = {
      repo = "registry.acme.example/billing/ledger-check"
      tag  = "3.2.0"
      # Created by the platform team's registry sync, not by Terraform.
      pull_secret_name = "acme-registry"
    }
  }
}
