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


def test_a_cut_last_line_is_the_trace_of_a_killed_run_read_up_to_the_cut(tmp_path):
    from harness.results import read_directory

    writer = ResultsWriter(tmp_path)
    writer.write(record())
    writer.close()
    with writer.path.open("a") as f:
        f.write('{"pair": "p", "check": "forw')
    result = read_directory(tmp_path)
    assert len(result.records) == 1
    assert result.cut == f"{writer.path}:2 was cut short (a killed run); its record is left out"
    # the next writer removes the partial line before appending: the new record stands on a line of its own
    again = ResultsWriter(tmp_path)
    again.write(record(check="gradient"))
    again.close()
    assert [r.check for r in read_records([tmp_path])] == ["forward", "gradient"]


def test_a_corrupt_line_before_the_last_is_refused_naming_file_and_line(tmp_path):
    writer = ResultsWriter(tmp_path)
    writer.write(record())
    writer.close()
    text = writer.path.read_text()
    writer.path.write_text(text + '{"pair": "p", "check": "forw\n' + text)
    with pytest.raises(ResultsError, match=r"results.jsonl:2: corrupt line"):
        read_records([tmp_path])


def test_nested_numbers_the_gate_and_report_compute_with_are_checked(tmp_path):
    data = record(metrics={"output": {"headroom": "lots"}}).to_json()
    (tmp_path / "results.jsonl").write_text(json.dumps(data) + "\n")
    with pytest.raises(ResultsError, match="metric 'output' must be an object with a numeric headroom"):
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
