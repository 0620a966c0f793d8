# ODE production: network, EKS, PostgreSQL, Redis, buckets, image repositories, and the role the
# CD workflow assumes through GitHub's OIDC provider.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  name         = "ode-${var.environment}"
  cluster_name = "${local.name}-cluster"
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
}

# ---------------------------------------------------------------- encryption key
data "aws_iam_policy_document" "kms" {
  # checkov:skip=CKV_AWS_109:A KMS key policy's "*" resource means this key only; the account root keeps administration so the key can never become unmanageable.
  # checkov:skip=CKV_AWS_111:Same as CKV_AWS_109: key policy statements apply to this key alone.
  # checkov:skip=CKV_AWS_356:Same as CKV_AWS_109: in a key policy "*" is the key itself.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogs"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:*"]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${local.name}: EKS secrets, EBS, RDS, ElastiCache, S3, ECR, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.main.key_id
}

# ---------------------------------------------------------------- modules
module "vpc" {
  source = "../../modules/vpc"

  name               = local.name
  cidr_block         = var.vpc_cidr
  availability_zones = var.availability_zones
  cluster_name       = local.cluster_name
  kms_key_arn        = aws_kms_key.main.arn
}

module "s3" {
  source = "../../modules/s3"

  bucket_prefix          = var.bucket_prefix
  kms_key_arn            = aws_kms_key.main.arn
  documents_ia_days      = 30
  documents_glacier_days = 90
  documents_expiry_days  = 365
  exports_expiry_days    = 7
}

module "eks" {
  source = "../../modules/eks"

  name                         = local.cluster_name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.vpc.vpc_id
  subnet_ids                   = module.vpc.private_subnet_ids
  endpoint_public_access_cidrs = var.eks_public_access_cidrs
  kms_key_arn                  = aws_kms_key.main.arn
  system_node_group            = var.system_node_group
  worker_node_group            = var.worker_node_group
  app_namespace                = "ode"
  api_service_account          = "ode-api"
  worker_service_account       = "ode-worker"
  s3_bucket_arns               = module.s3.bucket_arns
  s3_kms_key_arn               = aws_kms_key.main.arn
}

module "rds" {
  source = "../../modules/rds"

  name                       = "${local.name}-postgres"
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.isolated_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = var.db_engine_version
  instance_class             = var.db_instance_class
  backup_retention_days      = 7
  kms_key_arn                = aws_kms_key.main.arn
}

module "redis" {
  source = "../../modules/redis"

  name                       = "${local.name}-redis"
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.isolated_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  engine_version             = "7.1"
  node_type                  = var.redis_node_type
  num_cache_clusters         = 2
  auth_token                 = var.redis_auth_token
  kms_key_arn                = aws_kms_key.main.arn
}

module "ecr" {
  source = "../../modules/ecr"

  repository_names = ["ode-api", "ode-worker", "ode-viewer"]
  kms_key_arn      = aws_kms_key.main.arn
}

# ---------------------------------------------------------------- CD role (GitHub OIDC)
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_github_oidc_provider ? 1 : 0

  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

locals {
  github_oidc_arn = var.create_github_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

data "aws_iam_policy_document" "deploy_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }

    # Only the production environment of this repository (main and release tags deploy there).
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:environment:production"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${local.name}-github-deploy"
  assume_role_policy   = data.aws_iam_policy_document.deploy_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "deploy" {
  # ecr:GetAuthorizationToken has no resource-level permissions: AWS requires "*" for it.
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "EcrPush"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:DescribeImageScanFindings",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = values(module.ecr.repository_arns)
  }

  statement {
    sid       = "EcrKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.main.arn]
  }

  statement {
    sid       = "Eks"
    actions   = ["eks:DescribeCluster"]
    resources = ["arn:${local.partition}:eks:${var.region}:${local.account_id}:cluster/${local.cluster_name}"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "ecr-push-eks-deploy"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}

# The deploy role may edit workloads in the ode namespace only.
resource "aws_eks_access_entry" "deploy" {
  cluster_name  = module.eks.cluster_name
  principal_arn = aws_iam_role.deploy.arn
  type          = "STANDARD"
}

resource "aws_eks_access_policy_association" "deploy" {
  cluster_name  = module.eks.cluster_name
  principal_arn = aws_iam_role.deploy.arn
  policy_arn    = "arn:${local.partition}:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"

  access_scope {
    type       = "namespace"
    namespaces = ["ode"]
  }

  depends_on = [aws_eks_access_entry.deploy]
}
