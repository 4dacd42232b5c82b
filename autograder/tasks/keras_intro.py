"""Tasks of the ``keras_intro`` assignment: the student's pandas functions.

``split_predictors_target`` and ``normalize`` take pandas objects, which the channel
does not carry; these tasks build the DataFrames beside the student's notebook from
the column names and values the grader sends, call the student's function and
describe what came back as plain data (types, column names, values) for the checks
to judge. No task receives an expected answer.
"""

from __future__ import annotations

import numpy as np

TASKS = ("split_frame", "normalize_frames")


def _student(namespace: dict, function: str):
    if not callable(namespace.get(function)):
        raise NameError(f"name '{function}' is not defined")
    return namespace[function]


def _frame(names: list, values):
    import pandas as pd

    return pd.DataFrame(np.array(values, dtype=float), columns=[str(n) for n in names])


def _kind(value) -> str:
    """``"DataFrame"``, ``"Series"`` (pandas only), else the value's type name."""
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return "DataFrame"
    if isinstance(value, pd.Series):
        return "Series"
    return type(value).__name__[:60]


def _values(value):
    """``value`` as a float array, or ``None`` when it holds no numbers of one shape."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.ndim <= 2 else None


def _columns(value) -> list | None:
    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return [str(c) for c in value.columns]
    return None


def _pair(result) -> tuple[list, int]:
    """The two returned items (padded with ``None``) and how many items came back (-1: not a tuple)."""
    if isinstance(result, tuple | list):
        items = list(result)
        return (items + [None, None])[:2], len(items)
    return [None, None], -1


def split_frame(namespace: dict, function: str, names: list, values, target: str) -> dict:
    """Call ``function(df, target)`` on a DataFrame of ``values`` with columns ``names``.

    Returns:
        ``{"returned", "length", "kinds", "predictors_columns", "predictors_values",
        "target_name", "target_values", "columns_after", "values_after"}``: the type name
        of the result, how many items it held (-1: not a tuple or list), each item's kind
        (``"DataFrame"``, ``"Series"``, ...), the predictors' column names (``None`` if not
        a DataFrame) and values, the target's ``name`` attribute and values, and the input
        DataFrame's columns and values after the call.
    """
    frame = _frame(names, values)
    result = _student(namespace, function)(frame, target)
    (predictors, series), length = _pair(result)
    name = getattr(series, "name", None)
    return {
        "returned": type(result).__name__[:60],
        "length": length,
        "kinds": [_kind(predictors), _kind(series)],
        "predictors_columns": _columns(predictors),
        "predictors_values": _values(predictors),
        "target_name": name if isinstance(name, str) else None,
        "target_columns": _columns(series),
        "target_values": _values(series),
        "columns_after": [str(c) for c in frame.columns],
        "values_after": _values(frame),
    }


def normalize_frames(namespace: dict, function: str, names: list, train, test) -> dict:
    """Call ``function(train_df, test_df)`` on DataFrames with the columns ``names``.

    Returns:
        ``{"returned", "length", "kinds", "train_n", "test_n", "train_after",
        "test_after"}``: the type name of the result, how many items it held, each
        item's kind, their values (DataFrames put back in the input's column order),
        and the inputs' values after the call.
    """
    train_frame, test_frame = _frame(names, train), _frame(names, test)
    result = _student(namespace, function)(train_frame, test_frame)
    items, length = _pair(result)
    kept = [str(n) for n in names]
    values = []
    for item in items:
        columns = _columns(item)
        if columns is not None and sorted(columns) == sorted(kept) and columns != kept:
            item = item[kept]
        values.append(_values(item))
    return {
        "returned": type(result).__name__[:60],
        "length": length,
        "kinds": [_kind(item) for item in items],
        "train_n": values[0],
        "test_n": values[1],
        "train_after": _values(train_frame),
        "test_after": _values(test_frame),
    }
