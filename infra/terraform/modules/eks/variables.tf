variable "name" {
  description = "Name of the EKS cluster (also the prefix of its IAM roles and security groups)."
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes minor version of the control plane and the node groups. Must be one EKS supports (standard support): 1.33 or 1.34 in late 2026."
  type        = string
  default     = "1.34"

  validation {
    condition     = can(regex("^1\\.(3[3-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be 1.33 or newer (older versions are out of EKS standard support)."
  }
}

variable "vpc_id" {
  description = "ID of the VPC the cluster runs in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets (one per zone) for the control-plane network interfaces and the nodes."
  type        = list(string)
}

variable "endpoint_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (operators, CI runners). Never 0.0.0.0/0."
  type        = list(string)

  validation {
    condition     = length(var.endpoint_public_access_cidrs) > 0 && !contains(var.endpoint_public_access_cidrs, "0.0.0.0/0")
    error_message = "Give at least one CIDR, and not 0.0.0.0/0."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for envelope encryption of Kubernetes secrets and for the control-plane log group."
  type        = string
}

variable "system_node_group" {
  description = "System node group (CoreDNS, controllers, prometheus-adapter): instance types and autoscaling range."
  type = object({
    instance_types = list(string)
    desired_size   = number
    min_size       = number
    max_size       = number
    disk_size_gb   = number
  })
  default = {
    instance_types = ["t3.medium"]
    desired_size   = 2
    min_size       = 2
    max_size       = 10
    disk_size_gb   = 50
  }
}

variable "worker_node_group" {
  description = "Worker node group (API, export workers, viewer): instance types and autoscaling range."
  type = object({
    instance_types = list(string)
    desired_size   = number
    min_size       = number
    max_size       = number
    disk_size_gb   = number
    capacity_type  = string
  })
  default = {
    instance_types = ["t3.large"]
    desired_size   = 3
    min_size       = 2
    max_size       = 20
    disk_size_gb   = 50
    capacity_type  = "ON_DEMAND"
  }

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.worker_node_group.capacity_type)
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "addon_versions" {
  description = "Pinned versions of the managed add-ons (vpc-cni, coredns, kube-proxy, aws-ebs-csi-driver, eks-pod-identity-agent); an add-on left out gets the default version for the cluster's Kubernetes version."
  type        = map(string)
  default     = {}
}

variable "app_namespace" {
  description = "Kubernetes namespace of ODE's workloads (the IRSA trust policies name its service accounts)."
  type        = string
  default     = "ode"
}

variable "api_service_account" {
  description = "Name of the API's Kubernetes service account (trusted by the API's IAM role)."
  type        = string
  default     = "ode-api"
}

variable "worker_service_account" {
  description = "Name of the worker's Kubernetes service account (trusted by the worker's IAM role)."
  type        = string
  default     = "ode-worker"
}

variable "s3_bucket_arns" {
  description = "ARNs of the documents, exports and fonts buckets the API and the workers read and write."
  type        = list(string)
}

variable "s3_kms_key_arn" {
  description = "ARN of the KMS key the buckets are encrypted with (the IRSA roles may use it)."
  type        = string
}

variable "log_retention_days" {
  description = "Days to keep the control-plane logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
