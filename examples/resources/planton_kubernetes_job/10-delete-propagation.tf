# Wait for the pods when the Job is deleted: with `delete_propagation =
# "Foreground"`, destroy (and replacement) waits until the Job's pods are
# gone, so a replacement never runs next to pods of the old Job, which
# matters for a Job that must not run twice at once or that holds a
# ReadWriteOnce volume. The default, `"Background"`, deletes the Job at once
# and its pods right after.

resource "planton_kubernetes_job" "search_snapshot" {
  metadata = {
    name = "search-snapshot"
  }

  delete_propagation = "Foreground"

  timeouts = {
    delete = "15m" # destroy waits for the pods to stop
  }

  spec = {
    namespace = {
      value = "search"
    }

    image = {
      repo = "ghcr.io/acme/search-snapshot"
      tag  = "1.12.0"
    }

    args = ["snapshot", "--to", "/snapshots"]

    volume_mounts = [
      {
        name       = "snapshots"
        mount_path = "/snapshots"
        pvc = {
          claim_name = "search-snapshots"
        }
      },
    ]
  }
}
