"""Shared loaders for the infrastructure tests: Terraform (python-hcl2), manifests (PyYAML),
and the settings ODE's binaries read (parsed from ode-sdk/src/config.rs)."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest
import yaml

INFRA = Path(__file__).resolve().parents[1]
REPO = INFRA.parent
TF = INFRA / "terraform"
K8S = INFRA / "k8s"
DOCKER = INFRA / "docker"
WORKFLOWS = REPO / ".github" / "workflows"


def _is_body(d: dict) -> bool:
    """A block body: python-hcl2 wraps each of its attribute values in a list (and nested
    blocks are lists of bodies). An object expression (`{ a = 1 }`) has bare values."""
    values = [v for k, v in d.items() if not k.startswith("__")]
    return bool(values) and all(isinstance(v, list) for v in values)


def norm(value):
    """Unwrap python-hcl2's one-element attribute lists, recursively, so `x = ["a"]` reads
    ["a"], `x = 1` reads 1, and a lone nested block reads as a dict."""
    if isinstance(value, dict):
        body = _is_body(value)
        out = {}
        for k, v in value.items():
            if body and isinstance(v, list) and len(v) == 1:
                v = v[0]
            out[k] = norm(v)
        return out
    if isinstance(value, list):
        return [norm(v) for v in value]
    return value


def unwrap(value):
    """Values are already normalized by norm(); kept for readability at call sites."""
    return value


def load_hcl(path: Path) -> dict:
    with path.open() as fh:
        return norm(hcl2.load(fh))


class TfModule:
    """All the .tf files of one directory, merged."""

    def __init__(self, path: Path):
        self.path = path
        self.resources: dict[tuple[str, str], dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.variables: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.modules: dict[str, dict] = {}
        self.locals: dict[str, object] = {}
        self.terraform: list[dict] = []
        for f in sorted(path.glob("*.tf")):
            with f.open() as fh:
                doc = hcl2.load(fh)
            # Top-level block lists stay lists; everything inside is normalized.
            doc = {k: [norm(b) for b in v] for k, v in doc.items()}
            for block in doc.get("resource", []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        self.resources[(rtype, name)] = body
            for block in doc.get("data", []):
                for dtype, named in block.items():
                    for name, body in named.items():
                        self.data[(dtype, name)] = body
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("output", []):
                self.outputs.update(block)
            for block in doc.get("module", []):
                self.modules.update(block)
            for block in doc.get("locals", []):
                self.locals.update({k: v for k, v in block.items() if not k.startswith("__")})
            self.terraform.extend(doc.get("terraform", []))

    def resource(self, rtype: str, name: str) -> dict:
        assert (rtype, name) in self.resources, f"{self.path.name}: no {rtype}.{name}"
        return self.resources[(rtype, name)]

    def default(self, variable: str):
        return unwrap(self.variables[variable].get("default"))


def load_tf(rel: str) -> TfModule:
    return TfModule(TF / rel)


@pytest.fixture(scope="session")
def tf():
    """Every module and the production environment, by name."""
    mods = {p.name: TfModule(p) for p in sorted((TF / "modules").iterdir()) if p.is_dir()}
    mods["production"] = TfModule(TF / "envs" / "production")
    return mods


def load_manifests() -> list[dict]:
    docs = []
    for f in sorted((K8S / "base").glob("0*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            if doc:
                doc["__file__"] = f.name
                docs.append(doc)
    return docs


@pytest.fixture(scope="session")
def manifests():
    return load_manifests()


def find(docs, kind: str, name: str) -> dict:
    for d in docs:
        if d["kind"] == kind and d["metadata"]["name"] == name:
            return d
    raise AssertionError(f"no {kind}/{name} in infra/k8s/base")


def settings_fields() -> dict[str, dict[str, str]]:
    """struct name -> {field: type} for the structs of ode-sdk/src/config.rs."""
    text = (REPO / "ode-sdk" / "src" / "config.rs").read_text()
    structs = {}
    for m in re.finditer(r"pub struct (\w+) \{(.*?)\n\}", text, re.S):
        fields = dict(re.findall(r"pub (\w+): ([\w<>]+),", m.group(2)))
        structs[m.group(1)] = fields
    return structs


def setting_exists(env_name: str) -> bool:
    """Whether ODE__SECTION__FIELD names a leaf field of ode_sdk::config::Settings."""
    assert env_name.startswith("ODE__"), env_name
    structs = settings_fields()
    current = "Settings"
    parts = [p.lower() for p in env_name[len("ODE__"):].split("__")]
    for i, part in enumerate(parts):
        fields = structs.get(current)
        if fields is None or part not in fields:
            return False
        ty = fields[part]
        inner = re.sub(r"^Option<(.*)>$", r"\1", ty)
        if i < len(parts) - 1:
            current = inner
        elif inner in structs and inner not in ("Secret", "DataDir"):
            return False  # a section, not a setting
    return True
