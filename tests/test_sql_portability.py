"""The shared SQL stays portable (DuckDB -> Spark via sqlglot) and follows the house layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from journey_mining.sqlmodels import sql_root

LAYERS = ("intermediate", "marts")
FILES = sorted(path for layer in LAYERS for path in (sql_root() / layer).rglob("*.sql"))

FORBIDDEN_TEXT = {
    r"\bdate_?diff\b": "date_diff counts boundaries on some engines, elapsed units on others",
    r"\basof\b": "ASOF JOIN has no Spark equivalent",
    r"\binsert\s+or\s+replace\b": "INSERT OR REPLACE is DuckDB/SQLite only",
    r"\bmerge\s+into\b": "MERGE is engine-specific; materialisation lives in Python",
    r"\bmacro\b": "DuckDB macros do not exist elsewhere",
}


def strip_comments_and_strings(sql: str) -> str:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return re.sub(r"'(?:[^']|'')*'", "''", without_comments)


def forbidden(sql: str) -> list[str]:
    """Why ``sql`` is not portable; empty when it is."""
    problems = []
    code = strip_comments_and_strings(sql).lower()
    problems += [why for pattern, why in FORBIDDEN_TEXT.items() if re.search(pattern, code)]
    for tree in sqlglot.parse(sql, read="duckdb"):
        if tree is None:
            continue
        if any(isinstance(node, exp.DateDiff) for node in tree.walk()):
            problems.append("date difference function")
        if any(str(join.args.get("method") or "").upper() == "ASOF" for join in tree.find_all(exp.Join)):
            problems.append("asof join")
        if any(isinstance(node, exp.Merge) for node in tree.walk()):
            problems.append("merge")
        for insert in tree.find_all(exp.Insert):
            if str(insert.args.get("alternative") or "").lower() == "replace":
                problems.append("insert or replace")
        for agg in tree.find_all(exp.ArrayAgg, exp.List):
            if agg.find(exp.Order):
                problems.append("ordered list/array_agg: Spark drops the order (use string_agg)")
    return sorted(set(problems))


def test_sql_files_are_found() -> None:
    names = {path.stem for path in FILES}
    assert {"sessions", "journeys", "session_transitions", "int_touchpoints__sessionized"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parses_and_transpiles_to_spark(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    statements = sqlglot.parse(sql, read="duckdb")
    assert len(statements) == 1
    assert isinstance(statements[0], exp.Select)
    spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    assert len(spark) == 1


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_uses_no_forbidden_construct(path: Path) -> None:
    assert forbidden(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("select date_diff('day', a, b) from t", "date difference function"),
        ("select datediff('minute', a, b) from t", "date difference function"),
        ("select * from a asof join b on a.k = b.k and a.t >= b.t", "asof join"),
        ("insert or replace into t select 1", "insert or replace"),
        ("merge into t using s on t.a = s.a when matched then update set b = s.b", "merge"),
        (
            "select list(x order by y) from t",
            "ordered list/array_agg: Spark drops the order (use string_agg)",
        ),
        (
            "select array_agg(x order by y) from t",
            "ordered list/array_agg: Spark drops the order (use string_agg)",
        ),
    ],
)
def test_forbidden_constructs_are_caught(sql: str, problem: str) -> None:
    assert problem in forbidden(sql)


def test_allowed_constructs_pass() -> None:
    sql = (
        "select string_agg(x, ' > ' order by s) as seq, list(x) over (order by s) as xs, "
        "round(epoch(b) - epoch(a), 6) as gap, 'merge into' as label from t group by all"
    )
    assert forbidden(sql) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_house_layout(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    header = [line for line in sql.splitlines() if line.startswith("--")]
    assert sql.startswith("-- grain: ")
    assert any(line.startswith("-- time column: ") for line in header)
    assert any(line.startswith("-- parameters: ") for line in header)
    assert sql.rstrip().splitlines()[-1] == "select * from final"
    code = strip_comments_and_strings(sql)
    assert code == code.lower(), "keywords and names are lowercase"
    intermediate = "intermediate" in path.relative_to(sql_root()).parts
    pattern = r"int_[a-z0-9_]+__[a-z0-9_]+" if intermediate else r"[a-z][a-z0-9_]*"
    assert re.fullmatch(pattern, path.stem)
    assert len(sql.splitlines()) <= 120, "small files"
