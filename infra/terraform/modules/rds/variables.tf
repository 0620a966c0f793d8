variable "name" {
  description = "Identifier of the database instance and prefix of its companion resources."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC."
  type        = string
}

variable "subnet_ids" {
  description = "Isolated subnets (no route out of the VPC), one per zone."
  type        = list(string)
}

variable "allowed_security_group_ids" {
  description = "Security groups allowed to connect on 5432 (the EKS cluster security group); nothing else can."
  type        = list(string)
}

variable "engine_version" {
  description = "PostgreSQL major version (AWS applies the latest minor version; 15.4 of the original report is no longer offered)."
  type        = string
  default     = "17"
}

variable "instance_class" {
  description = "Instance class of the primary and its Multi-AZ standby."
  type        = string
  default     = "db.t4g.medium"
}

variable "allocated_storage_gb" {
  description = "Initial storage, in GiB."
  type        = number
  default     = 50
}

variable "max_allocated_storage_gb" {
  description = "Ceiling for storage autoscaling, in GiB."
  type        = number
  default     = 500
}

variable "database_name" {
  description = "Name of the database ODE uses."
  type        = string
  default     = "ode"
}

variable "master_username" {
  description = "Administrator user; its password is generated and kept in Secrets Manager by RDS (never in Terraform state)."
  type        = string
  default     = "ode_admin"
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery."
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 7
    error_message = "Keep at least 7 days of backups."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting storage, Performance Insights and the master-user secret."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the instance (turn off only to tear an environment down)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
