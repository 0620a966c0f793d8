variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Environment name, used in resource names and tags."
  type        = string
  default     = "production"
}

variable "vpc_cidr" {
  description = "IPv4 CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"
}

variable "availability_zones" {
  description = "The three availability zones (one public, one private and one isolated subnet and one NAT gateway in each)."
  type        = list(string)
  default     = ["us-east-1a", "us-east-1b", "us-east-1c"]

  validation {
    condition     = length(var.availability_zones) == 3
    error_message = "Production runs in exactly three availability zones."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version (one in EKS standard support: 1.33 or 1.34 in late 2026)."
  type        = string
  default     = "1.34"
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to reach the public Kubernetes API endpoint (operators' networks, CI runners)."
  type        = list(string)
}

variable "system_node_group" {
  description = "System node group: instance types, desired, min and max size, disk size in GiB."
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
  description = "Worker node group: instance types, desired, min and max size, disk size in GiB, ON_DEMAND or SPOT."
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
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_engine_version" {
  description = "PostgreSQL major version."
  type        = string
  default     = "17"
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.medium"
}

variable "redis_auth_token" {
  description = "Redis AUTH token; pass it as TF_VAR_redis_auth_token, never in a committed file."
  type        = string
  sensitive   = true
}

variable "bucket_prefix" {
  description = "Globally unique prefix for the S3 bucket names (for example acme-ode-prod)."
  type        = string
}

variable "github_repository" {
  description = "GitHub repository (owner/name) whose CD workflow may assume the deploy role through OIDC."
  type        = string
}

variable "create_github_oidc_provider" {
  description = "Create the account's GitHub Actions OIDC provider (false when the account already has one)."
  type        = bool
  default     = true
}
