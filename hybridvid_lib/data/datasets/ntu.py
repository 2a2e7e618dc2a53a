"""NTU RGB+D and NTU RGB+D 120 skeletons, read from the folder the official archives extract to.

The folder given as ``--root``::

    nturgb+d_skeletons/SsssCcccPpppRrrrAaaa.skeleton     one text file per sample (Kinect v2, 30 fps)

``sss`` is the setup, ``ccc`` the camera (1-3), ``ppp`` the performer (subject), ``rrr`` the
replication and ``aaa`` the action (``S001C002P003R002A013``). NTU RGB+D has setups S001-S017 and
actions A001-A060 (56,880 samples); NTU RGB+D 120 adds S018-S032 and A061-A120 (114,480 in all).
Both skeleton archives extract to ``nturgb+d_skeletons/``, so the two parts can share one folder.
``skeletons=`` (``--skeletons DIR``) names another folder, absolute or relative to the root.
The text format is parsed by :mod:`hybridvid_lib.data.ntu_skeleton`; the pipeline converts each
file once into an array cache (``ROOT/ntu_arrays/`` by default).

How the reader decides:

- One :class:`~hybridvid_lib.data.records.Record` per ``.skeleton`` file with a well-formed name:
  ``relpath`` is the file name, ``files`` holds only ``{"skeleton": path}``, ``label`` is the action
  number - 1, ``class_name`` the official action name (:data:`ACTIONS`), and ``group`` the performer
  (``"P003"``), so a group-aware validation split never puts one subject on two sides.
- Classes: the 60 actions of NTU RGB+D when every file is A001-A060, else the 120 of NTU RGB+D 120.
- ``protocol`` (:data:`PROTOCOLS`) puts each sample in ``train`` or ``test``; NTU has no numbered
  splits, so ``DatasetSplit.split`` is 1:

  ``xsub``   cross-subject: the published training subjects (:data:`XSUB_TRAIN_SUBJECTS`) train,
             every other subject tests. The NTU RGB+D 120 list extends the NTU RGB+D list with
             subjects 41-106 only, so one list gives both published splits.
  ``xview``  cross-view (the NTU RGB+D 60 benchmark): cameras 2 and 3 train, camera 1 tests (another
             camera id, which NTU does not have, goes to ``unused``). Allowed on NTU RGB+D 120 files
             too, with a note that no published NTU 120 result uses it.
  ``xset``   cross-setup (the NTU RGB+D 120 benchmark): even setups train, odd setups test. Allowed
             on a folder with only actions A001-A060, with a note that this is not a published
             benchmark (cross-setup was defined with the 120-class set); the classes stay 60.
- Nothing is dropped silently. A file that does not parse (empty, truncated, not in the format) or
  has no body in any frame (NTU's "samples with missing skeletons" are such files; their official
  list is not built in) stays listed and goes to ``unreadable`` when samples are checked
  (``check_videos=True``; parsing takes about 5 ms per 100-frame file, minutes for the whole set;
  ``hybridvid data inspect --no-check`` skips it). Other files (``readme.txt``, ``.DS_Store``),
  ``.skeleton`` files whose name is not ``SsssCcccPpppRrrrAaaa.skeleton`` with ids from 001 and an
  action up to A120, and sub-folders are not samples: the notes report them, and
  ``metadata["stray"]`` / ``metadata["malformed"]`` list them all.
- ``metadata`` holds ``joint_layout`` (read by :func:`~hybridvid_lib.data.pipeline.sources.joint_layout`:
  x, y, z metres, no confidence, centred on the middle of the spine, two person slots), ``skeleton``
  (the :data:`~hybridvid_lib.data.skeletons.NTU_RGBD` graph), ``protocol`` and ``dataset``.

Sources: the action names and file naming are those of the dataset's official page
(github.com/shahroudy/NTURGB-D, README "Action Classes"); the protocols are those of Shahroudy et al.,
"NTU RGB+D: A Large Scale Dataset for 3D Human Activity Analysis", CVPR 2016 (cross-subject, cross-view)
and Liu et al., "NTU RGB+D 120: A Large-Scale Benchmark for 3D Human Activity Understanding", TPAMI 2020
(cross-subject with 53 training subjects, cross-setup with the even setups).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from hybridvid_lib.data.datasets.common import require_override, require_root, resolve_folder, some
from hybridvid_lib.data.ntu_skeleton import NUM_JOINTS, NtuSkeletonError, parse_ntu_skeleton
from hybridvid_lib.data.records import DatasetSplit, Record
from hybridvid_lib.data.skeletons import NTU_RGBD
from hybridvid_lib.errors import DatasetError

SKELETON_DIR = "nturgb+d_skeletons"
SKELETON_SUFFIX = ".skeleton"
PERSONS = 2
"""Person slots of a joint array: NTU actions have one or two actors."""

PROTOCOLS = ("xsub", "xview", "xset")
PROTOCOL_NAMES = {"xsub": "cross-subject", "xview": "cross-view", "xset": "cross-setup"}

NTU60_TRAIN_SUBJECTS = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38)
"""Cross-subject training subjects of NTU RGB+D (Shahroudy et al. 2016): 20 of its 40."""

XSUB_TRAIN_SUBJECTS = NTU60_TRAIN_SUBJECTS + (
    45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92,
    93, 94, 95, 97, 98, 100, 103,
)
"""Cross-subject training subjects of NTU RGB+D 120 (Liu et al. 2020): 53 of its 106, the 20 of NTU RGB+D first."""

XVIEW_TRAIN_CAMERAS = (2, 3)
XVIEW_TEST_CAMERAS = (1,)

NTU60_NUM_CLASSES = 60

#: The 120 official action names (A001 is index 0), as on the dataset's page; trailing periods
#: removed and typographic apostrophes written as ``'``. A001-A060 are NTU RGB+D, all 120 NTU RGB+D 120.
ACTIONS = (
    "drink water", "eat meal/snack", "brushing teeth", "brushing hair", "drop", "pickup", "throw",
    "sitting down", "standing up (from sitting position)", "clapping", "reading", "writing",
    "tear up paper", "wear jacket", "take off jacket", "wear a shoe", "take off a shoe", "wear on glasses",
    "take off glasses", "put on a hat/cap", "take off a hat/cap", "cheer up", "hand waving",
    "kicking something", "put something inside pocket / take out something from pocket",
    "hopping (one foot jumping)", "jump up", "make a phone call/answer phone", "playing with phone/tablet",
    "typing on a keyboard", "pointing to something with finger", "taking a selfie",
    "check time (from watch)", "rub two hands together", "nod head/bow", "shake head", "wipe face",
    "salute", "put the palms together", "cross hands in front (say stop)", "sneeze/cough", "staggering",
    "falling", "touch head (headache)", "touch chest (stomachache/heart pain)", "touch back (backache)",
    "touch neck (neckache)", "nausea or vomiting condition", "use a fan (with hand or paper)/feeling warm",
    "punching/slapping other person", "kicking other person", "pushing other person",
    "pat on back of other person", "point finger at the other person", "hugging other person",
    "giving something to other person", "touch other person's pocket", "handshaking",
    "walking towards each other", "walking apart from each other",
    # NTU RGB+D 120
    "put on headphone", "take off headphone", "shoot at the basket", "bounce ball", "tennis bat swing",
    "juggling table tennis balls", "hush (quite)", "flick hair", "thumb up", "thumb down", "make ok sign",
    "make victory sign", "staple book", "counting money", "cutting nails", "cutting paper (using scissors)",
    "snapping fingers", "open bottle", "sniff (smell)", "squat down", "toss a coin", "fold paper",
    "ball up paper", "play magic cube", "apply cream on face", "apply cream on hand back", "put on bag",
    "take off bag", "put something into a bag", "take something out of a bag", "open a box",
    "move heavy objects", "shake fist", "throw up cap/hat", "hands up (both hands)", "cross arms",
    "arm circles", "arm swings", "running on the spot", "butt kicks (kick backward)", "cross toe touch",
    "side kick", "yawn", "stretch oneself", "blow nose", "hit other person with something",
    "wield knife towards other person", "knock over other person (hit with body)",
    "grab other person's stuff", "shoot at other person with a gun", "step on foot", "high-five",
    "cheers and drink", "carry something with other person", "take a photo of other person",
    "follow other person", "whisper in other person's ear", "exchange things with other person",
    "support somebody with one's hand (someone is sick, help him to walk)",
    "finger-guessing game (playing rock-paper-scissors)",
)

_NAME_RE = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})\.skeleton$")
_ARCHIVE_RE = re.compile(r"^nturgbd_skeletons.*\.zip$", re.IGNORECASE)


@dataclass(frozen=True)
class NtuSampleName:
    """The ids in an NTU file name ``SsssCcccPpppRrrrAaaa``, as numbers (all 1-based)."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int

    @property
    def group(self) -> str:
        """The performer as a record's group: ``"P003"``."""
        return f"P{self.performer:03d}"

    @property
    def label(self) -> int:
        """The 0-based class index: action - 1."""
        return self.action - 1


def parse_sample_name(name: str) -> NtuSampleName | None:
    """``"S001C002P003R002A013.skeleton"`` -> its ids; ``None`` for any other name.

    The name must be exactly the official one (capital letters, three digits each, ``.skeleton``),
    every id at least 1 and the action at most 120.
    """
    match = _NAME_RE.match(name)
    if not match:
        return None
    ids = NtuSampleName(*(int(g) for g in match.groups()))
    if min(ids.setup, ids.camera, ids.performer, ids.replication, ids.action) < 1 or ids.action > len(ACTIONS):
        return None
    return ids


def protocol_side(ids: NtuSampleName, protocol: str) -> str:
    """``"train"``, ``"test"`` or ``"unused"``: where ``protocol`` puts a sample."""
    if protocol == "xsub":
        return "train" if ids.performer in XSUB_TRAIN_SUBJECTS else "test"
    if protocol == "xview":
        if ids.camera in XVIEW_TRAIN_CAMERAS:
            return "train"
        return "test" if ids.camera in XVIEW_TEST_CAMERAS else "unused"
    if protocol == "xset":
        return "train" if ids.setup % 2 == 0 else "test"
    raise DatasetError(_unknown_protocol(protocol))


def ntu_joint_layout(persons: int = PERSONS) -> dict:
    """``metadata["joint_layout"]`` of an NTU dataset: the fields of a
    :class:`~hybridvid_lib.data.pipeline.joints.JointLayout`, as JSON values.

    x, y, z in metres (camera space), no confidence channel, centred on the graph's centre
    (the middle of the spine) and not rescaled; ``mirror`` swaps left and right joints.
    """
    return {
        "num_joints": NUM_JOINTS, "coords": 3, "confidence": None, "center": NTU_RGBD.center, "scale": 1.0,
        "default_origin": [0.0, 0.0, 0.0], "mirror": [int(i) for i in NTU_RGBD.mirror_permutation()],
        "persons": int(persons),
    }


def _unknown_protocol(protocol: object) -> str:
    known = ", ".join(f"{p} ({PROTOCOL_NAMES[p]})" for p in PROTOCOLS)
    return f"Unknown NTU RGB+D protocol {protocol!r}; known protocols: {known}."


def read_ntu(
    root: str | os.PathLike,
    *,
    skeletons: str | os.PathLike | None = None,
    protocol: str = "xsub",
    check_videos: bool = True,
    progress: bool = False,
) -> DatasetSplit:
    """Read NTU RGB+D (60 or 120) skeleton files and split them by a published protocol.

    Args:
        root: the folder holding ``nturgb+d_skeletons/``.
        skeletons: another location of the skeleton folder (absolute, or relative to ``root``).
        protocol: ``xsub`` (cross-subject), ``xview`` (cross-view) or ``xset`` (cross-setup), any capitals.
        check_videos: parse every sample and list the ones that do not parse, or have no body, in
            ``unreadable`` ("check samples"); ``False`` is much faster and leaves it empty.
        progress: show a tqdm bar while checking.

    Returns:
        A :class:`~hybridvid_lib.data.records.DatasetSplit` of format ``ntu``, split 1.

    Raises:
        DatasetError: an unknown protocol, no such root or skeleton folder, or no well-formed
            ``.skeleton`` file in it (the message says what was expected).
    """
    name = str(protocol).strip().lower()
    if name not in PROTOCOLS:
        raise DatasetError(_unknown_protocol(protocol))
    protocol = name
    root = require_root(root)
    folder, given = resolve_folder(root, skeletons, SKELETON_DIR)
    if given:
        require_override(folder, "--skeletons", "skeleton")
    elif not folder.is_dir():
        raise DatasetError(_no_folder_message(root))

    samples: list[tuple[str, NtuSampleName]] = []
    malformed: list[str] = []
    stray: list[str] = []
    subfolders: list[str] = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir():
            subfolders.append(entry.name)
            continue
        ids = parse_sample_name(entry.name)
        if ids is not None:
            samples.append((entry.name, ids))
        elif entry.name.lower().endswith(SKELETON_SUFFIX):
            malformed.append(entry.name)
        else:
            stray.append(entry.name)
    nested = {sub: _count_skeleton_files(folder / sub) for sub in subfolders}
    if not samples:
        raise DatasetError(_no_samples_message(folder, malformed, nested))

    num_classes = NTU60_NUM_CLASSES if max(ids.action for _, ids in samples) <= NTU60_NUM_CLASSES else len(ACTIONS)
    classes = list(ACTIONS[:num_classes])
    result = DatasetSplit(format="ntu", split=1, classes=classes, video_root=folder.resolve())
    for file_name, ids in samples:
        record = Record(file_name, ids.label, classes[ids.label], ids.group, {"skeleton": folder / file_name})
        result.subset(protocol_side(ids, protocol)).append(record)

    result.metadata.update({
        "dataset": "NTU RGB+D 120" if num_classes > NTU60_NUM_CLASSES else "NTU RGB+D",
        "protocol": protocol,
        "skeleton": NTU_RGBD.to_dict(),
        "joint_layout": ntu_joint_layout(),
        "persons": PERSONS,
        "fps": 30,
        "stray": stray,
        "malformed": malformed,
    })
    _protocol_notes(result, protocol, num_classes)
    _stray_notes(result, folder, stray, malformed, nested)
    if check_videos:
        problems = find_unparsable({rel: folder / rel for rel, _ in samples}, progress=progress)
        result.unreadable = sorted(problems)
        if problems:
            reasons = [why.rstrip(".") for _, why in sorted(problems.items())]
            more = f"; and {len(reasons) - 3} more" if len(reasons) > 3 else ""
            result.notes.append(f"Skeleton files that cannot be used: {len(reasons)} ({'; '.join(reasons[:3])}{more}); "
                                "they stay listed as unreadable and the pipeline skips them.")
    else:
        result.notes.append("Skeleton files were not parsed (check_videos=False), so unreadable ones are not "
                            "listed; the pipeline skips any that fail to load.")
    return result


def find_unparsable(paths: dict[str, Path], *, progress: bool = False) -> dict[str, str]:
    """``{relpath: reason}`` for the skeleton files that do not parse or hold no body in any frame.

    Each reason is one sentence that names the file.
    """
    problems: dict[str, str] = {}
    items = sorted(paths.items())
    for rel, path in tqdm(items, desc="checking skeletons", unit="file", disable=not progress):
        try:
            parsed = parse_ntu_skeleton(path, persons=PERSONS)
        except (NtuSkeletonError, ValueError, OSError) as err:
            problems[rel] = str(err)
            continue
        if not parsed.body_ids:
            problems[rel] = (f"{path.name} has no body in any of its {parsed.joints.shape[0]} frames (one of "
                             "NTU's samples with missing skeletons).")
    return problems


def _count_skeleton_files(folder: Path) -> int:
    try:
        return sum(1 for e in os.scandir(folder) if e.name.lower().endswith(SKELETON_SUFFIX))
    except OSError:
        return 0


def _no_folder_message(root: Path) -> str:
    hint = ""
    archives = sorted(p.name for p in root.iterdir() if p.is_file() and _ARCHIVE_RE.match(p.name))
    if archives:
        hint = f" (extract {', '.join(archives)} first)"
    elif _count_skeleton_files(root):
        hint = f" ({root} itself holds .skeleton files: pass --skeletons .)"
    return (f"No NTU RGB+D skeletons in {root}: expected {SKELETON_DIR}/ there{hint}, "
            "or pass --skeletons DIR.")


def _no_samples_message(folder: Path, malformed: list[str], nested: dict[str, int]) -> str:
    message = f"{folder} holds no NTU RGB+D skeleton file named SsssCcccPpppRrrrAaaa.skeleton"
    if malformed:
        message += f"; its .skeleton files have other names ({some(malformed)})"
    inside = [sub for sub, n in nested.items() if n]
    if inside:
        message += f"; the sub-folder {inside[0]}/ holds .skeleton files (pass --skeletons with that folder)"
    return message + "."


def _protocol_notes(result: DatasetSplit, protocol: str, num_classes: int) -> None:
    notes = result.notes
    rules = {
        "xsub": f"the {len(XSUB_TRAIN_SUBJECTS)} published training subjects train, all other subjects test",
        "xview": "cameras 2 and 3 train, camera 1 tests",
        "xset": "even setups train, odd setups test",
    }
    notes.append(f"Protocol {protocol} ({PROTOCOL_NAMES[protocol]}): {rules[protocol]}; "
                 f"{num_classes} classes ({result.metadata['dataset']}).")
    if protocol == "xview" and num_classes > NTU60_NUM_CLASSES:
        notes.append("Cross-view (xview) is the NTU RGB+D 60 benchmark; this folder holds actions above A060 "
                     "(NTU RGB+D 120), whose published benchmarks are xsub and xset, so results are not "
                     "comparable with published numbers.")
    if protocol == "xset" and num_classes == NTU60_NUM_CLASSES:
        notes.append("Cross-setup (xset) is the NTU RGB+D 120 benchmark; with only actions A001-A060 here it "
                     "splits NTU RGB+D 60 by setup, which no published result does.")
    if result.unused:
        cameras = sorted({r.relpath[4:8] for r in result.unused})
        notes.append(f"Samples from cameras other than 1-3 ({', '.join(cameras)}): {len(result.unused)}; "
                     "cross-view leaves them unused.")
    for side in ("train", "test"):
        if not result.subset(side):
            notes.append(f"No sample falls on the {side} side of protocol {protocol} here (a partial download?).")


def _stray_notes(result: DatasetSplit, folder: Path, stray: list[str], malformed: list[str],
                 nested: dict[str, int]) -> None:
    where = f"{folder.name}/"
    if malformed:
        result.notes.append(
            f".skeleton files in {where} whose name is not SsssCcccPpppRrrrAaaa.skeleton (ids from 001, actions "
            f"A001-A120): {len(malformed)} ({some(malformed)}); they are not samples."
        )
    if stray:
        result.notes.append(f"Other files in {where}: {len(stray)} ({some(stray)}); they are not samples.")
    for sub, count in nested.items():
        holds = f" holding {count} .skeleton file{'s' if count > 1 else ''}" if count else ""
        result.notes.append(f"The sub-folder {where}{sub}/{holds} is not read; only files directly in {where} "
                            "are samples (pass --skeletons to read another folder).")
