variable "name" {
  description = "Replication group id and prefix of its companion resources."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated subnets, one per zone."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 6379 (the EKS cluster security group)."
  type        = list(string)
}

variable "engine_version" {
  description = "Redis OSS engine version (7.x)."
  type        = string
  default     = "7.1"

  validation {
    condition     = startswith(var.engine_version, "7.")
    error_message = "ODE's queue is tested on Redis 7."
  }
}

variable "node_type" {
  description = "Cache node type."
  type        = string
  default     = "cache.t4g.medium"
}

variable "num_cache_clusters" {
  description = "Nodes in the replication group: a primary and its replicas in other zones (2 or more for automatic failover)."
  type        = number
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 2
    error_message = "Automatic failover needs at least 2 nodes."
  }
}

variable "auth_token" {
  description = "Redis AUTH token (16 to 128 printable characters, no @, \" or /). Give it through TF_VAR_redis_auth_token or a secrets store, never in a committed file."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.auth_token) >= 16 && length(var.auth_token) <= 128 && !can(regex("[@\"/ ]", var.auth_token))
    error_message = "auth_token must be 16 to 128 characters without @, \", / or spaces."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the data at rest and the snapshots."
  type        = string
}

variable "snapshot_retention_days" {
  description = "Days to keep daily snapshots."
  type        = number
  default     = 7
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
