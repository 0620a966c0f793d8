variable "bucket_prefix" {
  description = "Globally unique prefix of the bucket names: <prefix>-documents, <prefix>-exports, <prefix>-fonts, <prefix>-access-logs."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{2,40}$", var.bucket_prefix))
    error_message = "bucket_prefix must be 3 to 41 lowercase letters, digits or dashes."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key for server-side encryption (SSE-KMS with bucket keys)."
  type        = string
}

variable "documents_ia_days" {
  description = "Days after which document objects move to Standard-IA."
  type        = number
  default     = 30
}

variable "documents_glacier_days" {
  description = "Days after which document objects move to Glacier Flexible Retrieval."
  type        = number
  default     = 90
}

variable "documents_expiry_days" {
  description = "Days after which document objects expire."
  type        = number
  default     = 365
}

variable "exports_expiry_days" {
  description = "Days after which export results expire."
  type        = number
  default     = 7
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object version is kept (the undo window)."
  type        = number
  default     = 30
}

variable "force_destroy" {
  description = "Let terraform destroy non-empty buckets (never in production)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
