"""An orbit camera (Z up unless told otherwise) that projects 3D points with numpy (no OpenGL).

OpenGL gives a 0×0 framebuffer offscreen and is flaky on remote desktops, so the 3D view
projects points itself and draws them with QPainter: it works in tests and screenshots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_UP = np.array([0.0, 0.0, 1.0])
_MAX_PITCH = math.radians(89.0)
#: The fitted scene spans at most 1 / _FIT_MARGIN of the view's width or height.
_FIT_MARGIN = 1.1
_AXES = {"X": 0, "Y": 1, "Z": 2}


def up_vector(up: str) -> np.ndarray:
    """"+Z", "-Y", ... (a Scene's ``up``) as a unit vector; anything else is +Z."""
    up = up.strip().upper()
    if len(up) == 1:
        up = "+" + up
    if len(up) != 2 or up[0] not in "+-" or up[1] not in _AXES:
        return _UP.copy()
    v = np.zeros(3)
    v[_AXES[up[1]]] = 1.0 if up[0] == "+" else -1.0
    return v


@dataclass(slots=True)
class Projection:
    xy: np.ndarray  # (n, 2) pixel coordinates, y down
    depth: np.ndarray  # (n,) distance along the view direction
    px_per_unit: np.ndarray  # (n,) pixels per scene unit at each point's depth
    visible: np.ndarray  # (n,) bool: in front of the near plane


@dataclass(slots=True)
class OrbitCamera:
    """Looks at ``target`` from ``distance`` away, at angle ``yaw`` around ``up`` and ``pitch``
    above the plane normal to it. With ``up`` = +Z, yaw 0 looks from +X."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw: float = math.radians(45.0)
    pitch: float = math.radians(30.0)
    distance: float = 10.0
    fov_y: float = math.radians(50.0)
    up: np.ndarray = field(default_factory=lambda: _UP.copy())

    def ground_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Two unit vectors a, b with a x b = up: yaw 0 looks from a, yaw 90° from b."""
        up = self.up
        a = np.zeros(3)
        a[(int(np.argmax(np.abs(up))) + 1) % 3] = 1.0  # +Z -> X, +Y -> Z, +X -> Y
        return a, np.cross(up, a)

    def eye(self) -> np.ndarray:
        a, b = self.ground_axes()
        cp = math.cos(self.pitch)
        direction = (cp * math.cos(self.yaw)) * a + (cp * math.sin(self.yaw)) * b \
            + math.sin(self.pitch) * self.up
        return self.target + self.distance * direction

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, up, forward) unit vectors of the camera."""
        forward = self.target - self.eye()
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, self.up)
        norm = np.linalg.norm(right)
        right = right / norm if norm > 1e-12 else self.ground_axes()[1]
        up = np.cross(right, forward)
        return right, up, forward

    def focal_px(self, height: int) -> float:
        return (max(height, 1) / 2.0) / math.tan(self.fov_y / 2.0)

    def project(self, points: np.ndarray, width: int, height: int) -> Projection:
        right, up, forward = self.basis()
        rel = np.asarray(points, dtype=np.float64) - self.eye()
        x = rel @ right
        y = rel @ up
        z = rel @ forward
        near = 1e-4 * max(self.distance, 1e-9)
        visible = z > near
        zc = np.where(visible, z, near)
        f = self.focal_px(height)
        xy = np.empty((len(points), 2))
        xy[:, 0] = width / 2.0 + f * x / zc
        xy[:, 1] = height / 2.0 - f * y / zc
        return Projection(xy, z, f / zc, visible)

    # ------------------------------------------------------------------ interaction

    def orbit(self, dx_px: float, dy_px: float) -> None:
        self.yaw -= dx_px * 0.01
        self.pitch = min(max(self.pitch + dy_px * 0.01, -_MAX_PITCH), _MAX_PITCH)

    def zoom(self, wheel_steps: float) -> None:
        """Positive steps move closer (wheel forward)."""
        self.distance = float(min(max(self.distance * 0.85 ** wheel_steps, 1e-6), 1e12))

    def pan(self, dx_px: float, dy_px: float, height: int) -> None:
        right, up, _ = self.basis()
        units_per_px = self.distance / self.focal_px(height)
        self.target = self.target - right * dx_px * units_per_px + up * dy_px * units_per_px

    def fit(self, points: np.ndarray) -> None:
        """Center on the points' bounding box and back off until it fits the view."""
        finite = points[np.isfinite(points).all(axis=1)] if len(points) else points
        if len(finite) == 0:
            return
        lo, hi = finite.min(axis=0), finite.max(axis=0)
        self.fit_bounds(lo, hi)

    def fit_bounds(self, lo: np.ndarray, hi: np.ndarray, aspect: float = 1.0) -> None:
        """Center on the box (lo, hi) and back off just enough that its eight corners are
        inside a view ``aspect`` (width / height) wide, seen from the current angles, with
        a small margin: a tight fit in wide and tall views alike (a bounding sphere left a
        tall view's scene at half its width)."""
        lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        self.target = (lo + hi) / 2.0
        radius = max(float(np.linalg.norm(hi - lo)) / 2.0, 1e-3)
        right, up, forward = self.basis()
        corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                            for z in (lo[2], hi[2])]) - self.target
        t_v = math.tan(self.fov_y / 2.0) / _FIT_MARGIN
        t_h = t_v * (aspect if aspect > 0.0 else 1.0)
        x, y, z = corners @ right, corners @ up, corners @ forward
        # a corner at depth D + z is inside when |x| <= t_h (D + z) and |y| <= t_v (D + z)
        need = np.maximum(np.abs(x) / t_h, np.abs(y) / t_v) - z
        self.distance = max(float(need.max()), radius * 1e-3, 1e-6)
