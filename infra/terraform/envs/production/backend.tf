# Remote state in S3, locked with an S3 lock file (Terraform 1.10+, no DynamoDB table needed).
# The bucket is created once by hand (docs/DEPLOYMENT.md, step 1); another account or region:
#   terraform init -backend-config="bucket=<name>" -backend-config="region=<region>"
terraform {
  backend "s3" {
    bucket       = "ode-terraform-state"
    key          = "ode/production/terraform.tfstate"
    region       = "us-east-1"
    encrypt      = true
    use_lockfile = true
  }
}
