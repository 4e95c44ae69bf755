"""The analog processing-in-memory crossbar of a spec's ``compute.pim`` (``PimArray``), and its
energy and area per MAC.

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

from pydantic import model_validator

from loopnest.arch.fields import NonNegFloat, PosInt, Strict


class PimArray(Strict):
    """An analog processing-in-memory crossbar: weights stationary in ``rows`` x ``columns`` cells.

    A weight of ``operand_bits`` bits spans ``cells_per_weight`` cells of ``bits_per_cell`` bits;
    inputs enter bit-serially through one DAC per row, ``dac_bits`` at a time; every column is
    converted by an ADC shared by ``columns_per_adc`` columns. Energies are per conversion or per
    cell read; areas per unit.
    """

    rows: PosInt
    columns: PosInt
    bits_per_cell: PosInt = 1
    cells_per_weight: PosInt = 1
    dac_bits: PosInt = 1
    adc_bits: PosInt = 8
    columns_per_adc: PosInt = 1
    dac_energy_pj: NonNegFloat
    adc_energy_pj: NonNegFloat
    cell_energy_pj: NonNegFloat = 0.0
    dac_area_um2: NonNegFloat = 0.0
    adc_area_um2: NonNegFloat = 0.0
    cell_area_um2: NonNegFloat = 0.0

    @model_validator(mode="after")
    def _check(self) -> PimArray:
        if self.columns < self.cells_per_weight:
            raise ValueError(f"columns: {self.columns} columns cannot hold one weight of {self.cells_per_weight} cells "
                             f"(cells_per_weight); need columns >= {self.cells_per_weight}")
        if self.columns % self.cells_per_weight:
            raise ValueError(f"cells_per_weight {self.cells_per_weight} does not divide columns {self.columns}")
        if self.columns % self.columns_per_adc:
            raise ValueError(f"columns_per_adc {self.columns_per_adc} does not divide columns {self.columns}")
        return self

    @property
    def weights_per_row(self) -> int:
        return self.columns // self.cells_per_weight


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
