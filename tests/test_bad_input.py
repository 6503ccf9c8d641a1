"""Every adapter against the bad-input corpus (``tests/corpus.py``).

The guarantee: a broken file either loads, with every unusable record in ``rejected_rows``
under the exact reason and ``rows read = loaded + duplicate + rejected`` (rows read being
the records the generator wrote), or fails before writing anything, with one line naming
the file and the problem. Each case loads into a copy of a warehouse that already holds a
valid file of the same source, so "nothing written" is checked against real rows.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from journey_mining.config import SourceConfig
from journey_mining.ingest import loader
from journey_mining.ingest.files import engine_message, prepare
from journey_mining.ingest.loader import LoadError, load_sources
from journey_mining.sqlmodels import sql_root
from journey_mining.warehouse import connect
from tests.conftest import make_config
from tests.corpus import (
    SPECS,
    CorpusFile,
    Fails,
    Loads,
    baseline_records,
    build,
    corpus_ids,
    count,
    csv_text,
    good_rows,
    render,
    set_path,
    source_config,
    write_corpus,
)

SOURCE = "src"
TABLES = ("touchpoints", "identities", "rejected_rows", "loaded_files")
_BASELINES: dict[str, Path] = {}


def baseline_warehouse(adapter: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding one valid file of the adapter's source (built once per session)."""
    if adapter not in _BASELINES:
        spec = SPECS[adapter]
        folder = tmp_path_factory.mktemp(f"baseline-{adapter}")
        name = f"baseline{spec.suffix}"
        (folder / name).write_bytes(baseline_records(spec))
        config = make_config(folder, sources=[source_config(spec, SOURCE, name)])
        con = connect(config.warehouse_path)
        try:
            report = load_sources(con, config)
            assert [f.status for f in report.files] == ["loaded"]
            assert report.files[0].rows_loaded == 3
        finally:
            con.close()
        _BASELINES[adapter] = config.warehouse_path
    return _BASELINES[adapter]


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {table: sorted(con.execute(f"select * from {table}").fetchall(), key=repr) for table in TABLES}


def load_case(
    item: CorpusFile, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[duckdb.DuckDBPyConnection, Path, object]:
    spec = SPECS[item.adapter]
    shutil.copy(baseline_warehouse(item.adapter, tmp_path_factory), tmp_path / "warehouse.duckdb")
    path = item.write(tmp_path / "in")
    config = make_config(tmp_path, sources=[source_config(spec, SOURCE, f"in/{item.name}")])
    return connect(config.warehouse_path), path, config


def assert_fails(item: CorpusFile, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert isinstance(item.expect, Fails)
    con, path, config = load_case(item, tmp_path, tmp_path_factory)
    before = snapshot(con)
    with pytest.raises(LoadError) as raised:
        load_sources(con, config)
    message = str(raised.value)
    assert "\n" not in message, f"more than one line: {message!r}"
    assert message.startswith(f"{path}: "), message
    assert re.search(item.expect.problem, message), message
    assert len(message) < 600, message
    assert "Traceback" not in message
    assert snapshot(con) == before
    con.close()


def assert_loads(item: CorpusFile, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    expect = item.expect
    assert isinstance(expect, Loads)
    spec = SPECS[item.adapter]
    con, path, config = load_case(item, tmp_path, tmp_path_factory)
    before = snapshot(con)
    report = load_sources(con, config)
    (result,) = [f for f in report.files if f.path == str(path)]
    assert result.status == "loaded", result
    rejected = len(expect.rejects)
    assert (result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_rejected) == (
        item.records,
        item.records - rejected - expect.duplicate,
        expect.duplicate,
        rejected,
    )
    file_row = con.execute(
        "select file_id, rows_read, rows_loaded, rows_duplicate, rows_rejected from loaded_files where path = ?",
        [str(path)],
    ).fetchall()
    assert len(file_row) == 1
    file_id, read, loaded, duplicate, rejects = file_row[0]
    assert (read, loaded, duplicate, rejects) == (
        result.rows_read,
        result.rows_loaded,
        result.rows_duplicate,
        result.rows_rejected,
    )
    assert read == loaded + duplicate + rejects
    got = dict(
        con.execute(
            "select source_row, reason from rejected_rows where file_id = ? order by source_row", [file_id]
        ).fetchall()
    )
    assert got == dict(expect.rejects)
    if spec.table == "identities":
        stored = con.execute("select count(*) from identities where file_id = ?", [file_id]).fetchone()
    else:
        stored = con.execute(
            "select count(distinct source_row) from touchpoints where file_id = ?", [file_id]
        ).fetchone()
        # what loaded is usable: a time in range, finite numbers
        odd = con.execute(
            """select count(*) from touchpoints where file_id = ? and (
                   ts is null or ts < timestamp '1970-01-01' or ts >= timestamp '2100-01-01'
                   or not isfinite(coalesce(wait_seconds, 0)) or not isfinite(coalesce(handle_seconds, 0))
                   or not isfinite(coalesce(satisfaction, 0)) or not isfinite(coalesce(revenue, 0)))""",
            [file_id],
        ).fetchone()
        assert odd == (0,)
    assert stored == (loaded,)
    if expect.check:
        sql, rows = expect.check
        assert con.execute(sql.format(file=file_id)).fetchall() == rows
    # the rows that were there before are untouched
    after = snapshot(con)
    for table in TABLES:
        kept = [r for r in after[table] if r in before[table]]
        assert kept == before[table], table
    con.close()


@pytest.mark.parametrize(("adapter", "case"), corpus_ids(), ids=[f"{a}-{c}" for a, c in corpus_ids()])
def test_bad_input(adapter: str, case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    item = build(adapter, case)
    count("corpus files")
    if isinstance(item.expect, Fails):
        assert_fails(item, tmp_path, tmp_path_factory)
    else:
        assert_loads(item, tmp_path, tmp_path_factory)


def test_corpus_covers_every_adapter_and_the_issue_cases() -> None:
    """The corpus covers all seven source kinds, each text format, and the issue's cases."""
    ids = corpus_ids()
    assert {SPECS[a].kind for a, _ in ids} == {
        "ga4",
        "events",
        "intercom",
        "chat_csv",
        "connect",
        "calls_csv",
        "crm",
    }
    for wanted in (
        "truncated",
        "record_cut_in_half",
        "utf16_with_bom",
        "latin1_undeclared",
        "invalid_utf8_bytes",
        "empty_file",
        "no_records",
        "extra_columns",
        "renamed_columns",
        "null_and_empty_identifiers",
        "duplicated_rows_and_ids",
        "ten_megabyte_field",
        "binary_garbage",
        "png_image",
        "gzip_truncated",
    ):
        assert {a for a, c in ids if c == wanted} >= {"connect_jsonl", "crm_csv"}, wanted
    for adapter in ("ga4_jsonl", "intercom_jsonl", "connect_jsonl"):
        assert {c for a, c in ids if a == adapter} >= {
            "json_array_file",
            "concatenated_records",
            "deeply_nested",
            "nul_bytes",
        }


def test_write_corpus_writes_every_file(tmp_path: Path) -> None:
    written = write_corpus(tmp_path, adapters=("connect_jsonl", "crm_csv"))
    assert len(written) == len([a for a, _ in corpus_ids() if a in ("connect_jsonl", "crm_csv")])
    for item in written:
        assert (tmp_path / item.adapter / item.name).read_bytes() == item.data


# --- the fixes behind the corpus, one by one -----------------------------------------------


def load_connect(tmp_path: Path, text: str) -> tuple[duckdb.DuckDBPyConnection, object]:
    (tmp_path / "ctr.jsonl").write_text(text, encoding="utf-8")
    config = make_config(tmp_path, sources=[source_config(SPECS["connect_jsonl"], SOURCE, "ctr.jsonl")])
    con = connect(config.warehouse_path)
    return con, load_sources(con, config)


def test_pretty_printed_records_one_after_another_are_records(tmp_path: Path) -> None:
    """``jq .`` without ``-c`` writes each record over many lines, one after another."""
    records = [SPECS["connect_jsonl"].good(i) for i in (1, 2, 3)]
    con, report = load_connect(tmp_path, "\n".join(json.dumps(r, indent=2) for r in records) + "\n")
    assert [(f.rows_read, f.rows_loaded) for f in report.files] == [(3, 3)]
    assert con.execute("select distinct source_row from touchpoints order by 1").fetchall() == [
        (1,),
        (2,),
        (3,),
    ]


def test_an_array_on_the_first_line_of_json_lines_is_one_record(tmp_path: Path) -> None:
    """Only a file that is one array is read as an array; otherwise a line is a line."""
    good = [json.dumps(SPECS["connect_jsonl"].good(i)) for i in (1, 2)]
    con, report = load_connect(tmp_path, '["not", "a", "record"]\n' + "\n".join(good) + "\n")
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in report.files] == [(3, 2, 1)]
    assert con.execute("select source_row, reason from rejected_rows").fetchall() == [
        (1, "not a JSON object")
    ]


def test_braces_inside_strings_do_not_split_a_record(tmp_path: Path) -> None:
    record = set_path(SPECS["connect_jsonl"].good(1), ("Attributes", "note"), 'a "}{" and a "} {"')
    con, report = load_connect(
        tmp_path, json.dumps(record) + "\n" + json.dumps(SPECS["connect_jsonl"].good(2))
    )
    assert [(f.rows_read, f.rows_loaded) for f in report.files] == [(2, 2)]
    assert con.execute("select count(*) from rejected_rows").fetchone() == (0,)


def test_utf32_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    text = csv_text(SPECS["events_csv"].columns, [SPECS["events_csv"].good(1)])
    path = tmp_path / "events.csv"
    path.write_bytes(text.encode("utf-32"))
    source = SourceConfig(name="site", kind="events", path="events.csv")
    prepared = prepare(path, source, tmp_path / "scratch")
    assert prepared.readable.read_text("utf-8") == text


def test_engine_messages_become_one_short_line() -> None:
    err = duckdb.InvalidInputException(
        "Invalid Input Error: CSV Error on Line: 1\nOriginal Line: " + "x" * 5000 + "\n"
        "Maximum line size of 2000000 bytes exceeded.\n\n  file = /tmp/x.csv\n\nLINE 1: select ..."
    )
    assert engine_message(err) == "CSV Error on Line: 1; Maximum line size of 2000000 bytes exceeded."
    assert len(engine_message(duckdb.Error("y" * 5000))) == 300


def broken_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, wrap: str) -> None:
    """Serve stg_events.sql wrapped in ``wrap`` (a query over ``staged``) to the loader."""
    original = (sql_root() / "staging" / "stg_events.sql").read_text("utf-8")
    root = tmp_path / "sql"
    (root / "staging").mkdir(parents=True)
    (root / "staging" / "stg_events.sql").write_text(f"with staged as ({original})\n{wrap}", "utf-8")
    monkeypatch.setattr(loader, "sql_root", lambda: root)


@pytest.mark.parametrize(
    ("wrap", "problem"),
    [
        ("select * from staged where source_row <> 2", "staging dropped 1 records without a reason"),
        (
            "select * replace (case when source_row = 2 then null else ts end as ts) from staged",
            r"cannot be loaded as events \(NOT NULL constraint failed: touchpoints\.ts\)",
        ),
    ],
)
def test_a_staging_bug_fails_the_file_not_the_run(
    wrap: str,
    problem: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The loader's own checks and the warehouse's constraints fail one file, cleanly."""
    baseline_warehouse("events_csv", tmp_path_factory)  # loaded by the real staging SQL
    broken_staging(tmp_path, monkeypatch, wrap)
    spec = SPECS["events_csv"]
    item = CorpusFile(
        "events_csv", "staging_bug", "events.csv", render(spec, good_rows(spec, 3)), 0, Fails(problem)
    )
    assert_fails(item, tmp_path, tmp_path_factory)
