"""StickActions generator: layout, splits, joints, determinism, reverse and mirror pairs, resuming."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.data.skeletons import STICK_FIGURE, SkeletonGraph
from hybridvid_lib.data.synth import (
    CLASSES, METADATA_NAME, MIRROR_PAIRS, PRESETS, REVERSE_PAIRS, StickPreset, generate_stickactions,
    get_preset, skeleton_path, synthesize_clip, video_relpath,
)
from hybridvid_lib.data.synth.actions import REVERSED_FROM, _MOTIONS, motion_progress
from hybridvid_lib.data.synth.figure import BodyShape, Palette, draw_figure, pose_to_joints, rest_pose, P
from hybridvid_lib.data.synth.scene import camera_offsets, make_group_style, render_clip
from hybridvid_lib.data.video import count_frames, read_video
from hybridvid_lib.errors import DatasetError, SettingsError

SMOKE = PRESETS["smoke"]
J = {name: i for i, name in enumerate(STICK_FIGURE.joints)}


def read_list(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def group_of(relpath: str) -> str:
    return relpath.rsplit("_", 2)[1]  # "Class/v_Class_g03_c01.avi" -> "g03"


def all_skeletons(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.skeleton.npy"))}


def body_height(skeleton: np.ndarray) -> float:
    """Head-to-ankle distance in the first frame, pixels."""
    ankles = skeleton[0, [J["left_ankle"], J["right_ankle"]], 1].mean()
    return float(ankles - skeleton[0, J["head"], 1])


# --------------------------------------------------------------------------- layout and splits
def test_class_lists_and_pairs():
    assert len(CLASSES) == 12 and list(CLASSES) == sorted(CLASSES)
    paired = [c for pair in REVERSE_PAIRS + MIRROR_PAIRS for c in pair]
    assert len(paired) == len(set(paired)) and set(paired) <= set(CLASSES)
    # Every class has a motion of its own or is the reverse of one.
    assert set(_MOTIONS) | set(REVERSED_FROM) == set(CLASSES)
    assert not set(_MOTIONS) & set(REVERSED_FROM)


def test_metadata_describes_a_complete_build(stickactions_smoke):
    meta = json.loads((stickactions_smoke / METADATA_NAME).read_text())
    assert meta["complete"] is True and meta["name"] == "StickActions"
    assert (meta["preset"], meta["seed"], meta["fps"]) == ("smoke", 0, 25)
    assert meta["classes"] == list(CLASSES)
    assert [tuple(p) for p in meta["reverse_pairs"]] == list(REVERSE_PAIRS)
    assert [tuple(p) for p in meta["mirror_pairs"]] == list(MIRROR_PAIRS)
    assert SkeletonGraph.from_dict(meta["skeleton"]) == STICK_FIGURE
    assert meta["num_videos"] == len(CLASSES) * SMOKE.groups * SMOKE.clips_per_group
    assert meta["frame_size"] == list(SMOKE.frame_size)
    assert meta["factors"]["noise"] == SMOKE.noise


def test_split_files_follow_the_ucf101_format(stickactions_smoke):
    splits = stickactions_smoke / "splits"
    class_ind = read_list(splits / "classInd.txt")
    assert class_ind == [[str(i), c] for i, c in enumerate(CLASSES, start=1)]
    label_of = {c: int(i) for i, c in class_ind}
    every_video = {video_relpath(c, g, k) for c in CLASSES for g in range(1, SMOKE.groups + 1)
                   for k in range(1, SMOKE.clips_per_group + 1)}
    tested = []
    for n in (1, 2, 3):
        train = read_list(splits / f"trainlist{n:02d}.txt")
        test = read_list(splits / f"testlist{n:02d}.txt")
        assert all(len(row) == 2 for row in train) and all(len(row) == 1 for row in test)
        for relpath, label in train:
            assert int(label) == label_of[relpath.split("/")[0]]
        train_paths, test_paths = {r[0] for r in train}, {r[0] for r in test}
        assert train_paths | test_paths == every_video and not train_paths & test_paths
        train_groups = {group_of(p) for p in train_paths}
        test_groups = {group_of(p) for p in test_paths}
        assert not train_groups & test_groups, f"split {n} puts a group on both sides"
        assert {p.split("/")[0] for p in test_paths} == set(CLASSES)
        tested += test_paths
    # The three test folds cover every video exactly once.
    assert sorted(tested) == sorted(every_video)


def test_every_listed_video_and_skeleton_exists(stickactions_smoke):
    videos = stickactions_smoke / "videos"
    for row in read_list(stickactions_smoke / "splits" / "testlist01.txt") + \
            read_list(stickactions_smoke / "splits" / "trainlist01.txt"):
        video = videos / row[0]
        assert video.is_file() and skeleton_path(video).is_file(), row[0]
    assert not list(stickactions_smoke.rglob("*.partial*"))


# --------------------------------------------------------------------------- joints
def test_skeletons_match_the_videos(stickactions_smoke):
    videos = stickactions_smoke / "videos"
    height, width = SMOKE.frame_size
    for c in CLASSES:
        video = videos / video_relpath(c, 2, 1)
        skeleton = np.load(skeleton_path(video))
        assert skeleton.dtype == np.float32
        assert skeleton.shape == (count_frames(video), STICK_FIGURE.num_joints, 3)
        conf = skeleton[..., 2]
        assert conf.min() >= 0 and conf.max() <= 1 and conf.mean() > 0.8
        inside = ((skeleton[..., 0] >= 0) & (skeleton[..., 0] <= width - 1)
                  & (skeleton[..., 1] >= 0) & (skeleton[..., 1] <= height - 1))
        assert not (conf[~inside] > 0).any(), "a joint outside the frame must have confidence 0"


def test_synthesize_clip_is_what_the_build_wrote(stickactions_smoke):
    video = stickactions_smoke / "videos" / video_relpath("Wave", 3, 1)
    frames, skeleton = synthesize_clip("Wave", "smoke", seed=0, group=3, clip=1)
    np.testing.assert_array_equal(np.load(skeleton_path(video)), skeleton)
    decoded = read_video(video)
    assert decoded.shape == frames.shape
    # MJPG is lossy: the decoded frames are close to the rendered ones, not equal.
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 6


def test_confidence_is_zero_behind_occluders():
    covered = dataclasses.replace(SMOKE, occluder_prob=1.0, max_occluders=2, occluder_size=(0.3, 0.4),
                                  camera_pan=0.0)
    style = make_group_style(np.random.default_rng(1), covered)
    hidden_inside = 0
    for k in range(6):
        _, skeleton = render_clip("JumpingJack", np.random.default_rng(k), style, covered)
        xy = skeleton[..., :2]
        inside = (xy >= 0).all(-1) & (xy[..., 0] <= 47) & (xy[..., 1] <= 47)
        hidden_inside += int((inside & (skeleton[..., 2] == 0)).sum())
    assert hidden_inside > 0


def test_figure_limbs_are_at_least_three_pixels_thick_at_128px():
    pose = rest_pose()
    pose[[P["l_arm"], P["l_forearm"]]] = np.pi / 2  # left arm straight out to the image's right
    height = PRESETS["default"].actor_height[0] * 128
    body = BodyShape()
    joints = pose_to_joints(pose, body, anchor_x=50, ground_y=120, height=height)[0]
    img = np.zeros((128, 128, 3), np.uint8)
    white = (255, 255, 255)
    draw_figure(img, joints, body, Palette(white, white, white, white), height, min_thickness=3)
    column = int(round((joints[J["left_elbow"], 0] + joints[J["left_wrist"], 0]) / 2))
    assert (img[:, column, 0] > 127).sum() >= 3


# --------------------------------------------------------------------------- determinism
def test_same_seed_same_build_other_seed_other_clips(stickactions_smoke, tmp_path):
    again = tmp_path / "again"
    summary = generate_stickactions(again, preset="smoke", seed=0, progress=False)
    assert summary["built"] == summary["num_videos"] == 72 and not summary["reused"]
    assert all_skeletons(again) == all_skeletons(stickactions_smoke)
    rel = video_relpath("LieDown", 1, 1)
    np.testing.assert_array_equal(read_video(again / "videos" / rel),
                                  read_video(stickactions_smoke / "videos" / rel))
    assert (again / "splits" / "trainlist02.txt").read_bytes() == \
        (stickactions_smoke / "splits" / "trainlist02.txt").read_bytes()
    for c in ("LieDown", "Wave", "PointLeft"):
        _, seed0 = synthesize_clip(c, "smoke", seed=0)
        _, seed1 = synthesize_clip(c, "smoke", seed=1)
        assert seed0.shape != seed1.shape or not np.array_equal(seed0, seed1)


def test_parallel_build_writes_the_same_joints(stickactions_smoke, tmp_path):
    summary = generate_stickactions(tmp_path / "par", preset="smoke", seed=0, progress=False, workers=2)
    assert summary["workers"] == 2
    assert all_skeletons(tmp_path / "par") == all_skeletons(stickactions_smoke)


# --------------------------------------------------------------------------- reverse and mirror pairs
@pytest.mark.parametrize("forward, backward", REVERSE_PAIRS)
def test_reverse_class_is_the_forward_clip_backwards(forward, backward):
    style = make_group_style(np.random.default_rng(5), SMOKE)
    f_frames, f_skel = render_clip(forward, np.random.default_rng(11), style, SMOKE)
    b_frames, b_skel = render_clip(backward, np.random.default_rng(11), style, SMOKE)
    np.testing.assert_array_equal(b_frames, f_frames[::-1])
    np.testing.assert_array_equal(b_skel, f_skel[::-1])


def _mean_normalised_pose(class_name: str, seeds: range, standing_frame: int) -> np.ndarray:
    """Mean over clips of joints relative to the pelvis, in standing heights: ``(T, J, 2)``.

    The height is measured at ``standing_frame`` (0 or -1), where the figure stands at rest.
    """
    poses = []
    for s in seeds:
        style = make_group_style(np.random.default_rng(1000 + s), SMOKE)
        _, skel = render_clip(class_name, np.random.default_rng(s), style, SMOKE)
        xy = skel[..., :2] - skel[:, :1, :2]
        poses.append(xy / body_height(skel[[standing_frame]]))
    return np.mean(poses, axis=0)


@pytest.mark.parametrize("forward, backward", REVERSE_PAIRS)
def test_reverse_pairs_are_reverses_in_distribution(forward, backward):
    # Independent clips of the two classes: the mean pose of `forward` at frame t matches the
    # mean pose of `backward` at frame T-1-t, and not at frame t.
    fwd = _mean_normalised_pose(forward, range(0, 24), standing_frame=0)
    bwd = _mean_normalised_pose(backward, range(100, 124), standing_frame=-1)
    reversed_gap = np.abs(fwd - bwd[::-1]).mean()
    same_time_gap = np.abs(fwd - bwd).mean()
    assert reversed_gap < 0.35 * same_time_gap, (reversed_gap, same_time_gap)


def test_still_parts_and_camera_do_not_tell_the_direction_of_time():
    rng = np.random.default_rng(0)
    before, after = [], []
    for _ in range(2000):
        u = motion_progress(rng, 44, (0.55, 0.85))
        before.append(int((u == 0).sum()))
        after.append(int((u == 1).sum()))
    assert abs(np.mean(before) - np.mean(after)) < 0.3
    pans = np.array([np.sign(np.diff(camera_offsets(rng, PRESETS["hard"], 40, 120, 160)[[0, -1], 0]))[0]
                     for _ in range(400)])
    assert 0.4 < (pans > 0).mean() < 0.6


def test_point_left_and_right_are_mirror_images(stickactions_smoke):
    videos = stickactions_smoke / "videos"
    wrists = [J["left_wrist"], J["right_wrist"]]
    for class_name, sign in (("PointLeft", -1), ("PointRight", 1)):
        for g in range(1, SMOKE.groups + 1):
            skel = np.load(skeleton_path(videos / video_relpath(class_name, g, 1)))
            reach = (skel[:, wrists, 0] - skel[:, [J["pelvis"]], 0]) * sign  # towards the named side
            height = body_height(skel)
            assert reach.max() > 0.3 * height, (class_name, g)
            assert (-reach).max() < 0.2 * height, (class_name, g)  # no arm out to the other side


# --------------------------------------------------------------------------- reuse, resume, refusal
def test_second_call_reuses_and_touches_nothing(tmp_path):
    out = tmp_path / "sa"
    generate_stickactions(out, preset="smoke", seed=0, progress=False, workers=1)
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    summary = generate_stickactions(out, preset="smoke", seed=0, progress=False)
    assert summary["reused"] is True and summary["built"] == 0
    assert summary["message"] and summary["num_videos"] == 72
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_interrupted_build_resumes(tmp_path):
    out = tmp_path / "sa"
    generate_stickactions(out, preset="smoke", seed=0, progress=False, workers=1)
    video = out / "videos" / video_relpath("SitDown", 4, 1)
    skeleton_before = skeleton_path(video).read_bytes()
    untouched = out / "videos" / video_relpath("Wave", 1, 1)
    mtime = untouched.stat().st_mtime_ns
    video.unlink()  # as if killed before this video was written
    leftover = video.parent / ".v_SitDown_g04_c01.avi.x1y2.partial.avi"
    leftover.write_bytes(b"half a video")
    meta_leftover = out / ".stickactions.json.k3j4.partial"
    meta_leftover.write_text("{")
    # Another tool's write in progress in its own folder is not ours to clean.
    flow_in_progress = out / "flow" / ".v_Wave_g01_c01.npy.a1b2.partial"
    flow_in_progress.parent.mkdir()
    flow_in_progress.write_bytes(b"flow")
    meta = json.loads((out / METADATA_NAME).read_text())
    (out / METADATA_NAME).write_text(json.dumps({**meta, "complete": False}))

    summary = generate_stickactions(out, preset="smoke", seed=0, progress=False)
    assert summary["built"] == 1 and summary["reused"] is False
    assert skeleton_path(video).read_bytes() == skeleton_before
    assert count_frames(video) == np.load(skeleton_path(video)).shape[0]
    assert untouched.stat().st_mtime_ns == mtime
    assert not leftover.exists() and not meta_leftover.exists()
    assert flow_in_progress.exists()
    assert json.loads((out / METADATA_NAME).read_text())["complete"] is True


def test_foreign_folder_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "holiday_videos"
    out.mkdir()
    mine = out / "beach.avi"
    mine.write_bytes(b"precious")
    for force in (False, True):
        with pytest.raises(DatasetError, match="not a StickActions build"):
            generate_stickactions(out, preset="smoke", progress=False, force=force)
    assert mine.read_bytes() == b"precious" and sorted(out.iterdir()) == [mine]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        generate_stickactions(a_file, preset="smoke", progress=False)


def test_other_settings_need_force_which_keeps_other_files_but_not_the_old_flow(tmp_path):
    out = tmp_path / "sa"
    generate_stickactions(out, preset="smoke", seed=0, progress=False, workers=1)
    extra = out / "mine" / "cache.npy"
    extra.parent.mkdir()
    extra.write_bytes(b"mine")
    flow = out / "flow" / "cache.npy"
    flow.parent.mkdir()
    flow.write_bytes(b"flow of seed 0's videos")
    with pytest.raises(DatasetError, match="already holds StickActions preset smoke, seed 0"):
        generate_stickactions(out, preset="smoke", seed=1, progress=False)
    summary = generate_stickactions(out, preset="smoke", seed=1, progress=False, force=True)
    assert summary["built"] == 72 and json.loads((out / METADATA_NAME).read_text())["seed"] == 1
    assert extra.read_bytes() == b"mine" and not flow.exists()


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(SettingsError, match="Unknown StickActions preset 'huge'"):
        generate_stickactions(tmp_path / "x", preset="huge", progress=False)
    with pytest.raises(ValueError, match="seed must be a whole number >= 0"):
        generate_stickactions(tmp_path / "x", preset="smoke", seed=-1, progress=False)
    with pytest.raises(ValueError, match="workers must be"):
        generate_stickactions(tmp_path / "x", preset="smoke", progress=False, workers=0)
    with pytest.raises(ValueError, match="Unknown StickActions class 'Dance'"):
        synthesize_clip("Dance", "smoke")
    with pytest.raises(ValueError, match="groups 1..6"):
        synthesize_clip("Wave", "smoke", group=7)
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- presets
def test_presets_sizes_and_factors():
    default = get_preset("default")
    assert default.num_videos(len(CLASSES)) == 432 and default.frame_size == (128, 128)
    assert SMOKE.num_videos(len(CLASSES)) == 72 and SMOKE.num_frames == (16, 16)
    hard = get_preset("hard")
    assert hard.groups > default.groups and hard.distractor_prob > 0 and hard.noise > default.noise
    for preset in PRESETS.values():
        # stickactions.json stores the size and the factors: together they must rebuild the preset,
        # so that a build says exactly how it was made (a setting left out of factors() fails here).
        stored = json.loads(json.dumps(preset.factors()))
        rebuilt = StickPreset(name=preset.name, frame_size=preset.frame_size, groups=preset.groups,
                              clips_per_group=preset.clips_per_group,
                              **{k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()})
        assert rebuilt == preset, preset.name
    with pytest.raises(ValueError, match="multiple of 3"):
        dataclasses.replace(SMOKE, groups=4)


def test_hard_clip_has_the_preset_size_and_length():
    frames, skeleton = synthesize_clip("JumpingJack", "hard", seed=0, group=2, clip=3)
    hard = PRESETS["hard"]
    assert frames.shape[1:] == (*hard.frame_size, 3) and frames.dtype == np.uint8
    assert hard.num_frames[0] <= len(frames) <= hard.num_frames[1] and len(skeleton) == len(frames)


# --------------------------------------------------------------------------- the second actor in the joints
def test_hard_skeletons_carry_the_second_actor_as_a_second_person():
    """A pose estimator sees every person: the hard preset's joints hold the distractor too, as NTU stores bodies."""
    hard = PRESETS["hard"]
    assert hard.persons == 2 and SMOKE.persons is None and PRESETS["default"].persons is None
    always = dataclasses.replace(hard, distractor_prob=1.0)
    never = dataclasses.replace(hard, distractor_prob=1e-12)  # persons 2, but the draw never gives one
    style = make_group_style(np.random.default_rng(3), hard)
    frames, both = render_clip("Wave", np.random.default_rng(5), style, always)
    _, alone = render_clip("Wave", np.random.default_rng(5), style, never)
    assert both.shape == (len(frames), STICK_FIGURE.num_joints, 3, 2) and both.dtype == np.float32
    assert alone.shape == both.shape and np.all(alone[..., 1] == 0)  # an empty slot is zeros
    assert both[..., 2, :].sum(axis=(0, 1)).min() > 0  # both persons seen
    # The slots hold two different bodies: the main actor (as in the one-actor clip) and the smaller distractor.
    main = [m for m in range(2) if np.allclose(both[..., m], alone[..., 0])]
    assert len(main) == 1
    other = both[..., 1 - main[0]]
    height = lambda s: np.ptp(s[..., 1][s[..., 2] > 0])  # noqa: E731 - vertical extent of the seen joints
    assert height(other) < height(alone[..., 0])


def test_the_most_prominent_person_comes_first_even_when_it_is_not_the_actor():
    from hybridvid_lib.data.synth.scene import order_persons

    actor = np.ones((4, 18, 3), np.float32)
    small = np.full((4, 18, 3), 2.0, np.float32)
    assert np.array_equal(order_persons([actor, small], [60.0, 30.0])[..., 0], actor)
    hidden = actor.copy()
    hidden[:, :12, 2] = 0  # two thirds of the actor's joints behind an occluder
    ordered = order_persons([hidden, small], [60.0, 30.0])
    assert ordered.shape == (4, 18, 3, 2) and np.array_equal(ordered[..., 0], small)
    empty = np.zeros_like(actor)
    assert np.array_equal(order_persons([actor, empty], [60.0, 0.0])[..., 1], empty)


def test_a_build_of_an_older_version_is_rebuilt_with_its_flow_cache(tmp_path):
    """Version 3 changed every preset's files: an older build of the same preset and seed is replaced (the
    notebooks build without force), and the flow computed from its videos goes with them."""
    from hybridvid_lib.data.synth import VERSION

    out = tmp_path / "sa"
    generate_stickactions(out, preset="smoke", seed=0, progress=False, workers=1)
    meta = json.loads((out / METADATA_NAME).read_text())
    assert VERSION == 3 and meta["version"] == 3
    (out / METADATA_NAME).write_text(json.dumps({**meta, "version": 2}))
    stale_flow = out / "flow" / "dis_32" / "x.flow.npy"
    stale_flow.parent.mkdir(parents=True)
    stale_flow.write_bytes(b"flow of the old videos")
    notes = out / "notes.txt"
    notes.write_text("mine")
    summary = generate_stickactions(out, preset="smoke", seed=0, progress=False, workers=1)
    assert summary["built"] == 72 and not summary["reused"]
    assert json.loads((out / METADATA_NAME).read_text())["version"] == 3
    assert not (out / "flow").exists() and notes.read_text() == "mine"
    assert generate_stickactions(out, preset="smoke", seed=0, progress=False)["reused"]


def test_an_older_build_of_another_preset_still_needs_force(tmp_path):
    from hybridvid_lib.data.synth.generate import _existing_build, metadata

    out = tmp_path / "sa"
    out.mkdir()
    (out / METADATA_NAME).write_text(json.dumps({**metadata(PRESETS["default"], 0, complete=True), "version": 2}))
    with pytest.raises(DatasetError, match=r"preset default, seed 0 \(version 2\).*--force"):
        _existing_build(out, PRESETS["hard"], 0, force=False)
    assert metadata(PRESETS["hard"], 0, complete=True)["persons"] == 2


# --------------------------------------------------------------------------- what the models can see
def main_actor(skeleton: np.ndarray) -> np.ndarray:
    """``(T, J, 3)`` joints of the main actor: the person with the longer spine (pelvis to neck)."""
    if skeleton.ndim == 3:
        return skeleton
    spine = [np.linalg.norm(skeleton[:, J["pelvis"], :2, m] - skeleton[:, J["neck"], :2, m], axis=-1).mean()
             for m in range(skeleton.shape[-1])]
    return skeleton[..., int(np.argmax(spine))]


def test_the_main_actor_stays_inside_the_centre_square_every_model_sees():
    """The pipelines keep the centre square of a frame; on 4:3 frames an actor placed near a side, with the camera
    panning, used to leave it: the labelled action must stay visible, the second actor near the view's edges."""
    from hybridvid_lib.data.synth.scene import view_box

    hard = PRESETS["hard"]
    x0, y0, x1, y1 = view_box(*hard.frame_size)
    assert (x0, y0, x1, y1) == (20, 0, 140, 120)
    near_the_sides = dataclasses.replace(hard, actor_x=(0.15, 0.25), camera_pan=0.3, distractor_prob=1.0)
    for k, name in enumerate(CLASSES):
        style = make_group_style(np.random.default_rng(k), near_the_sides)
        _, skeleton = render_clip(name, np.random.default_rng(100 + k), style, near_the_sides)
        actor = main_actor(skeleton)
        x, y = actor[..., 0], actor[..., 1]
        assert x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1, name
        other = skeleton[..., 1] if actor is skeleton[..., 0] else skeleton[..., 0]
        assert x0 <= np.median(other[..., 0]) <= x1, name  # the distractor is in the picture too
