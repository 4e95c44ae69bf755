"""Check imported spec data with loopnest's own loaders, and write it as loopnest YAML files."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from loopnest.interop import Imported, InteropError



def check(imp: Imported, source: str):
    """(Architecture, the first Problem, Mapping), each None where not imported (every layer is
    checked); the loaders' errors name the
    input and say the data is imported (the fault may be a construct the importer mistranslates)."""
    from loopnest.arch import ArchSpecError, parse_arch
    from loopnest.mapping.io import parse_mapping
    from loopnest.mapping.mapping import MappingError, validate_structure
    from loopnest.workload.layer_ref import LayerRefError, parse_layer_spec

    arch = problem = mapping = None
    try:
        if imp.arch is not None:
            arch = parse_arch(imp.arch, source=f"{source} (imported architecture)")
        problems = [parse_layer_spec(layer, f"{source} (imported layer {layer['layer']['name']})") for layer in imp.layers]
        problem = problems[0] if problems else None
        if imp.mapping is not None and arch is not None:
            mapping = parse_mapping(imp.mapping, arch, f"{source} (imported mapping)")
            if problem is not None:
                validate_structure(mapping, problem, arch)
    except (ArchSpecError, LayerRefError, MappingError) as e:
        raise InteropError(str(e)) from None
    return arch, problem, mapping


def _specs(imp: Imported) -> dict[str, dict]:
    """The specs to write by key: arch, layer (one) or layer:<name> (several), mapping."""
    out: dict[str, dict] = {}
    if imp.arch is not None:
        out["arch"] = imp.arch
    if len(imp.layers) == 1:
        out["layer"] = imp.layers[0]
    for layer in imp.layers if len(imp.layers) > 1 else ():
        out[f"layer:{layer['layer']['name']}"] = layer
    if imp.mapping is not None:
        out["mapping"] = imp.mapping
    return out


def out_paths(imp: Imported, out: Path) -> dict[str, Path]:
    """``out`` itself for one spec; for several, ``<stem>.arch.yaml``, ``<stem>.layer.yaml`` (or
    ``<stem>.<layer name>.layer.yaml`` each), ``<stem>.mapping.yaml`` beside it."""
    keys = list(_specs(imp))
    if len(keys) == 1:
        return {keys[0]: out}
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    safe = {k: re.sub(r"[^A-Za-z0-9._-]", "_", k.split(":", 1)[1]) + ".layer" if k.startswith("layer:") else k
            for k in keys}
    return {k: out.with_name(f"{stem}.{safe[k]}.yaml") for k in keys}


def write(imp: Imported, out: Path, what: str) -> dict[str, Path]:
    """Each imported spec as a loopnest YAML file with a header naming the source and every note."""
    head = [f"# {what}, imported by loopnest. Loop orders are outer -> inner."]
    lines = imp.notes.lines()
    if lines:
        head.append(f"# Not represented or assumed ({len(lines)}):")
        head += [f"#   {line}" for line in lines]
    paths, specs = out_paths(imp, out), _specs(imp)
    if not specs:
        raise InteropError("the inputs hold no architecture, layer or mapping to write")
    try:
        for kind, path in paths.items():
            text = yaml.safe_dump(specs[kind], sort_keys=False, default_flow_style=None, width=120)
            path.write_text("\n".join(head) + "\n" + text)
    except OSError as e:
        raise InteropError(f"-o: {out}: cannot write ({e.strerror})") from None
    return paths
