"""How schema 2 stores the observation images compactly: heights in 0.1 mm codes, the mask as bits.

Heights are uint16 codes ``q``, decoded as ``metres = q * HEIGHT_STEP + HEIGHT_OFFSET`` with
``HEIGHT_STEP = 1e-4`` m (0.1 mm) and ``HEIGHT_OFFSET = 0`` m: code 0 is the bin floor, so the
height 0 that marks a pixel without depth decodes to exactly 0.0. Encoding rounds to the
nearest code, so a height comes back within half a step (0.05 mm), plus the float32 rounding
of the decoded value (below 0.01 micrometre up to 0.15 m).

The storable range of a file is its image geometry's ``[0, max_height]`` (0.15 m by default):
the range :meth:`grasp_env.geometry.ImageGeometry.render` clips every observation to, on the
real cell and in the twin alike. A height that rounds to a code outside it is refused with
:class:`~agents.data.errors.InvalidRecord`, not clipped: no observation of that geometry can
hold it, so it is a wrong record, and clipping would hide that. ``max_height`` may be at most
``65535 * HEIGHT_STEP`` = 6.5535 m, the largest uint16 code.

The mask is :func:`numpy.packbits` along each row (bit order "big": the row's first pixel is
the top bit of its first byte; a row is padded with 0 bits to a multiple of 8 pixels), so a
record's mask is (H, ceil(W / 8)) uint8. Compressed with gzip it takes about half as many
bytes as a one-byte-per-pixel mask (HDF5's bool is one byte per pixel too): 0.39 kB against
0.76 kB per 110 x 110 record of the twin (the heights take about 8 kB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from agents.data.errors import DatasetError, InvalidRecord
from grasp_env.geometry import ImageGeometry

HEIGHT_STEP = 1e-4
"""Metres per height code: 0.1 mm."""

HEIGHT_OFFSET = 0.0
"""The height of code 0, metres: the bin floor."""

HEIGHT_CODE_MAX = int(np.iinfo(np.uint16).max)
"""The largest height code."""


class ImageCodec(Protocol):
    """How one image field is stored: ``encode`` one record's image, ``decode`` stored ones."""

    @property
    def attrs(self) -> dict[str, Any]:
        """Attributes of the stored dataset that say how to decode it."""
        ...

    def encode(self, image: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """One record's (H, W) image as the stored array; raises InvalidRecord when it cannot."""
        ...

    def decode(self, stored: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """Stored arrays (any leading dimensions) back as (..., H, W) images."""
        ...


def height_code_limit(geometry: ImageGeometry) -> int:
    """The largest code a file of ``geometry`` stores: ``max_height`` rounded to a code.

    Raises:
        DatasetError: ``max_height`` lies beyond the largest uint16 code.
    """
    limit = round((geometry.max_height - HEIGHT_OFFSET) / HEIGHT_STEP)
    if limit > HEIGHT_CODE_MAX:
        raise DatasetError(
            f"max_height must be at most {HEIGHT_CODE_MAX * HEIGHT_STEP + HEIGHT_OFFSET:g} m to"
            f" fit schema 2's uint16 height codes of {HEIGHT_STEP * 1e3:g} mm,"
            f" got {geometry.max_height!r} m"
        )
    return limit


def _refuse_out_of_range(height: np.ndarray, bad: np.ndarray, geometry: ImageGeometry) -> None:
    where = np.argwhere(bad)
    r, c = (int(v) for v in where[0])
    raise InvalidRecord(
        f"height must lie in [0, {geometry.max_height:g}] m (the image's height range, stored"
        f" in {HEIGHT_STEP * 1e3:g} mm steps), got {float(height[r, c]):.6g} m at pixel"
        f" ({r}, {c}); {len(where)} pixel(s) lie outside it"
    )


@dataclass(frozen=True)
class HeightCodes:
    """Heights as uint16 codes of :data:`HEIGHT_STEP` above :data:`HEIGHT_OFFSET`."""

    @property
    def attrs(self) -> dict[str, Any]:
        """The decoding, as attributes of the stored dataset (netCDF's CF names)."""
        return {"scale_factor": HEIGHT_STEP, "add_offset": HEIGHT_OFFSET}

    def encode(self, image: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """The nearest codes of a float (H, W) height image, metres.

        Raises:
            InvalidRecord: a height rounds to a code outside ``[0, max_height]``.
        """
        codes = np.rint((image.astype(np.float64) - HEIGHT_OFFSET) / HEIGHT_STEP)
        bad = (codes < 0) | (codes > height_code_limit(geometry))
        if bad.any():
            _refuse_out_of_range(image, bad, geometry)
        return codes.astype(np.uint16)

    def decode(self, stored: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """Float32 metres of uint16 codes."""
        return (stored.astype(np.float64) * HEIGHT_STEP + HEIGHT_OFFSET).astype(np.float32)


@dataclass(frozen=True)
class PackedRows:
    """A 0/1 mask as bits, packed along each row (:func:`numpy.packbits`, bit order big)."""

    @property
    def attrs(self) -> dict[str, Any]:
        """How to unpack, as attributes of the stored dataset."""
        return {"packing": "numpy.packbits along each row, bitorder big, rows padded with 0s"}

    def encode(self, image: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """The (H, ceil(W / 8)) uint8 bytes of a 0/1 (H, W) mask."""
        return np.packbits(image, axis=-1)

    def decode(self, stored: np.ndarray, geometry: ImageGeometry) -> np.ndarray:
        """The uint8 0/1 masks of packed rows."""
        return np.unpackbits(stored, axis=-1, count=geometry.cols)


HEIGHT_CODES = HeightCodes()
PACKED_ROWS = PackedRows()

__all__ = [
    "HEIGHT_CODES",
    "HEIGHT_CODE_MAX",
    "HEIGHT_OFFSET",
    "HEIGHT_STEP",
    "PACKED_ROWS",
    "HeightCodes",
    "ImageCodec",
    "PackedRows",
    "height_code_limit",
]
