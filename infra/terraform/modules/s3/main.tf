# The three buckets ODE reads and writes (documents, exports, fonts) and a bucket receiving their
# access logs. All: SSE-KMS, versioning, every public access blocked, TLS-only bucket policy.

locals {
  buckets = {
    documents = "${var.bucket_prefix}-documents"
    exports   = "${var.bucket_prefix}-exports"
    fonts     = "${var.bucket_prefix}-fonts"
  }
  all_buckets = merge(local.buckets, { access-logs = "${var.bucket_prefix}-access-logs" })
}

resource "aws_s3_bucket" "this" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a per-deployment decision (cost, data residency); versioning, 7-day RDS PITR and the DR runbook in docs/DEPLOYMENT.md cover recovery.
  # checkov:skip=CKV2_AWS_61:Every bucket of this for_each has a lifecycle configuration below (documents, exports, fonts, access-logs); checkov does not follow for_each keys to them.
  # checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: the worker learns of new work from the queue, not from bucket events.
  for_each = local.all_buckets

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Purpose = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.all_buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

# S3 server access logging delivers only to buckets encrypted with SSE-S3.
resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  bucket = aws_s3_bucket.this["access-logs"].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = local.buckets

  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = aws_s3_bucket.this["access-logs"].id
  target_prefix = "${each.key}/"
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.all_buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "access-logs" ? [1] : []

    content {
      sid       = "S3ServerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["${aws_s3_bucket.this[each.key].arn}/*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.all_buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# Documents: 30 days Standard-IA, 90 days Glacier, expired after 365 days.
resource "aws_s3_bucket_lifecycle_configuration" "documents" {
  bucket = aws_s3_bucket.this["documents"].id

  rule {
    id     = "documents-tiering"
    status = "Enabled"

    filter {}

    transition {
      days          = var.documents_ia_days
      storage_class = "STANDARD_IA"
    }

    transition {
      days          = var.documents_glacier_days
      storage_class = "GLACIER"
    }

    expiration {
      days = var.documents_expiry_days
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# Exports: results are downloaded soon after they are made; gone after 7 days.
resource "aws_s3_bucket_lifecycle_configuration" "exports" {
  bucket = aws_s3_bucket.this["exports"].id

  rule {
    id     = "exports-expiry"
    status = "Enabled"

    filter {}

    expiration {
      days = var.exports_expiry_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# Fonts: kept while tenants use them; only old versions and failed uploads are cleaned.
resource "aws_s3_bucket_lifecycle_configuration" "fonts" {
  bucket = aws_s3_bucket.this["fonts"].id

  rule {
    id     = "fonts-cleanup"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  bucket = aws_s3_bucket.this["access-logs"].id

  rule {
    id     = "access-logs-expiry"
    status = "Enabled"

    filter {}

    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }

    expiration {
      days = 365
    }

    noncurrent_version_expiration {
      noncurrent_days = 7
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}
