# Start a long Job without waiting for it: with `wait_for_completion = false`,
# apply returns once the objects are created, and a later refresh records
# the Job's progress in `status`. `timeouts.create` then covers only creating
# the objects; `timeouts.delete` covers destroy, which waits for the Job to be
# gone.

resource "planton_kubernetes_job" "clickstream_rebuild" {
  metadata = {
    name = "clickstream-rebuild"
  }

  wait_for_completion = false

  timeouts = {
    create = "2m"
    delete = "10m"
  }

  spec = {
    namespace = {
      value = "analytics"
    }

    image = {
      repo = "ghcr.io/acme/clickstream"
      tag  = "v3.0.1"
    }

    args = ["rebuild", "--since", "2024-01-01"]

    # Kubernetes stops the Job after 6 hours. 0, like leaving it out, means
    # no deadline, as in Planton.
    active_deadline_seconds = 21600
  }
}
