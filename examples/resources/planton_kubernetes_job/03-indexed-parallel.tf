# An Indexed Job that splits a backfill into shards: each of the 16 pods gets
# its own index from 0 to 15 in JOB_COMPLETION_INDEX, and 4 run at once.
# A failed index gets a new pod (counted against `backoff_limit`); the Job
# completes when every index has succeeded.

resource "planton_kubernetes_job" "events_backfill" {
  metadata = {
    name = "events-backfill"
  }

  spec = {
    namespace = {
      value = "analytics"
    }

    image = {
      repo = "ghcr.io/acme/events-backfill"
      tag  = "v0.9.0"
    }

    completion_mode = "Indexed"
    completions     = 16 # required in Indexed mode: the number of indexes
    parallelism     = 4

    command = ["/bin/sh", "-c"]
    args    = ["exec /app/backfill --shard \"$JOB_COMPLETION_INDEX\" --shards 16"]
  }
}
