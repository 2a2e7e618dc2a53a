"""Receptive fields: the recurrence on hand-made chains, and C3D's layers read from the built model."""

from __future__ import annotations

import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.models import build_model
from hybridvid_lib.models.receptive_field import chain_receptive_fields, receptive_fields


def test_chain_of_3x3_convolutions_grows_by_two_then_by_the_jump():
    assert chain_receptive_fields([3, 3, 3], [1, 1, 1]) == [3, 5, 7]
    assert chain_receptive_fields([3, 2, 3, 2, 3], [1, 2, 1, 2, 1]) == [3, 4, 8, 10, 18]


@pytest.mark.parametrize("kernels, strides", [([3], [1, 1]), ([0], [1])])
def test_bad_chains_are_refused(kernels, strides):
    with pytest.raises(ValueError):
        chain_receptive_fields(kernels, strides)


def test_c3d_first_pooling_keeps_time_and_the_field_matches_the_recurrence():
    settings = resolve_settings("smoke")
    model = build_model("c3d", settings, 4)
    rows = receptive_fields(model, axis="time")
    names = [r["layer"] for r in rows]
    assert names[:4] == ["conv1", "pool1", "conv2", "pool2"]
    assert rows[1]["stride"] == 1 and rows[1]["output_length"] == settings.num_frames  # pool1 is 1x2x2
    assert rows[3]["stride"] == 2
    fields = chain_receptive_fields([r["kernel"] for r in rows], [r["stride"] for r in rows])
    assert [r["receptive_field"] for r in rows] == fields
    assert all(r["frames_seen"] <= settings.num_frames for r in rows)
    space = receptive_fields(model, axis="height")
    assert space[1]["stride"] == 2


def test_unknown_axis_and_models_without_3d_layers_are_refused():
    settings = resolve_settings("smoke")
    with pytest.raises(ValueError, match="axis must be one of"):
        receptive_fields(build_model("c3d", settings, 4), axis="depth")
    with pytest.raises(ValueError, match="no Conv3D"):
        receptive_fields(build_model("single_frame_cnn", settings, 4))
