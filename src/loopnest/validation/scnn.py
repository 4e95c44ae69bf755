"""SCNN's published structure (Parashar et al., ISCA 2017) against the ``scnn-like`` preset.

- 64 PEs in an 8 x 8 array, each a 4 x 4 multiplier array (F x I: the Cartesian product of 4
  non-zero weights and 4 non-zero activations), 1,024 multipliers in all: the preset's fanouts.
- 1 MB of activation RAM (IARAM + OARAM over the 64 PEs): the preset's ActRAM partitions, 16-bit
  values, MB = 2**20 bytes.
All exact (counts).

Not checked (the figures exist, our inputs do not): the 2.7x speedup and 2.3x energy over the dense
DCNN baseline need the pruned networks' per-layer weight and activation densities (the paper's
Figure 1), which our sources do not give (the searches: docs/arch.md); the area and energy per component are not in the
sources we can read.
"""

from __future__ import annotations

from collections.abc import Iterator

from loopnest.validation import Case

SOURCE = "SCNN (Parashar et al., ISCA 2017), abstract and architecture section"


def ours() -> dict[str, float]:
    from loopnest.arch import load_arch

    a = load_arch("scnn-like")
    act = a.levels[a.level_index("ActRAM")]
    pe_fan = a.levels[0].fanout
    mult_fan = a.levels[a.level_index("Accumulators")].fanout
    return {"pes": pe_fan.x * pe_fan.y, "pe_array": (pe_fan.x, pe_fan.y), "multipliers_per_pe": mult_fan.x * mult_fan.y,
            "multipliers": a.pes, "activation_ram_bytes": a.instances(1) * act.total_words * act.word_bits / 8}


def cases() -> Iterator[Case]:
    got = ours()
    yield Case("scnn-like PEs", SOURCE, "PEs (8 x 8 array)", 64, got["pes"], exact=True)
    yield Case("scnn-like multipliers per PE", SOURCE, "multipliers per PE (F x I = 4 x 4)", 16, got["multipliers_per_pe"], exact=True)
    yield Case("scnn-like multipliers", SOURCE, "multipliers in all", 1024, got["multipliers"], exact=True)
    yield Case("scnn-like activation RAM", SOURCE, "bytes of IARAM + OARAM over the PEs (1 MB)", 2**20,
               got["activation_ram_bytes"], exact=True)
