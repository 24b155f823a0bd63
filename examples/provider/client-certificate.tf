# TLS client certificates, as kubeadm writes them for cluster admins. A
# kubeconfig's *-data fields are base64: decode them to PEM.

variable "client_certificate_data" {
  description = "The kubeconfig user's client-certificate-data (base64)."
  type        = string
}

variable "client_key_data" {
  description = "The kubeconfig user's client-key-data (base64)."
  type        = string
  sensitive   = true
}

provider "planton" {
  alias = "client_certificate"

  host                   = var.cluster_endpoint
  cluster_ca_certificate = var.cluster_ca_certificate
  client_certificate     = base64decode(var.client_certificate_data)
  client_key             = base64decode(var.client_key_data)
}
