# The API server's address, a bearer token and the CA that signed the
# server's certificate. With `host` set and no kubeconfig named, no
# kubeconfig is read at all, so the credentials of your default cluster never
# reach this host.

variable "cluster_endpoint" {
  description = "The API server, e.g. https://203.0.113.10:6443."
  type        = string
}

variable "cluster_ca_certificate" {
  description = "The cluster's CA certificate, PEM."
  type        = string
}

variable "cluster_token" {
  description = "A service account or OIDC token."
  type        = string
  sensitive   = true
}

provider "planton" {
  alias = "token"

  host                   = var.cluster_endpoint
  token                  = var.cluster_token
  cluster_ca_certificate = var.cluster_ca_certificate
}
