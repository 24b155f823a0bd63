# Every Job in the namespace "reports" that a planton_kubernetes_job created.
# `terraform query -generate-config-out=jobs.tf` writes an import block and a
# resource for each of them.
list "planton_kubernetes_job" "reports" {
  provider         = planton
  include_resource = true

  config {
    namespace      = "reports"
    label_selector = "planton.ai/resource=true"
  }
}
