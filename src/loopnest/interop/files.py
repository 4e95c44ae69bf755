"""Check imported spec data with loopnest's own loaders, and write it as loopnest YAML files."""

from __future__ import annotations

from pathlib import Path

import yaml

from loopnest.interop import Imported, InteropError

KINDS = ("arch", "layer", "mapping")


def check(imp: Imported, source: str):
    """(Architecture, Problem, Mapping), each None where not imported; the loaders' errors name the
    input and say the data is imported (the fault may be a construct the importer mistranslates)."""
    from loopnest.arch import ArchSpecError, parse_arch
    from loopnest.mapping.io import parse_mapping
    from loopnest.mapping.mapping import MappingError, validate_structure
    from loopnest.workload.layer_ref import LayerRefError, parse_layer_spec

    arch = problem = mapping = None
    try:
        if imp.arch is not None:
            arch = parse_arch(imp.arch, source=f"{source} (imported architecture)")
        if imp.layer is not None:
            problem = parse_layer_spec(imp.layer, f"{source} (imported layer)")
        if imp.mapping is not None and arch is not None:
            mapping = parse_mapping(imp.mapping, arch, f"{source} (imported mapping)")
            if problem is not None:
                validate_structure(mapping, problem, arch)
    except (ArchSpecError, LayerRefError, MappingError) as e:
        raise InteropError(str(e)) from None
    return arch, problem, mapping


def out_paths(imp: Imported, out: Path) -> dict[str, Path]:
    """``out`` itself for one kind of spec; ``<stem>.arch.yaml`` etc. beside it for several."""
    kinds = [k for k in KINDS if getattr(imp, k) is not None]
    if len(kinds) == 1:
        return {kinds[0]: out}
    stem = out.name.removesuffix(".yaml").removesuffix(".yml")
    return {k: out.with_name(f"{stem}.{k}.yaml") for k in kinds}


def write(imp: Imported, out: Path, what: str) -> dict[str, Path]:
    """Each imported spec as a loopnest YAML file with a header naming the source and every note."""
    head = [f"# {what}, imported by loopnest. Loop orders are outer -> inner."]
    lines = imp.notes.lines()
    if lines:
        head.append(f"# Not represented or assumed ({len(lines)}):")
        head += [f"#   {line}" for line in lines]
    paths = out_paths(imp, out)
    try:
        for kind, path in paths.items():
            text = yaml.safe_dump(getattr(imp, kind), sort_keys=False, default_flow_style=None, width=120)
            path.write_text("\n".join(head) + "\n" + text)
    except OSError as e:
        raise InteropError(f"-o: {out}: cannot write ({e.strerror})") from None
    return paths
