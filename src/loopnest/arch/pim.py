"""Energy and area per MAC of an analog processing-in-memory crossbar (``PimArray``).

One pass applies one ``dac_bits`` slice of an input vector to all ``rows`` (one DAC conversion
per row), reads every cell once and converts every column once (ADC); it performs
``rows * weights_per_row`` MACs on that slice. A full MAC needs ``ceil(operand_bits / dac_bits)``
passes (bit-serial inputs, seed 004). With ``used_rows`` x ``used_weights`` of the array holding
useful weights the conversions are still paid for the rows and columns that are driven, so the
energy per useful MAC rises as utilization falls (seed 004: "lower utilization ... increased
energy consumption"): the DAC and ADC costs are amortized over the used part only.
"""

from __future__ import annotations

from math import ceil

from loopnest.arch.spec import PimArray


def pim_mac_energy_pj(pim: PimArray, operand_bits: int, used_rows: int | None = None,
                      used_weights: int | None = None) -> float:
    """pJ per useful MAC; ``used_*`` default to the full array."""
    rows = pim.rows if used_rows is None else used_rows
    weights = pim.weights_per_row if used_weights is None else used_weights
    if not (0 < rows <= pim.rows and 0 < weights <= pim.weights_per_row):
        raise ValueError(f"used {rows} x {weights} outside the array of {pim.rows} x {pim.weights_per_row} weights")
    columns = weights * pim.cells_per_weight
    passes = ceil(operand_bits / pim.dac_bits)
    per_pass = rows * pim.dac_energy_pj + columns * pim.adc_energy_pj + rows * columns * pim.cell_energy_pj
    return passes * per_pass / (rows * weights)


def pim_mac_area_um2(pim: PimArray) -> float:
    """um^2 per MAC position (one weight): its cells plus its share of the DACs and ADCs."""
    converters = pim.rows * pim.dac_area_um2 + (pim.columns // pim.columns_per_adc) * pim.adc_area_um2
    return pim.cells_per_weight * pim.cell_area_um2 + converters / (pim.rows * pim.weights_per_row)
