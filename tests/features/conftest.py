"""Fixtures of the feature tests (the data come from feature_data)."""

from __future__ import annotations

import pandas as pd
import pytest
from feature_data import Grouped, make_frame, make_grouped


@pytest.fixture(params=[0, 1, 2])
def grouped(request: pytest.FixtureRequest) -> Grouped:
    return make_grouped(request.param)


@pytest.fixture
def frame() -> pd.DataFrame:
    return make_frame(7)
