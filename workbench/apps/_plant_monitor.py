"""The plant monitor: one site live from its connector, updated every second without reloading.

The source is any live connector (:func:`workbench.connectors.get_connector`): by default the
virtual factory in-process (``sim://small``, a plant minute per second), or what
``WORKBENCH_MONITOR_SOURCE`` names (``mqtt://...``, ``opcua://...`` of a running
``workbench factory serve`` or a real site). A background thread reads the stream and updates
the widgets; ipywidgets sends each change to the page over the kernel's websocket.

Per asset the monitor keeps an online health index (mean absolute z-score of its signals
against the asset's own first readings). Failure risk and remaining useful life come from it
with their uncertainty: risk is a logistic of the index with an interval from the index's
spread over the last minute of readings; the remaining life is the time until the index's
linear trend reaches the alarm level, with an interval from the slope's standard error. These
are monitoring heuristics, labelled as such on the page, not the trained maintenance models.
"""

from __future__ import annotations

import html
import math
import os
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from workbench.apps._i18n import t
from workbench.apps._session import AppSession

__all__ = ["AssetState", "PlantMonitor", "health_estimates"]

SOURCE_ENV = "WORKBENCH_MONITOR_SOURCE"
DEFAULT_SOURCE = "sim://small?seed=7&speed=60&poll_ms=1000&days=2&stream_start=2026-01-05T04:00:00Z"
ALARM_INDEX = 3.0
_BASELINE = 10
_WINDOW = 120


def _e(value: Any) -> str:
    return html.escape(str(value))


@dataclass
class AssetState:
    """What the monitor keeps of one asset."""

    asset: str
    line: str
    baseline: dict[str, tuple[float, float]]
    history: dict[str, deque[float]]
    index: deque[tuple[float, float]]  # (plant hours, health index)


def health_estimates(
    points: list[tuple[float, float]], *, alarm: float = ALARM_INDEX
) -> dict[str, float | None]:
    """Risk and remaining life from ``(hours, index)`` points, each with a 90% interval.

    A line is fitted to the points: its value at the last point is the current index (risk is
    a logistic of it, its interval from the residual spread); the remaining life is when the
    line reaches ``alarm`` (interval from the slope's standard error; ``None``: not degrading).
    """
    out: dict[str, float | None] = dict.fromkeys(
        ("risk", "risk_lo", "risk_hi", "rul", "rul_lo", "rul_hi")
    )
    if len(points) < 5:
        return out
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx > 0 else 0.0
    resid = [y - (my + slope * (x - mx)) for x, y in zip(xs, ys, strict=True)]
    sd = math.sqrt(sum(r * r for r in resid) / max(n - 2, 1))
    level = my + slope * (xs[-1] - mx)

    def risk(index: float) -> float:
        return 1.0 / (1.0 + math.exp(-2.0 * (index - alarm)))

    out["risk"] = risk(level)
    out["risk_lo"] = risk(level - 1.64 * sd)
    out["risk_hi"] = risk(level + 1.64 * sd)
    if sxx <= 0:
        return out
    se = sd / math.sqrt(sxx)

    def rul(s: float) -> float | None:
        if level >= alarm:
            return 0.0  # at or past the alarm level now
        if s <= 1e-9:
            return None  # not degrading: no finite estimate
        return max((alarm - level) / s, 0.0)

    out["rul"] = rul(slope)
    out["rul_lo"] = rul(slope + 1.64 * se)
    out["rul_hi"] = rul(slope - 1.64 * se)
    return out


def _sparkline(values: list[float], *, width: int = 220, height: int = 36) -> str:
    if len(values) < 2:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    step = width / (len(values) - 1)
    pts = " ".join(
        f"{i * step:.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" role="img"><polyline fill="none" '
        f'stroke="#4C72B0" stroke-width="1.5" points="{pts}"/></svg>'
    )


class PlantMonitor:
    """Live view of one site (build it in the app notebook, display :attr:`widget`)."""

    def __init__(
        self, session: AppSession, *, source: str | None = None, site: str | None = None
    ) -> None:
        import ipywidgets as w

        from workbench.connectors import get_connector

        self.session = session
        self.lang = session.language
        self.source = source or os.environ.get(SOURCE_ENV) or DEFAULT_SOURCE
        self.connector = get_connector(self.source)
        self.site = site
        self.assets: dict[str, AssetState] = {}
        self.sites: dict[str, str] = {}  # site -> sector
        self.energy: deque[tuple[float, float, float, float]] = deque(maxlen=_WINDOW)
        self.alerts: deque[str] = deque(maxlen=12)
        self.ticks = 0
        self.plant_time = ""
        self._ewma: float | None = None
        self._ewvar = 0.0
        self._hot: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.RLock()

        self.language = w.ToggleButtons(
            options=[("한국어", "ko"), ("English", "en")], value=self.lang
        )
        self.language.add_class("wb-language")
        self.site_choice = w.Dropdown(options=[], description="")
        self.site_choice.add_class("wb-site")
        self.header = w.HTML()
        self.status = w.HTML()
        self.status.add_class("wb-live-status")
        self.assets_html = w.HTML()
        self.assets_html.add_class("wb-assets")
        self.energy_html = w.HTML()
        self.energy_html.add_class("wb-energy")
        self.alerts_html = w.HTML()
        self.alerts_html.add_class("wb-alerts")
        self.signals_html = w.HTML()
        self.signals_html.add_class("wb-signals")
        self.language.observe(self._on_language, names="value")
        self.site_choice.observe(self._on_site, names="value")
        self.widget = w.VBox(
            [
                w.HTML(
                    "<style>.wb-app{font-family:'Noto Sans CJK KR','Noto Sans KR',sans-serif}"
                    ".wb-app table{border-collapse:collapse;font-size:.9em}"
                    ".wb-app td,.wb-app th{border:1px solid #ddd;padding:.2em .5em}"
                    ".wb-hot{color:#b00;font-weight:bold}.wb-note{color:#555;font-size:.9em}"
                    "</style>"
                ),
                self.language,
                self.header,
                self.site_choice,
                self.status,
                self.assets_html,
                self.energy_html,
                self.alerts_html,
                self.signals_html,
            ]
        )
        self.widget.add_class("wb-app")
        self.widget.add_class("wb-plant-monitor")
        self._label()
        self._thread = threading.Thread(target=self._run, name="plant-monitor", daemon=True)
        self._thread.start()

    # -- controls ------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def _on_language(self, change: dict[str, Any]) -> None:
        self.lang = str(change["new"])
        self._label()
        self._draw()

    def _on_site(self, change: dict[str, Any]) -> None:
        with self._lock:
            if change["new"] == self.site:
                return
            self.site = change["new"]
            self.assets.clear()
            self.energy.clear()
            self._hot.clear()
            self._ewma, self._ewvar = None, 0.0
        self._draw()

    def _label(self) -> None:
        lang = self.lang
        role = t(lang, f"role_{self.session.role}")
        name = self.session.user.display_name or self.session.username
        self.header.value = (
            f"<h1>{_e(t(lang, 'plant_monitor'))}</h1>"
            f"<p>{_e(t(lang, 'signed_in_as', name=name, role=role))} · "
            f'<a href="/">{_e(t(lang, "apps"))}</a> · <a href="/logout">{_e(t(lang, "sign_out"))}'
            f'</a></p><p class="wb-note">{_e(self.source.split("?")[0])}</p>'
        )
        self.site_choice.description = t(lang, "site")

    # -- the stream ----------------------------------------------------------------------------

    def _prime(self) -> None:
        """Fill the baselines and trends from the source's history before the live stream
        (sources that keep history: the virtual factory, a SQL source)."""
        settings = getattr(self.connector, "settings", {}) or {}
        start, origin = getattr(self.connector, "start", None), settings.get("stream_start")
        if start is None or origin is None:
            return
        from workbench.connectors import Reading

        frame = self.connector.read(start, origin)
        if frame.empty:
            return
        with self._lock:
            pairs = frame[["site", "sector"]].astype(str).drop_duplicates()
            for site, sector in pairs.itertuples(index=False):
                self.sites.setdefault(site, sector)
            if self.site is None and self.sites:
                self.site = sorted(self.sites)[0]
        frame = frame[frame["site"].astype(str) == self.site].tail(_WINDOW * 100)
        stamps = frame["timestamp"].astype("int64").to_numpy()
        cols = [frame[c].astype(str).to_numpy() for c in ("site", "sector", "line", "asset")]
        signals = frame["signal"].astype(str).to_numpy()
        values = frame["value"].to_numpy(dtype=float)
        quality = frame["quality"].astype(str).to_numpy()
        unit = frame["unit"].astype(str).to_numpy()
        batch: list[Any] = []
        for i in range(len(frame)):
            if batch and stamps[i] != batch[-1].timestamp_ns:
                self._ingest(batch, count=False)
                batch = []
            batch.append(
                Reading(
                    int(stamps[i]),
                    cols[0][i],
                    cols[1][i],
                    cols[2][i],
                    cols[3][i],
                    signals[i],
                    float(values[i]),
                    unit[i],
                    quality[i],
                )
            )
        if batch:
            self._ingest(batch, count=False)
        self.alerts.clear()

    def _run(self) -> None:
        try:
            self._prime()
            for delivery in self.connector.stream(self._stop):
                self._ingest(delivery.readings)
                delivery.ack()
                self._draw()
                if self._stop.is_set():
                    break
        except Exception as exc:  # shown on the page; the kernel keeps serving the widgets
            self.status.value = f'<p class="wb-hot">{_e(type(exc).__name__)}: {_e(exc)}</p>'
        finally:
            self.connector.close()

    def _ingest(self, readings: list[Any], *, count: bool = True) -> None:
        if not readings:
            return
        with self._lock:
            self.ticks += int(count)
            ts = max(r.timestamp_ns for r in readings)
            self.plant_time = time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts / 1e9))
            hours = ts / 3.6e12
            per_asset: dict[str, list[Any]] = defaultdict(list)
            power = 0.0
            for r in readings:
                self.sites.setdefault(r.site, r.sector)
            if self.site is None:
                self.site = sorted(self.sites)[0]
            for r in readings:
                if r.site != self.site:
                    continue
                if r.quality != "good":
                    self.alerts.appendleft(
                        f"{self.plant_time} · {r.asset} · {r.signal}: {r.quality}"
                    )
                per_asset[r.asset].append(r)
                if "power" in r.signal and r.value == r.value:
                    power += float(r.value)
            for asset, rows in per_asset.items():
                state = self.assets.get(asset)
                if state is None:
                    state = AssetState(
                        asset,
                        rows[0].line,
                        {},
                        defaultdict(lambda: deque(maxlen=_WINDOW)),
                        deque(maxlen=_WINDOW),
                    )
                    self.assets[asset] = state
                zs = []
                for r in rows:
                    if r.value != r.value:
                        continue
                    hist = state.history[r.signal]
                    hist.append(float(r.value))
                    if len(hist) == _BASELINE and r.signal not in state.baseline:
                        mean = sum(hist) / len(hist)
                        sd = math.sqrt(sum((v - mean) ** 2 for v in hist) / len(hist)) or 1.0
                        state.baseline[r.signal] = (mean, sd)
                    if r.signal in state.baseline:
                        mean, sd = state.baseline[r.signal]
                        zs.append(abs(float(r.value) - mean) / sd)
                if zs:
                    state.index.append((hours, sum(zs) / len(zs)))
            if power > 0:
                forecast = self._ewma if self._ewma is not None else power
                band = 2.0 * math.sqrt(self._ewvar)
                self.energy.append((hours, power, forecast, band))
                err = power - forecast
                self._ewma = forecast + 0.1 * err
                self._ewvar = 0.9 * self._ewvar + 0.1 * err * err
                if len(self.energy) > _BASELINE and band > 0 and abs(err) > band * 1.5:
                    self.alerts.appendleft(
                        f"{self.plant_time} · {t(self.lang, 'energy')}: {power:,.0f} "
                        f"({t(self.lang, 'forecast')} {forecast:,.0f} ± {band:,.0f})"
                    )

    # -- drawing -------------------------------------------------------------------------------

    def _draw(self) -> None:
        lang = self.lang
        with self._lock:
            sites = sorted(self.sites)
            if list(self.site_choice.options) != sites:
                self.site_choice.options = sites
                if self.site in sites:
                    self.site_choice.value = self.site
            self.status.value = (
                f"<p><b>● {_e(t(lang, 'live'))}</b> · "
                '<span class="wb-tick">'
                f"{_e(t(lang, 'updated', time=self.plant_time, tick=self.ticks))}</span></p>"
            )
            rows = []
            for state in sorted(self.assets.values(), key=lambda s: s.asset)[:20]:
                est = health_estimates(list(state.index))

                def pct(v: float | None) -> str:
                    return "–" if v is None else f"{100 * v:.0f}%"

                def hrs(v: float | None) -> str:
                    return "∞" if v is None else f"{v:.1f}"

                hot = est["risk"] is not None and est["risk"] >= 0.5
                if hot and state.asset not in self._hot:
                    self._hot.add(state.asset)
                    self.alerts.appendleft(
                        f"{self.plant_time} · {state.asset}: {t(lang, 'risk')} {pct(est['risk'])}"
                    )
                index = state.index[-1][1] if state.index else None
                rows.append(
                    "<tr>"
                    f"<td>{_e(state.asset)}</td>"
                    f"<td>{'–' if index is None else f'{index:.2f}'}</td>"
                    f'<td class="{"wb-hot" if hot else ""}">{pct(est["risk"])} '
                    f"[{pct(est['risk_lo'])}, {pct(est['risk_hi'])}]</td>"
                    f"<td>{hrs(est['rul'])} [{hrs(est['rul_lo'])}, {hrs(est['rul_hi'])}] "
                    f"{_e(t(lang, 'hours'))}</td>"
                    "</tr>"
                )
            self.assets_html.value = (
                f"<h2>{_e(t(lang, 'risk'))} · {_e(t(lang, 'rul'))}</h2>"
                '<table class="wb-asset-table"><thead><tr>'
                f"<th>{_e(t(lang, 'asset'))}</th><th>index</th>"
                f"<th>{_e(t(lang, 'risk'))} (90%)</th><th>{_e(t(lang, 'rul'))} (90%)</th>"
                f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                f'<p class="wb-note">health index: mean |z| against each asset\'s first '
                f"{_BASELINE} readings; alarm at {ALARM_INDEX:g} (monitoring heuristic)</p>"
            )
            if self.energy:
                _, actual, forecast, band = self.energy[-1]
                self.energy_html.value = (
                    f"<h2>{_e(t(lang, 'energy'))}</h2><p>{_e(t(lang, 'actual'))} "
                    f"<b>{actual:,.0f}</b> · {_e(t(lang, 'forecast'))} (EWMA) {forecast:,.0f} "
                    f"± {band:,.0f}</p>" + _sparkline([e[1] for e in self.energy])
                )
            else:
                self.energy_html.value = ""
            alerts = list(self.alerts)[:8]
            self.alerts_html.value = f"<h2>{_e(t(lang, 'alerts'))}</h2>" + (
                "<ul>" + "".join(f"<li>{_e(a)}</li>" for a in alerts) + "</ul>"
                if alerts
                else f"<p>{_e(t(lang, 'no_alerts'))}</p>"
            )
            first = next(iter(sorted(self.assets)), None)
            if first is not None:
                state = self.assets[first]
                lines = [
                    f"<tr><td>{_e(sig)}</td><td>{hist[-1]:.2f}</td>"
                    f"<td>{_sparkline(list(hist))}</td></tr>"
                    for sig, hist in sorted(state.history.items())[:8]
                    if hist
                ]
                self.signals_html.value = (
                    f"<h2>{_e(t(lang, 'signals'))}: {_e(first)}</h2><table>{''.join(lines)}</table>"
                )
