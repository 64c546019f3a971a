"""Render a kustomization in Python: the subset ``deploy/k8s`` uses, and nothing more.

So the manifests can be checked where no ``kustomize`` binary is installed. It loads
``resources`` (files and directories), applies JSON 6902 ``patches``, ``replicas``, ``images``
and ``namespace``; any other field of a kustomization is refused, so a manifest change that
needs more fails here instead of being rendered wrong. Where ``kubectl`` is installed, a test
compares its output with kustomize's own.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "replicas", "patches"}


class UnsupportedError(ValueError):
    """The kustomization uses a feature this renderer does not implement."""


def render(directory: Path) -> list[Manifest]:
    """The manifests ``kustomize build directory`` would output (in file order)."""
    spec: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text("utf-8"))
    unknown = set(spec) - SUPPORTED
    if unknown:
        raise UnsupportedError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    manifests: list[Manifest] = []
    for resource in spec.get("resources", []):
        path = directory / resource
        if path.is_dir():
            manifests += render(path)
        else:
            manifests += [m for m in yaml.safe_load_all(path.read_text("utf-8")) if m]
    manifests = copy.deepcopy(manifests)
    for patch in spec.get("patches", []):
        _patch(manifests, patch)
    for replicas in spec.get("replicas", []):
        (target,) = _find(manifests, "Deployment", replicas["name"])
        target["spec"]["replicas"] = replicas["count"]
    for image in spec.get("images", []):
        _retag(manifests, image)
    if "namespace" in spec:
        for manifest in manifests:
            manifest["metadata"]["namespace"] = spec["namespace"]
    return manifests


def _find(manifests: list[Manifest], kind: str, name: str) -> list[Manifest]:
    found = [m for m in manifests if m["kind"] == kind and m["metadata"]["name"] == name]
    if not found:
        raise UnsupportedError(f"no {kind} {name} to change")
    return found


def _patch(manifests: list[Manifest], patch: dict[str, Any]) -> None:
    if set(patch) != {"target", "patch"} or set(patch["target"]) != {"kind", "name"}:
        raise UnsupportedError(f"only inline JSON 6902 patches by kind and name: {patch}")
    for target in _find(manifests, patch["target"]["kind"], patch["target"]["name"]):
        for operation in yaml.safe_load(patch["patch"]):
            _apply(target, operation)


def _apply(document: Manifest, operation: dict[str, Any]) -> None:
    *parents, last = [
        part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]
    ]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, operation["value"])
        elif op == "replace":
            node[index] = operation["value"]
        elif op == "remove":
            del node[index]
        else:
            raise UnsupportedError(f"JSON patch op {op}")
        return
    if op in ("replace", "remove") and last not in node:
        raise UnsupportedError(f"{operation['path']} does not exist")
    if op in ("add", "replace"):
        node[last] = operation["value"]
    elif op == "remove":
        del node[last]
    else:
        raise UnsupportedError(f"JSON patch op {op}")


def pod_spec(manifest: Manifest) -> Manifest | None:
    """The pod template's spec of a Deployment or a Job (``None`` for other kinds)."""
    if manifest["kind"] in ("Deployment", "Job"):
        spec: Manifest = manifest["spec"]["template"]["spec"]
        return spec
    return None


def _retag(manifests: list[Manifest], image: dict[str, str]) -> None:
    for manifest in manifests:
        spec = pod_spec(manifest)
        if spec is None:
            continue
        for container in spec.get("initContainers", []) + spec["containers"]:
            name = container["image"].split("@")[0].rsplit(":", 1)[0]
            if name == image["name"]:
                tag = image.get("newTag")
                new = image.get("newName", name)
                container["image"] = f"{new}:{tag}" if tag else new
