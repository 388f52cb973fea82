"""Points, sizes and boxes, and the one function that scales between two pixel spaces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Point:
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class Size:
    width: int
    height: int

    def contains(self, point: Point) -> bool:
        return 0 <= point.x < self.width and 0 <= point.y < self.height

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True, slots=True)
class Box:
    left: int
    top: int
    width: int
    height: int

    @property
    def center(self) -> Point:
        return Point(self.left + self.width // 2, self.top + self.height // 2)

    def contains(self, point: Point) -> bool:
        return (
            self.left <= point.x < self.left + self.width
            and self.top <= point.y < self.top + self.height
        )

    def encloses(self, other: Box) -> bool:
        """Whether `other` lies wholly inside this box."""
        return (
            self.left <= other.left
            and self.top <= other.top
            and other.left + other.width <= self.left + self.width
            and other.top + other.height <= self.top + self.height
        )


def scale_point(point: Point, source: Size, target: Size) -> Point:
    """Map a point from one pixel space onto another covering the same area.

    Pixel centres are mapped (not corners), so scaling there and back returns the same pixel
    whenever the target is at least as large as the source, and never leaves the target.
    """
    x = int((point.x + 0.5) * target.width / source.width)
    y = int((point.y + 0.5) * target.height / source.height)
    return Point(min(max(x, 0), target.width - 1), min(max(y, 0), target.height - 1))
