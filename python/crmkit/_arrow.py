"""Arrow in and out: the one place that reads pyarrow columns and tables and writes results as
pyarrow, pandas or numpy (docs/arrow.md).

Reading. A pyarrow ``Array`` or a ``ChunkedArray`` of one chunk whose type is a fixed-width
primitive (int64, float64, timestamp, ...) and that holds no nulls becomes a numpy array over the
same buffer: nothing is copied (the numpy array is read-only and keeps the Arrow buffer alive).
What cannot be shared is converted once: several chunks are concatenated, int64 becomes float64
where the core takes float64, a timestamp in another unit than microseconds is converted to
microseconds (floored, as numpy and pandas do), and text, dates or decimals go through pandas
(``to_pandas``) and the pandas reader of the calling function, so an Arrow column and the same
column in pandas give the same result. A null where the function refuses missing values raises
crmkit.ValidationError naming the column and the first null row (``datetime_col[3]: is missing``).

Writing. ``output=`` of the column functions: None (each function's own default, unchanged),
"pandas", "pyarrow" or "numpy"; results become Arrow arrays over the numpy results' buffers
(pa.array of a numpy array of numbers does not copy).

pyarrow is imported only when an Arrow object is passed or Arrow output is asked for, so
``import crmkit`` works without it; asking for "pyarrow" without pyarrow installed raises
crmkit.ValidationError.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ValidationError

__all__ = [
    "OUTPUTS",
    "check_output",
    "is_arrow",
    "is_table",
    "is_column",
    "table_column",
    "to_numpy",
    "to_pandas",
    "timestamp_micros",
    "factorize",
    "pyarrow",
    "array",
    "table",
]

# The values of output=: None keeps each function's default result type.
OUTPUTS = (None, "pandas", "pyarrow", "numpy")


def check_output(output: Any) -> str | None:
    """``output`` itself if it is one of OUTPUTS; crmkit.ValidationError naming it otherwise.
    "pyarrow" also needs pyarrow installed."""
    if output is not None and (not isinstance(output, str) or output not in OUTPUTS):
        raise ValidationError(
            f"output: expected None, 'pandas', 'pyarrow' or 'numpy', got {output!r}")
    if output == "pyarrow":
        pyarrow()
    return output


def pyarrow() -> Any:
    """The pyarrow module, imported now; crmkit.ValidationError if it is not installed."""
    try:
        import pyarrow as pa
    except ImportError:
        raise ValidationError(
            "output: 'pyarrow' needs the pyarrow package (pip install pyarrow)") from None
    return pa


def is_arrow(value: Any) -> bool:
    """True for any pyarrow object (checked by its module: pyarrow is not imported)."""
    return type(value).__module__.split(".", 1)[0] == "pyarrow"


def is_table(value: Any) -> bool:
    """True for a pyarrow Table or RecordBatch."""
    if not is_arrow(value):
        return False
    import pyarrow as pa

    return isinstance(value, (pa.Table, pa.RecordBatch))


def is_column(value: Any) -> bool:
    """True for a pyarrow Array or ChunkedArray."""
    if not is_arrow(value):
        return False
    import pyarrow as pa

    return isinstance(value, (pa.Array, pa.ChunkedArray))


def table_column(table: Any, name: Any, argument: str, what: str) -> Any:
    """The column ``name`` of a pyarrow Table (a ChunkedArray) or RecordBatch (an Array);
    crmkit.ValidationError "``argument``: no column 'x' in ``what``" when it has none."""
    if not isinstance(name, str) or name not in table.schema.names:
        raise ValidationError(f"{argument}: no column {name!r} in {what}")
    if table.schema.names.count(name) > 1:
        raise ValidationError(f"{argument}: {what} has {table.schema.names.count(name)} "
                              f"columns named {name!r}")
    return table.column(name)


def _one_array(column: Any) -> Any:
    """One contiguous pyarrow Array of an Array or ChunkedArray (chunks concatenated: a copy
    only when there are several)."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return column.chunk(0)
        if column.num_chunks == 0:
            return pa.array([], type=column.type)
        return pa.concat_arrays(column.chunks)
    return column


def _refuse_nulls(array: Any, name: str) -> None:
    if array.null_count:
        import pyarrow.compute as pc

        row = int(pc.index(array.is_null(), True).as_py())
        raise ValidationError(f"{name}[{row}]: is missing")


def to_numpy(column: Any, name: str, dtype: Any = None) -> np.ndarray:
    """A 1-dimensional numpy array of an Arrow column that holds no nulls (a null raises
    crmkit.ValidationError "name[row]: is missing").

    A single-chunk fixed-width column (integers, floats, timestamps, durations) of ``dtype`` (or
    any such column when dtype is None) is not copied: the array views the Arrow buffer
    (read-only). Other columns are converted (and ``dtype`` applied with numpy's casting):
    several chunks are concatenated, booleans unpacked, text becomes an object array."""
    import pyarrow as pa

    array = _one_array(column)
    _refuse_nulls(array, name)
    try:
        values = array.to_numpy(zero_copy_only=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # bool, text, dictionary ...
        values = array.to_numpy(zero_copy_only=False)
    if dtype is not None and values.dtype != np.dtype(dtype):
        try:
            values = values.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{name}: cannot be read as {np.dtype(dtype)} "
                                  f"({array.type}): {exc}") from None
    return values


def to_pandas(column: Any) -> Any:
    """A pandas Series of an Arrow column (nulls as pandas' missing values), for the readers
    that take pandas (text, dates, decimals)."""
    import pandas as pd

    return pd.Series(_one_array(column).to_pandas())


def timestamp_micros(column: Any, name: str) -> np.ndarray | None:
    """int64 UTC microseconds of an Arrow timestamp column (any unit, any time zone: Arrow keeps
    timestamps as UTC counts, naive ones are taken as UTC); None when the column is not a
    timestamp (the caller reads it as text or dates). Microseconds in one chunk without nulls are
    not copied; other units are floored to microseconds as numpy and pandas do. A null raises
    crmkit.ValidationError "name[row]: is missing (NaT)"."""
    import pyarrow as pa

    if not pa.types.is_timestamp(column.type):
        return None
    array = _one_array(column)
    if array.null_count:
        import pyarrow.compute as pc

        row = int(pc.index(array.is_null(), True).as_py())
        raise ValidationError(f"{name}[{row}]: is missing (NaT)")
    values = array.to_numpy(zero_copy_only=True)  # datetime64[unit], the UTC counts
    if values.dtype != np.dtype("datetime64[us]"):
        values = values.astype("datetime64[us]")
    return values.view(np.int64)


def factorize(column: Any, name: str) -> tuple[np.ndarray, Any]:
    """(int64 codes, the values the codes stand for: a pyarrow Array) of an Arrow column of
    non-integer ids, codes in order of first appearance (as pandas.factorize(sort=False)). A null
    raises crmkit.ValidationError "name[row]: is missing"."""
    import pyarrow as pa

    array = _one_array(column)
    _refuse_nulls(array, name)
    if pa.types.is_dictionary(array.type):  # its own dictionary is not in order of appearance
        array = array.dictionary_decode()
    encoded = array.dictionary_encode()
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
    return codes, encoded.dictionary


def array(values: np.ndarray) -> Any:
    """A pyarrow Array over a 1-dimensional numpy array (no copy for numbers without a mask)."""
    pa = pyarrow()
    return pa.array(values)


def table(columns: dict[str, Any]) -> Any:
    """A pyarrow Table of named columns (numpy arrays are wrapped without copying; pyarrow
    arrays are taken as they are)."""
    pa = pyarrow()
    names = [str(k) for k in columns]
    arrays = [v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(v)
              for v in columns.values()]
    return pa.Table.from_arrays(arrays, names=names)
