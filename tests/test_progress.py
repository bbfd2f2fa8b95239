"""A run's progress file: written after each item, read by the tray whatever state it is in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framework.outcome import ItemStatus, RunStatus
from framework.progress import PROGRESS_FILE, Progress, ProgressFile, read_progress

NAME = "障害福祉サービス申請入力"


def _writer(run_dir: Path) -> ProgressFile:
    return ProgressFile(run_dir, "20261127-090000-ab12", "welfare_entry", NAME)


def test_nothing_is_known_before_the_run_writes_its_progress(tmp_path: Path) -> None:
    assert read_progress(tmp_path) is None
    assert read_progress(tmp_path / "no-such-run") is None


def test_the_progress_written_after_each_item_reads_back(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.start(6)
    started = read_progress(tmp_path)
    assert started is not None
    assert (started.run_id, started.bot_id, started.bot_name) == (
        "20261127-090000-ab12",
        "welfare_entry",
        NAME,
    )
    assert (started.total, started.settled, started.attention, started.finished) == (6, 0, 0, False)
    assert started.updated_at
    for status in (ItemStatus.DONE, ItemStatus.DONE, ItemStatus.BAD_INPUT, ItemStatus.SKIPPED):
        writer.item(status)
    going = read_progress(tmp_path)
    assert going is not None
    assert going.counts == {"done": 2, "bad_input": 1, "skipped": 1}
    assert (going.settled, going.attention, going.finished) == (4, 1, False)
    writer.finish(RunStatus.COMPLETED)
    ended = read_progress(tmp_path)
    assert ended is not None
    assert (ended.status, ended.finished, ended.settled) == ("completed", True, 4)


def test_an_unknown_total_stays_unknown(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.start(None)
    writer.item(ItemStatus.DONE)
    progress = read_progress(tmp_path)
    assert progress is not None
    assert (progress.total, progress.settled) == (None, 1)


def test_the_file_is_json_staff_tools_can_read(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.start(2)
    writer.item(ItemStatus.NEEDS_REVIEW)
    data = json.loads((tmp_path / PROGRESS_FILE).read_text(encoding="utf-8"))
    assert data == {**writer.progress.as_json(), "updated_at": data["updated_at"]}
    assert data["bot_name"] == NAME
    assert data["counts"] == {"needs_review": 1}


def test_writing_leaves_no_temporary_file(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.start(3)
    for _ in range(3):
        writer.item(ItemStatus.DONE)
    writer.finish(RunStatus.COMPLETED)
    assert [p.name for p in tmp_path.iterdir()] == [PROGRESS_FILE]


def test_a_write_that_fails_is_skipped_not_raised(tmp_path: Path) -> None:
    writer = _writer(tmp_path / "gone")  # the run folder is not there: every write fails
    writer.start(3)
    writer.item(ItemStatus.DONE)
    writer.finish(RunStatus.ABORTED)
    assert writer.progress.settled == 1
    assert not (tmp_path / "gone").exists()


def test_items_needing_a_person_are_counted_as_attention() -> None:
    progress = Progress(
        "r1",
        "welfare_entry",
        NAME,
        counts={
            "done": 4,
            "skipped": 2,
            "business_error": 1,
            "system_error": 1,
            "bad_input": 1,
            "needs_review": 1,
        },
    )
    assert (progress.settled, progress.attention) == (10, 4)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"run_id": "r1", "bot_id": "welfare_entry", "counts": {"done": 3',
        "[]",
        '"running"',
        "null",
        '{"bot_id": "welfare_entry"}',
        '{"run_id": "r1"}',
        '{"run_id": "r1", "bot_id": "b", "counts": {"done": "three"}}',
        '{"run_id": "r1", "bot_id": "b", "counts": ["done"]}',
    ],
    ids=[
        "empty",
        "brace",
        "half-written",
        "a-list",
        "a-string",
        "null",
        "no-run-id",
        "no-bot-id",
        "count-not-a-number",
        "counts-not-a-mapping",
    ],
)
def test_a_garbled_or_half_written_file_reads_as_unknown(tmp_path: Path, text: str) -> None:
    (tmp_path / PROGRESS_FILE).write_text(text, encoding="utf-8")
    assert read_progress(tmp_path) is None


def test_a_file_that_is_not_utf8_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / PROGRESS_FILE).write_bytes(b'{"run_id": "\x82\xa0"}')
    assert read_progress(tmp_path) is None


def test_a_folder_in_place_of_the_file_reads_as_unknown(tmp_path: Path) -> None:
    (tmp_path / PROGRESS_FILE).mkdir()
    assert read_progress(tmp_path) is None


def test_unknown_statuses_and_odd_totals_are_ignored(tmp_path: Path) -> None:
    data = {
        "run_id": "r1",
        "bot_id": "welfare_entry",
        "total": "12",
        "counts": {"done": 2, "teleported": 5, "needs_review": 1},
        "updated_at": "2026-11-27T09:05:00+09:00",
    }
    (tmp_path / PROGRESS_FILE).write_text(json.dumps(data), encoding="utf-8")
    progress = read_progress(tmp_path)
    assert progress is not None
    assert progress.total is None
    assert progress.counts == {"done": 2, "needs_review": 1}
    assert (progress.settled, progress.attention) == (3, 1)
    assert (progress.bot_name, progress.status, progress.finished) == ("", "running", False)


def test_missing_counts_mean_nothing_settled_yet(tmp_path: Path) -> None:
    data = {"run_id": "r1", "bot_id": "welfare_entry", "counts": None, "total": 8}
    (tmp_path / PROGRESS_FILE).write_text(json.dumps(data), encoding="utf-8")
    progress = read_progress(tmp_path)
    assert progress is not None
    assert (progress.total, progress.settled, progress.attention) == (8, 0, 0)
