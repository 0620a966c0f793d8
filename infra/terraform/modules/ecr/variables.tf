variable "repository_names" {
  description = "ECR repositories to create, one per image."
  type        = list(string)
  default     = ["ode-api", "ode-worker", "ode-viewer"]
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the images."
  type        = string
}

variable "keep_images" {
  description = "Newest images kept per repository; older ones are expired."
  type        = number
  default     = 50
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
