"""An earlier chapter's finished run is found in a course run's layout and in the notebooks' own, never half-done."""

from hybridvid_lib.course.layout import chapter_output_dirs, earlier_run


def finished(folder):
    folder.mkdir(parents=True)
    (folder / "model.keras").write_bytes(b"x")
    return folder


def test_a_course_run_finds_the_same_seed_of_the_earlier_chapter(tmp_path):
    out = tmp_path / "runs" / "X" / "08_eval" / "seed1"
    assert chapter_output_dirs(out, "07_hybrid")[0] == tmp_path / "runs" / "X" / "07_hybrid" / "seed1"
    finished(tmp_path / "runs" / "X" / "07_hybrid" / "seed0" / "runs" / "hybrid-cpu-seed0")
    assert earlier_run(out, "07_hybrid", "hybrid-cpu-seed1") is None  # another seed's run is not this one
    run = finished(tmp_path / "runs" / "X" / "07_hybrid" / "seed1" / "runs" / "hybrid-cpu-seed1")
    assert earlier_run(out, "07_hybrid", "hybrid-cpu-seed1") == run


def test_notebooks_run_by_hand_find_their_neighbours_and_an_unfinished_run_is_not_reused(tmp_path):
    out = tmp_path / "outputs" / "08_eval"
    unfinished = tmp_path / "outputs" / "07_hybrid" / "runs" / "hybrid-cpu-seed0"
    unfinished.mkdir(parents=True)  # interrupted: no model.keras yet
    assert earlier_run(out, "07_hybrid", "hybrid-cpu-seed0") is None
    (unfinished / "model.keras").write_bytes(b"x")
    assert earlier_run(out, "07_hybrid", "hybrid-cpu-seed0") == unfinished


def test_a_run_of_another_seed_finds_the_seed_0_run_it_names(tmp_path):
    """Chapter 08 fine-tunes chapter 06's seed-0 streams in every seed's notebook: the seed-2 notebook must find
    them too (it used to say the streams came "from scratch")."""
    out = tmp_path / "runs" / "X" / "08_eval" / "seed2"
    (tmp_path / "runs" / "X" / "06_i3d" / "seed2" / "runs").mkdir(parents=True)
    assert earlier_run(out, "06_i3d", "i3d_rgb-cpu-seed0") is None
    run = finished(tmp_path / "runs" / "X" / "06_i3d" / "seed0" / "runs" / "i3d_rgb-cpu-seed0")
    assert earlier_run(out, "06_i3d", "i3d_rgb-cpu-seed0") == run
    assert chapter_output_dirs(out, "06_i3d")[:2] == [tmp_path / "runs" / "X" / "06_i3d" / "seed2",
                                                       tmp_path / "runs" / "X" / "06_i3d" / "seed0"]
