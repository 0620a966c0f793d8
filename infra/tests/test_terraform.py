"""US-005 (VPC and EKS) and the data services, checked on the Terraform source."""

from __future__ import annotations

import ipaddress
import re

import pytest

from conftest import TF, load_hcl, unwrap

MODULES = ["vpc", "eks", "rds", "redis", "s3", "ecr"]


def test_every_module_and_the_environment_exist_with_their_four_files(tf):
    for name in MODULES:
        for f in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
            assert (TF / "modules" / name / f).is_file(), f"modules/{name}/{f}"
    for f in ("main.tf", "variables.tf", "outputs.tf", "backend.tf", "versions.tf", "terraform.tfvars.example"):
        assert (TF / "envs" / "production" / f).is_file(), f"envs/production/{f}"


def test_every_variable_is_typed_and_described_and_every_output_described(tf):
    for mod_name, mod in tf.items():
        assert mod.variables, mod_name
        for name, var in mod.variables.items():
            assert unwrap(var.get("type")), f"{mod_name}: variable {name} has no type"
            assert len(unwrap(var.get("description", "")) or "") > 10, f"{mod_name}: variable {name} has no description"
        for name, out in mod.outputs.items():
            assert len(unwrap(out.get("description", "")) or "") > 10, f"{mod_name}: output {name} has no description"


def test_terraform_and_the_aws_provider_are_pinned(tf):
    for mod_name, mod in tf.items():
        blocks = [b for b in mod.terraform if "required_providers" in b]
        assert blocks, f"{mod_name}: no required_providers"
        block = blocks[0]
        assert re.match(r">= 1\.1\d", unwrap(block["required_version"])), mod_name
        aws = unwrap(block["required_providers"])["aws"]
        assert aws["source"] == "hashicorp/aws"
        assert aws["version"].startswith("~> "), f"{mod_name}: aws provider not pinned to a major version"


def test_remote_state_is_in_s3_encrypted_and_locked(tf):
    backends = [unwrap(b["backend"]) for b in tf["production"].terraform if "backend" in b]
    assert backends, "no backend block"
    s3 = backends[0]["s3"]
    assert s3["encrypt"] is True
    assert s3["use_lockfile"] is True or s3.get("dynamodb_table")
    assert s3["key"].endswith(".tfstate")


# ------------------------------------------------------------------ US-005 AC1/AC3: network
def _cidrsubnet(prefix: str, newbits: int, netnum: int) -> ipaddress.IPv4Network:
    net = ipaddress.ip_network(prefix)
    return list(net.subnets(prefixlen_diff=newbits))[netnum]


def _tier_cidrs(vpc, local: str, vpc_cidr: str, azs: int):
    expr = vpc.locals[local]
    m = re.search(r"cidrsubnet\(var\.cidr_block,\s*(\d+),\s*(?:(\d+)\s*\+\s*)?i(?:\s*\+\s*(\d+))?\)", expr)
    assert m, f"{local}: {expr}"
    newbits, base, plus = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    return [_cidrsubnet(vpc_cidr, newbits, base + i + plus) for i in range(azs)]


def test_three_availability_zones_nine_subnets_three_nat_gateways(tf):
    vpc, prod = tf["vpc"], tf["production"]
    azs = prod.default("availability_zones")
    assert len(azs) == 3 and len(set(azs)) == 3
    assert "length(var.availability_zones) == 3" in unwrap(prod.variables["availability_zones"]["validation"])["condition"]
    example = load_hcl(TF / "envs" / "production" / "terraform.tfvars.example")
    assert len(example["availability_zones"]) == 3
    assert unwrap(prod.modules["vpc"]["availability_zones"]) == "${var.availability_zones}"

    assert vpc.locals["az_count"] == "${length(var.availability_zones)}"
    subnets = [k for k in vpc.resources if k[0] == "aws_subnet"]
    assert sorted(n for _, n in subnets) == ["isolated", "private", "public"]
    for _, name in subnets:
        assert unwrap(vpc.resource("aws_subnet", name)["count"]) == "${local.az_count}"
    assert len(subnets) * len(azs) == 9

    for rtype in ("aws_nat_gateway", "aws_eip"):
        (key,) = [k for k in vpc.resources if k[0] == rtype]
        assert unwrap(vpc.resources[key]["count"]) == "${local.az_count}", rtype
    nat = vpc.resource("aws_nat_gateway", "this")
    assert unwrap(nat["subnet_id"]) == "${aws_subnet.public[count.index].id}"


def test_subnet_ranges_fit_the_vpc_and_never_overlap(tf):
    vpc, prod = tf["vpc"], tf["production"]
    cidr = prod.default("vpc_cidr")
    nets = []
    for local in ("public_cidrs", "private_cidrs", "isolated_cidrs"):
        nets += _tier_cidrs(vpc, local, cidr, 3)
    assert len(nets) == 9
    for n in nets:
        assert n.subnet_of(ipaddress.ip_network(cidr))
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.overlaps(b), (a, b)


def test_private_subnets_go_out_only_through_their_zones_nat_and_isolated_ones_not_at_all(tf):
    vpc = tf["vpc"]
    private = vpc.resource("aws_route_table", "private")
    assert unwrap(private["count"]) == "${local.az_count}"
    route = private["route"]
    assert isinstance(route, dict), "exactly one route"
    assert route["cidr_block"] == "0.0.0.0/0"
    assert route["nat_gateway_id"] == "${aws_nat_gateway.this[count.index].id}"
    assert "gateway_id" not in route
    assert "route" not in vpc.resource("aws_route_table", "isolated")
    assert vpc.resource("aws_route_table", "public")["route"]["gateway_id"] == "${aws_internet_gateway.this.id}"
    assert unwrap(vpc.resource("aws_subnet", "public")["map_public_ip_on_launch"]) is False
    assert unwrap(vpc.resource("aws_route_table_association", "isolated")["route_table_id"]) == "${aws_route_table.isolated.id}"


def test_flow_logs_record_all_traffic_to_an_encrypted_log_group(tf):
    vpc = tf["vpc"]
    flow = vpc.resource("aws_flow_log", "this")
    assert unwrap(flow["traffic_type"]) == "ALL"
    assert unwrap(flow["vpc_id"]) == "${aws_vpc.this.id}"
    assert unwrap(vpc.resource("aws_cloudwatch_log_group", "flow_logs")["kms_key_id"]) == "${var.kms_key_arn}"


# ------------------------------------------------------------------ US-005 AC2: EKS
def test_eks_runs_a_kubernetes_version_aws_still_supports(tf):
    for mod in (tf["eks"], tf["production"]):
        version = mod.default("kubernetes_version")
        major, minor = (int(x) for x in version.split("."))
        assert (major, minor) >= (1, 33), f"{version} is out of EKS standard support in late 2026"
    example = load_hcl(TF / "envs" / "production" / "terraform.tfvars.example")
    assert example["kubernetes_version"] in ("1.33", "1.34", "1.35")


def test_eks_has_system_and_worker_node_groups_in_the_private_subnets(tf):
    eks, prod = tf["eks"], tf["production"]
    system, worker = prod.default("system_node_group"), prod.default("worker_node_group")
    assert system["instance_types"] == ["t3.medium"] and system["desired_size"] == 2
    assert (system["min_size"], system["max_size"]) == (2, 10)
    assert worker["instance_types"] == ["t3.large"] and worker["desired_size"] == 3
    assert (worker["min_size"], worker["max_size"]) == (2, 20)
    ng = eks.resource("aws_eks_node_group", "this")
    assert unwrap(ng["for_each"]) == "${local.node_groups}"
    assert unwrap(ng["subnet_ids"]) == "${var.subnet_ids}"
    assert unwrap(prod.modules["eks"]["subnet_ids"]) == "${module.vpc.private_subnet_ids}"
    assert "system" in eks.locals["node_groups"] and "worker" in eks.locals["node_groups"]


def test_eks_has_the_managed_addons_irsa_and_encrypted_secrets(tf):
    eks = tf["eks"]
    for addon in ("vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver"):
        assert addon in eks.locals["addons"], addon
    assert ("aws_iam_openid_connect_provider", "this") in eks.resources
    for role in ("api", "worker"):
        r = eks.resource("aws_iam_role", role)
        assert f'irsa_assume["{role}"]' in unwrap(r["assume_role_policy"])
        assert (("aws_iam_role_policy", f"{role}_s3")) in eks.resources
    assert "system:serviceaccount:${var.app_namespace}:${var.api_service_account}" in str(eks.locals["irsa_subjects"])
    policy = eks.data[("aws_iam_policy_document", "app_s3")]
    assert any("var.s3_bucket_arns" in str(s) for s in policy["statement"])
    cluster = eks.resource("aws_eks_cluster", "this")
    assert unwrap(cluster["encryption_config"])["resources"] == ["secrets"]
    assert unwrap(cluster["vpc_config"])["endpoint_private_access"] is True
    prod = tf["production"]
    assert unwrap(prod.modules["eks"]["s3_bucket_arns"]) == "${module.s3.bucket_arns}"


# ------------------------------------------------------------------ RDS
def test_rds_is_multi_az_encrypted_backed_up_for_7_days_and_private(tf):
    rds, prod = tf["rds"], tf["production"]
    db = rds.resource("aws_db_instance", "this")
    assert unwrap(db["engine"]) == "postgres"
    assert unwrap(db["multi_az"]) is True
    assert unwrap(db["storage_encrypted"]) is True
    assert unwrap(db["performance_insights_enabled"]) is True
    assert unwrap(db["publicly_accessible"]) is False
    assert unwrap(db["deletion_protection"]) == "${var.deletion_protection}" and rds.default("deletion_protection") is True
    assert unwrap(db["backup_retention_period"]) == "${var.backup_retention_days}"
    assert rds.default("backup_retention_days") == 7
    assert unwrap(prod.modules["rds"]["backup_retention_days"]) == 7
    assert unwrap(db["manage_master_user_password"]) is True, "no password in Terraform state"


def test_rds_and_redis_live_in_isolated_subnets_reachable_only_from_the_cluster(tf):
    prod = tf["production"]
    for name, port in (("rds", 5432), ("redis", 6379)):
        mod = tf[name]
        assert unwrap(prod.modules[name]["subnet_ids"]) == "${module.vpc.isolated_subnet_ids}"
        assert unwrap(prod.modules[name]["allowed_security_group_ids"]) == ["${module.eks.cluster_security_group_id}"]
        rules = [k for k in mod.resources if k[0] in ("aws_vpc_security_group_ingress_rule", "aws_security_group_rule")]
        assert len(rules) == 1, rules
        rule = mod.resources[rules[0]]
        assert "referenced_security_group_id" in rule and "cidr_ipv4" not in rule
        assert unwrap(rule["from_port"]) == port == unwrap(rule["to_port"])
        assert "ingress" not in mod.resource("aws_security_group", "this")


# ------------------------------------------------------------------ Redis
def test_redis_7_two_nodes_automatic_failover_tls_and_auth(tf):
    redis, prod = tf["redis"], tf["production"]
    rg = redis.resource("aws_elasticache_replication_group", "this")
    assert unwrap(prod.modules["redis"]["engine_version"]).startswith("7.")
    assert unwrap(prod.modules["redis"]["num_cache_clusters"]) == 2
    assert unwrap(rg["automatic_failover_enabled"]) is True
    assert unwrap(rg["multi_az_enabled"]) is True
    assert unwrap(rg["transit_encryption_enabled"]) is True
    assert unwrap(rg["at_rest_encryption_enabled"]) is True
    assert unwrap(rg["auth_token"]) == "${var.auth_token}"
    assert redis.variables["auth_token"]["sensitive"] is True
    assert unwrap(prod.variables["redis_auth_token"]["sensitive"]) is True


# ------------------------------------------------------------------ S3
def _lifecycle_rule(s3, bucket):
    return unwrap(s3.resource("aws_s3_bucket_lifecycle_configuration", bucket)["rule"])


def test_documents_go_to_ia_at_30_days_glacier_at_90_and_expire_at_365(tf):
    s3, prod = tf["s3"], tf["production"]
    rule = _lifecycle_rule(s3, "documents")
    transitions = {unwrap(t["storage_class"]): unwrap(t["days"]) for t in rule["transition"]}
    assert transitions == {"STANDARD_IA": "${var.documents_ia_days}", "GLACIER": "${var.documents_glacier_days}"}
    assert unwrap(rule["expiration"])["days"] == "${var.documents_expiry_days}"
    assert (s3.default("documents_ia_days"), s3.default("documents_glacier_days"), s3.default("documents_expiry_days")) == (30, 90, 365)
    env = prod.modules["s3"]
    assert (unwrap(env["documents_ia_days"]), unwrap(env["documents_glacier_days"]), unwrap(env["documents_expiry_days"])) == (30, 90, 365)


def test_exports_expire_after_7_days_and_fonts_are_kept(tf):
    s3, prod = tf["s3"], tf["production"]
    rule = _lifecycle_rule(s3, "exports")
    assert unwrap(rule["expiration"])["days"] == "${var.exports_expiry_days}"
    assert s3.default("exports_expiry_days") == 7 and unwrap(prod.modules["s3"]["exports_expiry_days"]) == 7
    fonts = _lifecycle_rule(s3, "fonts")
    assert "expiration" not in fonts
    assert set(s3.locals["buckets"]) == {"documents", "exports", "fonts"}


def test_buckets_are_encrypted_versioned_and_never_public(tf):
    s3 = tf["s3"]
    sse = s3.resource("aws_s3_bucket_server_side_encryption_configuration", "this")
    assert unwrap(sse["for_each"]) == "${local.buckets}"
    default = unwrap(unwrap(sse["rule"])["apply_server_side_encryption_by_default"])
    assert default["sse_algorithm"] == "aws:kms"
    versioning = s3.resource("aws_s3_bucket_versioning", "this")
    assert unwrap(versioning["for_each"]) == "${local.all_buckets}"
    assert unwrap(versioning["versioning_configuration"])["status"] == "Enabled"
    pab = s3.resource("aws_s3_bucket_public_access_block", "this")
    assert unwrap(pab["for_each"]) == "${local.all_buckets}"
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert unwrap(pab[flag]) is True, flag


# ------------------------------------------------------------------ ECR
def test_ecr_repositories_are_immutable_and_scanned_on_push(tf):
    ecr, prod = tf["ecr"], tf["production"]
    repo = ecr.resource("aws_ecr_repository", "this")
    assert unwrap(repo["image_tag_mutability"]) == "IMMUTABLE"
    assert unwrap(repo["image_scanning_configuration"])["scan_on_push"] is True
    assert set(unwrap(prod.modules["ecr"]["repository_names"])) == {"ode-api", "ode-worker", "ode-viewer"}


def test_the_cd_role_is_assumed_through_github_oidc_only(tf):
    prod = tf["production"]
    trust = prod.data[("aws_iam_policy_document", "deploy_assume")]
    text = str(trust)
    assert "sts:AssumeRoleWithWebIdentity" in text
    assert "token.actions.githubusercontent.com:sub" in text
    assert not [k for k in prod.resources if k[0] == "aws_iam_access_key"], "no long-lived keys"
