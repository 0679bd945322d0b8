"""Result files: records round trip, and unreadable input is refused with where and why."""

from __future__ import annotations

import json

import pytest

from harness.results import SCHEMA_VERSION, Record, ResultsError, ResultsWriter, read_records


def record(**kw):
    base = dict(pair="p", check="forward", dtype="float32", device="cpu", mode="eval", verdict="pass")
    return Record(**{**base, **kw})


def test_records_round_trip_across_shards(tmp_path):
    for shard, verdict in (("a", "pass"), ("b", "fail")):
        writer = ResultsWriter(tmp_path / shard)
        writer.write(record(verdict=verdict, metrics={"output": {"headroom": float("inf")}}))
        writer.close()
    records = read_records([tmp_path / "a", tmp_path / "b"])
    assert [r.verdict for r in records] == ["pass", "fail"]
    assert records[0].metrics["output"]["headroom"] == "inf"  # standard JSON, no bare Infinity


def test_a_truncated_file_is_refused_naming_file_and_line(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.write(record())
    writer.close()
    with writer.path.open("a") as f:
        f.write('{"pair": "p", "check": "forw')
    with pytest.raises(ResultsError, match=r"results.jsonl:2: corrupt line"):
        read_records([tmp_path])


def test_another_schema_version_is_refused_not_misread(tmp_path):
    data = record().to_json() | {"schema_version": SCHEMA_VERSION + 1}
    (tmp_path / "results.jsonl").write_text(json.dumps(data) + "\n")
    with pytest.raises(ResultsError, match=f"schema_version {SCHEMA_VERSION + 1} cannot be read"):
        read_records([tmp_path])


def test_a_directory_without_results_is_refused(tmp_path):
    with pytest.raises(ResultsError, match="no results.jsonl"):
        read_records([tmp_path])


def test_unknown_verdicts_are_refused():
    with pytest.raises(ValueError, match="verdict must be one of"):
        record(verdict="maybe")
