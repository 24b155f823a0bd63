# Run the Job again when something it depends on changes: any change to a
# value in `rerun_triggers` replaces the Job, so the next apply runs it anew.
# Here the schema migrations run again when a new migration is added or the
# `stable` tag points at a new image digest. Use values that change only when
# the Job should run again: `timestamp()` changes on every plan, so the Job
# would be replaced on every apply.

variable "catalog_migration_version" {
  description = "Newest migration in the release, for example 2025_06_02_add_sku_index."
  type        = string
}

variable "catalog_migrations_digest" {
  description = "Digest the stable tag of the migrations image points at, as CI resolved it."
  type        = string
}

resource "planton_kubernetes_job" "catalog_migrate" {
  metadata = {
    name = "catalog-migrate"
  }

  rerun_triggers = {
    migration_version = var.catalog_migration_version
    image_digest      = var.catalog_migrations_digest
  }

  spec = {
    namespace = {
      value = "catalog"
    }

    image = {
      repo = "ghcr.io/acme/catalog-migrations"
      tag  = "stable"
    }

    args = ["up", "--to", var.catalog_migration_version]
  }
}
