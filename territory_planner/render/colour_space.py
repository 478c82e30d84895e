"""Colours as people see them: sRGB hex <-> CIELAB (D65), the CIEDE2000 colour difference, and colours
as the colour-blind see them.

ΔE00 of about 1 is a just-noticeable difference; two legend swatches read as "different colours" at a
glance from about 10-15 apart. Everything is vectorised over numpy arrays of shape (..., 3).

``vision_lab`` gives a colour's CIELAB as seen with normal vision and, simulated, with protanopia,
deuteranopia and tritanopia: the matrices of Machado, Oliveira and Fernandes (2009) at severity 1.0,
applied to linear RGB (as DaltonLens and colorspacious do).

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
# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color vision
# deficiency", severity 1.0; rows map linear RGB to the linear RGB a dichromat matches it with
CVD_MATRICES: dict[str, np.ndarray] = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
VISIONS: tuple[str, ...] = ("normal", *CVD_MATRICES)
_C25 = 25.0**7
_TAU = 2 * np.pi
_RAD60 = float(np.radians(60))
_COS = {d: float(np.cos(np.radians(d))) for d in (6, 30, 63)}
_SIN = {d: float(np.sin(np.radians(d))) for d in (6, 30, 63)}


def hex_to_rgb(colours: str | Sequence[str]) -> np.ndarray:
    """'#rrggbb' -> floats in 0..1, shape (3,) or (n, 3)."""
    one = isinstance(colours, str)
    items = [colours] if isinstance(colours, str) else list(colours)
    out = np.array([[int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)] for c in items], dtype=float)
    return out[0] if one else out.reshape(-1, 3)


def rgb_to_hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{round(255 * float(min(max(c, 0.0), 1.0))):02x}" for c in rgb)


def _linear(rgb: np.ndarray) -> np.ndarray:
    rgb = np.asarray(rgb, dtype=float)
    out: np.ndarray = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return out


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1) -> CIELAB, D65 white."""
    return _linear_to_lab(_linear(rgb))


def _linear_to_lab(lin: np.ndarray) -> np.ndarray:
    xyz = lin @ _M.T / _WHITE
    eps = 216 / 24389
    f = np.where(xyz > eps, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def hex_to_lab(colours: str | Sequence[str]) -> np.ndarray:
    return rgb_to_lab(hex_to_rgb(colours))


def vision_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0..1), shape (..., 3) -> CIELAB as seen in each of ``VISIONS``, shape (len(VISIONS), ..., 3).

    >>> [round(float(L)) for L in vision_lab(hex_to_rgb("#ff0000"))[:, 0]]  # red darkens for protans
    [53, 40, 60, 53]
    """
    lin = _linear(rgb)
    seen = [lin] + [np.clip(lin @ m.T, 0.0, 1.0) for m in CVD_MATRICES.values()]
    return np.stack([_linear_to_lab(x) for x in seen])


def _floats(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x)
    return a if a.dtype == np.float32 else a.astype(float)


def _pow7(x: np.ndarray) -> np.ndarray:
    x2 = x * x
    out: np.ndarray = x2 * x2 * x2 * x  # not x**7: numpy's pow is ten times slower
    return out


def delta_e00(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 difference (kL = kC = kH = 1), broadcasting over the leading axes.

    Angles in radians, and the hue weighting T from one cosine and one sine by the multiple-angle
    formulas: the map compares every candidate colour with hundreds of picks in four visions. Float32
    input stays float32 (twice as fast, to about 1e-4).
    """
    L1, a1, b1 = np.moveaxis(_floats(lab1), -1, 0)
    L2, a2, b2 = np.moveaxis(_floats(lab2), -1, 0)
    c7 = _pow7((np.sqrt(a1 * a1 + b1 * b1) + np.sqrt(a2 * a2 + b2 * b2)) / 2)
    g1 = 1.5 - 0.5 * np.sqrt(c7 / (c7 + _C25))  # 1 + G
    a1p, a2p = g1 * a1, g1 * a2
    c1p, c2p = np.sqrt(a1p * a1p + b1 * b1), np.sqrt(a2p * a2p + b2 * b2)
    h1p = np.arctan2(b1, a1p) % _TAU
    h2p = np.arctan2(b2, a2p) % _TAU
    grey = c1p * c2p == 0
    dh = h2p - h1p
    wrap = np.abs(dh) > np.pi
    dh = np.where(grey, 0.0, np.where(wrap, dh - np.copysign(_TAU, dh), dh))
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(dh / 2)
    h_bar = (h1p + h2p) / 2
    h_bar = np.where(wrap, np.where(h_bar < np.pi, h_bar + np.pi, h_bar - np.pi), h_bar)
    h_bar = np.where(grey, h1p + h2p, h_bar)
    c1, s1 = np.cos(h_bar), np.sin(h_bar)
    c2, s2 = 2 * c1 * c1 - 1, 2 * s1 * c1
    c3, s3 = c1 * (4 * c1 * c1 - 3), s1 * (3 - 4 * s1 * s1)
    c4, s4 = 2 * c2 * c2 - 1, 2 * s2 * c2
    t = (  # 1 - 0.17 cos(h - 30°) + 0.24 cos 2h + 0.32 cos(3h + 6°) - 0.20 cos(4h - 63°)
        1
        - 0.17 * (c1 * _COS[30] + s1 * _SIN[30])
        + 0.24 * c2
        + 0.32 * (c3 * _COS[6] - s3 * _SIN[6])
        - 0.20 * (c4 * _COS[63] + s4 * _SIN[63])
    )
    l50 = ((L1 + L2) / 2 - 50) ** 2
    cp_bar = (c1p + c2p) / 2
    s_l = 1 + 0.015 * l50 / np.sqrt(20 + l50)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    cp7 = _pow7(cp_bar)
    turn = _RAD60 * np.exp(-(((np.degrees(h_bar) - 275) / 25) ** 2))
    r_t = -2 * np.sqrt(cp7 / (cp7 + _C25)) * np.sin(turn)
    x, y, z = (L2 - L1) / s_l, (c2p - c1p) / s_c, dH / s_h
    out: np.ndarray = np.sqrt(x * x + y * y + z * z + r_t * y * z)
    return out


def min_pairwise_delta_e(colours: Sequence[str], vision: str = "normal") -> float:
    """The smallest ΔE00 between two of ``colours`` (inf for fewer than two), as seen in ``vision``."""
    if len(colours) < 2:
        return float("inf")
    lab = vision_lab(hex_to_rgb(colours))[VISIONS.index(vision)]
    d = delta_e00(lab[:, None, :], lab[None, :, :])
    d[np.diag_indices(len(colours))] = np.inf
    return float(d.min())
