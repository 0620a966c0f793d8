output "region" {
  description = "AWS region (ODE__BLOBS__S3__REGION)."
  value       = var.region
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = module.vpc.vpc_id
}

output "availability_zones" {
  description = "The availability zones in use."
  value       = module.vpc.azs
}

output "nat_gateway_public_ips" {
  description = "Source addresses of the cluster's outbound traffic (for webhook receivers' allow-lists)."
  value       = module.vpc.nat_gateway_public_ips
}

output "eks_cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...; the CD workflow's EKS_CLUSTER)."
  value       = module.eks.cluster_name
}

output "eks_cluster_endpoint" {
  description = "Kubernetes API server URL."
  value       = module.eks.cluster_endpoint
}

output "api_role_arn" {
  description = "IAM role for the ode-api service account (annotation in infra/k8s/base/00-common.yaml)."
  value       = module.eks.api_role_arn
}

output "worker_role_arn" {
  description = "IAM role for the ode-worker service account (annotation in infra/k8s/base/00-common.yaml)."
  value       = module.eks.worker_role_arn
}

output "lb_controller_role_arn" {
  description = "IAM role for the AWS Load Balancer Controller's service account."
  value       = module.eks.lb_controller_role_arn
}

output "rds_endpoint" {
  description = "PostgreSQL host name (ODE__DATABASE__URL=postgres://USER:PASSWORD@<this>:5432/ode)."
  value       = module.rds.endpoint
}

output "rds_master_user_secret_arn" {
  description = "Secrets Manager secret with the generated administrator password."
  value       = module.rds.master_user_secret_arn
}

output "redis_endpoint" {
  description = "Redis primary host name (ODE__QUEUE__URL=rediss://:TOKEN@<this>:6379)."
  value       = module.redis.primary_endpoint
}

output "s3_buckets" {
  description = "Bucket names: documents, exports, fonts (ODE__BLOBS__S3__*_BUCKET)."
  value       = module.s3.bucket_names
}

output "ecr_repository_urls" {
  description = "ECR repository URLs by image name."
  value       = module.ecr.repository_urls
}

output "deploy_role_arn" {
  description = "IAM role the CD workflow assumes through OIDC (repository variable AWS_DEPLOY_ROLE_ARN)."
  value       = aws_iam_role.deploy.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the environment's data."
  value       = aws_kms_key.main.arn
}
