"""Issue 18 item 6: what the fleet does per event to reach its rate must not cost an
event. The spool writes its cursor at most every ``cursor_interval``: a crash then sends
again what was committed since (at least once, deduped by id), a close loses nothing."""

from __future__ import annotations

from pathlib import Path

from devframe.fleet.spool import Spool


def fill(spool: Spool, count: int) -> None:
    for i in range(count):
        assert spool.append("s", f"id-{i}", b"x" * 10)


def read_ids(spool: Spool) -> list[str]:
    out: list[str] = []
    while True:
        records, position = spool.read(7)
        if not records:
            return out
        out += [r.msg_id for r in records]
        spool.commit(position, len(records))


def test_a_crash_sends_again_what_was_committed_since_the_cursor_was_written(tmp_path: Path) -> None:
    spool = Spool(tmp_path, cursor_interval=3600)
    fill(spool, 30)
    records, position = spool.read(10)
    spool.commit(position, len(records))  # the first commit writes the cursor
    records, position = spool.read(10)
    spool.commit(position, len(records))  # within the interval: not written yet
    assert len(spool) == 10
    spool._writer.flush()  # a crash: the appended records reached the file, no close
    crashed = Spool(tmp_path, cursor_interval=3600)
    # Nothing is lost; the second round comes again (the transport dedupes it by id).
    assert read_ids(crashed) == [f"id-{i}" for i in range(10, 30)]
    crashed.close()
    spool._closed = True  # the crashed process's handle is gone


def test_a_close_writes_the_last_committed_position(tmp_path: Path) -> None:
    spool = Spool(tmp_path, cursor_interval=3600)
    fill(spool, 30)
    for _ in range(3):
        records, position = spool.read(10)
        spool.commit(position, len(records))
    assert len(spool) == 0
    spool.close()
    again = Spool(tmp_path, cursor_interval=3600)
    assert len(again) == 0 and read_ids(again) == []
    assert again.append("s", "later", b"1") and read_ids(again) == ["later"]
    again.close()


def test_the_cursor_follows_within_its_interval(tmp_path: Path) -> None:
    spool = Spool(tmp_path, cursor_interval=0.0)  # every commit writes it
    fill(spool, 20)
    records, position = spool.read(15)
    spool.commit(position, len(records))
    spool._writer.flush()
    crashed = Spool(tmp_path)
    assert read_ids(crashed) == [f"id-{i}" for i in range(15, 20)]
    crashed.close()
    spool._closed = True
