"""Plots are drawn headless, and each test starts and ends with no open pyplot figure."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    """Each test starts and ends with no open pyplot figure."""
    plt.close("all")
    yield
    plt.close("all")
