"""The reported-amount parser: English and Chinese phrases, refusals, round trips.

No database is needed.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.figures import BOUNDS, Figure, FigureError, Qualifier, format_figure
from events.numerals import TRADITIONAL, fold, traditional
from events.parsing import ISO_CODES, VOCABULARY, _read, _tokens, parse_figure, read_figure

K, M, B, T = 10**3, 10**6, 10**9, 10**12


def claim(figure: Figure) -> tuple:
    return (figure.currency, figure.qualifier.value, figure.low, figure.high)


# (phrase, currency, qualifier, low, high)
ENGLISH = [
    # exact
    ("$30 billion", "USD", "exact", 30 * B, 30 * B),
    ("$30bn", "USD", "exact", 30 * B, 30 * B),
    ("$30B", "USD", "exact", 30 * B, 30 * B),
    ("$30 B", "USD", "exact", 30 * B, 30 * B),
    ("$30Bn", "USD", "exact", 30 * B, 30 * B),
    ("30 billion dollars", "USD", "exact", 30 * B, 30 * B),
    ("USD 30 billion", "USD", "exact", 30 * B, 30 * B),
    ("30 billion USD", "USD", "exact", 30 * B, 30 * B),
    ("US$30bn", "USD", "exact", 30 * B, 30 * B),
    ("US$2bn", "USD", "exact", 2 * B, 2 * B),
    ("$2b", "USD", "exact", 2 * B, 2 * B),
    ("30 billion US dollars", "USD", "exact", 30 * B, 30 * B),
    ("30,000,000,000 dollars", "USD", "exact", 30 * B, 30 * B),
    ("USD 30000000000", "USD", "exact", 30 * B, 30 * B),
    ("$1,500", "USD", "exact", 1500, 1500),
    # a whole amount written with zeros after the point, as filings do
    ("$1,000,000.00", "USD", "exact", M, M),
    ("$2.000000000 billion", "USD", "exact", 2 * B, 2 * B),
    ("up to $30,000,000,000.00", "USD", "at_most", None, 30 * B),
    ("$1.5 million", "USD", "exact", 1500 * K, 1500 * K),
    ("$500k", "USD", "exact", 500 * K, 500 * K),
    ("$500 thousand", "USD", "exact", 500 * K, 500 * K),
    ("$5MM", "USD", "exact", 5 * M, 5 * M),
    ("$0.5 billion", "USD", "exact", 500 * M, 500 * M),
    ("$1.1 trillion", "USD", "exact", 1100 * B, 1100 * B),
    ("$1.5tn", "USD", "exact", 1500 * B, 1500 * B),
    ("$1.2-billion", "USD", "exact", 1200 * M, 1200 * M),
    ("$1.2-billion to $1.5-billion", "USD", "range", 1200 * M, 1500 * M),
    ("$2 T", "USD", "exact", 2 * T, 2 * T),
    ("€2.5bn", "EUR", "exact", 2500 * M, 2500 * M),
    ("2.5 billion euros", "EUR", "exact", 2500 * M, 2500 * M),
    ("EUR 2.5bn", "EUR", "exact", 2500 * M, 2500 * M),
    ("£500m", "GBP", "exact", 500 * M, 500 * M),
    ("£500mn", "GBP", "exact", 500 * M, 500 * M),
    ("£500 mln", "GBP", "exact", 500 * M, 500 * M),
    ("500 million pounds", "GBP", "exact", 500 * M, 500 * M),
    ("500 million pounds sterling", "GBP", "exact", 500 * M, 500 * M),
    ("HK$1.2 billion", "HKD", "exact", 1200 * M, 1200 * M),
    ("1.2 billion Hong Kong dollars", "HKD", "exact", 1200 * M, 1200 * M),
    ("CHF 5bn", "CHF", "exact", 5 * B, 5 * B),
    ("5 billion Swiss francs", "CHF", "exact", 5 * B, 5 * B),
    ("5bn SGD", "SGD", "exact", 5 * B, 5 * B),
    ("S$5bn", "SGD", "exact", 5 * B, 5 * B),
    ("C$3 billion", "CAD", "exact", 3 * B, 3 * B),
    ("A$3 billion", "AUD", "exact", 3 * B, 3 * B),
    ("JPY 500 billion", "JPY", "exact", 500 * B, 500 * B),
    ("500 billion yen", "JPY", "exact", 500 * B, 500 * B),
    ("RMB 30 billion", "CNY", "exact", 30 * B, 30 * B),
    ("30 billion yuan", "CNY", "exact", 30 * B, 30 * B),
    ("CNY 300B", "CNY", "exact", 300 * B, 300 * B),
    ("a total of $30 billion", "USD", "exact", 30 * B, 30 * B),
    ("$0", "USD", "exact", 0, 0),
    # about
    ("about $30 billion", "USD", "about", 30 * B, 30 * B),
    ("around $30bn", "USD", "about", 30 * B, 30 * B),
    ("Around $30 Billion", "USD", "about", 30 * B, 30 * B),
    ("approximately $30 billion", "USD", "about", 30 * B, 30 * B),
    ("approx. $30bn", "USD", "about", 30 * B, 30 * B),
    ("roughly €2.5bn", "EUR", "about", 2500 * M, 2500 * M),
    ("some $30 billion", "USD", "about", 30 * B, 30 * B),
    ("an estimated $30 billion", "USD", "about", 30 * B, 30 * B),
    ("circa $30bn", "USD", "about", 30 * B, 30 * B),
    ("~$30B", "USD", "about", 30 * B, 30 * B),
    ("≈ $1.5T", "USD", "about", 1500 * B, 1500 * B),
    ("$30 billion or so", "USD", "about", 30 * B, 30 * B),
    ("in the region of £500m", "GBP", "about", 500 * M, 500 * M),
    # nearly
    ("nearly $100 billion", "USD", "nearly", None, 100 * B),
    ("nearly $100B", "USD", "nearly", None, 100 * B),
    ("almost $100 billion", "USD", "nearly", None, 100 * B),
    ("close to $100 billion", "USD", "nearly", None, 100 * B),
    ("just under $100 billion", "USD", "nearly", None, 100 * B),
    ("just shy of $100bn", "USD", "nearly", None, 100 * B),
    ("approaching $100 billion", "USD", "nearly", None, 100 * B),
    # at most
    ("up to $30 billion", "USD", "at_most", None, 30 * B),
    ("UP TO $30 BILLION", "USD", "at_most", None, 30 * B),
    ("as much as $100 billion", "USD", "at_most", None, 100 * B),
    ("as high as $100 billion", "USD", "at_most", None, 100 * B),
    ("at most $30 billion", "USD", "at_most", None, 30 * B),
    ("no more than $30 billion", "USD", "at_most", None, 30 * B),
    ("a maximum of $30 billion", "USD", "at_most", None, 30 * B),
    ("$30 billion at most", "USD", "at_most", None, 30 * B),
    ("$30 billion or less", "USD", "at_most", None, 30 * B),
    ("≤ $30B", "USD", "at_most", None, 30 * B),
    ("<= $30B", "USD", "at_most", None, 30 * B),
    ("could be up to $30 billion", "USD", "at_most", None, 30 * B),
    # at least
    ("at least $10 billion", "USD", "at_least", 10 * B, None),
    ("no less than $10 billion", "USD", "at_least", 10 * B, None),
    ("not less than $10bn", "USD", "at_least", 10 * B, None),
    ("a minimum of $10 billion", "USD", "at_least", 10 * B, None),
    ("$10 billion or more", "USD", "at_least", 10 * B, None),
    ("$10 billion at least", "USD", "at_least", 10 * B, None),
    ("≥ $10B", "USD", "at_least", 10 * B, None),
    ("$10B+", "USD", "at_least", 10 * B, None),
    ("$10 billion plus", "USD", "at_least", 10 * B, None),
    ("$10 billion-plus", "USD", "at_least", 10 * B, None),
    # more than
    ("a little over $500 million", "USD", "more_than", 500 * M, None),
    ("a bit more than $10B", "USD", "more_than", 10 * B, None),
    ("more than $10B", "USD", "more_than", 10 * B, None),
    ("more than $10 billion", "USD", "more_than", 10 * B, None),
    ("over $10 billion", "USD", "more_than", 10 * B, None),
    ("above $10 billion", "USD", "more_than", 10 * B, None),
    ("in excess of $10 billion", "USD", "more_than", 10 * B, None),
    ("upwards of $10 billion", "USD", "more_than", 10 * B, None),
    ("north of $10 billion", "USD", "more_than", 10 * B, None),
    ("exceeding $10 billion", "USD", "more_than", 10 * B, None),
    ("just over $10 billion", "USD", "more_than", 10 * B, None),
    ("well over $10 billion", "USD", "more_than", 10 * B, None),
    ("> $10B", "USD", "more_than", 10 * B, None),
    ("possibly more than $20B", "USD", "more_than", 20 * B, None),
    ("reportedly more than $20 billion", "USD", "more_than", 20 * B, None),
    # less than
    ("less than $10 billion", "USD", "less_than", None, 10 * B),
    ("under $10 billion", "USD", "less_than", None, 10 * B),
    ("below $10 billion", "USD", "less_than", None, 10 * B),
    ("< $10B", "USD", "less_than", None, 10 * B),
    # range
    ("$10B-$20B", "USD", "range", 10 * B, 20 * B),
    ("$10bn-$20bn", "USD", "range", 10 * B, 20 * B),
    ("$10-20 billion", "USD", "range", 10 * B, 20 * B),
    ("$10–20B", "USD", "range", 10 * B, 20 * B),
    ("$10—20B", "USD", "range", 10 * B, 20 * B),
    ("$10B~$20B", "USD", "range", 10 * B, 20 * B),
    ("$10 billion to $20 billion", "USD", "range", 10 * B, 20 * B),
    ("between $10 billion and $20 billion", "USD", "range", 10 * B, 20 * B),
    ("from $10 billion to $20 billion", "USD", "range", 10 * B, 20 * B),
    ("10 to 20 billion dollars", "USD", "range", 10 * B, 20 * B),
    ("USD 10-20bn", "USD", "range", 10 * B, 20 * B),
    ("€1.5-2 billion", "EUR", "range", 1500 * M, 2 * B),
    ("$500 million to $1 billion", "USD", "range", 500 * M, 1 * B),
    ("$500–2000M", "USD", "range", 500 * M, 2 * B),
    ("CNY 10–20B", "CNY", "range", 10 * B, 20 * B),
    ("$0–5", "USD", "range", 0, 5),
]

CHINESE = [
    # exact
    ("300亿美元", "USD", "exact", 30 * B, 30 * B),
    ("30亿美元", "USD", "exact", 3 * B, 3 * B),
    ("3000万美元", "USD", "exact", 30 * M, 30 * M),
    ("1000亿美元", "USD", "exact", 100 * B, 100 * B),
    ("150亿美元", "USD", "exact", 15 * B, 15 * B),
    ("300 亿美元", "USD", "exact", 30 * B, 30 * B),
    ("二十亿美元", "USD", "exact", 2 * B, 2 * B),
    ("两千亿美元", "USD", "exact", 200 * B, 200 * B),
    ("三百亿美元", "USD", "exact", 30 * B, 30 * B),
    ("一千亿美元", "USD", "exact", 100 * B, 100 * B),
    ("十五亿美元", "USD", "exact", 1500 * M, 1500 * M),
    ("一百五十亿美元", "USD", "exact", 15 * B, 15 * B),
    ("一千零五十亿美元", "USD", "exact", 105 * B, 105 * B),
    ("一亿五千万美元", "USD", "exact", 150 * M, 150 * M),
    ("一万亿美元", "USD", "exact", 1 * T, 1 * T),
    ("一点五万亿美元", "USD", "exact", 1500 * B, 1500 * B),
    ("1.5万亿美元", "USD", "exact", 1500 * B, 1500 * B),
    ("三十亿美元", "USD", "exact", 3 * B, 3 * B),
    ("零美元", "USD", "exact", 0, 0),
    ("３００亿美元", "USD", "exact", 30 * B, 30 * B),
    ("３００亿美金", "USD", "exact", 30 * B, 30 * B),
    ("300亿元", "CNY", "exact", 30 * B, 30 * B),
    ("3.000000000亿元", "CNY", "exact", 300 * M, 300 * M),
    ("300亿元人民币", "CNY", "exact", 30 * B, 30 * B),
    ("人民币300亿元", "CNY", "exact", 30 * B, 30 * B),
    ("300亿人民币", "CNY", "exact", 30 * B, 30 * B),
    ("5000万元人民币", "CNY", "exact", 50 * M, 50 * M),
    ("¥300亿元", "CNY", "exact", 30 * B, 30 * B),
    ("50亿欧元", "EUR", "exact", 5 * B, 5 * B),
    ("50亿英镑", "GBP", "exact", 5 * B, 5 * B),
    ("12亿港元", "HKD", "exact", 1200 * M, 1200 * M),
    ("12亿港币", "HKD", "exact", 1200 * M, 1200 * M),
    ("5000亿日元", "JPY", "exact", 500 * B, 500 * B),
    ("100万美元", "USD", "exact", 1 * M, 1 * M),
    ("1千万美元", "USD", "exact", 10 * M, 10 * M),
    ("5百万美元", "USD", "exact", 5 * M, 5 * M),
    ("3十亿美元", "USD", "exact", 3 * B, 3 * B),
    ("2百亿美元", "USD", "exact", 20 * B, 20 * B),
    ("3千亿美元", "USD", "exact", 300 * B, 300 * B),
    ("8千美元", "USD", "exact", 8 * K, 8 * K),
    ("2十万美元", "USD", "exact", 200 * K, 200 * K),
    ("达300亿美元", "USD", "exact", 30 * B, 30 * B),
    ("共计300亿美元", "USD", "exact", 30 * B, 30 * B),
    # about
    ("约300亿美元", "USD", "about", 30 * B, 30 * B),
    ("大约300亿美元", "USD", "about", 30 * B, 30 * B),
    ("约为300亿美元", "USD", "about", 30 * B, 30 * B),
    ("大概300亿美元", "USD", "about", 30 * B, 30 * B),
    ("300亿美元左右", "USD", "about", 30 * B, 30 * B),
    ("约300亿美元左右", "USD", "about", 30 * B, 30 * B),
    ("300亿美元上下", "USD", "about", 30 * B, 30 * B),
    ("约1.5万亿美元", "USD", "about", 1500 * B, 1500 * B),
    ("～300亿美元", "USD", "about", 30 * B, 30 * B),
    ("据报导约20亿美元", "USD", "about", 2 * B, 2 * B),
    # nearly
    ("近1000亿美元", "USD", "nearly", None, 100 * B),
    ("将近1000亿美元", "USD", "nearly", None, 100 * B),
    ("接近1000亿美元", "USD", "nearly", None, 100 * B),
    ("逼近1000亿美元", "USD", "nearly", None, 100 * B),
    ("几乎1000亿美元", "USD", "nearly", None, 100 * B),
    ("近百亿美元", "USD", "nearly", None, 10 * B),
    # at most
    ("至多300亿美元", "USD", "at_most", None, 30 * B),
    ("至多1000亿美元", "USD", "at_most", None, 100 * B),
    ("最多300亿美元", "USD", "at_most", None, 30 * B),
    ("高达600亿美元", "USD", "at_most", None, 60 * B),
    ("多达300亿美元", "USD", "at_most", None, 30 * B),
    ("不超过100亿美元", "USD", "at_most", None, 10 * B),
    ("不超100亿美元", "USD", "at_most", None, 10 * B),
    ("最高300亿美元", "USD", "at_most", None, 30 * B),
    ("最高达8300亿美元", "USD", "at_most", None, 830 * B),
    ("最高可达300亿美元", "USD", "at_most", None, 30 * B),
    ("300亿美元以内", "USD", "at_most", None, 30 * B),
    # at least
    ("至少100亿美元", "USD", "at_least", 10 * B, None),
    ("不少于100亿美元", "USD", "at_least", 10 * B, None),
    ("不低于100亿美元", "USD", "at_least", 10 * B, None),
    ("最少100亿美元", "USD", "at_least", 10 * B, None),
    ("起码100亿美元", "USD", "at_least", 10 * B, None),
    # more than
    ("超过200亿美元", "USD", "more_than", 20 * B, None),
    ("逾200亿美元", "USD", "more_than", 20 * B, None),
    ("远超100亿美元", "USD", "more_than", 10 * B, None),
    ("超200亿美元", "USD", "more_than", 20 * B, None),
    ("200亿美元以上", "USD", "more_than", 20 * B, None),
    ("200多亿美元", "USD", "more_than", 20 * B, None),
    ("200余亿美元", "USD", "more_than", 20 * B, None),
    ("二十多亿美元", "USD", "more_than", 2 * B, None),
    ("十余亿美元", "USD", "more_than", 1 * B, None),
    ("6亿多美元", "USD", "more_than", 600 * M, None),
    ("5亿余元", "CNY", "more_than", 500 * M, None),
    ("3万多美元", "USD", "more_than", 30 * K, None),
    ("1000多万美元", "USD", "more_than", 10 * M, None),
    ("超千亿美元", "USD", "more_than", 100 * B, None),
    ("过百亿美元", "USD", "more_than", 10 * B, None),
    ("突破千亿元", "CNY", "more_than", 100 * B, None),
    ("甚至可能超过200亿美元", "USD", "more_than", 20 * B, None),
    ("或超过200亿美元", "USD", "more_than", 20 * B, None),
    # less than
    ("不到100亿美元", "USD", "less_than", None, 10 * B),
    ("低于100亿美元", "USD", "less_than", None, 10 * B),
    ("少于100亿美元", "USD", "less_than", None, 10 * B),
    ("不足100亿美元", "USD", "less_than", None, 10 * B),
    ("100亿美元以下", "USD", "less_than", None, 10 * B),
    # range
    ("100亿至200亿美元", "USD", "range", 10 * B, 20 * B),
    ("100亿到200亿美元", "USD", "range", 10 * B, 20 * B),
    ("100-200亿美元", "USD", "range", 10 * B, 20 * B),
    ("100亿~200亿美元", "USD", "range", 10 * B, 20 * B),
    ("100亿～200亿美元", "USD", "range", 10 * B, 20 * B),
    ("100亿美元至200亿美元", "USD", "range", 10 * B, 20 * B),
    ("在100亿至200亿美元之间", "USD", "range", 10 * B, 20 * B),
    ("介于100亿和200亿美元之间", "USD", "range", 10 * B, 20 * B),
    ("从100亿到200亿美元", "USD", "range", 10 * B, 20 * B),
    ("二十至三十亿美元", "USD", "range", 2 * B, 3 * B),
    ("一百至二百亿美元", "USD", "range", 10 * B, 20 * B),
    ("一千至两千亿美元", "USD", "range", 100 * B, 200 * B),
    ("1.5万亿至2万亿美元", "USD", "range", 1500 * B, 2 * T),
]

#: (phrase, words the message must contain)
REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("about a lot", "no number"),
    ("up to $ billion", "no number"),
    ("a billion dollars", "no number"),
    ("two thousand dollars", "no number"),
    ("30 billion", "no currency"),
    ("300亿", "no currency"),
    ("-$5B", "negative"),
    ("$-5B", "negative"),
    ("−$5B", "negative"),
    ("minus $5 billion", "negative"),
    ("负50亿美元", "negative"),
    ("$20B-$10B", "must be below its high"),
    ("$10B-$10B", "must be below its high"),
    ("200亿至100亿美元", "must be below its high"),
    ("$5B €", "two currencies"),
    ("$5bn EUR", "two currencies"),
    ("300亿美元人民币", "two currencies"),
    ("$10B-€20B", "two currencies"),
    ("¥300亿", "'¥' may be CNY or JPY: write the ISO code"),
    ("￥300亿", "'¥' may be CNY or JPY: write the ISO code"),
    ("¥5bn", "'¥' may be CNY or JPY: write the ISO code"),
    ("¥5bn USD", "two currencies"),
    ("$30B or maybe $40B", "did not understand 'or'"),
    ("$30B per year", "did not understand 'per'"),
    ("$30B + $40B", "a range takes no qualifier ('+')"),
    ("more than $30B+", "'more than' and '+' contradict each other"),
    ("1.5兆美元", "'兆' is 10^12 in Taiwan and Japan but 10^6 by mainland standards: write 万亿 (萬億) or the digits"),
    ("50億元", "'元' (or '圓') in traditional characters may be TWD, HKD or CNY: write 新臺幣, 港元 or 人民幣"),
    ("50億圓", "may be TWD, HKD or CNY"),
    ("€1bn ($1.1bn)", "brackets hold a second amount (a conversion?): give the one amount the source reported"),
    ("1.2亿美元（约8.6亿元人民币）", "brackets hold a second amount"),
    ("¥50億元", "'¥' may be CNY or JPY"),
    ("$30B over five years", "did not understand 'five'"),
    ("XYZ 5bn", "did not understand 'XYZ'"),
    ("$1e9", "did not understand 'e'"),
    ("1.2.3 dollars", "malformed number '1.2.3'"),
    ("$1,50", "malformed number"),
    ("$1,5000", "malformed number"),
    ("€2,5 billion", "malformed number"),
    ("$30B $40B", "two amounts that are not a range"),
    ("30 000 dollars", "two amounts that are not a range"),
    ("$10B-$20B-$30B", "more than two amounts"),
    ("$30B over", "'over' is out of place"),
    ("about nearly $30B", "'about' and 'nearly' contradict each other"),
    ("up to more than $30B", "contradict each other"),
    ("about $30B or more", "contradict each other"),
    ("约300多亿美元", "'约' and '多' contradict each other"),
    ("约6亿多美元", "'约' and '多' contradict each other"),
    ("6多亿多美元", "says 多/余 twice"),
    ("不到300亿美元以上", "contradict each other"),
    ("about $10-20B", "a range takes no qualifier"),
    ("100亿至200亿美元以上", "a range takes no qualifier"),
    ("100多亿至200亿美元", "a range takes no qualifier"),
    ("$10B and $20B", "'and' makes a range only after 'between'"),
    ("between $30B", "a range needs two amounts"),
    ("$30B to", "'to' with only one amount"),
    ("一两亿美元", "two digits in a row"),
    ("三〇〇亿美元", "two digits in a row"),
    ("两亿五美元", "ambiguous"),
    ("一千五美元", "ambiguous"),
    ("亿万美元", "cannot read the numeral"),
    ("$10B-20", "lacks the first one's scale"),
    ("一至两千万元", "unclear which scale"),
    ("x" * 201, "longer than 200 characters"),
    ("up to\x00$30B", "did not understand '\\x00'"),
    ("up to\u2028$30B", "control character"),
    ("$30 billion billion", "did not understand 'billion'"),
]


@pytest.mark.parametrize("phrase, currency, qualifier, low, high", ENGLISH)
def test_english_phrases_read_as_the_claim_they_make(phrase, currency, qualifier, low, high):
    assert claim(parse_figure(phrase)) == (currency, qualifier, low, high)


@pytest.mark.parametrize("phrase, currency, qualifier, low, high", CHINESE)
def test_chinese_phrases_read_as_the_claim_they_make(phrase, currency, qualifier, low, high):
    assert claim(parse_figure(phrase)) == (currency, qualifier, low, high)


@pytest.mark.parametrize("phrase", [row[0] for row in ENGLISH + CHINESE])
def test_a_parsed_phrase_keeps_its_words_and_prints_back_to_the_same_claim(phrase):
    figure = parse_figure(f"  {phrase}\n")
    assert figure.text == phrase
    assert parse_figure(format_figure(figure)).same_claim(figure)


@pytest.mark.parametrize(
    "chinese, english",
    [
        ("至多300亿美元", "up to $30 billion"),
        ("超过200亿美元", "more than $20B"),
        ("近1000亿美元", "nearly $100 billion"),
        ("约1.5万亿美元", "about $1.5 trillion"),
        ("100亿至200亿美元", "between $10 billion and $20 billion"),
        ("不少于100亿美元", "at least $10bn"),
        ("不到100亿美元", "less than $10,000,000,000"),
        ("300亿美元", "US$30bn"),
        ("300亿元", "CNY 30B"),
    ],
)
def test_the_same_claim_in_chinese_and_english_is_the_same_claim(chinese, english):
    assert parse_figure(chinese).same_claim(parse_figure(english))
    assert parse_figure(chinese).text != parse_figure(english).text


def test_amounts_are_exact_decimals_never_floats():
    figure = parse_figure("1.1 trillion dollars")
    assert isinstance(figure.low, Decimal) and figure.low == Decimal(1100000000000)
    assert str(figure.low) == "1100000000000"
    assert parse_figure("$0.1 billion").low == 100_000_000
    assert parse_figure("$1.23456789012345 trillion").low == Decimal("1234567890123.45")
    # more digits than the stored JSON number keeps: refused, not rounded
    with pytest.raises(FigureError, match="1000000000000.000000000000000001 has too many digits to keep exactly"):
        parse_figure("$1.000000000000000000000000000001 trillion")


@pytest.mark.parametrize(
    "word, power",
    [("thousand", 3), ("k", 3), ("K", 3), ("million", 6), ("m", 6), ("M", 6), ("mn", 6), ("mln", 6),
     ("billion", 9), ("b", 9), ("B", 9), ("bn", 9), ("BN", 9), ("trillion", 12), ("t", 12), ("T", 12),
     ("tn", 12), ("Trillion", 12)],
)
@pytest.mark.parametrize("space", ["", " "])
def test_every_english_scale_multiplies_by_its_power_of_ten(word, power, space):
    assert parse_figure(f"$7{space}{word}").low == 7 * 10**power


@pytest.mark.parametrize(
    "word, power",
    [("千", 3), ("万", 4), ("十万", 5), ("百万", 6), ("千万", 7), ("亿", 8), ("十亿", 9), ("百亿", 10),
     ("千亿", 11), ("万亿", 12)],
)
def test_every_chinese_scale_multiplies_by_its_power_of_ten(word, power):
    assert parse_figure(f"7{word}美元").low == 7 * 10**power
    assert parse_figure(f"1.5{word}元").low == 15 * 10 ** (power - 1)


@pytest.mark.parametrize(
    "marker, currency",
    [("$", "USD"), ("US$", "USD"), ("USD", "USD"), ("dollars", "USD"), ("美元", "USD"), ("美金", "USD"),
     ("€", "EUR"), ("EUR", "EUR"), ("euros", "EUR"), ("欧元", "EUR"),
     ("£", "GBP"), ("GBP", "GBP"), ("pounds", "GBP"), ("英镑", "GBP"),
     ("人民币", "CNY"), ("元", "CNY"), ("RMB", "CNY"), ("CNY", "CNY"), ("yuan", "CNY"),
     ("HK$", "HKD"), ("港元", "HKD"), ("港币", "HKD"), ("HKD", "HKD"),
     ("日元", "JPY"), ("日圆", "JPY"), ("円", "JPY"), ("JPY", "JPY"), ("yen", "JPY"),
     ("NT$", "TWD"), ("新台币", "TWD"), ("台币", "TWD"), ("新臺幣", "TWD"), ("New Taiwan dollars", "TWD"),
     ("CHF", "CHF"), ("SGD", "SGD"), ("C$", "CAD"), ("A$", "AUD"), ("S$", "SGD")],
)
def test_every_currency_word_names_its_iso_code(marker, currency):
    before, after = parse_figure(f"{marker} 5 million"), parse_figure(f"5 million {marker}")
    assert before.currency == after.currency == currency
    assert before.low == after.low == 5 * M


@pytest.mark.parametrize("code", sorted(ISO_CODES))
def test_any_iso_code_written_out_is_the_currency(code):
    assert parse_figure(f"{code} 5bn").currency == code
    assert parse_figure(f"5bn {code}").currency == code


def test_a_phrase_without_currency_takes_the_default_and_one_with_currency_keeps_its_own():
    assert claim(parse_figure("300亿", "CNY")) == ("CNY", "exact", 30 * B, 30 * B)
    assert parse_figure("$30B", "EUR").currency == "USD"


def test_the_yen_sign_is_settled_only_by_other_words_or_a_default_of_cny_or_jpy():
    assert parse_figure("¥5bn", "JPY").currency == "JPY"
    assert parse_figure("¥300亿", "CNY").currency == "CNY"
    assert parse_figure("¥5000亿日元").currency == "JPY"
    with pytest.raises(FigureError, match="may be CNY or JPY"):
        parse_figure("¥5bn", "USD")


#: Simplified characters of the parser's words as Hong Kong and Taiwan write them (`fold` reads them back).
TO_TRADITIONAL = {simplified: written for written, simplified in TRADITIONAL.items()}


@pytest.mark.parametrize("phrase, currency, qualifier, low, high", CHINESE)
def test_chinese_phrases_in_traditional_characters_make_the_same_claim(phrase, currency, qualifier, low, high):
    """Every Chinese phrase above as Hong Kong and Taiwan write it ("最高達8300億美元"). There 元 (圓)
    alone is not surely CNY: such a phrase is refused unless the default currency settles it."""
    written = phrase.translate(TO_TRADITIONAL)
    assert traditional(written) is (written != phrase)
    settled = parse_figure(written, "CNY")
    assert claim(settled) == (currency, qualifier, low, high) and settled.text == written
    named = {token.text for token in _tokens(fold(phrase)) if token.kind == "currency"}
    if written != phrase and "元" in named and named <= {"元", "¥"}:
        with pytest.raises(FigureError, match="may be TWD, HKD or CNY|may be CNY or JPY"):
            parse_figure(written)
    else:
        assert claim(parse_figure(written)) == (currency, qualifier, low, high)


@pytest.mark.parametrize(
    "phrase, default, currency",
    [("港币100亿元", None, "HKD"), ("新台币30亿元", None, "TWD"), ("100亿元美金", None, "USD"), ("300亿元", None, "CNY"),
     ("港幣10億元", None, "HKD"), ("新臺幣30億元", None, "TWD"), ("50億元", "TWD", "TWD"), ("50億元", "HKD", "HKD"),
     ("50億圓", "CNY", "CNY"), ("¥50億圓", "JPY", "JPY"), ("100億日圓", None, "JPY")],
)
def test_yuan_is_the_unit_of_a_currency_named_beside_it_and_alone_in_traditional_characters_needs_a_default(
    phrase, default, currency
):
    assert parse_figure(phrase, default).currency == currency


@pytest.mark.parametrize("default", [None, "USD", "JPY"])
def test_yuan_alone_in_traditional_characters_is_refused_without_a_default_of_twd_hkd_or_cny(default):
    with pytest.raises(FigureError, match="may be TWD, HKD or CNY"):
        parse_figure("超過50億元", default)


def test_a_wave_dash_joins_a_range_as_a_tilde_does():
    assert claim(parse_figure("20〜30億美元")) == claim(parse_figure("20~30亿美元")) == ("USD", "range", 2 * B, 3 * B)


@pytest.mark.parametrize("code", ["UDS", "XXX", "ABC"])
def test_a_default_currency_of_the_shape_of_a_code_but_no_currency_is_refused(code):
    """A mistyped --currency labelled every phrase without a currency of its own with it."""
    with pytest.raises(FigureError, match=f"the default currency '{code}' is not an ISO 4217 currency code"):
        parse_figure("300亿", code)
    assert parse_figure("$30B", code).currency == "USD"


def test_a_default_currency_that_is_not_an_iso_code_is_refused():
    with pytest.raises(FigureError, match="ISO 4217"):
        parse_figure("30B", "usd")


@pytest.mark.parametrize("phrase, words", REFUSED)
def test_refusals_name_the_phrase_and_say_why_on_one_line(phrase, words):
    with pytest.raises(FigureError) as caught:
        parse_figure(phrase)
    message = str(caught.value)
    assert message.startswith("cannot read amount ")
    assert words in message
    assert "\n" not in message
    assert repr(phrase.strip()[:40])[:-1] in message


def test_the_brief_example_message_is_exact():
    with pytest.raises(FigureError) as caught:
        parse_figure("about a lot")
    assert str(caught.value) == "cannot read amount 'about a lot': no number"


def test_a_huge_string_is_refused_quickly_with_a_short_message():
    with pytest.raises(FigureError) as caught:
        parse_figure("$3" + "0" * 10_000_000)
    assert len(str(caught.value)) < 200


@pytest.mark.parametrize("value", [None, 30, 3.5, b"$30B", ["$30B"], ("$30B",)])
def test_things_that_are_not_phrases_are_refused(value):
    with pytest.raises(FigureError):
        parse_figure(value)  # type: ignore[arg-type]
    with pytest.raises(FigureError):
        read_figure(value)  # type: ignore[arg-type]


# ---- read_figure: the JSON form


def test_the_json_form_reads_as_the_same_claim_as_the_phrase():
    form = {"currency": "USD", "qualifier": "at_most", "low": None, "high": 30000000000, "text": "至多300亿美元"}
    figure = read_figure(form)
    assert figure.same_claim(parse_figure("up to $30 billion"))
    assert figure.text == "至多300亿美元"
    assert read_figure("至多300亿美元").same_claim(figure)


def test_the_json_form_may_leave_out_low_high_and_text_and_currency_with_a_default():
    assert claim(read_figure({"currency": "EUR", "qualifier": "more_than", "low": 5})) == (
        "EUR", "more_than", 5, None,
    )
    assert read_figure({"qualifier": "exact", "low": 5, "high": 5}, "CNY").currency == "CNY"
    assert read_figure({"qualifier": "exact", "low": 5, "high": 5, "currency": None}, "CNY").currency == "CNY"


def test_a_figure_survives_json_and_back():
    for phrase in ("约1.5万亿美元", "$10-20 billion", "more than $0.5 billion", "£1.25m"):
        figure = parse_figure(phrase)
        again = read_figure(json.loads(json.dumps(figure.to_json())))
        assert again.same_claim(figure) and again.text == figure.text


def test_a_finite_json_float_is_read_as_written():
    assert read_figure({"currency": "USD", "qualifier": "exact", "low": 1.5, "high": 1.5}).low == Decimal("1.5")


@pytest.mark.parametrize(
    "form, words",
    [
        ({"qualifier": "exact", "low": 5, "high": 5}, "no currency"),
        ({"currency": "USD", "qualifier": "exact", "low": math.nan, "high": math.nan}, "finite"),
        ({"currency": "USD", "qualifier": "at_least", "low": math.inf}, "finite"),
        ({"currency": "USD", "qualifier": "at_least", "low": Decimal("NaN")}, "finite"),
        ({"currency": "USD", "qualifier": "at_least", "low": Decimal("sNaN")}, "finite"),
        ({"currency": "USD", "qualifier": "at_least", "low": True}, "must be a number, not bool"),
        ({"currency": "USD", "qualifier": "at_least", "low": "30000000000"}, "must be a number, not str"),
        ({"currency": "USD", "qualifier": "at_least", "low": [1]}, "must be a number, not list"),
        ({"currency": "USD", "qualifier": "at_least", "low": 10**5000}, "sensible size"),
        ({"currency": "USD", "qualifier": "at_least", "low": -5}, "cannot be negative"),
        ({"currency": "USD", "qualifier": "at_most", "low": 5, "high": 10}, "takes no low amount"),
        ({"currency": "USD", "qualifier": "at_most"}, "needs a high amount"),
        ({"currency": "USD", "qualifier": "range", "low": 20, "high": 10}, "must be below its high"),
        ({"currency": "USD", "qualifier": "exact", "low": 5, "high": 6}, "low and high must be equal"),
        ({"currency": "USD", "qualifier": "roughly", "low": 5, "high": 5}, "qualifier"),
        ({"currency": "USD", "low": 5, "high": 5}, "qualifier must be a string"),
        ({"currency": "usd", "qualifier": "exact", "low": 5, "high": 5}, "ISO 4217"),
        ({"currency": 840, "qualifier": "exact", "low": 5, "high": 5}, "currency must be a string"),
        ({"currency": "USD", "qualifier": "exact", "low": 5, "high": 5, "text": 5}, "text must be a string"),
        ({"currency": "USD", "qualifier": "exact", "low": 5, "high": 5, "text": " "}, "blank"),
        ({"currency": "USD", "qualifier": "exact", "low": 5, "high": 5, "note": "x"}, "unknown field 'note'"),
        ({"currency": "USD", "qualifier": "exact", "low": 5, "high": 5, 7: "x"}, "unknown field 7"),
    ],
)
def test_a_wrong_json_form_is_refused_on_one_line(form, words):
    with pytest.raises(FigureError) as caught:
        read_figure(form)
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("invalid figure ")


# ---- properties

CURRENCIES = ["USD", "EUR", "GBP", "CNY", "HKD", "JPY", "CHF"]
AMOUNTS = st.one_of(
    st.builds(lambda n, p: Decimal(n).scaleb(p), st.integers(0, 10**6), st.sampled_from([0, 3, 6, 9, 12])),
    # what a stored JSON number keeps exactly (`events.amounts.storage_problem`): 15 significant
    # digits with a fraction, whole amounts up to 64 bits
    st.decimals(min_value=0, max_value=10**11, places=4, allow_nan=False, allow_infinity=False),
    st.integers(0, 2**64 - 1).map(Decimal),
)


@st.composite
def figures(draw) -> Figure:
    qualifier = draw(st.sampled_from(list(Qualifier)))
    currency = draw(st.sampled_from(CURRENCIES))
    if qualifier is Qualifier.RANGE:
        low, high = sorted(draw(st.lists(AMOUNTS, min_size=2, max_size=2, unique=True)))
        if low == high:  # equal values written differently, e.g. 1E+3 and 1000
            high += 1
        return Figure(currency=currency, qualifier=qualifier, low=low, high=high)
    amount = draw(AMOUNTS)
    has_low, has_high = BOUNDS[qualifier]
    return Figure(currency=currency, qualifier=qualifier, low=amount if has_low else None,
                  high=amount if has_high else None)


@settings(max_examples=500)
@given(figures())
def test_any_figure_printed_by_format_figure_parses_back_to_the_same_claim(figure):
    assert parse_figure(format_figure(figure)).same_claim(figure)


def chinese_numeral(n: int) -> str:
    """n < 10**12 in the usual written form, e.g. 100500 → 十万零五百."""
    digits = "零一二三四五六七八九"

    def section(value: int) -> str:
        out, zero = "", False
        for power, unit in ((3, "千"), (2, "百"), (1, "十"), (0, "")):
            digit = value // 10**power % 10
            if digit == 0:
                zero = bool(out)
                continue
            out += ("零" if zero else "") + digits[digit] + unit
            zero = False
        return out

    yi, rest = divmod(n, 10**8)
    wan, ones = divmod(rest, 10**4)
    out, gap = "", False
    for value, marker in ((yi, "亿"), (wan, "万"), (ones, "")):
        if value == 0:
            gap = bool(out)
            continue
        if out and (gap or value < 1000):
            out += "零"
        out += section(value) + marker
        gap = False
    out = out or "零"
    return out[1:] if out.startswith("一十") else out


def test_the_chinese_numeral_writer_used_below_writes_the_usual_forms():
    assert [chinese_numeral(n) for n in (15, 105000, 100500, 1050, 100000005, 150000000, 2 * 10**11)] == [
        "十五", "十万五千", "十万零五百", "一千零五十", "一亿零五", "一亿五千万", "二千亿",
    ]


@settings(max_examples=500)
@given(st.integers(0, 10**12 - 1))
def test_any_chinese_numeral_reads_as_its_number(n):
    assert parse_figure(chinese_numeral(n) + "美元").low == n


@given(st.integers(0, 2**64 - 1))
def test_any_number_with_thousands_separators_reads_as_its_number(n):
    assert parse_figure(f"{n:,} dollars").low == n
    assert parse_figure(f"US${n}").low == n


@settings(max_examples=1000)
@given(st.text(max_size=250))
def test_any_text_is_read_or_refused_with_figure_error(text):
    try:
        figure = parse_figure(text)
    except FigureError:
        return
    assert figure.text == text.strip()


PIECES = sorted(VOCABULARY) + sorted(ISO_CODES)[:20] + [
    "30", "1.5", "200", "1,500", "0", "二十", "两千", "一百五十", "点", "零", "〇", "亿", "万", "千", "十", "百",
    "多", "余", "B", "bn", "m", "T", "K", "billion", "-", "~", ".", ",", " ", "  ", "\n", "¥", "+", "XYZ", "元",
    "億", "萬", "兩", "點", "圓", "約", "超過", "高達", "人民幣", "新臺幣", "兆", "〜",
]


@settings(max_examples=600)
@given(st.lists(st.sampled_from(PIECES), max_size=9), st.sampled_from(["", " "]), st.sampled_from([None, "CNY"]))
def test_any_phrase_built_from_the_vocabulary_is_read_or_refused_with_figure_error(pieces, glue, default):
    try:
        figure = parse_figure(glue.join(pieces), default)
    except FigureError as error:
        assert "\n" not in str(error)
        return
    assert figure.text == glue.join(pieces).strip()
    assert parse_figure(format_figure(figure)).same_claim(figure)


WORDS_BY_KIND = {
    kind: sorted(word for word, (k, _) in VOCABULARY.items() if k == kind)
    for kind in ("qualifier", "hedge", "filler", "currency", "to", "between", "between-after")
}
NUMBERS = st.sampled_from(["30", "1.5", "200", "1,500", "0", "二十", "两千", "一百五十", "十", "一点五", "百"])
SCALES = st.sampled_from(["", "", "B", " billion", "bn", "m", "K", "亿", "万亿", "千万", "多亿", "余"])


OPTIONAL = {kind: st.sampled_from(["", *words]) for kind, words in WORDS_BY_KIND.items()}
JOINTS = st.sampled_from(["-", "–", "~", "to", "至", "and"])


@st.composite
def phrase_shaped(draw) -> str:
    """[hedge] [between] [qualifier] [currency] NUMBER SCALE [currency] [JOINT NUMBER SCALE ...] [qualifier]."""
    parts = [draw(OPTIONAL[kind]) for kind in ("hedge", "between", "qualifier", "currency")]
    parts += [draw(NUMBERS) + draw(SCALES), draw(OPTIONAL["currency"])]
    if draw(st.booleans()):
        parts += [draw(JOINTS), draw(NUMBERS) + draw(SCALES), draw(OPTIONAL["currency"])]
        parts += [draw(OPTIONAL["between-after"])]
    parts += [draw(OPTIONAL["qualifier"]), draw(OPTIONAL["currency"])]
    return draw(st.sampled_from(["", " "])).join(part for part in parts if part)


@settings(max_examples=600)
@given(phrase_shaped(), st.sampled_from([None, "CNY"]))
def test_any_phrase_shaped_text_is_read_as_what_it_prints_or_refused_with_figure_error(phrase, default):
    try:
        figure = parse_figure(phrase, default)
    except FigureError as error:
        assert "\n" not in str(error) and str(error).startswith("cannot read amount ")
        return
    assert figure.text == phrase.strip()
    assert parse_figure(format_figure(figure)).same_claim(figure)


def reading(phrase: str, default: str | None) -> Figure | str:
    """What parse_figure gives, or the message it refuses with."""
    try:
        return parse_figure(phrase, default)
    except FigureError as error:
        return str(error)


def reading_its_own_words(phrase: str, default: str | None) -> Figure | str:
    """The same, reading the phrase's own tokens instead of the recipe of its shape."""
    try:
        return _read(phrase.strip(), fold(phrase.strip()), default)
    except FigureError as error:
        return str(error)


@settings(max_examples=600)
@given(phrase_shaped(), st.lists(st.sampled_from("0123456789"), min_size=12, max_size=12), st.sampled_from([None, "CNY"]))
def test_phrases_of_one_shape_are_read_as_their_own_words_say(phrase, digits, default):
    """The recipe of a shape ("up to $00B") is made from the first phrase of that shape that is
    read; any other phrase of the shape must be read as its own words say: the same figure, or
    the same refusal (a range whose low is not below its high, an amount too precise to keep)."""
    spare = iter(digits * 4)
    other = "".join(next(spare) if char.isdigit() and char.isascii() else char for char in phrase)
    reading(phrase, default)  # the shape's recipe, from the first phrase
    for text in (other, phrase):
        assert reading(text, default) == reading_its_own_words(text, default)


@pytest.mark.parametrize(
    ("first", "then", "refused"),
    [
        ("$10-20B", "$30-20B", "cannot read amount '$30-20B': a range's low (30000000000) must be below its high (20000000000)"),
        ("$1234567890.1234567", "$4280387012.5279348", "cannot read amount '$4280387012.5279348': "
         "4280387012.5279348 has too many digits to keep exactly with a fraction (15 significant digits always fit)"),
        ("100-200亿元", "300-200亿元", "cannot read amount '300-200亿元': a range's low (30000000000) must be below its high (20000000000)"),
    ],
)
def test_a_value_the_shape_allows_but_the_phrase_does_not_is_refused_in_the_phrase_s_words(first, then, refused):
    parse_figure(first, "CNY")
    assert reading(then, "CNY") == reading_its_own_words(then, "CNY") == refused


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
FORMS = st.fixed_dictionaries(
    {},
    optional={
        "currency": st.sampled_from(["USD", "usd", "", None, 1]) | JSON,
        "qualifier": st.sampled_from([q.value for q in Qualifier]) | JSON,
        "low": JSON | st.decimals(),
        "high": JSON | st.decimals(),
        "text": JSON,
        "extra": JSON,
    },
)


@settings(max_examples=300)
@given(st.one_of(FORMS, JSON), st.sampled_from([None, "USD", "xx"]))
def test_any_json_value_is_read_or_refused_with_figure_error(value, default):
    try:
        read_figure(value, default)
    except FigureError as error:
        assert "\n" not in str(error)


@settings(max_examples=500)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F)) | st.text(alphabet=" \t\n\u3000\u00a0\uff10\uff04ab1$億萬元〜"))
def test_folding_leaves_nothing_else_to_fold(text: str) -> None:
    """`fold` skips plain ASCII with single spaces: what it gives is what folding it all gives."""
    from events.numerals import _FOLDED, _SPACES

    assert fold(text) == _SPACES.sub(" ", text.translate(_FOLDED))
    assert fold(fold(text)) == fold(text)
