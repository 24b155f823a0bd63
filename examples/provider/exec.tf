# An exec credential plugin fetches a short-lived token when a job first
# needs the cluster: here Amazon EKS (gke-gcloud-auth-plugin and kubelogin
# work the same way). If the plugin fails, its standard error is shown.

variable "eks_cluster_name" {
  description = "The EKS cluster's name."
  type        = string
}

variable "eks_endpoint" {
  description = "The EKS cluster's API server endpoint."
  type        = string
}

variable "eks_ca_data" {
  description = "The EKS cluster's certificate authority data (base64)."
  type        = string
}

provider "planton" {
  alias = "exec"

  host                   = var.eks_endpoint
  cluster_ca_certificate = base64decode(var.eks_ca_data)
  exec = {
    api_version = "client.authentication.k8s.io/v1beta1"
    command     = "aws"
    args        = ["eks", "get-token", "--cluster-name", var.eks_cluster_name]
    env = {
      AWS_PROFILE = "prod"
    }
  }
}
