"""The demo data `examples/openai-xai-2026-01.jsonl` against the article it comes from.

Every line is one report relayed by a Chinese article of 2026-01-29 about the
OpenAI and xAI financing deals. These tests hold the data to the article: quotes
and figure phrases must be verbatim, and the tables below list every figure and
party the article reports, so a missing or invented one fails.

No database is needed.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from events.base import check_slug
from events.reports import REPORT_KINDS, Source

ROOT = Path(__file__).parents[2]
DATA = ROOT / "examples" / "openai-xai-2026-01.jsonl"
ARTICLE_NAME = "openai-xai-funding-2026-01.zh.txt"
#: The committed copy the tests read.
ARTICLE = ROOT / "examples" / "reference" / ARTICLE_NAME
#: The shared original, when this checkout sits next to it.
SHARED_ARTICLE = ROOT.parent / "shared" / "reference" / ARTICLE_NAME
ARTICLE_DATE = date(2026, 1, 29)
NO_DATE_NOTE = "The article (2026-01-29) gives no date for this report; article date used."

FIELDS = {"deal", "kind", "reported", "source", "figures", "parties", "quote", "note"}
REQUIRED = {"deal", "kind", "reported", "source", "quote", "note"}

UNNAMED = "unnamed media reports (as relayed by the article)"

#: The reports, in file order: (deal, kind, reported, source name).
REPORTS = [
    ("xai-series-e-2026", "round-closed", "2026-01-06", "xAI"),
    ("openai-2026", "amount-revised", "2026-01-28", UNNAMED),
    ("tesla-xai-2026", "round-closed", "2026-01-28", "Tesla"),
    # Undated reports carry the article's date; the file (= record) order puts the
    # earlier report ("此前有报道称") first, so same-day ties resolve to the newer news.
    ("openai-2026", "talks-opened", "2026-01-29", UNNAMED),
    ("openai-2026", "amount-revised", "2026-01-29", UNNAMED),
    ("openai-2026", "amount-revised", "2026-01-29", "The Information"),
    ("openai-2026", "term-sheet-reviewed", "2026-01-29", "The Information"),
    ("xai-x-merger-2025", "round-closed", "2026-01-29", "Elon Musk (post on X)"),
]

#: Every figure and party the article reports: (deal, "figure:NAME" or
#: "party:ID[+ID...]" with ids sorted, phrase as printed or None for no amount).
EXPECTED = {
    # OpenAI's new round
    ("openai-2026", "figure:size", "至多1000亿美元"),
    ("openai-2026", "figure:valuation", "最高达8300亿美元"),
    ("openai-2026", "figure:size", "1000亿美元"),
    ("openai-2026", "figure:size", "近1000亿美元"),
    ("openai-2026", "party:amazon+microsoft+nvidia", "高达600亿美元"),
    ("openai-2026", "party:amazon+microsoft+nvidia", "至多600亿美元"),
    ("openai-2026", "party:nvidia", "高达300亿美元"),
    ("openai-2026", "party:microsoft", "不超100亿美元"),
    ("openai-2026", "party:amazon", "远超100亿美元"),
    ("openai-2026", "party:softbank", "至多300亿美元"),
    # xAI Series E
    ("xai-series-e-2026", "figure:target", "150亿美元"),
    ("xai-series-e-2026", "figure:size", "200亿美元"),
    ("xai-series-e-2026", "figure:valuation", "2300亿美元"),
    ("xai-series-e-2026", "party:valor-equity-partners", None),
    ("xai-series-e-2026", "party:stepstone-group", None),
    ("xai-series-e-2026", "party:fidelity", None),
    ("xai-series-e-2026", "party:qatar-investment-authority", None),
    ("xai-series-e-2026", "party:nvidia", None),
    ("xai-series-e-2026", "party:cisco-investments", None),
    # Tesla's investment in xAI
    ("tesla-xai-2026", "figure:size", "20亿美元"),
    ("tesla-xai-2026", "figure:tesla-market-cap", "约1.5万亿美元"),
    ("tesla-xai-2026", "party:tesla", "20亿美元"),
    # xAI's all-stock acquisition of X
    ("xai-x-merger-2025", "figure:xai-valuation", "800亿美元"),
    ("xai-x-merger-2025", "figure:x-valuation", "330亿美元"),
}

#: Party names as the article prints them.
NAMES = {
    "nvidia": "英伟达",
    "microsoft": "微软",
    "amazon": "亚马逊",
    "softbank": "软银",
    "tesla": "特斯拉",
    "valor-equity-partners": "Valor Equity Partners",
    "stepstone-group": "Stepstone Group",
    "fidelity": "富达管理及研究公司",
    "qatar-investment-authority": "卡塔尔投资局",
    "cisco-investments": "思科投资",
}

B = Decimal(10) ** 9
#: What each phrase says: qualifier, low, high (USD).
PHRASES = {
    "至多1000亿美元": ("at_most", None, 100 * B),
    "最高达8300亿美元": ("at_most", None, 830 * B),
    "1000亿美元": ("exact", 100 * B, 100 * B),
    "近1000亿美元": ("nearly", None, 100 * B),
    "高达600亿美元": ("at_most", None, 60 * B),
    "至多600亿美元": ("at_most", None, 60 * B),
    "高达300亿美元": ("at_most", None, 30 * B),
    "不超100亿美元": ("at_most", None, 10 * B),
    "远超100亿美元": ("more_than", 10 * B, None),
    "至多300亿美元": ("at_most", None, 30 * B),
    "150亿美元": ("exact", 15 * B, 15 * B),
    "200亿美元": ("exact", 20 * B, 20 * B),
    "2300亿美元": ("exact", 230 * B, 230 * B),
    "20亿美元": ("exact", 2 * B, 2 * B),
    "约1.5万亿美元": ("about", 1500 * B, 1500 * B),
    "800亿美元": ("exact", 80 * B, 80 * B),
    "330亿美元": ("exact", 33 * B, 33 * B),
}


def _read_lines() -> list[dict]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


LINES = _read_lines()


def _ids(entry: dict) -> list[str]:
    return [entry["party"]] if isinstance(entry["party"], str) else entry["party"]


def _names(entry: dict) -> list[str]:
    return [entry["name"]] if isinstance(entry["name"], str) else entry["name"]


def _triples(line: dict) -> set[tuple[str, str, str | None]]:
    found = {(line["deal"], f"figure:{name}", phrase) for name, phrase in line.get("figures", {}).items()}
    for entry in line.get("parties", []):
        found.add((line["deal"], "party:" + "+".join(sorted(_ids(entry))), entry.get("amount")))
    return found


def _phrases(line: dict) -> list[str]:
    phrases = list(line.get("figures", {}).values())
    phrases += [entry["amount"] for entry in line.get("parties", []) if entry.get("amount") is not None]
    return phrases


@pytest.fixture(scope="module")
def article() -> str:
    return ARTICLE.read_text(encoding="utf-8")


def test_the_committed_article_is_the_shared_original():
    if not SHARED_ARTICLE.exists():
        pytest.skip(f"{SHARED_ARTICLE} is not here to compare with")
    assert ARTICLE.read_bytes() == SHARED_ARTICLE.read_bytes()


def test_the_file_is_json_lines_with_readable_chinese():
    text = DATA.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert all(line.strip() for line in text.splitlines()), "no blank lines"
    assert "英伟达" in text and "\\u" not in text, "written with ensure_ascii=False"
    for line in text.splitlines():
        assert isinstance(json.loads(line), dict)


@pytest.mark.parametrize("number, line", list(enumerate(LINES, 1)))
def test_each_line_has_the_import_fields(number: int, line: dict):
    assert REQUIRED <= set(line) <= FIELDS, f"line {number}: {sorted(set(line) ^ FIELDS)}"
    assert line["kind"] in REPORT_KINDS
    source = Source.model_validate(line["source"])
    assert source.name.strip()
    assert isinstance(line["quote"], str) and line["quote"].strip()
    assert isinstance(line["note"], str) and line["note"].strip()
    assert isinstance(line.get("figures", {}), dict)
    for entry in line.get("parties", []):
        assert set(entry) <= {"party", "name", "amount"}
        ids, names = _ids(entry), _names(entry)
        assert ids and len(ids) == len(names) == len(set(ids))
        assert entry.get("amount") is None or isinstance(entry["amount"], str)
    if line["kind"] == "amount-revised":
        assert _phrases(line), f"line {number}: an amount-revised report needs a figure"


def test_the_reports_in_order():
    assert [(x["deal"], x["kind"], x["reported"], x["source"]["name"]) for x in LINES] == REPORTS


def test_sources_say_what_kind_they_are():
    kinds = {x["source"]["name"]: x["source"].get("kind", "press") for x in LINES}
    assert kinds == {
        "xAI": "company",
        "Tesla": "company",
        "Elon Musk (post on X)": "company",
        "The Information": "press",
        UNNAMED: "press",
    }
    assert all(x["source"].get("language") == "en" for x in LINES if x["source"]["name"] == "The Information")


def test_slugs_are_valid():
    for line in LINES:
        check_slug(line["deal"])
        for name in line.get("figures", {}):
            check_slug(name)
        for entry in line.get("parties", []):
            for party in _ids(entry):
                check_slug(party)


def test_dates_are_iso_not_after_the_article_and_sorted():
    days = [date.fromisoformat(line["reported"]) for line in LINES]
    assert all(len(line["reported"]) == 10 for line in LINES)
    assert all(day <= ARTICLE_DATE for day in days)
    assert days == sorted(days)


def test_only_the_dates_the_article_gives_are_exact():
    """1月6日 (xAI) and 1月28日 (SoftBank, Tesla) are given; the rest use the article's date and say so."""
    for line in LINES:
        if line["reported"] == ARTICLE_DATE.isoformat():
            assert NO_DATE_NOTE in line["note"], line["deal"]
        else:
            assert NO_DATE_NOTE not in line["note"], line["deal"]
    dated = {(x["deal"], x["reported"]) for x in LINES if x["reported"] != ARTICLE_DATE.isoformat()}
    assert dated == {
        ("xai-series-e-2026", "2026-01-06"),
        ("openai-2026", "2026-01-28"),
        ("tesla-xai-2026", "2026-01-28"),
    }


@pytest.mark.parametrize("number, line", list(enumerate(LINES, 1)))
def test_quotes_are_verbatim(number: int, line: dict, article: str):
    assert line["quote"] in article, f"line {number}: quote is not verbatim"


@pytest.mark.parametrize("number, line", list(enumerate(LINES, 1)))
def test_figure_phrases_are_verbatim_and_quoted(number: int, line: dict, article: str):
    for phrase in _phrases(line):
        assert phrase in article, f"line {number}: {phrase!r} is not in the article"
        assert phrase in line["quote"], f"line {number}: {phrase!r} is not in the line's quote"


def test_every_reported_figure_and_party_is_recorded_once():
    found: list[tuple[str, str, str | None]] = []
    for line in LINES:
        found.extend(_triples(line))
    assert len(found) == len(set(found)), "a figure is recorded twice"
    assert set(found) == EXPECTED, {
        "missing": sorted(EXPECTED - set(found), key=str),
        "unexpected": sorted(set(found) - EXPECTED, key=str),
    }


def test_party_names_are_as_the_article_prints_them(article: str):
    for line in LINES:
        for entry in line.get("parties", []):
            for party, name in zip(_ids(entry), _names(entry), strict=True):
                assert name == NAMES[party]
                assert name in article


def test_amazon_is_more_than_10b_and_possibly_more_than_20b_is_in_the_note():
    (line,) = [x for x in LINES if any(_ids(e) == ["amazon"] for e in x.get("parties", []))]
    (amazon,) = [e for e in line["parties"] if _ids(e) == ["amazon"]]
    assert amazon["amount"] == "远超100亿美元"
    assert "甚至可能超过200亿美元" in line["note"]
    assert "more than $20B" in line["note"]


def test_tesla_market_cap_is_explained():
    (line,) = [x for x in LINES if x["deal"] == "tesla-xai-2026"]
    assert line["figures"]["tesla-market-cap"] == "约1.5万亿美元"
    assert "market" in line["note"] and "有外媒评论称" in line["note"]
    assert "announced agreement" in line["note"]


def test_the_merger_note_says_all_stock_and_no_day():
    (line,) = [x for x in LINES if x["deal"] == "xai-x-merger-2025"]
    assert "all-stock" in line["note"]
    assert "no day" in line["note"]


def test_the_phrase_table_covers_every_phrase_in_the_file():
    used = {phrase for line in LINES for phrase in _phrases(line)}
    assert used == set(PHRASES)


@pytest.mark.parametrize("phrase", sorted(PHRASES))
def test_phrases_parse_to_what_they_say(phrase: str):
    parsing = pytest.importorskip("events.parsing")
    qualifier, low, high = PHRASES[phrase]
    figure = parsing.parse_figure(phrase)
    assert (figure.currency, figure.qualifier, figure.low, figure.high) == ("USD", qualifier, low, high)


@pytest.mark.parametrize("number, line", list(enumerate(LINES, 1)))
def test_each_line_is_accepted_by_the_import_reader(number: int, line: dict):
    pytest.importorskip("events.parsing")
    intake = pytest.importorskip("events.intake")
    draft = intake.read_report(line)
    assert draft.kind == line["kind"]
    assert draft.deal == line["deal"]
    assert {name: figure.text for name, figure in draft.figures.items()} == line.get("figures", {})
