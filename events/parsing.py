"""Reading a reported amount, as a source wrote it, into a `Figure`.

`parse_figure("至多300亿美元")` and `parse_figure("up to $30 billion")` both give an
`at_most` figure with high = 30000000000 USD. English and Chinese are read, with
Arabic, full-width and Chinese numerals, and so are the forms `format_figure`
prints ("≤ $30B", "$10–20B", "CNY 300B"). Nothing is guessed: a phrase that
cannot be read with certainty raises `FigureError` with a one-line message that
quotes it. `read_figure` also takes the structured JSON form of a figure.

How: the phrase is folded (full-width to ASCII, whitespace to one space) and cut
into tokens: amounts (number, optional 多/余, optional scale) and the words in
the tables below. A phrase is `[words] AMOUNT [words]`, or for a range
`[words] AMOUNT JOINT AMOUNT [words]`; which words may stand where is checked and
anything else is refused. That reading (`_recipe`: currency, qualifier, where
the amounts are) does not depend on the digits, only on where digits stand, so
it is done once per *shape*, the folded phrase with every digit 0 ("up to $30B"
and "up to $45B" are both "up to $00B"); the amounts are then read at those
places and checked (`_cook`). An archive's phrases have few shapes.

Decisions on ambiguous phrases:
- "just under/below", "just shy/short of", "slightly less than", 略低于 → nearly
  (close below the amount, which "less than" would lose); "just over",
  "slightly more than", 略高于 → more_than.
- Hedges before the amount (possibly, perhaps, may, could be, reportedly,
  expected to be, even, 甚至, 可能, 或, 有望, 预计, 据报道 …) change nothing:
  "possibly more than $20B" is more_than 20B; the hedge stays in `text`.
- 以上/以下 are more_than/less_than, as newspapers use them (legal Chinese
  includes the number). 多/余 after a number or its scale ("200多亿", "十余亿",
  "6亿多") → more_than.
- 高达, 多达, "as high as", "as much as" → at_most; 起, "+" and "plus" after an
  amount ("$30B+", "a $1 billion-plus round" as "$1 billion-plus") → at_least.
  "a little over" is "just over"; a scale may follow a hyphen ("$1.2-billion").
- "~" before an amount means about; between two amounts it joins a range.
  A dash, 负 or "minus" before the amount is a negative amount: refused.
- A range takes no qualifier ("about $10-20B" is refused) and "and" joins one
  only after between/from/介于/在. In "$10-20 billion" and "100-200亿" the first
  amount takes the second's scale; "$10B-20" and "一至两千万" (1万 or 1千万?)
  are refused.
- "$" and "dollars" are USD. "¥" alone may be CNY or JPY and is refused unless
  元/日元, an ISO code, or a default currency of CNY or JPY settles it.
- 元 alone is CNY; beside another currency it is that currency's unit
  ("港币100亿元" is HKD). Hong Kong and Taiwan write the same words in
  traditional characters (億, 萬, 約, 超過, 高達, 人民幣 …), read as their
  simplified forms; but there 元 (or 圓) alone may be TWD, HKD or CNY, so a
  phrase in traditional characters with no other currency word is refused
  unless a default currency of one of those three settles it.
- 兆 is 10^12 in Taiwan and Japan but 10^6 by mainland standards: refused.
- A bare Chinese scale is a number: "近百亿" = nearly 10^10, "超千亿" > 10^11.
- Colloquial numerals are refused: "一两亿" (1–2亿), "两亿五", "三〇〇".
- "," groups thousands and "." is the decimal point: "1,5" and "30 000" are
  refused. Number words ("a billion", "two million") are not read.
"""

from __future__ import annotations

import math
import re
import reprlib
from decimal import Decimal, DecimalException
from functools import lru_cache
from typing import Any, NamedTuple

from pydantic import ValidationError

from events.base import check_plain_text
from events.figures import BOUNDS, Figure, FigureError, Qualifier, storage_problem
from events.numerals import NUMERAL_CHARS, SCALE_WORDS, NumeralError, chinese_numeral, fold, scaled, traditional

MAX_LENGTH = 200
Q = Qualifier

#: Qualifier words said before the amount.
BEFORE: dict[Qualifier, tuple[str, ...]] = {
    Q.ABOUT: ("about", "around", "approximately", "approx.", "approx", "roughly", "some", "an estimated",
              "estimated", "est.", "circa", "ca.", "in the region of", "in the neighbourhood of",
              "in the neighborhood of", "≈", "约", "大约", "约为", "约合", "大概", "大致", "估计"),
    Q.NEARLY: ("nearly", "almost", "close to", "approaching", "just under", "just below", "just shy of",
               "just short of", "slightly under", "slightly below", "slightly less than", "a little under",
               "a little less than", "a little below", "a bit under", "a bit less than",
               "a bit below", "近", "将近", "接近", "逼近", "近乎", "几乎", "略低于", "略少于"),
    Q.AT_MOST: ("up to", "as much as", "as high as", "at most", "no more than", "not more than",
                "a maximum of", "maximum of", "max", "max.", "capped at", "not exceeding", "≤", "<=", "⩽",
                "至多", "最多", "高达", "多达", "不超过", "不超", "最高", "最高达", "不高于", "不多于", "不大于"),
    Q.AT_LEAST: ("at least", "no less than", "not less than", "no fewer than", "a minimum of", "minimum of",
                 "min.", "≥", ">=", "⩾", "至少", "不少于", "不低于", "最少", "最低", "起码", "不小于"),
    Q.MORE_THAN: ("more than", "over", "above", "in excess of", "upwards of", "north of", "exceeding",
                  "greater than", "just over", "just above", "slightly more than", "slightly over", "well over",
                  "a little over", "a little more than", "a little above", "a bit over", "a bit more than",
                  "well above", "far more than", "much more than", "well in excess of", ">",
                  "超过", "逾", "远超", "远超过", "超", "超出", "过", "高于", "大于", "多于", "远高于", "突破",
                  "略高于", "略超"),
    Q.LESS_THAN: ("less than", "under", "below", "fewer than", "south of", "<",
                  "不到", "低于", "少于", "不足", "小于", "不及", "不满", "未满", "未达"),
}
#: Qualifier words said after the amount.
AFTER: dict[Qualifier, tuple[str, ...]] = {
    Q.ABOUT: ("or so", "or thereabouts", "左右", "上下"),
    Q.AT_MOST: ("or less", "at most", "at the most", "tops", "max", "maximum", "以内"),
    Q.AT_LEAST: ("or more", "at least", "at the least", "minimum", "+", "plus", "-plus", "起"),
    Q.MORE_THAN: ("以上",),
    Q.LESS_THAN: ("以下",),
}
CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("$", "US$", "U.S.$", "dollars", "dollar", "US dollars", "U.S. dollars", "美元", "美金"),
    "EUR": ("€", "euros", "euro", "欧元"),
    "GBP": ("£", "pounds", "pound", "pounds sterling", "sterling", "英镑"),
    "CNY": ("RMB", "yuan", "renminbi", "人民币", "元"),
    "HKD": ("HK$", "Hong Kong dollars", "港元", "港币"),
    "JPY": ("yen", "日元", "日圆", "円"),
    "CHF": ("Swiss francs", "瑞郎", "瑞士法郎"),
    "CAD": ("C$", "CA$", "Canadian dollars", "加元"),
    "AUD": ("A$", "AU$", "Australian dollars", "澳元"),
    "SGD": ("S$", "Singapore dollars", "新加坡元", "新元"),
    "TWD": ("NT$", "New Taiwan dollars", "NT dollars", "新台币", "台币"),
    "KRW": ("₩", "韩元"),
    "INR": ("₹",),
    "¥": ("¥",),  # CNY or JPY: settled by another word or the default currency, else refused
}
ISO_CODES = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD "
    "CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
    "GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT "
    "LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR "
    "NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD "
    "SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD "
    "XCG XOF XPF YER ZAR ZMW ZWG ZWL".split()
)
HEDGES = ("possibly", "perhaps", "potentially", "maybe", "may", "might", "could", "may be", "might be",
          "could be", "would be", "will be", "reportedly", "likely", "probably", "even", "expected to be",
          "甚至", "可能", "或", "或将", "或许", "也许", "有望", "预计", "据报道", "据报导", "据称", "据悉", "可", "将")
FILLERS = ("a total of", "totaling", "totalling", "worth", "达", "达到", "共", "共计", "总计", "合计")
WORDS: dict[str, tuple[str, tuple[str, ...]]] = {  # kind → words; the kinds of token besides these
    "to": ("to", "through", "至", "到"),  # joins a range
    "and": ("and", "和", "与", "及"),  # joins a range after "between"
    "dash": ("-", "–", "—", "−"),  # joins a range, or makes the amount negative
    "tilde": ("~",),  # joins a range, or means about
    "between": ("between", "from", "介于", "在", "从"),
    "between-after": ("之间",),
    "negative": ("负", "minus", "negative"),
    "hedge": HEDGES,
    "filler": FILLERS,
}
ENGLISH_SCALES = {"thousand": 3, "k": 3, "million": 6, "m": 6, "mn": 6, "mln": 6, "mm": 6, "billion": 9,
                  "b": 9, "bn": 9, "bln": 9, "trillion": 12, "t": 12, "tn": 12, "trn": 12}
JOINTS = {"to", "and", "dash", "tilde"}
#: What 元 alone may mean in traditional characters (Taiwan, Hong Kong, the mainland's currency).
TRADITIONAL_YUAN = ("TWD", "HKD", "CNY")
#: Why a character the parser knows of is not read, where saying so helps more than "did not understand".
NOT_READ = {
    "兆": "'兆' is 10^12 in Taiwan and Japan but 10^6 by mainland standards: write 万亿 (萬億) or the digits",
    "(": "brackets hold a second amount (a conversion?): give the one amount the source reported",
}


class Amount(NamedTuple):
    """One number read from the phrase. value has its scale applied; scale is its power of ten or None."""

    value: Decimal
    scale: int | None
    big_units: bool = False  # a Chinese coefficient with 百/千 (see numerals.Numeral)
    more: str | None = None  # "多" or "余" after the number


class Token(NamedTuple):
    kind: str  # "amount", "qualifier", "currency", "unknown" or a key of WORDS
    text: str
    value: Any = None
    at: int = -1  # where an amount starts in the folded phrase


class Recipe(NamedTuple):
    """What a phrase's words say, whatever its digits: how to make its figure from its amounts."""

    currency: str
    qualifier: Qualifier
    places: tuple[int, ...]  # where the amounts start in the folded phrase (one, or two for a range)
    low_scale: int | None = None  # a range's first amount takes the second's scale ("$10-20B")


def _vocabulary() -> dict[str, tuple[str, Any]]:
    vocab: dict[str, tuple[str, Any]] = {}
    for kind, words in WORDS.items():
        vocab |= {w.lower(): (kind, None) for w in words}
    for code, words in CURRENCIES.items():
        vocab |= {w.lower(): ("currency", code) for w in words}
    for position, table in (("before", BEFORE), ("after", AFTER)):
        for qualifier, words in table.items():
            for word in map(str.lower, words):
                kind, (known, places) = vocab.get(word, ("qualifier", (qualifier, frozenset())))
                assert kind == "qualifier" and known is qualifier, f"{word!r} is in two tables"
                vocab[word] = ("qualifier", (qualifier, places | {position}))
    return vocab


def _word_pattern(word: str) -> str:
    return re.escape(word) + (r"(?![a-z])" if word[-1].isascii() and word[-1].isalpha() else "")


def _first_key(char: str) -> str:
    """What a word's first character is looked up by: ASCII letters match in any case."""
    return char.lower() if char.isascii() else char


def _words_by_first_character() -> dict[str, re.Pattern[str]]:
    """One pattern per first character, longest words first: a word starts where its first character is."""
    groups: dict[str, list[str]] = {}
    for word in sorted(VOCABULARY, key=len, reverse=True):
        groups.setdefault(_first_key(word[0]), []).append(word)
    return {first: re.compile("|".join(map(_word_pattern, words)), re.I | re.A) for first, words in groups.items()}


VOCABULARY = _vocabulary()
assert not any(char.isdigit() for word in VOCABULARY for char in word), "a shape zeroes digits: words have none"
WORDS_AT = _words_by_first_character()
AMOUNT = re.compile(
    rf"(?:(?P<arabic>[0-9]{{1,3}}(?:,[0-9]{{3}})+(?![0-9])(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)|(?P<chinese>[{NUMERAL_CHARS}]+))"
    r"(?: ?(?P<more>[多余]))?"
    rf"(?:[ -]?(?P<scale>[十百千万亿]+|(?:{'|'.join(sorted(ENGLISH_SCALES, key=len, reverse=True))})(?![a-z])))?"
    r"(?P<more_after>(?<=[十百千万亿])[多余](?![达于至]))?",
    re.I | re.A,
)
ISO = re.compile(r"[A-Z]{3}(?![A-Za-z])")
OTHER = re.compile(r"[A-Za-z]+|\S")
#: What may not follow an Arabic amount: a separator and more digits ("1,2345", "3.4.5").
MALFORMED_AFTER = re.compile(r"[.,][0-9]")
NUMBER_RUN = re.compile(r"[0-9.,]+")


def parse_figure(text: str, default_currency: str | None = None) -> Figure:
    """Read a reported phrase ("up to $30 billion", "约1.5万亿美元") into a Figure.

    default_currency is used only when the phrase names no currency. Raises
    FigureError, quoting the phrase, on anything that cannot be read with certainty.
    """
    if not isinstance(text, str):
        raise FigureError(f"cannot read an amount from {type(text).__name__}: give a phrase")
    if len(text) > MAX_LENGTH:
        raise _refused(text, f"longer than {MAX_LENGTH} characters")
    phrase = text.strip()
    if not phrase:
        raise _refused(text, "empty")
    folded = fold(phrase)
    try:
        recipe = _recipe_of_shape(folded.translate(ZEROED), default_currency, traditional(phrase))
    except (FigureError, NumeralError, DecimalException):
        recipe = None  # refused: the phrase itself is read, for a message that quotes it
    return _read(phrase, folded, default_currency, recipe)


def _read(phrase: str, folded: str, default_currency: str | None, recipe: Recipe | None = None) -> Figure:
    """The figure of a phrase (and its folded form): by the recipe of its shape, or by reading its own words."""
    try:
        if recipe is None:
            recipe = _recipe(phrase, _tokens(folded), default_currency, traditional(phrase))
        return _cook(phrase, recipe, [_amount(AMOUNT.match(folded, at), folded) for at in recipe.places])  # type: ignore[arg-type]
    except NumeralError as error:
        raise _refused(phrase, str(error)) from None
    except DecimalException:
        raise _refused(phrase, "the number cannot be kept exactly") from None


#: Every digit to 0: the shape of a folded phrase (see the module's docstring).
ZEROED = str.maketrans("123456789", "000000000")


@lru_cache(maxsize=4096)
def _recipe_of_shape(shape: str, default_currency: str | None, in_traditional: bool) -> Recipe:
    """The recipe of every phrase of this shape (raises as `_recipe` does for the shape itself);
    `in_traditional`: the phrase was written in traditional characters."""
    return _recipe(shape, _tokens(shape), default_currency, in_traditional)


def read_figure(value: str | dict, default_currency: str | None = None) -> Figure:
    """A figure from a phrase (see parse_figure) or from its JSON form.

    The JSON form is {"currency": "USD", "qualifier": "at_most", "low": null,
    "high": 30000000000, "text": "..."}; low, high and text may be left out, and
    currency too when default_currency is given. Amounts must be JSON numbers.
    """
    if isinstance(value, str):
        return parse_figure(value, default_currency)
    if not isinstance(value, dict):
        raise FigureError(f"cannot read a figure from {type(value).__name__}: give a phrase or an object")
    where = f"invalid figure {_describe(value)}"
    unknown = [key for key in value if key not in ("currency", "qualifier", "low", "high", "text")]
    if unknown:
        raise FigureError(f"{where}: unknown field {_describe(unknown[0])}")
    data = dict(value)
    if data.get("currency") is None:
        if default_currency is None:
            raise FigureError(f"{where}: no currency, and no default currency")
        data["currency"] = default_currency
    for name in ("currency", "qualifier"):
        if not isinstance(data.get(name), str):
            raise FigureError(f"{where}: {name} must be a string")
    if not isinstance(data.get("text"), str | None):
        raise FigureError(f"{where}: text must be a string")
    for name in ("low", "high"):
        problem = _amount_problem(data.get(name))
        if problem:
            raise FigureError(f"{where}: {name} {problem}")
    try:
        return Figure.model_validate(data)
    except ValidationError as error:
        raise FigureError(f"{where}: {_one_line(error)}") from None


def _tokens(text: str) -> list[Token]:
    """The tokens of a folded phrase."""
    at, tokens = 0, []
    while at < len(text):
        if text[at] == " ":
            at += 1
            continue
        word = WORDS_AT.get(_first_key(text[at]))
        if word and (match := word.match(text, at)) and match.group().lower() in VOCABULARY:
            kind, value = VOCABULARY[match.group().lower()]
            tokens.append(Token(kind, match.group(), value))
        elif match := AMOUNT.match(text, at):
            tokens.append(Token("amount", match.group(), _amount(match, text), at))
        elif (match := ISO.match(text, at)) and match.group() in ISO_CODES:
            tokens.append(Token("currency", match.group(), match.group()))
        else:
            match = OTHER.match(text, at)
            tokens.append(Token("unknown", match.group()))  # type: ignore[union-attr]
        at = match.end()  # type: ignore[union-attr]
    return tokens


def _amount(match: re.Match[str], text: str) -> Amount:
    arabic, chinese, more, scale_word, more_after = match.group("arabic", "chinese", "more", "scale", "more_after")
    if more and more_after:
        raise NumeralError(f"{match.group()!r} says 多/余 twice")
    more = more or more_after
    if arabic and MALFORMED_AFTER.match(text, match.end("arabic")):
        raise NumeralError(f"malformed number {NUMBER_RUN.match(text, match.start()).group()!r}")  # type: ignore[union-attr]
    power = None
    if scale_word:
        power = SCALE_WORDS.get(scale_word) or ENGLISH_SCALES.get(scale_word.lower())
        if power is None:
            raise NumeralError(f"the scale {scale_word!r} is not one I know")
    if arabic:
        return Amount(_arabic(arabic, power or 0), power, False, more)
    numeral = chinese_numeral(chinese)
    if power is None:
        return Amount(numeral.value, numeral.scale, numeral.big_units, more)
    if any(ch in chinese for ch in "万亿点"):
        raise NumeralError(f"{match.group()!r} has two scales")
    return Amount(scaled(numeral.value, power), power, numeral.big_units, more)


@lru_cache(maxsize=4096)
def _arabic(digits: str, power: int) -> Decimal:
    """An Arabic number ("1,500", "2.5") times 10**power; archives repeat their amounts."""
    return scaled(Decimal(digits.replace(",", "")), power)


def _recipe(phrase: str, tokens: list[Token], default_currency: str | None, in_traditional: bool = False) -> Recipe:
    """How the tokens make a figure: checks everything but the amounts' values."""
    places = [i for i, token in enumerate(tokens) if token.kind == "amount"]
    if not places:
        raise _refused(phrase, "no number")
    unknown = next((token for token in tokens if token.kind == "unknown"), None)
    if unknown:
        raise _refused(phrase, NOT_READ.get(unknown.text) or f"did not understand {unknown.text!r}")
    if len(places) > 2:
        raise _refused(phrase, "more than two amounts")
    first, last = places[0], places[-1]
    said: list[tuple[Qualifier, str]] = []  # qualifiers and the words that said them
    between = False
    for token in tokens[:first]:
        if token.kind in ("dash", "negative"):
            raise _refused(phrase, "negative amount")
        if token.kind == "qualifier" and "before" in token.value[1]:
            said.append((token.value[0], token.text))
        elif token.kind == "tilde":
            said.append((Q.ABOUT, token.text))
        elif token.kind == "between":
            between = True
        elif token.kind not in ("hedge", "filler", "currency"):
            raise _refused(phrase, f"{token.text!r} is out of place")
    for token in tokens[last + 1 :]:
        if token.kind == "qualifier" and "after" in token.value[1]:
            said.append((token.value[0], token.text))
        elif token.kind == "between-after":
            between = True
        elif token.kind in JOINTS and first == last:
            raise _refused(phrase, f"{token.text!r} with only one amount")
        elif token.kind != "currency":
            raise _refused(phrase, f"{token.text!r} is out of place")
    currency = _currency(phrase, tokens, default_currency, in_traditional)
    amounts = [tokens[first].value, tokens[last].value]
    said += [(Q.MORE_THAN, amount.more) for amount in amounts[: len(places)] if amount.more]
    at = tuple(tokens[i].at for i in places)
    if len(places) == 2:
        return Recipe(currency, Q.RANGE, at, _range(phrase, tokens[first + 1 : last], amounts, said, between))
    if between:
        raise _refused(phrase, "a range needs two amounts")
    qualifiers = list(dict.fromkeys(qualifier for qualifier, _ in said))
    if len(qualifiers) > 1:
        words = [next(word for q, word in said if q is qualifier) for qualifier in qualifiers[:2]]
        raise _refused(phrase, f"{words[0]!r} and {words[1]!r} contradict each other")
    return Recipe(currency, qualifiers[0] if qualifiers else Q.EXACT, at)


def _cook(phrase: str, recipe: Recipe, amounts: list[Amount]) -> Figure:
    """The figure the recipe makes of these amounts; checks what depends on their values."""
    if recipe.qualifier is Q.RANGE:
        start, end = amounts
        low = start.value if recipe.low_scale is None else scaled(start.value, recipe.low_scale)
        high = end.value
        if low >= high:
            raise _refused(phrase, f"a range's low ({low}) must be below its high ({high})")
        return _figure(phrase, recipe.currency, Q.RANGE, low, high)
    has_low, has_high = BOUNDS[recipe.qualifier]
    value = amounts[0].value
    return _figure(phrase, recipe.currency, recipe.qualifier, value if has_low else None, value if has_high else None)


def _range(
    phrase: str, middle: list[Token], amounts: list[Amount], said: list[tuple[Qualifier, str]], between: bool
) -> int | None:
    """Checks the words of a range; returns the scale its first amount takes from the second, if any."""
    joints = [token for token in middle if token.kind != "currency"]
    if said or any(token.kind == "qualifier" for token in joints):
        word = said[0][1] if said else next(t.text for t in joints if t.kind == "qualifier")
        raise _refused(phrase, f"a range takes no qualifier ({word!r})")
    if len(joints) != 1 or joints[0].kind not in JOINTS:
        raise _refused(phrase, "two amounts that are not a range")
    if joints[0].kind == "and" and not between:
        raise _refused(phrase, f"{joints[0].text!r} makes a range only after 'between'")
    start, end = amounts
    if start.scale is None and end.scale is not None:
        if end.big_units and not start.big_units:
            raise _refused(phrase, "unclear which scale the first amount has")
        return end.scale
    if start.scale is not None and end.scale is None:
        raise _refused(phrase, "the second amount lacks the first one's scale")
    return None


def _currency(phrase: str, tokens: list[Token], default: str | None, in_traditional: bool) -> str:
    named = {token.value for token in tokens if token.kind == "currency" and token.text != "元"}
    yuan = any(token.kind == "currency" and token.text == "元" for token in tokens)  # or a currency's unit
    yen = named & {"¥"}
    named -= yen
    if len(named) > 1 or (yen and named and not named <= {"CNY", "JPY"}):
        raise _refused(phrase, "two currencies, " + " and ".join(sorted(named | yen)))
    if named:
        return named.pop()
    if yen:
        if yuan and not in_traditional:  # ¥…元; in Taiwan 圓 is also the yen's
            return "CNY"
        if default in ("CNY", "JPY"):
            return default  # type: ignore[return-value]
        raise _refused(phrase, "'¥' may be CNY or JPY: write the ISO code")
    if yuan:
        if not in_traditional:
            return "CNY"
        if default in TRADITIONAL_YUAN:
            return default  # type: ignore[return-value]
        raise _refused(phrase, "'元' (or '圓') in traditional characters may be TWD, HKD or CNY: write 新臺幣, 港元 or 人民幣, "
                       "or give one of them as the default currency")
    if default is None:
        raise _refused(phrase, "no currency (write one, or give a default currency)")
    problem = _currency_problem(default)
    if problem:
        raise _refused(phrase, problem)
    return default


@lru_cache(maxsize=64)
def _currency_problem(code: str) -> str | None:
    """Why a default currency is not one a `Figure` takes, or not a currency at all ("UDS"), or None."""
    try:
        Figure(currency=code, qualifier=Q.AT_LEAST, low=0)
    except ValidationError as error:
        return _one_line(error)
    return None if code in ISO_CODES else f"the default currency {code!r} is not an ISO 4217 currency code"


def _figure(phrase: str, currency: str, qualifier: Qualifier, low: Decimal | None, high: Decimal | None) -> Figure:
    """The figure read, built without a second validation pass: the reading
    guarantees what `Figure` checks of its amounts (finite, not negative, the
    bounds its qualifier takes, a range's low below its high) and of its
    currency (a known one, or a default checked by `_currency`); the text,
    and that the amounts can be stored exactly, are checked here.
    """
    try:
        check_plain_text(phrase)
    except ValueError as error:
        raise _refused(phrase, str(error)) from None
    problem = (low is not None and storage_problem(low)) or (
        high is not None and high is not low and storage_problem(high)
    )
    if problem:
        raise _refused(phrase, problem)
    return Figure.trusted(currency=currency, qualifier=qualifier, low=low, high=high, text=phrase)


def _amount_problem(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 1000):
        return None
    if isinstance(value, float) and math.isfinite(value):
        return None
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) < 300:
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return f"must be a finite number of sensible size, not {_describe(value)}"
    return f"must be a number, not {type(value).__name__} {_describe(value)}"


def _refused(text: str, reason: str) -> FigureError:
    phrase = text[: MAX_LENGTH + 1].strip()
    shown = phrase if len(phrase) <= 80 else phrase[:79] + "…"
    reason = reason if len(reason) <= 120 else reason[:119] + "…"
    return FigureError(f"cannot read amount {shown!r}: {reason}")


def _one_line(error: ValidationError) -> str:
    parts = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return " ".join("; ".join(parts).split())[:300]


def _describe(value: Any) -> str:
    """A short one-line repr for messages; never fails (huge ints cannot be printed)."""
    try:
        if isinstance(value, dict) and isinstance(value.get("text"), str):
            return _describe(value["text"])
        short = reprlib.Repr()
        short.maxstring, short.maxother, short.maxdict, short.maxlevel = 60, 60, 6, 2
        return " ".join(short.repr(value).split())
    except Exception:  # noqa: BLE001 - any object may be handed to us
        return f"<{type(value).__name__}>"
