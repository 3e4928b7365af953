"""Start instantly: a command imports only what it uses, and what it skips changes nothing.

``wikisync --help`` must not import numpy, requests, jinja2 or rapidfuzz; a text diff of two
versions of the real page must not import numpy, requests, jinja2 or rapidfuzz. Checked through
``-X importtime`` in a fresh interpreter (a subprocess), so nothing this test process already
imported can hide an import. Timings live in benchmarks/ (``--only startup``), never here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import FrozenInstanceError, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, NoReturn

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wikisync._record import record
from wikisync.diff import diff_roadmaps, match, ratios
from wikisync.diff.match import fuzzy_text, similar_pairs
from wikisync.model import ChangeSet, VersionRef
from wikisync.parse import parse_text
from wikisync.parse.history import iso_date
from wikisync.parse.load import _escape_text
from wikisync.render import RenderOptions, render_changes
from wikisync.render.text import (
    Entry,
    Group,
    _environment,
    _render_text,
    _shipped_text_template_is_known,
    build_entry,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "openedx"


def imported_by(*args: str, cwd: Path) -> set[str]:
    """Top-level package names a ``python -m wikisync ARGS`` run imports."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "wikisync", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    names: set[str] = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            names.add(name.split(".")[0])
    assert "wikisync" in names, "no -X importtime output"
    return names


def test_help_imports_no_heavy_package(tmp_path: Path) -> None:
    heavy = {"numpy", "requests", "jinja2", "rapidfuzz"}
    assert imported_by("--help", cwd=tmp_path) & heavy == set()


def test_text_diff_of_the_real_page_imports_no_numpy_jinja2_nor_rapidfuzz(tmp_path: Path) -> None:
    old, new = DATA / "v6.storage.html", DATA / "v7.storage.html"
    names = imported_by("diff", str(old), str(new), cwd=tmp_path)
    assert names & {"numpy", "requests", "jinja2", "rapidfuzz", "_strptime"} == set()


def test_stats_of_the_example_imports_no_numpy_nor_rapidfuzz(tmp_path: Path) -> None:
    """Its lineages classify every version; a replacement's few titles are scored in Python."""
    shutil.copytree(ROOT / "snapshots", tmp_path / "store")
    names = imported_by("--store", "store", "stats", "openedx-roadmap-example", cwd=tmp_path)
    assert names & {"numpy", "requests", "jinja2", "rapidfuzz"} == set()


def run_python(code: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """CODE in a fresh interpreter with this tree on the path (nothing imported yet)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=60,
    )


def test_diff_of_two_files_imports_no_logging_store_json_csv_nor_openssl(tmp_path: Path) -> None:
    """Logging is set up where something logs, only a snapshot reference opens the store, JSON
    and CSV load for their formats, card ids take SHA-1 without OpenSSL (``_hashlib``), and
    the Change History parser loads for the commands that read a page's history."""
    old, new = DATA / "v6.storage.html", DATA / "v7.storage.html"
    code = (
        "import sys, runpy; sys.argv = ['wikisync', 'diff', sys.argv[1], sys.argv[2]]\n"
        "try: runpy.run_module('wikisync', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "print(sorted(set(sys.modules) & {'logging', 'wikisync.store', 'json', 'csv', '_hashlib',"
        " 'wikisync.parse.history'}))"
    )
    proc = run_python(code, str(old), str(new), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "[]"


titles = st.lists(
    st.lists(
        st.sampled_from(["mfe", "theming", "tutor", "devstack", "django", "upgrade", "5", "x"]),
        min_size=1,
        max_size=5,
    ).map(" ".join),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(titles, titles, st.sampled_from([0.0, 50.0, 68.0, 75.0]))
def test_small_blocks_score_like_the_numpy_matrix(a: list[str], b: list[str], floor: float) -> None:
    """Pair-by-pair scoring (no numpy) gives the matrix's pairs and float32 numbers exactly."""
    pytest.importorskip("numpy")
    pure = similar_pairs(a, b, floor)  # blocks this small: plain Python (diff.ratios)
    saved = match.PURE_PYTHON_UPTO, match.NUMPY_ABOVE
    try:
        match.PURE_PYTHON_UPTO = -1  # rapidfuzz pair by pair
        by_pair = similar_pairs(a, b, floor)
        match.NUMPY_ABOVE = -1  # rapidfuzz matrices
        matrix = similar_pairs(a, b, floor)
    finally:
        match.PURE_PYTHON_UPTO, match.NUMPY_ABOVE = saved
    assert pure == by_pair == matrix


@settings(max_examples=60, deadline=None)
@given(titles, titles)
def test_replacements_score_small_blocks_like_the_numpy_matrix(a: list[str], b: list[str]) -> None:
    """classify reads every pair's score; a small block's come from similar_pairs (no numpy)."""
    pytest.importorskip("numpy")
    from wikisync.diff.classify import _similarity

    small, matrix = _similarity(a, b), match.similarity(a, b)
    assert isinstance(small, dict)
    assert {(r, c): float(matrix[r, c]) for r in range(len(a)) for c in range(len(b))} == small


def jinja_text(entries: list[Entry]) -> str:
    """The shipped text.j2 rendered by Jinja2 itself, as any other template is."""
    return _environment(None).get_template("text.j2").render(entries=entries)


def test_shipped_text_template_is_the_one_reproduced() -> None:
    """Fails when text.j2 changes: update _render_text and TEXT_TEMPLATE_SHA256 together
    (until then, rendering falls back to Jinja2, so output stays right, only slower)."""
    assert _shipped_text_template_is_known()


sentences = st.lists(
    st.text(st.characters(exclude_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")),
    max_size=3,
)
groups = st.lists(
    st.builds(Group, st.sampled_from(["Deferred", "Added", "{{ x }}"]), sentences), max_size=3
)
entries = st.lists(st.builds(Entry, st.text(max_size=12), groups), max_size=3)


@settings(max_examples=200, deadline=None)
@given(entries)
def test_text_without_jinja_is_what_the_template_renders(items: list[Entry]) -> None:
    assert _render_text(items) == jinja_text(items)


def test_real_diff_text_is_what_the_template_renders() -> None:
    old = parse_text((DATA / "v6.storage.html").read_bytes())
    new = parse_text((DATA / "v7.storage.html").read_bytes())
    cs = ChangeSet(
        VersionRef("v6"), VersionRef("v7"), diff_roadmaps(old, new), "2021-02-10", old, new
    )
    entry = build_entry(cs, RenderOptions())
    assert entry is not None and len(entry.groups) > 1
    assert render_changes(cs, "text") == jinja_text([entry])


@record(frozen=True, slots=True)
class _Rec:
    """A record, to be compared with the same @dataclass."""

    a: str
    b: tuple[str, ...] = ()
    c: dict[str, int] = field(default_factory=dict, compare=False)
    d: float | None = None


@dataclass(frozen=True, slots=True)
class _Dc:
    """The same fields as _Rec, through @dataclass."""

    a: str
    b: tuple[str, ...] = ()
    c: dict[str, int] = field(default_factory=dict, compare=False)
    d: float | None = None


@record(slots=True)
class _Mutable:
    """A non-frozen record: assignable and unhashable, as a non-frozen @dataclass."""

    x: int
    items: list[int] = field(default_factory=list)


def test_a_record_behaves_as_the_same_dataclass() -> None:
    nan = float("nan")
    for args, kwargs in [(("t",), {}), (("t", ("u",)), {"d": 1.5}), ((), {"a": "v", "d": nan})]:
        r, d = _Rec(*args, **kwargs), _Dc(*args, **kwargs)
        assert repr(r) == repr(d).replace("_Dc", "_Rec")
        assert hash(r) == hash(d)
        assert r == _Rec(*args, **kwargs) if kwargs.get("d") is not nan else r == r
        assert [f.name for f in fields(r)] == [f.name for f in fields(d)]
        assert replace(r, a="z") == _Rec("z", r.b, r.c, r.d)
    assert _Rec("t", c={"x": 1}) == _Rec("t", c={"y": 2})  # compare=False, as in @dataclass
    assert _Rec("t") != _Rec("u") and _Rec("t") != _Dc("t")
    assert _Rec("t").c is not _Rec("t").c  # a fresh default each time
    assert _Rec.__match_args__ == _Dc.__match_args__ and _Rec.__slots__ == _Dc.__slots__
    with pytest.raises(FrozenInstanceError):
        _Rec("t").a = "u"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del _Rec("t").a  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Rec()  # type: ignore[call-arg]
    m = _Mutable(1)
    m.x = 2
    assert m == _Mutable(2) and m.items == []
    with pytest.raises(TypeError):
        hash(m)


@record(eq=False, slots=True)
class _ByIdentity:
    """eq=False: identity equality and hash, as @dataclass(eq=False)."""

    x: int


def test_a_record_without_eq_compares_by_identity() -> None:
    a, b = _ByIdentity(1), _ByIdentity(1)
    assert a != b and a == a and len({a, b}) == 2 and repr(a) == "_ByIdentity(x=1)"


words = st.lists(
    st.sampled_from(["mfe", "theming", "tutor", "devstack", "django", "5", "x", "é", "straße"])
    | st.text("abcdefghij", min_size=1, max_size=12),
    max_size=7,
).map(lambda ws: fuzzy_text(" ".join(ws)))


@settings(max_examples=500, deadline=None)
@given(words, words)
def test_plain_python_ratios_are_rapidfuzz_numbers(a: str, b: str) -> None:
    from rapidfuzz import fuzz

    assert ratios.ratio(a, b) == fuzz.ratio(a, b)
    assert ratios.token_sort_ratio(a, b) == fuzz.token_sort_ratio(a, b)
    assert ratios.token_set_ratio(a, b) == fuzz.token_set_ratio(a, b)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True))
def test_iso_dates_read_as_strptime_reads_them(text: str) -> None:
    from datetime import datetime

    try:
        expected: str | None = datetime.strptime(text, "%Y-%m-%d").date().isoformat()
    except ValueError:
        expected = None
    assert iso_date(text) == expected


@given(st.text(alphabet=st.sampled_from("&<>\"'a ;#x1é")))
def test_cdata_escaping_is_html_escape(text: str) -> None:
    import html

    assert _escape_text(text) == html.escape(text, quote=False)


def test_a_frozen_record_copies_and_pickles() -> None:
    import copy
    import pickle

    r = _Rec("t", ("u",), {"k": 1}, 2.5)
    for made in (copy.copy(r), copy.deepcopy(r), pickle.loads(pickle.dumps(r))):
        assert made == r and made.c == {"k": 1} and type(made) is _Rec


def test_deferred_logging_is_set_up_by_the_first_module_that_logs(tmp_path: Path) -> None:
    """An offline command reading NAME@live still prints ``wikisync: WARNING: ...`` lines."""
    code = (
        "import sys\n"
        "from wikisync import logsetup\n"
        "logsetup.defer(0)\n"
        "assert 'logging' not in sys.modules\n"
        "log = logsetup.logger('wikisync.http')\n"
        "log.info('not shown without -v')\n"
        "log.warning('sent over plain http')\n"
    )
    proc = run_python(code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr == "wikisync: WARNING: sent over plain http\n"


def test_a_record_without_a_docstring_is_defined_without_inspect_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """@dataclass documents an undocumented class through inspect.signature, ~9 ms the first
    time in a process (it was a tenth of ``wikisync diff``'s own imports): record names the
    fields itself."""
    import inspect

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("inspect.signature called")

    monkeypatch.setattr(inspect, "signature", refuse)

    @record(slots=True)
    class Undocumented:
        a: int
        b: str = ""

    assert Undocumented.__doc__ == "Undocumented(a, b)"
    assert Undocumented(1) == Undocumented(1, "")


def _fields_class() -> type:
    """A fresh class body for the comparison: the same fields through @record and @dataclass."""

    class Fresh:
        """Bound in plain Python for its first COMPILE_AFTER instances (as a record)."""

        a: str
        b: int = 1
        c: list[int] = field(default_factory=list)
        k: ClassVar[int] = 5

    return Fresh


def _fresh_record() -> Any:
    """A record class nothing has instantiated yet."""
    return record(frozen=True, slots=True)(_fields_class())


_Early: Any = _fresh_record()
_EarlyDc: Any = dataclass(frozen=True, slots=True)(_fields_class())


_CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    (("x",), {}),
    (("x", 2), {}),
    (("x",), {"c": [1]}),
    ((), {"a": "y", "b": 3, "c": []}),
    (("x", 2, [3]), {}),
]
_BAD_CALLS: list[tuple[tuple[object, ...], dict[str, object]]] = [
    ((), {}),
    (("x", 2, [3], 4), {}),
    (("x",), {"a": "y"}),
    (("x",), {"zzz": 1}),
    ((), {"b": 2}),
]


def _error(cls: type, args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    with pytest.raises(TypeError) as caught:
        cls(*args, **kwargs)
    return str(caught.value).replace(cls.__qualname__, "X")


def test_a_records_first_instances_are_bound_as_the_compiled_init_binds_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before and after it compiles its __init__, a record builds what @dataclass builds and
    refuses what it refuses, with the same message."""
    import wikisync._record as rec

    compiled: list[str] = []
    real = rec._compiled_init

    def counted(cls: type, frozen: bool) -> object:
        compiled.append(cls.__name__)
        return real(cls, frozen)

    monkeypatch.setattr(rec, "_compiled_init", counted)
    Fresh = _fresh_record()
    for _ in range(rec.COMPILE_AFTER // len(_CALLS)):
        for args, kwargs in _CALLS:
            made, expected = Fresh(*args, **kwargs), _EarlyDc(*args, **kwargs)
            assert (made.a, made.b, made.c) == (expected.a, expected.b, expected.c)
    assert Fresh("x").c is not Fresh("x").c  # a fresh default each time
    assert not compiled, "compiled before COMPILE_AFTER instances"
    for _ in range(len(_CALLS) + 2):
        Fresh("x")
    assert compiled == ["Fresh"]
    for args, kwargs in _CALLS:
        made, expected = Fresh(*args, **kwargs), _EarlyDc(*args, **kwargs)
        assert (made.a, made.b, made.c) == (expected.a, expected.b, expected.c)
    for args, kwargs in _BAD_CALLS:  # compiled: the messages @dataclass gives
        assert _error(Fresh, args, kwargs) == _error(_EarlyDc, args, kwargs)


@pytest.mark.parametrize(("args", "kwargs"), _BAD_CALLS)
def test_a_bad_call_before_compiling_reads_as_dataclasses_error(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    fresh = _fresh_record()  # its first call is a bad one
    assert _error(fresh, args, kwargs) == _error(_EarlyDc, args, kwargs)


def test_a_records_fields_keep_their_annotations_as_written() -> None:
    """@record hides plain annotations from @dataclass while it reads the class; the class and
    its fields get them back, and ClassVar still is no field."""
    assert [(f.name, f.type) for f in fields(_Early)] == [
        (f.name, f.type) for f in fields(_EarlyDc)
    ]
    assert _Early.__annotations__ == _EarlyDc.__annotations__
    assert [f.type for f in fields(_Early)] == ["str", "int", "list[int]"]
    assert _Early.k == 5 and "k" not in _Early.__match_args__


def test_a_diff_leaves_the_change_history_unread(tmp_path: Path) -> None:
    """The entry a diff writes is new: the page's own history is not parsed for it, and the
    roadmap read without it is the same roadmap."""
    from wikisync.config import Config
    from wikisync.sources import Sources

    def no_store() -> NoReturn:
        raise AssertionError("a file needs no store")

    src = Sources(Config(store_path=tmp_path), no_store)
    path = str(DATA / "v7.storage.html")
    full = src.side(path).roadmap
    lean = src.side(path, history=False).roadmap
    assert full.history and not lean.history
    assert replace(lean, history=full.history) == full


# Patterns as they were before their letter case was spelled out and the dash lines were read
# with string methods (both to spare compiling): the new forms must match the same.
_OLD_DASH_LINE = re.compile("[\\s\ue004\ue005]*[-‐‑‒–—―_][-‐‑‒–—―_\\s\ue004\ue005]*")
_OLD_CASELESS = {
    "orgs": r"\[\s*((?:\d{1,4}|all)(?:\s*[,;&/]\s*(?:\d{1,4}|all))*)\s*,?\s*\]",
    "sub_period": r"\b(Q[1-4]|H[12]|T[1-3])\b",
    "year": r"\b(?:FY\s?'?(\d{2,4})|((?:19|20)\d{2}))\b",
    "timeline_year": r"\b(?:FY\s?'?(\d{4}|\d{2})|((?:19|20)\d{2}))\b",
    "timeline_part": r"\b([QHT])([1-4])\b",
}
# Every letter these patterns name, in both cases, with the characters Unicode folds onto
# letters (Kelvin sign, long s, dotless and dotted i), spaces of several kinds, digits, marks.
_CASE_ALPHABET = "aAlLqQhHtTfFyYsSkKiI\u212a\u017f\u0131\u0130 \t\u00a0\u20030123459[],;&/'-"
_DASH_ALPHABET = "-‐‑‒–—―_ \t\n\x1c\u00a0\u2003\u3000\ue004\ue005\ue008a1"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_DASH_ALPHABET, max_size=12))
def test_dash_lines_read_as_the_pattern_read_them(line: str) -> None:
    from wikisync.parse.cards import _DASHES, _is_dash_line

    assert _is_dash_line(line) == (_OLD_DASH_LINE.fullmatch(line) is not None)
    assert any(d in line for d in _DASHES) == (re.search("[-‐‑‒–—―_]", line) is not None)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_CASE_ALPHABET, max_size=14))
def test_spelled_out_letter_case_matches_as_ignorecase(text: str) -> None:
    from wikisync import timeline
    from wikisync.parse import cards, roadmap

    new = {
        "orgs": cards._ORGS,
        "sub_period": roadmap._SUB_PERIOD,
        "year": roadmap._YEAR,
        "timeline_year": timeline._YEAR,
        "timeline_part": timeline._PART,
    }
    for name, old in _OLD_CASELESS.items():
        a = re.search(old, text, re.IGNORECASE)
        b = new[name].search(text)
        assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), name


def test_a_cell_without_a_style_compiles_no_paint_pattern() -> None:
    from lxml import etree

    from wikisync.parse import tables

    tables._paint_re.cache_clear()
    assert tables.paint(etree.fromstring("<td>x</td>")) is None
    assert tables._paint_re.cache_info().misses == 0
    assert tables.paint(etree.fromstring('<td style="Background-Color: #abc">x</td>')) == "#abc"


def _old_period_start(label: str) -> tuple[int, int, int] | None:
    """timeline.period_start as it was: every pattern tried on every label."""
    from wikisync.timeline import _MONTHS, _MONTHS_PER_PART

    m = re.search(r"\b((?:19|20)\d{2})-(\d{1,2})(?:-(\d{1,2}))?\b", label)
    if m is not None and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2)) - 1, int(m.group(3) or 1)
    m = re.search(
        r"\b(?:(\d{1,2})\s+)?(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+"
        r"(?:(\d{1,2}),?\s+)?((?:19|20)\d{2})\b",
        label,
        re.IGNORECASE,
    )
    if m is not None:
        return int(m.group(4)), _MONTHS[m.group(2).lower()], int(m.group(1) or m.group(3) or 1)
    y = re.search(r"\b(?:FY\s?'?(\d{4}|\d{2})|((?:19|20)\d{2}))\b", label, re.IGNORECASE)
    if y is None:
        return None
    year = int(y.group(1) or y.group(2))
    p = re.search(r"\b([QHT])([1-4])\b", label, re.IGNORECASE)
    month = _MONTHS_PER_PART[p.group(1).lower()] * (int(p.group(2)) - 1) if p else 0
    return year + 2000 if year < 100 else year, month, 1


_LABEL_TOKENS = [
    "FY21", "fy2022", "FY '23", "Q1", "h2", "T3", "2021", "1999", "2099", "2022-09", "2021-13",
    "2021-02-10", "15", "3", "Sep", "september", "Jan.", "JAN", "Sept,", "(Jul-Sep)", "-", "x",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_LABEL_TOKENS), max_size=6), st.sampled_from([" ", "", "  "]))
def test_a_label_without_a_calendar_year_starts_where_it_did(words: list[str], sep: str) -> None:
    """period_start tries the two dated forms only on a label holding a calendar year."""
    from wikisync.timeline import period_start

    label = sep.join(words)
    assert period_start(label) == _old_period_start(label)


def test_the_spaces_around_a_dash_line_are_every_space() -> None:
    """_SPACES lists what str.isspace and a pattern's \\s count as a space, all of them."""
    import sys

    from wikisync.parse.cards import _SPACES

    every = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert sorted(_SPACES) == every
    assert all(re.fullmatch(r"\s", c) for c in every)
