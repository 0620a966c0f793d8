output "bucket_names" {
  description = "Bucket names by purpose (documents, exports, fonts): ODE__BLOBS__S3__DOCUMENTS_BUCKET, _EXPORTS_BUCKET, _FONTS_BUCKET."
  value       = { for k, _ in local.buckets : k => aws_s3_bucket.this[k].bucket }
}

output "bucket_arns" {
  description = "ARNs of the documents, exports and fonts buckets (for the IRSA policies)."
  value       = [for k, _ in local.buckets : aws_s3_bucket.this[k].arn]
}

output "access_log_bucket" {
  description = "Bucket receiving the server access logs of the three buckets."
  value       = aws_s3_bucket.this["access-logs"].bucket
}
