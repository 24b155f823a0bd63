# Write a Job managed by Terraform as a Project Planton manifest, for example
# to hand the same Job to Planton's CLI.
resource "planton_kubernetes_job" "hello" {
  metadata = {
    name = "hello-world"
  }
  spec = {
    namespace = { value = "default" }
    image     = { repo = "busybox", tag = "latest" }
    command   = ["echo", "Hello, World!"]
  }
}

# The resource's attributes include the defaults the provider planned (such
# as parallelism = 1). With literal env secret values in the spec, mark the
# output sensitive.
output "hello_manifest" {
  value = yamlencode(provider::planton::kubernetes_job_manifest(
    planton_kubernetes_job.hello.metadata,
    planton_kubernetes_job.hello.spec,
  ))
}
