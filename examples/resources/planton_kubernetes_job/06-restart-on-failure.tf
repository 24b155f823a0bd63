# Retries in the same pod with `restart_policy = "OnFailure"`: when the
# container fails, the kubelet restarts it in place instead of starting a new
# pod, so files it wrote to an emptyDir survive. The Job fails once the
# retries reach `backoff_limit` (Planton's default is 6).

resource "planton_kubernetes_job" "fx_rates_fetch" {
  metadata = {
    name = "fx-rates-fetch"
  }

  spec = {
    namespace = {
      value = "finance"
    }

    image = {
      repo = "ghcr.io/acme/fx-rates"
      tag  = "2.0.3"
    }

    args = ["fetch", "--cache-dir", "/cache", "--source", "ecb"]

    restart_policy = "OnFailure"
    backoff_limit  = 3

    volume_mounts = [
      {
        name       = "cache"
        mount_path = "/cache"
        empty_dir  = {}
      },
    ]
  }
}
