from __future__ import annotations

import pickle

import pytest

from workbench import errors
from workbench.errors import DatasetFormatError, MissingSecretError, WorkbenchError


def test_every_error_is_a_workbench_error_and_a_builtin() -> None:
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, WorkbenchError)
        if cls is not WorkbenchError:
            builtin_bases = [b for b in cls.__mro__ if b.__module__ == "builtins"]
            assert any(b is not Exception and b is not BaseException for b in builtin_bases), name


def test_errors_keep_message_and_context_through_pickle() -> None:
    err = DatasetFormatError(
        "ai4i.csv line 7: expected 14 fields, found 13", file="ai4i.csv", line=7
    )
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is DatasetFormatError
    assert str(back) == str(err)
    assert back.context == {"file": "ai4i.csv", "line": 7}


def test_builtin_catch_still_works() -> None:
    with pytest.raises(LookupError):
        raise MissingSecretError("no key", setting="pseudonym_key")
    with pytest.raises(ValueError):
        raise DatasetFormatError("bad", file="x")
