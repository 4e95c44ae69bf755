"""Export stored sweep rows: CSV (standard library), Parquet and a pandas DataFrame.

pandas and pyarrow are an optional extra (``pip install 'loopnest[dse]'``), imported only here
when a DataFrame or a Parquet file is asked for. Every format has the same flat columns
(``loopnest.dse.store.flat``): the store's columns, one ``param:<axis path>`` column per axis and
one ``energy.<level>`` column per level of ``energy_by_level``.
"""

from __future__ import annotations

from pathlib import Path

from loopnest.dse.store import Store, flat, write_csv

SUFFIXES = (".csv", ".parquet")
HINT = "pip install 'loopnest[dse]'"


class ExportError(ValueError):
    """An export that cannot be written (format, missing package, unwritable path)."""


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ExportError(f"a DataFrame or Parquet export needs pandas: {HINT}") from None
    return pandas


def to_dataframe(rows: list[dict] | str | Path):
    """A pandas DataFrame of ``rows`` (or of every row of the store file ``rows`` names).

    An axis whose values mix numbers and strings (``64`` and ``"64 * 1024"``) becomes a string
    column, so that the frame can be written to Parquet; a missing value stays missing."""
    pd = _pandas()
    if isinstance(rows, (str, Path)):
        with Store(rows, create=False) as st:
            rows = st.rows()
    flats = [flat(r) for r in rows]
    columns = list(dict.fromkeys(k for f in flats for k in f))
    df = pd.DataFrame.from_records(flats, columns=columns)
    for c in columns:
        if c.startswith("param:"):
            kinds = {type(v) for v in df[c] if v is not None}
            if len(kinds) > 1 and not kinds <= {int, float}:
                df[c] = [None if v is None else str(v) for v in df[c]]
    return df


def check_export(path: str | Path) -> Path:
    """Fail before reading anything if ``path``'s format is unknown or its packages are missing."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ExportError(f"{path}: an export is written as {' or '.join(SUFFIXES)}, not {path.suffix or 'a name without extension'!r}")
    if path.is_dir():
        raise ExportError(f"{path}: is a folder; give a file name")
    if path.suffix.lower() == ".parquet":
        _pandas()
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ExportError(f"{path}: Parquet export needs pyarrow: {HINT}") from None
    return path


def export(rows: list[dict], path: str | Path) -> Path:
    """Write ``rows`` to ``path`` as CSV or Parquet (by its suffix)."""
    path = check_export(path)
    try:
        if path.suffix.lower() == ".csv":
            write_csv(rows, path)
        else:
            to_dataframe(rows).to_parquet(path, index=False)
    except OSError as e:
        raise ExportError(f"{path}: cannot write the export ({e.strerror or e})") from None
    return path
