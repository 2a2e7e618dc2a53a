"""The temporal stream's measured defaults: L = 15 fields, capped at the clip's T - 1, several test clips."""

import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.models.two_stream import (
    DEFAULT_FLOW_STACK, DEFAULT_FUSION_EPOCHS, DEFAULT_TEST_CLIPS, flow_stack_length,
)


def test_the_default_stack_is_15_fields_capped_at_the_clip():
    assert DEFAULT_FLOW_STACK == 15
    assert flow_stack_length(resolve_settings("cpu"), None) == 15  # 16 frames: 15 fields
    assert flow_stack_length(resolve_settings("smoke"), None) == 7  # 8 frames
    assert flow_stack_length(resolve_settings("gpu"), None) == 15
    assert flow_stack_length(resolve_settings("cpu"), 10) == 10  # Simonyan & Zisserman's L, on request
    with pytest.raises(ValueError, match="positive number of flow fields"):
        flow_stack_length(resolve_settings("cpu"), 0)


def test_test_clips_and_fusion_epochs_are_positive():
    assert DEFAULT_TEST_CLIPS > 1 and DEFAULT_FUSION_EPOCHS >= 1
