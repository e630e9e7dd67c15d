"""Numbers as Chinese and full-width text write them, read exactly.

Used by `events.parsing`. Three jobs:

* `fold` turns full-width forms (３００, ＄, ～, ideographic space) into ASCII,
  the traditional forms of the characters the parser knows (億, 萬, 兩, 約, 超過,
  高達, 人民幣 …, as Hong Kong and Taiwan write them) into the simplified ones,
  and every run of whitespace into one space, so the parser sees one alphabet;
* `chinese_numeral` reads a run of Chinese numeral characters ("一百五十亿",
  "两千亿", "十五", "一点五万亿") into a Decimal, refusing forms that are
  ambiguous in everyday use ("一两亿" = one or two hundred million, "两亿五"
  = 2.5亿 in speech but 2亿 and 5 by the rules, "三〇〇");
* `scaled` multiplies by a power of ten without ever rounding.

Functions here raise `NumeralError` with a short reason; the parser turns it
into a `FigureError` that quotes the whole phrase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, Rounded

#: Arithmetic that raises instead of rounding; inputs are at most a few hundred digits.
EXACT = Context(prec=1000, Emax=10_000, Emin=-10_000, traps=[Inexact, Rounded])
#: The same, for dropping the zeros after the point of a whole number ("1,000,000.00"): Decimal's
#: Rounded is signalled for any digit dropped, zeros too; Inexact only for a digit that was not 0.
WHOLE = Context(prec=1000, Emax=10_000, Emin=-10_000, traps=[Inexact])

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 1, "百": 2, "千": 3}  # places inside a section of four digits
SECTIONS = {"万": 4, "亿": 8}  # section markers
#: Scale words written after an Arabic number ("300亿", "1.5万亿", "5000万"), as powers of ten.
SCALE_WORDS = {
    "千": 3, "万": 4, "十万": 5, "百万": 6, "千万": 7,
    "亿": 8, "十亿": 9, "百亿": 10, "千亿": 11, "万亿": 12,
}
NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS) + "".join(SECTIONS) + "点"

#: The traditional forms of the characters in the parser's words and numerals, and their simplified
#: forms. 圓 is read as 元 (日圓 is 日元); 報導 as 报导, which the hedges hold beside 报道.
TRADITIONAL = dict(zip(map(ord, "億萬兩點餘約為計將幾於達過碼遠滿內歐鎊幣韓許預據報導稱總與從間負圓臺"),
                       map(ord, "亿万两点余约为计将几于达过码远满内欧镑币韩许预据报导称总与从间负元台"), strict=True))
_WIDE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDE |= {0x3000: 0x20, 0xFFE5: ord("¥"), 0xFFE1: ord("£"), 0xFFE0: ord("¢"), 0x301C: ord("~")}
_FOLDED = _WIDE | TRADITIONAL
_TRADITIONAL_CHAR = re.compile("[" + "".join(map(chr, TRADITIONAL)) + "]")
_SPACES = re.compile(r"\s+")


class NumeralError(ValueError):
    """A numeral that cannot be read with certainty; the message is a short reason."""


@dataclass(frozen=True)
class Numeral:
    """A number read from Chinese numerals.

    value: the number itself; scale: power of ten of the trailing section marker
    (亿 = 8, 万亿 = 12) or None; big_units: its coefficient uses 百 or 千, so in
    "一至两千万" the trailing 万 may or may not be meant to scale the other end.
    """

    value: Decimal
    scale: int | None
    big_units: bool


def fold(text: str) -> str:
    """Full-width ASCII to ASCII, traditional characters to simplified, and any run of whitespace to one space."""
    if text.isascii() and text.isprintable() and "  " not in text:
        return text  # nothing to fold: its only whitespace is single spaces
    return _SPACES.sub(" ", text.translate(_FOLDED))


def traditional(text: str) -> bool:
    """Whether the text uses a traditional character that `fold` reads as simplified."""
    return not text.isascii() and _TRADITIONAL_CHAR.search(text) is not None


def scaled(number: Decimal, power: int) -> Decimal:
    """number × 10**power, exactly; integral results come back without an exponent."""
    result = number.scaleb(power, EXACT)
    if result == result.to_integral_value(context=EXACT):
        return result.quantize(Decimal(1), context=WHOLE)
    return result


def chinese_numeral(run: str) -> Numeral:
    """Read a run of characters from NUMERAL_CHARS, e.g. '二十', '一百五十亿', '一点五万亿'."""
    whole, point, fraction = run.partition("点")
    if point:
        return _with_fraction(run, whole, fraction)
    value = _integer(run)
    marker = re.search(r"[万亿]+$", run)
    coefficient = run[: marker.start()] if marker else run
    scale = None
    if marker:
        scale = SCALE_WORDS.get(marker.group())
        if scale is None:
            raise NumeralError(f"the scale {marker.group()!r} is not one I know")
    return Numeral(Decimal(value), scale, any(unit in coefficient for unit in "百千"))


def _with_fraction(run: str, whole: str, fraction: str) -> Numeral:
    digits = re.match(r"[零〇一二三四五六七八九]+", fraction)
    if not whole or not digits or any(ch in whole for ch in SECTIONS):
        raise NumeralError(f"cannot read the numeral {run!r}")
    rest = fraction[digits.end() :]
    if rest and rest not in SCALE_WORDS:
        raise NumeralError(f"cannot read the numeral {run!r}")
    number = Decimal(f"{_integer(whole)}." + "".join(str(DIGITS[ch]) for ch in digits.group()))
    scale = SCALE_WORDS[rest] if rest else None
    return Numeral(scaled(number, scale or 0), scale, False)


def _integer(run: str) -> int:
    """A whole number in the usual notation: sections of 千百十 places, closed by 万 and 亿."""
    total = wan = section = 0
    digit: int | None = None
    last_unit = 4  # places must come in falling order inside a section
    dangling = False  # a digit right after 百/千/万/亿: "一千五" is 1500 in speech, 1005 by the rules
    for i, ch in enumerate(run):
        if ch in DIGITS:
            if digit:
                raise NumeralError(f"{run!r} has two digits in a row (a colloquial range?)")
            digit = DIGITS[ch]
            dangling = digit != 0 and i > 0 and run[i - 1] in "百千万亿"
        elif ch in UNITS:
            if digit is None and i == 0:
                digit = 1  # "十五", "百亿", "千亿"
            if not digit or UNITS[ch] >= last_unit:
                raise NumeralError(f"cannot read the numeral {run!r}")
            section += digit * 10 ** UNITS[ch]
            last_unit, digit, dangling = UNITS[ch], None, False
        elif ch in SECTIONS:
            part = (wan if ch == "亿" else 0) + section + (digit or 0)
            if part == 0 and i == 0:
                part = 1  # "万亿", "亿"
            if dangling or part == 0 or (ch == "万" and wan) or (ch == "亿" and total):
                raise NumeralError(f"cannot read the numeral {run!r}")
            if ch == "万":
                wan = part * 10**4
            else:
                total, wan = part * 10**8, 0
            section, digit, last_unit = 0, None, 4
        else:
            raise NumeralError(f"cannot read the numeral {run!r}")
    if dangling:
        raise NumeralError(f"{run!r} is ambiguous (say 一千五百, not 一千五)")
    return total + wan + section + (digit or 0)
