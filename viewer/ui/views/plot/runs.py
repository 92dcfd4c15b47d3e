"""One recording's share of a time-series plot, for comparing runs in one view.

A time-series view draws its own store's curves and, when runs are compared, the same entity
paths of other recordings. Each recording is a `PlotRun`: its store, its curves and the
incrementally kept `PlotSeries` behind them (one per entity and scalar instance), what is
left to read, and the time it is shifted by. Every run is read on the same incremental,
budgeted path as the view's own store.

Compared runs are told apart by colour: each recording gets a hue (its family) and its
curves are shades of that hue; the same entity and instance get the same shade in every
run, so "sin of run A" and "sin of run B" pair up by shade.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pyqtgraph as pg

from viewer.store.entity_db import EntityDb
from viewer.store.entity_path import EntityPath
from viewer.ui.views.plot.plot_series import PlotSeries, SeriesStyle
from viewer.ui.views.plot.wide_band import WideBand

#: A curve of a run: (entity, scalar instance).
CurveKey = tuple[EntityPath, int]
#: What a curve is handed: x, y, whether all finite, pyqtgraph's ``connect`` mode.
Shown = tuple[np.ndarray, np.ndarray, bool, str]


class Align(Enum):
    """How compared recordings share the x axis."""

    TIMELINE = "timeline"  # the same timeline values (e.g. wall-clock timestamps)
    START = "start"  # time since each recording's own first time on the timeline


@dataclass(frozen=True, slots=True)
class CompareRun:
    """Another recording a view compares with, and how the legend names it."""

    db: EntityDb
    label: str


#: Hue (degrees) of each recording's colour family, in the order runs are added; far
#: enough apart that shades of neighbouring families never meet.
FAMILY_HUES = (210.0, 28.0, 125.0, 350.0, 275.0, 180.0, 55.0, 315.0)
#: Shades within a family: (lightness, saturation, hue shift in degrees); neighbours differ
#: clearly in lightness, and all are light enough to read on the dark plot background.
SHADES = ((0.55, 0.90, 0.0), (0.80, 0.75, 9.0), (0.40, 0.95, -9.0), (0.90, 0.60, 4.0),
          (0.67, 0.55, -4.0))
#: Largest hue shift of a shade (families are tested to stay apart by at least twice this).
MAX_SHADE_SHIFT = max(abs(s[2]) for s in SHADES)


#: Recording ids longer than this are shortened in legends and menus (rerun-sdk's default
#: ids are 36-character UUIDs).
SHORT_ID = 12


def short_id(recording_id: str) -> str:
    if len(recording_id) <= SHORT_ID:
        return recording_id or "(no recording id)"
    return recording_id[:8] + "…"


def family_hue(family: int) -> float:
    return FAMILY_HUES[family % len(FAMILY_HUES)]


def family_color(family: int, shade: int) -> tuple[int, int, int]:
    """The ``shade``-th colour of recording ``family``'s hue, as 0-255 RGB."""
    lightness, saturation, shift = SHADES[shade % len(SHADES)]
    hue = ((family_hue(family) + shift) % 360.0) / 360.0
    r, g, b = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


@dataclass(eq=False)
class PlotRun:
    """One recording's curves in a time-series view and what is left to read of them."""

    db: EntityDb
    label: str = ""
    family: int = 0
    #: Subtracted from the run's times before they become x (its first time when aligned
    #: on the start of each recording, else 0).
    offset: int = 0
    curves: dict[CurveKey, pg.PlotDataItem] = field(default_factory=dict)
    series: dict[CurveKey, PlotSeries] = field(default_factory=dict)
    decimated: set[CurveKey] = field(default_factory=set)  # shown as an envelope
    unshown: dict[CurveKey, Shown] = field(default_factory=dict)  # read, not handed over
    styles: dict[EntityPath, tuple[tuple, SeriesStyle]] = field(default_factory=dict)
    names: dict[CurveKey, str] = field(default_factory=dict)  # legend name, without the run
    scatter: set[CurveKey] = field(default_factory=set)  # drawn as markers
    dirty: set[EntityPath] = field(default_factory=set)
    backlog: dict[EntityPath, int] = field(default_factory=dict)  # chunks left this cycle
    errors: dict[EntityPath, str] = field(default_factory=dict)  # compared runs only
    #: Wide entities: the instances past the first curves as one min/max band.
    bands: dict[EntityPath, WideBand] = field(default_factory=dict)
    bands_unshown: set[EntityPath] = field(default_factory=set)

    def forget_series(self) -> None:
        """Drop what was read (x changed): every curve is read again."""
        self.series.clear()
        self.decimated.clear()
        self.unshown.clear()
        self.backlog.clear()
        for band in self.bands.values():
            band.serial = None
        self.bands_unshown.clear()
