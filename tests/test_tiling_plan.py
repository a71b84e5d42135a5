"""Tile plans: balanced tiles cover the axis with the overlap asked for, never run the network on more
pixels than full-size tiles do, and keep tile edges on the network's exact output grid."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from latent_upscale.neural.tiling import plan_axis


def _covered(segments):
    return sum(segment.src_stop - segment.src_start for segment in segments)


@st.composite
def axes(draw):
    overlap = draw(st.integers(4, 48))
    tile = draw(st.integers(2 * overlap, 4 * overlap + 64))
    n_in = draw(st.integers(tile + 1, 6 * tile))
    ratio = draw(st.sampled_from([Fraction(5, 4), Fraction(3, 2), Fraction(2, 1), None]))
    return n_in, tile, overlap, ratio


@given(axes())
def test_balanced_tiles_cover_the_axis_with_the_overlap_and_cost_no_more(axis):
    n_in, tile, overlap, ratio = axis
    n_out = int(n_in * ratio) if ratio else 2 * n_in - 3
    full = plan_axis(n_in, n_out, tile, overlap, ratio)
    balanced = plan_axis(n_in, n_out, tile, overlap, ratio, balance=True)
    assert balanced[0].src_start == 0 and balanced[-1].src_stop == n_in
    assert balanced[0].out_start == 0 and balanced[-1].out_stop == n_out
    for before, after in pairwise(balanced):
        assert before.src_stop - after.src_start >= overlap
        assert after.src_start > before.src_start
    assert all(s.src_stop - s.src_start <= max(s.src_stop - s.src_start for s in full) for s in balanced)
    assert _covered(balanced) <= _covered(full)
    if ratio is not None and ratio.denominator > 1 and ratio.denominator <= overlap // 2:
        # Inner edges land on whole output pixels of the whole image's grid.
        assert all((segment.src_start * ratio).denominator == 1 for segment in balanced)


def test_shorter_equal_tiles_replace_full_size_ones_when_that_is_cheaper():
    full = plan_axis(512, 1024, 256, 40, Fraction(2))
    balanced = plan_axis(512, 1024, 256, 40, Fraction(2), balance=True)
    assert [(s.src_start, s.src_stop) for s in full] == [(0, 256), (216, 472), (256, 512)]
    assert [(s.src_start, s.src_stop) for s in balanced] == [(0, 198), (158, 356), (314, 512)]
    assert [(s.out_start, s.out_stop) for s in balanced] == [(0, 396), (316, 712), (628, 1024)]


def test_an_axis_within_one_tile_is_one_segment_either_way():
    for balance in (False, True):
        assert [
            (s.src_start, s.src_stop, s.out_stop) for s in plan_axis(80, 120, 80, 12, balance=balance)
        ] == [(0, 80, 120)]
