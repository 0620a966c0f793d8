variable "name" {
  description = "Name prefix for every resource of the network (for example ode-production)."
  type        = string
}

variable "cidr_block" {
  description = "IPv4 CIDR block of the VPC; public, private and isolated subnets are carved from it."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 16
    error_message = "cidr_block must be a valid IPv4 CIDR of size /16 or larger."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread over (3 in production); each gets one public, one private and one isolated subnet and one NAT gateway."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4 && length(distinct(var.availability_zones)) == length(var.availability_zones)
    error_message = "Give 2 to 4 distinct availability zones."
  }
}

variable "cluster_name" {
  description = "Name of the EKS cluster that will use the subnets (for the kubernetes.io/cluster tag the load balancer controller reads)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the flow-log log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Days to keep VPC flow logs in CloudWatch Logs."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
