# Created suspended, started later: the Job and everything it needs are
# created, but no pod starts while `suspend` is true, and apply does not wait
# for it. Set `suspend = false` (it changes in place) and apply again to
# start it; that apply waits for the Job to finish. Setting it back to true
# stops the running pods.

resource "planton_kubernetes_job" "customer_reindex" {
  metadata = {
    name = "customer-reindex"
  }

  spec = {
    namespace = {
      value = "search"
    }

    image = {
      repo = "ghcr.io/acme/search-reindex"
      tag  = "v5.1.0"
    }

    args = ["--index", "customers", "--batch-size", "500"]

    suspend = true
  }
}
