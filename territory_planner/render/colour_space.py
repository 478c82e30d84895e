"""Colours as people see them: sRGB hex <-> CIELAB (D65) and the CIEDE2000 colour difference.

ΔE00 of about 1 is a just-noticeable difference; two legend swatches read as "different colours" at a
glance from about 10-15 apart. Everything is vectorised over numpy arrays of shape (..., 3).

    >>> round(float(delta_e00(hex_to_lab("#ff0000"), hex_to_lab("#ff0000"))), 6)
    0.0
    >>> round(float(delta_e00(hex_to_lab("#821719"), hex_to_lab("#990010"))), 1)  # QA E8's look-alikes
    5.0
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_M = np.array(  # linear sRGB -> XYZ (D65)
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_WHITE = np.array([0.95047, 1.0, 1.08883])


def hex_to_rgb(colours: str | Sequence[str]) -> np.ndarray:
    """'#rrggbb' -> floats in 0..1, shape (3,) or (n, 3)."""
    one = isinstance(colours, str)
    items = [colours] if isinstance(colours, str) else list(colours)
    out = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in items], dtype=float)
    return out[0] if one else out.reshape(-1, 3)


def rgb_to_hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(255 * float(min(max(c, 0.0), 1.0))):02x}" for c in rgb)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1) -> CIELAB, D65 white."""
    rgb = np.asarray(rgb, dtype=float)
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = lin @ _M.T / _WHITE
    eps = 216 / 24389
    f = np.where(xyz > eps, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def hex_to_lab(colours: str | Sequence[str]) -> np.ndarray:
    return rgb_to_lab(hex_to_rgb(colours))


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 difference (kL = kC = kH = 1), broadcasting over the leading axes."""
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=float), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=float), -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dL = L2 - L1
    dC = c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    L_bar = (L1 + L2) / 2
    cp_bar = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (L_bar - 50) ** 2 / np.sqrt(20 + (L_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_t = (
        -2
        * np.sqrt(cp_bar**7 / (cp_bar**7 + 25.0**7))
        * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2))))
    )
    out: np.ndarray = np.sqrt(
        (dL / s_l) ** 2 + (dC / s_c) ** 2 + (dH / s_h) ** 2 + r_t * (dC / s_c) * (dH / s_h)
    )
    return out


def min_pairwise_delta_e(colours: Sequence[str]) -> float:
    """The smallest ΔE00 between two of ``colours`` (inf for fewer than two)."""
    if len(colours) < 2:
        return float("inf")
    lab = hex_to_lab(colours)
    d = delta_e00(lab[:, None, :], lab[None, :, :])
    d[np.diag_indices(len(colours))] = np.inf
    return float(d.min())
