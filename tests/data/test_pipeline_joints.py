"""``build_pipeline(inputs=("joints",))``: StickActions ``.npy`` joints and NTU RGB+D ``.skeleton`` text files.

Hand-made joints whose positions say what was sampled, centred, flipped or perturbed.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest

from hybridvid_lib.config import resolve_settings
from hybridvid_lib.data.datasets import load_dataset
from hybridvid_lib.data.pipeline import SkippedVideosWarning, build_pipeline
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.sampling import sample_indices
from hybridvid_lib.data.skeletons import STICK_FIGURE
from hybridvid_lib.errors import DatasetError

SIZE, T = 32, 12
SETTINGS = resolve_settings("smoke", frame_size=24, short_side=28, cache_short_side=SIZE,
                            num_frames=4, batch_size=4, sampling="uniform", flip_policy="swap")
LEFT_HAND, RIGHT_HAND, RIGHT_ANKLE = (STICK_FIGURE.index(n) for n in ("left_hand", "right_hand", "right_ankle"))


def elements(pipe, epochs: int = 1):
    """Every element of ``epochs`` epochs as ``(features of one element as numpy, label)``."""
    for _ in range(epochs):
        for features, labels in pipe.dataset:
            batch = {k: v.numpy() for k, v in features.items()}
            for i, label in enumerate(labels.numpy()):
                yield {k: v[i] for k, v in batch.items()}, int(label)


# --------------------------------------------------------------------------- StickActions-style joints
def stick_joints(num_frames: int = T) -> np.ndarray:
    """Stick-figure joints (T, 18, 3): pelvis walks 1 px right per frame from x = 10; left hand up, right hand down."""
    joints = np.zeros((num_frames, 18, 3), np.float32)
    pelvis = np.stack([10.0 + np.arange(num_frames), np.full(num_frames, 20.0)], axis=1)
    joints[:, :, :2] = pelvis[:, None, :]
    joints[:, :, 2] = 1.0
    joints[:, LEFT_HAND, :2] = pelvis + [5.0, -8.0]  # left_hand: the person's left is the image's right
    joints[:, RIGHT_HAND, :2] = pelvis + [-5.0, 4.0]
    joints[:, 4:7, 0] += 2.0  # the left arm a little to the right, so every side differs from its twin
    joints[:, RIGHT_ANKLE] = [100.0, 100.0, 0.0]  # right_ankle not seen: its x, y mean nothing
    return joints


def make_skeleton_split(root: Path, count: int, *, with_joints=True) -> DatasetSplit:
    """``count`` PointLeft records whose joints files hold ``stick_joints``; no video files are needed."""
    records = []
    for n in range(count):
        relpath = f"PointLeft/v_PointLeft_g{n + 1:02d}_c01.avi"
        joints_path = root / relpath.replace(".avi", ".skeleton.npy")
        if with_joints or n > 0:
            joints_path.parent.mkdir(parents=True, exist_ok=True)
            np.save(joints_path, stick_joints())
        records.append(Record.of_video(relpath, root / relpath, 0, "PointLeft", f"g{n + 1:02d}",
                                       skeleton=joints_path))
    metadata = {"skeleton": STICK_FIGURE.to_dict(), "frame_size": [SIZE, SIZE]}
    return DatasetSplit("stickactions", 1, ["PointLeft", "PointRight"], root, train=records,
                        mirror_pairs=[("PointLeft", "PointRight")], metadata=metadata)


def test_skeleton_clips_are_centred_scaled_and_sampled_like_video(tmp_path):
    pipe = build_pipeline(make_skeleton_split(tmp_path, 3), "train", SETTINGS, inputs=("joints",), training=False)
    features, labels = next(iter(pipe.dataset))
    assert set(features) == {"joints", "index"} and features["index"].numpy().tolist() == [0, 1, 2]
    joints = features["joints"]
    assert joints.shape == (3, 4, 18, 3) and joints.dtype.name == "float32" and labels.dtype.name == "int32"
    idx = sample_indices(T, 4, "uniform")
    step = (idx - idx.mean()) / SIZE  # pelvis moves 1 px per frame, one frame size is 32 px; origin: its mean
    for clip in joints.numpy():
        np.testing.assert_allclose(clip[:, 0, :2], np.stack([step, 0 * step], axis=1), atol=1e-6)
        np.testing.assert_allclose(clip[:, LEFT_HAND, :2],
                                   np.stack([step + 5 / SIZE, step * 0 - 8 / SIZE], axis=1), atol=1e-6)
        assert np.all(clip[:, RIGHT_ANKLE] == 0.0)  # unseen joint: no position, confidence 0
        assert np.all(clip[:, :17, 2] == 1.0)
    assert pipe.element_spec_doc.startswith('{"joints": (B, 4, 18, 3) float32')


def test_skeleton_flip_mirrors_x_swaps_sides_and_labels(tmp_path):
    pipe = build_pipeline(make_skeleton_split(tmp_path, 4), "train", SETTINGS, inputs=("joints",),
                          training=True, seed=0)
    seen = set()
    for clip, label in ((e["joints"], label) for e, label in elements(pipe, epochs=4)):
        walks_left = clip[-1, 0, 0] < clip[0, 0, 0]
        hand_7_is_low = clip[0, LEFT_HAND, 1] > 0  # after a flip joint 7 (left_hand) is the old right hand
        assert walks_left == hand_7_is_low == (label == 1)
        np.testing.assert_allclose(abs(clip[0, LEFT_HAND, 0] - clip[0, 0, 0]), 5 / SIZE, atol=1e-6)
        seen.add(bool(walks_left))
    assert seen == {True, False}


def test_a_flipped_skeleton_is_the_unflipped_one_with_x_negated_and_sides_swapped(tmp_path):
    """Same seed, policy ``off`` vs ``swap``: the same frames; a flipped element is labelled PointRight."""
    split = make_skeleton_split(tmp_path, 4)
    perm = STICK_FIGURE.mirror_permutation()
    assert perm[LEFT_HAND] == RIGHT_HAND and perm[RIGHT_HAND] == LEFT_HAND and perm[0] == 0

    def pipe(policy):
        return build_pipeline(split, "train", SETTINGS.replace(flip_policy=policy), inputs=("joints",),
                              training=True, seed=1)

    flips = []
    for (plain, plain_label), (swapped, label) in zip(elements(pipe("off"), 3), elements(pipe("swap"), 3)):
        assert plain["index"] == swapped["index"] and plain_label == 0
        mirrored = plain["joints"][:, perm].copy()
        mirrored[..., 0] *= -1.0  # x negated; y and confidence kept
        assert not np.allclose(mirrored, plain["joints"])
        flips.append(label == 1)
        np.testing.assert_allclose(swapped["joints"], mirrored if label == 1 else plain["joints"], atol=1e-6)
    assert set(flips) == {True, False}


def test_skeleton_pipeline_skips_records_without_joints_and_needs_a_graph(tmp_path):
    split = make_skeleton_split(tmp_path, 3, with_joints=False)
    with pytest.warns(SkippedVideosWarning, match="missing skeleton"):
        pipe = build_pipeline(split, "train", SETTINGS, inputs=("joints",), training=False)
    assert pipe.skipped == [{"video": "PointLeft/v_PointLeft_g01_c01.avi", "reason": "missing skeleton"}]
    assert pipe.num_videos == 2 and sorted(int(e["index"]) for e, _ in elements(pipe)) == [0, 1]
    with pytest.raises(DatasetError, match="v_PointLeft_g01"):
        build_pipeline(split, "train", SETTINGS, inputs=("joints",), training=False, strict=True)
    split.metadata = {}
    with pytest.raises(DatasetError, match="no skeleton graph"):
        build_pipeline(split, "train", SETTINGS, inputs=("joints",), training=False)


# --------------------------------------------------------------------------- pose-estimator noise and drop-out
@pytest.fixture
def perturbation_runs(tmp_path):
    """``run(noise, dropout, seed, training)`` -> every joints clip of one epoch, (N, T, 18, 3), in order."""
    split = make_skeleton_split(tmp_path, 4)
    settings = SETTINGS.replace(num_frames=T, flip_policy="off")

    def run(noise=0.0, dropout=0.0, seed=3, training=True):
        pipe = build_pipeline(split, "train", settings, inputs=("joints",), training=training, seed=seed,
                              joint_noise=noise, joint_dropout=dropout)
        found = list(elements(pipe))
        return np.stack([e["joints"] for e, _ in found]), [int(e["index"]) for e, _ in found]

    return run


def test_joint_noise_and_dropout_are_off_at_evaluation(perturbation_runs):
    plain, order = perturbation_runs(training=False)
    perturbed, same_order = perturbation_runs(noise=0.1, dropout=0.5, training=False)
    assert order == same_order == [0, 1, 2, 3]
    np.testing.assert_array_equal(perturbed, plain)


def test_joint_noise_moves_the_coordinates_of_seen_joints_only(perturbation_runs):
    plain, order = perturbation_runs()
    noisy, same_order = perturbation_runs(noise=0.05)
    assert order == same_order
    moved = noisy[:, :, :RIGHT_ANKLE, :2] - plain[:, :, :RIGHT_ANKLE, :2]
    assert np.all(moved != 0) and 0.04 < moved.std() < 0.06 and abs(moved.mean()) < 0.01
    np.testing.assert_array_equal(noisy[..., 2], plain[..., 2])  # confidence kept
    assert np.all(noisy[:, :, RIGHT_ANKLE] == 0)  # an unseen joint stays unseen
    again, _ = perturbation_runs(noise=0.05)
    other, _ = perturbation_runs(noise=0.05, seed=4)
    np.testing.assert_array_equal(again, noisy)
    assert not np.allclose(other, noisy)


def test_joint_dropout_zeros_whole_joints_at_about_the_asked_rate(perturbation_runs):
    plain, order = perturbation_runs()
    dropped, same_order = perturbation_runs(dropout=0.3)
    assert order == same_order
    lost = np.all(dropped == 0, axis=-1)  # (N, T, J): every channel 0, confidence too
    kept = np.all(dropped == plain, axis=-1)
    assert np.all(lost | kept)  # a joint is lost whole or kept as it was
    rate = lost[:, :, :RIGHT_ANKLE].mean()  # over 4 x 12 x 17 seen joints
    assert 0.24 < rate < 0.36
    again, _ = perturbation_runs(dropout=0.3)
    other, _ = perturbation_runs(dropout=0.3, seed=4)
    np.testing.assert_array_equal(again, dropped)
    assert not np.array_equal(other, dropped)


# --------------------------------------------------------------------------- StickActions data
def test_stickactions_joints_are_the_npy_files_at_the_sampled_frames(stickactions_smoke):
    from hybridvid_lib.data.datasets import load_dataset

    ds = load_dataset("stickactions", stickactions_smoke)
    settings = resolve_settings("smoke")
    height, width = ds.metadata["frame_size"]
    center = ds.metadata["skeleton"]["center"]
    pipe = build_pipeline(ds, "test", settings, inputs=("joints",), training=False)
    count = 0
    for element, label in elements(pipe):
        record = pipe.records[int(element["index"])]
        assert label == record.label
        raw = np.load(record.skeleton_path)
        clip = raw[sample_indices(len(raw), settings.num_frames, settings.sampling, stride=settings.frame_stride)]
        seen = clip[..., 2] > 0
        with_center = np.flatnonzero(seen[:, center])
        origin = (clip[with_center, center, :2].mean(axis=0) if len(with_center)
                  else [(width - 1) / 2, (height - 1) / 2])
        expected = clip.copy()
        expected[..., :2] = (clip[..., :2] - origin) / max(height, width) * seen[..., None]
        np.testing.assert_allclose(element["joints"], expected, atol=1e-5)
        count += 1
    assert count == len(ds.test) == pipe.num_videos

    train = build_pipeline(ds, "train", settings, inputs=("joints",), training=True, joint_noise=0.01,
                           joint_dropout=0.1)
    features, _ = next(iter(train.dataset))
    assert features["joints"].shape[1:] == (settings.num_frames, STICK_FIGURE.num_joints, 3)
    assert np.isfinite(features["joints"].numpy()).all()


# --------------------------------------------------------------------------- NTU RGB+D .skeleton files
# NTU's 25 joints, 0-based: left/right arms 4-7 / 8-11, legs 12-15 / 16-19, hand tips and thumbs 21, 22 / 23, 24.
NTU_MIRROR = list(range(25))
for _left, _right in [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23), (22, 24)]:
    NTU_MIRROR[_left], NTU_MIRROR[_right] = _right, _left
NTU_LAYOUT = {"num_joints": 25, "coords": 3, "confidence": None, "center": 1, "scale": 1.0,
              "default_origin": [0.0, 0.0, 0.0], "mirror": NTU_MIRROR, "persons": 2}
NTU_FRAMES = 8


def ntu_body(vid: int, person: int, num_frames: int = NTU_FRAMES) -> np.ndarray:
    """(T, 25, 3) metres: every joint somewhere else, the body drifting 2 cm a frame in x."""
    j, t = np.arange(25, dtype=np.float64), np.arange(num_frames, dtype=np.float64)
    xyz = np.stack([0.1 * j, -0.05 * j, 3.0 + 0.01 * j], axis=-1)[None] + (0.02 * t)[:, None, None] * [1, 0, 0]
    return xyz + [0.5 * vid + 1.0 * person, 0.1 * vid, 0.5 * person]


def ntu_text(bodies: list[np.ndarray]) -> str:
    """An NTU RGB+D ``.skeleton`` file of the given ``(T, 25, 3)`` bodies, all in every frame."""
    lines = [str(len(bodies[0]))]
    for t in range(len(bodies[0])):
        lines.append(str(len(bodies)))
        for b, body in enumerate(bodies):
            lines.append(f"{72057594037931101 + b} 0 1 1 1 1 0 0.1 0.2 2")
            lines.append("25")
            lines += [f"{x:.6f} {y:.6f} {z:.6f} 250.1 200.2 900.3 500.4 0.1 0.2 0.3 0.4 2" for x, y, z in body[t]]
    return "\n".join(lines) + "\n"


@pytest.fixture
def ntu_split(tmp_path) -> DatasetSplit:
    """3 NTU samples (the last with two actors) and a truncated one; records with only a skeleton file."""
    folder = tmp_path / "nturgb+d_skeletons"
    folder.mkdir()
    records = []
    for n in range(4):
        name = f"S001C001P00{n + 1}R001A00{n % 2 + 1}.skeleton"
        bodies = [ntu_body(n, 0)] + ([ntu_body(n, 1)] if n == 2 else [])
        text = ntu_text(bodies)
        (folder / name).write_text(text[:len(text) // 2] if n == 3 else text)  # sample 3 is cut in half
        records.append(Record(name, n % 2, ["DrinkWater", "EatMeal"][n % 2], f"P00{n + 1}",
                              files={"skeleton": folder / name}))
    return DatasetSplit("ntu", 1, ["DrinkWater", "EatMeal"], tmp_path, train=records,
                        metadata={"joint_layout": NTU_LAYOUT})


def test_ntu_skeleton_files_flow_through_the_same_builder(ntu_split, tmp_path):
    ntu_cache = tmp_path / "converted"  # not the default folder beside the files
    pipe = build_pipeline(ntu_split, "train", SETTINGS, inputs=("joints",), training=False, ntu_cache=ntu_cache)
    assert pipe.element_spec_doc.startswith('{"joints": (B, 4, 25, 3, 2) float32')
    with pytest.warns(SkippedVideosWarning, match="S001C001P004R001A002.skeleton"):
        batches = list(pipe.dataset)
    assert pipe.skipped == [{"video": "S001C001P004R001A002.skeleton", "reason": "decode failed"}]
    features, labels = batches[0]
    assert features["joints"].shape == (3, 4, 25, 3, 2) and labels.numpy().tolist() == [0, 1, 0]
    idx = sample_indices(NTU_FRAMES, 4, "uniform")  # frames 1, 3, 5, 7
    for vid, clip in zip(features["index"].numpy(), features["joints"].numpy()):
        origin = ntu_body(vid, 0)[idx, 1].mean(axis=0)  # joint 1 (spine middle), mean over the clip, person 0
        np.testing.assert_allclose(clip[..., 0], ntu_body(vid, 0)[idx] - origin, atol=1e-5)
        if vid == 2:  # the second actor, centred on the first one's origin
            np.testing.assert_allclose(clip[..., 1], ntu_body(vid, 1)[idx] - origin, atol=1e-5)
        else:
            assert np.all(clip[..., 1] == 0)
    assert sorted(p.name for p in (ntu_cache / "persons2").rglob("*.joints.npy")) == [
        f"S001C001P00{n + 1}R001A00{n % 2 + 1}.skeleton.joints.npy" for n in range(3)]

    # Flipped in training: x negated and NTU's left/right joints swapped, for both persons.
    def train(policy):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedVideosWarning)
            return list(elements(build_pipeline(ntu_split, "train", SETTINGS.replace(flip_policy=policy),
                                                inputs=("joints",), training=True, seed=0, ntu_cache=ntu_cache), 3))

    flips = []
    for (plain, _), (swapped, _) in zip(train("off"), train("swap")):
        assert plain["index"] == swapped["index"]
        mirrored = plain["joints"][:, NTU_MIRROR].copy()
        mirrored[:, :, 0] *= -1.0
        flips.append(not np.array_equal(swapped["joints"], plain["joints"]))
        np.testing.assert_allclose(swapped["joints"], mirrored if flips[-1] else plain["joints"], atol=1e-6)
    assert set(flips) == {True, False}


def test_ntu_skeletons_with_one_person_slot_have_no_person_axis(ntu_split, tmp_path):
    ntu_split.metadata = {"joint_layout": {**NTU_LAYOUT, "persons": None}}
    ntu_split.train = ntu_split.train[:3]  # the well-formed files
    pipe = build_pipeline(ntu_split, "train", SETTINGS, inputs=("joints",), training=False,
                          ntu_cache=tmp_path / "converted")
    features, _ = next(iter(pipe.dataset))
    assert features["joints"].shape == (3, 4, 25, 3) and pipe.skipped == []
    idx = sample_indices(NTU_FRAMES, 4, "uniform")
    for vid, clip in zip(features["index"].numpy(), features["joints"].numpy()):
        np.testing.assert_allclose(clip, ntu_body(vid, 0)[idx] - ntu_body(vid, 0)[idx, 1].mean(axis=0), atol=1e-5)


def test_a_clip_and_its_time_reverse_get_the_same_origin(stickactions_smoke):
    """The centring is time-symmetric: a mean over time of the joints cannot tell a clip from its reverse."""
    from hybridvid_lib.data.pipeline.joints import joints_for_epoch
    from hybridvid_lib.data.pipeline.sources import joint_layout

    ds = load_dataset("stickactions", stickactions_smoke)
    layout = joint_layout(ds)
    record = next(r for r in ds.train if r.class_name == "SitDown")
    raw = np.load(record.skeleton_path)
    indices = np.arange(len(raw))
    forward = joints_for_epoch(raw, indices, 0, False, layout=layout, training=False)
    backward = joints_for_epoch(raw, indices[::-1], 0, False, layout=layout, training=False)
    np.testing.assert_allclose(backward[::-1], forward, atol=1e-6)
    np.testing.assert_allclose(backward.mean(axis=0), forward.mean(axis=0), atol=1e-6)


def test_two_person_stickactions_joints_keep_both_persons_on_the_first_ones_origin(stickactions_two_persons):
    from hybridvid_lib.data.pipeline.joints import normalise
    from hybridvid_lib.data.pipeline.sources import joint_layout

    ds = load_dataset("stickactions", stickactions_two_persons)
    layout = joint_layout(ds)
    assert ds.metadata["persons"] == 2 and layout.persons == 2
    settings = resolve_settings("smoke")
    pipe = build_pipeline(ds, "test", settings, inputs=("joints",), training=False)
    assert pipe.element_spec_doc.startswith(f'{{"joints": (B, {settings.num_frames}, 18, 3, 2) float32')
    features, _ = next(iter(pipe.dataset))
    record = ds.test[int(features["index"][0])]
    stored = np.load(record.skeleton_path)
    assert stored.shape[1:] == (18, 3, 2) and stored[..., 2, 1].sum() > 0  # the second actor is there
    idx = sample_indices(len(stored), settings.num_frames, settings.sampling)
    np.testing.assert_allclose(features["joints"][0].numpy(), normalise(stored[idx], layout), atol=1e-6)
