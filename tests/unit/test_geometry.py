"""Points, sizes, boxes, and scaling between the model's image and the screen."""

from __future__ import annotations

import itertools

import pytest

from agent.geometry import Box, Point, Size, scale_point

# (image the model saw, screen): the screen is at least as large on both axes.
UPSCALES = [
    (Size(1280, 720), Size(1920, 1080)),
    (Size(1000, 1000), Size(1920, 1080)),
    (Size(1288, 728), Size(1920, 1080)),
    (Size(1366, 768), Size(2560, 1440)),
    (Size(1365, 767), Size(1366, 768)),
    (Size(1920, 1080), Size(1920, 1080)),
    (Size(7, 3), Size(1920, 1080)),
]


def _round_trips(point: Point, source: Size, target: Size) -> bool:
    there = scale_point(point, source, target)
    return target.contains(there) and scale_point(there, target, source) == point


def test_every_pixel_of_a_small_image_round_trips() -> None:
    source, target = Size(64, 36), Size(96, 54)
    hit = set()
    for x, y in itertools.product(range(source.width), range(source.height)):
        point = Point(x, y)
        there = scale_point(point, source, target)
        assert target.contains(there)
        assert scale_point(there, target, source) == point, point
        hit.add(there)
    assert len(hit) == source.width * source.height  # no two pixels land on the same one


@pytest.mark.parametrize(("source", "target"), UPSCALES, ids=lambda s: str(s))
def test_every_row_and_column_round_trips(source: Size, target: Size) -> None:
    # x and y are scaled independently, so a full row and a full column cover every pixel.
    for x in range(source.width):
        assert _round_trips(Point(x, source.height // 2), source, target), x
    for y in range(source.height):
        assert _round_trips(Point(source.width // 3, y), source, target), y


@pytest.mark.parametrize(("source", "target"), UPSCALES, ids=lambda s: str(s))
def test_a_sampled_grid_round_trips(source: Size, target: Size) -> None:
    xs = sorted({*range(0, source.width, 37), source.width - 1})
    ys = sorted({*range(0, source.height, 23), source.height - 1})
    for x, y in itertools.product(xs, ys):
        assert _round_trips(Point(x, y), source, target), (x, y)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        *UPSCALES,
        (Size(1920, 1080), Size(1280, 720)),
        (Size(2560, 1440), Size(7, 3)),
        (Size(1, 1), Size(1920, 1080)),
    ],
    ids=lambda s: str(s),
)
def test_results_stay_inside_the_target(source: Size, target: Size) -> None:
    corners = [
        Point(0, 0),
        Point(source.width - 1, 0),
        Point(0, source.height - 1),
        Point(source.width - 1, source.height - 1),
    ]
    for point in corners:
        assert target.contains(scale_point(point, source, target)), point


def test_corners_map_to_corners_when_upscaling() -> None:
    source, target = Size(1280, 720), Size(1920, 1080)
    assert scale_point(Point(0, 0), source, target) == Point(0, 0)
    assert scale_point(Point(1279, 719), source, target) == Point(1919, 1079)


def test_centre_of_a_pixel_is_mapped() -> None:
    # Pixel 1 of 2 covers [0.5, 1.0) of the width: its centre is at 3/4 of the target.
    assert scale_point(Point(1, 0), Size(2, 1), Size(100, 1)) == Point(75, 0)
    assert scale_point(Point(640, 360), Size(1280, 720), Size(1920, 1080)) == Point(960, 540)


def test_points_off_the_source_are_clamped_onto_the_target() -> None:
    source, target = Size(100, 100), Size(200, 50)
    assert scale_point(Point(-10, -10), source, target) == Point(0, 0)
    assert scale_point(Point(150, 500), source, target) == Point(199, 49)


def test_same_size_is_the_identity() -> None:
    size = Size(1920, 1080)
    for point in (Point(0, 0), Point(1919, 1079), Point(123, 456)):
        assert scale_point(point, size, size) == point


def test_size_contains_its_edges() -> None:
    size = Size(1920, 1080)
    assert size.contains(Point(0, 0))
    assert size.contains(Point(1919, 1079))
    assert not size.contains(Point(1920, 0))
    assert not size.contains(Point(0, 1080))
    assert not size.contains(Point(-1, 5))
    assert not size.contains(Point(5, -1))
    assert not Size(0, 0).contains(Point(0, 0))


def test_size_prints_as_width_x_height() -> None:
    assert str(Size(1920, 1080)) == "1920x1080"


def test_box_center() -> None:
    assert Box(10, 20, 100, 50).center == Point(60, 45)
    assert Box(0, 0, 3, 3).center == Point(1, 1)
    assert Box(5, 5, 1, 1).center == Point(5, 5)
    assert Box(0, 0, 4, 2).center == Point(2, 1)


def test_box_contains_is_half_open() -> None:
    box = Box(10, 20, 100, 50)
    assert box.contains(Point(10, 20))
    assert box.contains(Point(109, 69))
    assert box.contains(box.center)
    assert not box.contains(Point(110, 20))
    assert not box.contains(Point(10, 70))
    assert not box.contains(Point(9, 20))
    assert not box.contains(Point(10, 19))


def test_box_and_size_are_values() -> None:
    assert Box(1, 2, 3, 4) == Box(1, 2, 3, 4)
    assert {Size(1, 2), Size(1, 2), Point(1, 2)} == {Size(1, 2), Point(1, 2)}


def test_a_box_encloses_the_boxes_wholly_inside_it() -> None:
    outer = Box(10, 10, 100, 50)
    assert outer.encloses(Box(10, 10, 100, 50))
    assert outer.encloses(Box(20, 20, 10, 10))
    assert not outer.encloses(Box(9, 20, 10, 10))
    assert not outer.encloses(Box(20, 20, 100, 10))
