//! The `planton_kubernetes_job` resource (placeholder).
