"""README.md says what exists and how to run it, and cannot go stale silently."""

import re
from pathlib import Path

from mlnotes import _readme
from mlnotes.utils._torch import THREADS_ENV

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_what_exists_block_is_generated_from_the_package():
    block = _readme.current(README)
    assert block is not None, "README.md lost the generated block's markers"
    fresh = _readme.generate()
    assert block == fresh, (
        "README.md's 'what exists today' list differs from all_estimators()/all_agents(): "
        "run `python -m mlnotes._readme` and commit README.md")


def test_generated_block_names_every_estimator_and_agent():
    from mlnotes.utils.discovery import all_agents, all_estimators

    block = _readme.generate()
    for name, _ in all_estimators() + all_agents():
        assert re.search(rf"\b{name}\b", block), name


def test_check_mode_reports_stale(tmp_path, monkeypatch):
    stale = tmp_path / "README.md"
    stale.write_text(f"intro\n{_readme.BEGIN}\n- nothing\n{_readme.END}\noutro\n")
    monkeypatch.setattr(_readme, "README", stale)
    assert _readme.main(["--check"]) == 1
    assert _readme.main([]) == 0  # rewrites the block, keeps the rest
    text = stale.read_text()
    assert text.startswith("intro\n") and text.endswith("\noutro\n")
    assert _readme.main(["--check"]) == 0


def test_make_targets_in_the_readme_exist():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, flags=re.M))
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert target in targets, target


def test_performance_notes_name_the_override():
    notes = README.split("## Performance notes", 1)[1]
    assert THREADS_ENV in notes
    assert "python -m mlnotes.compile" in notes and "NUMBA_CACHE_DIR" in notes
