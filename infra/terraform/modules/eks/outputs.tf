output "cluster_name" {
  description = "Name of the EKS cluster (aws eks update-kubeconfig --name ...)."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "URL of the Kubernetes API server."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_version" {
  description = "Kubernetes version of the control plane."
  value       = aws_eks_cluster.this.version
}

output "cluster_certificate_authority_data" {
  description = "Base64 CA certificate of the Kubernetes API server."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "cluster_security_group_id" {
  description = "Security group EKS attaches to the control plane and every managed node; the databases admit only this group."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for IRSA."
  value       = aws_iam_openid_connect_provider.this.arn
}

output "api_role_arn" {
  description = "IAM role of the ode-api service account (eks.amazonaws.com/role-arn annotation)."
  value       = aws_iam_role.api.arn
}

output "worker_role_arn" {
  description = "IAM role of the ode-worker service account (eks.amazonaws.com/role-arn annotation)."
  value       = aws_iam_role.worker.arn
}

output "lb_controller_role_arn" {
  description = "IAM role for the AWS Load Balancer Controller's service account (attach the controller's published policy to it)."
  value       = aws_iam_role.lb_controller.arn
}

output "node_role_arn" {
  description = "IAM role of the managed nodes."
  value       = aws_iam_role.node.arn
}

output "node_groups" {
  description = "Autoscaling ranges of the node groups, by name."
  value = {
    for k, g in aws_eks_node_group.this : k => {
      min_size = g.scaling_config[0].min_size
      max_size = g.scaling_config[0].max_size
    }
  }
}
