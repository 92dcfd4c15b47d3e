"""A Z-up orbit camera that projects 3D points with numpy (no OpenGL).

OpenGL gives a 0×0 framebuffer offscreen and is flaky on remote desktops, so the 3D view
projects points itself and draws them with QPainter: it works in tests and screenshots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

_UP = np.array([0.0, 0.0, 1.0])
_MAX_PITCH = math.radians(89.0)


@dataclass(slots=True)
class Projection:
    xy: np.ndarray  # (n, 2) pixel coordinates, y down
    depth: np.ndarray  # (n,) distance along the view direction
    px_per_unit: np.ndarray  # (n,) pixels per scene unit at each point's depth
    visible: np.ndarray  # (n,) bool: in front of the near plane


@dataclass(slots=True)
class OrbitCamera:
    """Looks at ``target`` from ``distance`` away, at angle ``yaw`` around Z and ``pitch`` up."""

    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    yaw: float = math.radians(45.0)
    pitch: float = math.radians(30.0)
    distance: float = 10.0
    fov_y: float = math.radians(50.0)

    def eye(self) -> np.ndarray:
        cp = math.cos(self.pitch)
        direction = np.array([cp * math.cos(self.yaw), cp * math.sin(self.yaw),
                              math.sin(self.pitch)])
        return self.target + self.distance * direction

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(right, up, forward) unit vectors of the camera."""
        forward = self.target - self.eye()
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, _UP)
        norm = np.linalg.norm(right)
        right = right / norm if norm > 1e-12 else np.array([1.0, 0.0, 0.0])
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
        self.target = (lo + hi) / 2.0
        radius = float(np.linalg.norm(hi - lo)) / 2.0
        radius = max(radius, 1e-3)
        self.distance = radius / math.sin(self.fov_y / 2.0) * 1.1
