"""Vibration features per window: FFT band energies, RMS, crest factor, kurtosis, peak-to-peak."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from workbench.errors import ConfigError
from workbench.features import _kernels as K
from workbench.features._base import _check_int, _check_real, _GroupedTransformer, _Prepared

__all__ = ["SpectralFeatures"]

_SHAPE_NAMES = ("rms", "crest_factor", "kurtosis", "peak_to_peak")
_CHUNK_VALUES = 1 << 22  # values gathered per batch of windows (32 MiB of float64)


def _band_mask(window: int, sampling_rate: float, bands: np.ndarray) -> np.ndarray:
    """``(n_bins, n_bands)`` 0/1 matrix: which one-sided FFT bins fall in which band.

    A bin at frequency ``f`` is in band ``[lo, hi)``; a band that reaches the Nyquist frequency
    also takes the Nyquist bin.
    """
    n_bins = window // 2 + 1
    freqs = np.arange(n_bins, dtype=np.float64) * (sampling_rate / window)
    nyquist = sampling_rate / 2.0
    lo = bands[:, 0][None, :]
    hi = bands[:, 1][None, :]
    f = freqs[:, None]
    inside = (f >= lo) & ((f < hi) | ((hi >= nyquist * (1.0 - 1e-12)) & (f <= hi * (1 + 1e-12))))
    return inside.astype(np.float64)


def _band_energies(
    windows: np.ndarray, sampling_rate: float, bands: np.ndarray, detrend: bool
) -> np.ndarray:
    """Energy of each window in each frequency band, ``(m, n_bands)``.

    The one-sided periodogram is scaled so that its bins sum to the window's energy
    ``sum(x**2)`` (Parseval): bin ``k`` holds ``|X_k|**2 / N``, doubled for the bins that stand
    for two (all but 0 Hz and Nyquist). A band's energy is the sum of its bins. With
    ``detrend`` the window mean is removed first. A window with a missing value gives NaN.
    """
    window = windows.shape[1]
    x = windows - windows.mean(axis=1, keepdims=True) if detrend else windows
    spectrum = np.fft.rfft(x, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    weights = np.full(power.shape[1], 2.0 / window)
    weights[0] = 1.0 / window
    if window % 2 == 0:
        weights[-1] = 1.0 / window
    result: np.ndarray = (power * weights) @ _band_mask(window, sampling_rate, bands)
    return result


class SpectralFeatures(_GroupedTransformer):
    """Vibration features of the last ``window`` samples of each value column, per group.

    For each window of ``window`` consecutive rows of a group (one every ``step`` rows), the
    transformer computes, per value column:

    - ``{col}_band_{lo}_{hi}Hz``: energy in each frequency band (one-sided FFT periodogram
      scaled so that all bands together give ``sum(x**2)`` of the window, Parseval);
    - ``{col}_rms``: root mean square;
    - ``{col}_crest_factor``: max ``|x|`` / RMS;
    - ``{col}_kurtosis``: Fisher's excess kurtosis with pandas' bias correction
      (``Series.kurt()``, the same as ``scipy.stats.kurtosis(fisher=True, bias=False)``; 0
      for a constant window);
    - ``{col}_peak_to_peak``: max - min.

    The features land on the window's last row; with ``fill="ffill"`` the rows after it (until
    the next window ends) carry them too, so every row holds the features of the latest
    complete window and nothing looks ahead. Rows before the first complete window, and windows
    with a missing value, give NaN.

    Parameters
    ----------
    group_col, time_col, value_cols
        As in :class:`RollingFeatures`.
    window
        Samples per window (N).
    step
        Rows between window ends; ``None``: ``window`` (windows do not overlap). ``1`` gives a
        sliding window at every row.
    sampling_rate
        Samples per second (Hz), for the frequency axis.
    bands
        Frequency bands ``[(lo, hi), ...]`` in Hz, ``0 <= lo < hi <= sampling_rate / 2``;
        ``None``: four equal bands from 0 to the Nyquist frequency.
    detrend
        Remove the window mean before the spectrum, RMS and crest factor.
    fill
        ``"ffill"`` (carry each window's features forward) or ``"none"`` (only the window's
        last row gets them).
    """

    def __init__(
        self,
        group_col: str | None = "asset",
        time_col: str | None = "timestamp",
        *,
        value_cols: str | Sequence[str] | None = None,
        window: int = 256,
        step: int | None = None,
        sampling_rate: float = 1.0,
        bands: Sequence[tuple[float, float]] | None = None,
        detrend: bool = True,
        fill: str = "ffill",
    ) -> None:
        self.group_col = group_col
        self.time_col = time_col
        self.value_cols = value_cols
        self.window = window
        self.step = step
        self.sampling_rate = sampling_rate
        self.bands = bands
        self.detrend = detrend
        self.fill = fill

    def _bands(self) -> np.ndarray:
        rate = _check_real(self, "sampling_rate", self.sampling_rate, low=0.0, high=None)
        nyquist = rate / 2.0
        if self.bands is None:
            edges = np.linspace(0.0, nyquist, 5)
            return np.column_stack([edges[:-1], edges[1:]])
        try:
            bands = np.asarray(self.bands, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"SpectralFeatures: bands must be (low, high) pairs in Hz, got {self.bands!r}",
                parameter="bands",
            ) from exc
        if (
            bands.ndim != 2
            or bands.shape[1] != 2
            or bands.shape[0] == 0
            or not np.all(np.isfinite(bands))
            or np.any(bands[:, 0] < 0)
            or np.any(bands[:, 0] >= bands[:, 1])
            or np.any(bands[:, 1] > nyquist * (1 + 1e-12))
        ):
            raise ConfigError(
                f"SpectralFeatures: bands must be (low, high) pairs with 0 <= low < high <= "
                f"{nyquist:g} Hz (the Nyquist frequency of sampling_rate={rate:g}), got "
                f"{self.bands!r}",
                parameter="bands",
            )
        return bands

    def _step(self) -> int:
        return int(self.window) if self.step is None else int(self.step)

    def _check_params(self) -> None:
        _check_int(self, "window", self.window, 1)
        if self.step is not None:
            _check_int(self, "step", self.step, 1)
        self._bands()
        if self.fill not in ("ffill", "none"):
            raise ConfigError(
                f"SpectralFeatures: fill must be 'ffill' or 'none', got {self.fill!r}",
                parameter="fill",
            )
        if not isinstance(self.detrend, bool | np.bool_):
            raise ConfigError(
                f"SpectralFeatures: detrend must be True or False, got {self.detrend!r}",
                parameter="detrend",
            )

    def _output_names(self, base: list[str]) -> list[str]:
        bands = self._bands()
        names = []
        for column in base:
            names += [f"{column}_band_{lo:g}_{hi:g}Hz" for lo, hi in bands]
            names += [f"{column}_{name}" for name in _SHAPE_NAMES]
        return names

    def _compute(self, data: _Prepared) -> Iterator[np.ndarray]:
        window = int(self.window)
        bands = self._bands()
        rate = float(self.sampling_rate)
        detrend = bool(self.detrend)
        n = data.n_rows
        ends = K._window_ends(data.offsets, window, self._step())
        chunk = max(1, _CHUNK_VALUES // window)
        is_set = np.zeros(n, dtype=np.bool_)
        is_set[ends] = True
        n_out = len(bands) + len(_SHAPE_NAMES)
        for values in data.values:
            features = np.full((n_out, n), np.nan)
            for first in range(0, len(ends), chunk):
                rows = ends[first : first + chunk]
                windows = K._gather_windows(values, rows, window)
                features[: len(bands), rows] = _band_energies(windows, rate, bands, detrend).T
                features[len(bands) :, rows] = K._window_shape(windows, detrend).T
            for row in features:
                if self.fill == "ffill":
                    yield K._carry_forward(row, is_set, data.offsets)
                else:
                    yield row
