"""The report's prose: lists of names, plurals, windows, and the summary's sentences.

Every function here returns text (``str``, escaped where it is placed) or
:class:`~trends.reporting.html.Markup` built with the escaping helpers, so a region
name is never markup. The verdict words themselves come from :mod:`trends.verdicts`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from .. import verdicts
from ..plot import reasons_text
from .analysis import Results
from .formats import fmt_num, fmt_pct
from .html import Markup, join, tag

__all__ = [
    "PERIOD_WORD",
    "MAX_NAMES",
    "names",
    "plural",
    "window_text",
    "level_pct",
    "sentence",
    "reason_kind",
    "tally",
    "split_reasons",
    "comparison_words",
    "trend_words",
    "withheld_words",
    "coverage_words",
    "false_alarms_text",
    "alarm_tally",
    "alarm_summary",
    "alarm_choice_words",
    "alarm_words",
]

PERIOD_WORD = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
RISE = {verdicts.INCREASE, verdicts.RISING}
FALL = {verdicts.DECREASE, verdicts.FALLING}
MAX_NAMES = 8  # regions named in one sentence before "and N more"
#: Words that withhold a verdict, in the order the summary tells them, with the
#: phrase it uses ("withheld for thin coverage in 3 regions").
WITHHELD_PHRASES = {
    verdicts.INCONCLUSIVE: "withheld for thin coverage",
    verdicts.NOT_ESTIMABLE: "not estimable",
    verdicts.TOO_SHORT: "too short to call",
    verdicts.NOT_COVERED: "not covered",
}


def names(items: Iterable[Any], limit: int = MAX_NAMES) -> Markup:
    """``['A', 'B', 'C']`` -> ``A, B and C``, at most ``limit`` named (text escaped)."""
    items = list(items)
    if len(items) > limit:
        items = items[:limit] + [f"{len(items) - limit:,} more"]
    if len(items) <= 1:
        return join(items)
    return join(items[:-1], ", ") + " and " + items[-1]


def plural(n: int, word: str, many: str | None = None) -> str:
    """``3 regions``, ``1 region`` (thousands separated)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def window_text(window: Sequence[str]) -> str:
    """``('2019-01', '2019-12')`` -> ``2019-01 to 2019-12``; one period stays one."""
    first, last = window
    return str(first) if first == last else f"{first} to {last}"


def level_pct(res: Results) -> str:
    """The confidence level as a percentage: ``95%``."""
    return f"{100 * float(res.options.get('level', 0.95)):g}%"


def sentence(text: Any) -> Markup:
    """``text`` with its first letter capitalised and a full stop (markup kept)."""
    text = join([text])
    if not text:
        return text
    return Markup(text[0].upper()) + text[1:] + ("" if text.endswith(".") else ".")


def _ratio_phrase(row: pd.Series, level: str) -> str:
    return (
        f"{row['region']} (rate ratio {fmt_num(row['rate_ratio'])}, {level} CI "
        f"{fmt_num(row['rr_low'])}–{fmt_num(row['rr_high'])})"
    )


def _apc_phrase(row: pd.Series, level: str) -> str:
    return (
        f"{row['region']} ({fmt_pct(row['apc'], signed=True)} a year, {level} CI "
        f"{fmt_pct(row['apc_low'], signed=True)} to {fmt_pct(row['apc_high'], signed=True)})"
    )


def _judged_tail(said: pd.Series, neutral: str, neutral_words: str) -> Markup:
    """The sentence after the rises and falls: no change, withheld, not covered."""
    rest = []
    flat = int((said == neutral).sum())
    if flat:
        rest.append(f"{neutral_words} in {plural(flat, 'region')}")
    for word, phrase in WITHHELD_PHRASES.items():
        n = int((said == word).sum())
        if n:
            rest.append(f"{phrase} in {plural(n, 'region')}")
    return sentence("; ".join(rest)) if rest else Markup("")


#: How the summary says a rise and a fall: (up, down after a rise, down alone).
_DIRECTION_WORDS = {
    "change": ("events rose significantly", "They fell significantly", "events fell significantly"),
    "trend": ("rising", "Falling", "falling"),
}


def _directional(frame: pd.DataFrame, kind: str, estimate: str, level: str, phrase) -> list:
    """Sentences naming the regions that rose and fell."""
    up_word, down_word, _ = verdicts.words(kind)
    said = frame["verdict"].astype(str)
    n = len(frame)
    up = frame[said == up_word].sort_values(estimate, ascending=False)
    down = frame[said == down_word].sort_values(estimate)
    rose, fell_after, fell = _DIRECTION_WORDS[kind]
    parts = []
    for rows, verb in ((up, rose), (down, fell_after if len(up) else fell)):
        if len(rows):
            listed = names(phrase(r, level) for _, r in rows.iterrows())
            parts.append(
                Markup("{} in {} of {} regions: {}.").format(
                    verb, f"{len(rows):,}", f"{n:,}", listed
                )
            )
    return parts


def comparison_words(cmp: pd.DataFrame, res: Results) -> Markup:
    """The comparison in sentences: which regions rose or fell, the rest tallied."""
    before, after = window_text(res.options["before"]), window_text(res.options["after"])
    level = level_pct(res)
    parts = [tag("strong", f"{after} against {before}:")]
    parts += _directional(cmp, "change", "rate_ratio", level, _ratio_phrase)
    if len(parts) == 1:
        parts.append(f"no significant rise or fall in any of the {len(cmp):,} regions.")
    parts.append(
        _judged_tail(cmp["verdict"].astype(str), verdicts.NO_CHANGE, "no significant change")
    )
    return join((p for p in parts if p), " ")


def trend_words(tr: pd.DataFrame, res: Results) -> Markup:
    """The trend test in sentences."""
    word = PERIOD_WORD[res.period]
    level = level_pct(res)
    parts = [tag("strong", "Trend over the whole series"), f" (events per {word}):"]
    body = _directional(tr, "trend", "apc", level, _apc_phrase)
    if not body:
        body = [f"no significant trend in any of the {len(tr):,} regions."]
    tail = _judged_tail(tr["verdict"].astype(str), verdicts.STABLE, "stable")
    return join(parts) + " " + join((p for p in (*body, tail) if p), " ")


_COMPARATOR = re.compile(r",\s*(fewer than|above|below|at least|at most|more than)\b")


def reason_kind(reason: str) -> str:
    """The rule behind a coverage reason or note, without its numbers, to tally them.

    ``'before: 5.1 effective events (dispersion 4.67), fewer than 10'`` ->
    ``'fewer than 10 effective events'``; ``'after: unreliable: 3 events, fewer than
    20'`` -> ``'unreliable: fewer than 20 events'``.
    """
    text = re.sub(r"^(before|after|baseline):\s*", "", reason.strip())
    stretch = re.match(
        r"^(second half against the first|against the (?:previous|next) segment"
        r"|within the segment)(?:, from [^:]+)?:\s*",
        text,
    )
    if stretch:  # where the rule fired, after what fired
        return f"{reason_kind(text[stretch.end() :])} ({stretch.group(1)})"
    text = re.sub(r"\s*\([^)]*\)", "", text)
    label = re.match(r"^([a-z ]+):\s+(?=.*,\s*(fewer|above|below|at least|at most|more))", text)
    prefix = f"{label.group(1)}: " if label else ""
    text = text[label.end() :] if label else text
    match = _COMPARATOR.search(text)
    if match:
        subject = re.sub(r"(?<![\w])[\d.,]+%?(?![\w])", "", text[: match.start()]).strip()
        limit = text[match.start() + 1 :].strip()
        if limit.startswith("fewer than") and re.search(r"\bevents?$", subject):
            subject = re.sub(r"\bevent$", "events", subject)
            return f"{prefix}{limit} {subject}"  # 'fewer than 20 events'
        return f"{prefix}{subject} {limit}".strip()
    if re.match(r"^1 distinct (source|outlet)", text):
        return "a single source"
    text = re.sub(r"^[\d.]+% of ", "most ", text)
    text = re.sub(r"^[\d,]+ of [\d,]+ ", "", text)
    return prefix + re.sub(r":.*$", "", text).strip()


def split_reasons(value: Any) -> list[str]:
    """A ``coverage_reasons`` or ``notes`` value as a list of reasons."""
    return [r.strip() for r in reasons_text(value).split("; ") if r.strip()]


def tally(values: Iterable[Any], top: int = 4) -> list[tuple[str, int]]:
    """The commonest kinds of reason (:func:`reason_kind`) among rows, most first."""
    kinds: dict[str, int] = {}
    for value in values:
        for kind in dict.fromkeys(reason_kind(r) for r in split_reasons(value)):
            if kind:
                kinds[kind] = kinds.get(kind, 0) + 1
    return sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


def _reasons_sentence(frame: pd.DataFrame, column: str) -> str:
    if column not in frame.columns:
        return ""
    found = tally(frame[column])
    if not found:
        return ""
    listed = "; ".join(f"{k} ({plural(v, 'region')})" for k, v in found)
    return f" Commonest reasons: {listed}."


def _withheld_one(what: str, frame: pd.DataFrame) -> list[Markup]:
    said = frame["verdict"].astype(str)
    parts = []
    held = frame[said == verdicts.INCONCLUSIVE]
    if len(held):
        parts.append(
            Markup("{} in {} ({}): the estimates are shown, but the reporting is too thin "
                   "to call a change.{}").format(
                tag("strong", f"The {what} is withheld for thin coverage"),
                plural(len(held), "region"),
                names(held["region"].astype(str)),
                _reasons_sentence(held, "coverage_reasons"),
            )
        )  # fmt: skip
    for word in (verdicts.NOT_ESTIMABLE, verdicts.TOO_SHORT):
        rows = frame[said == word]
        if len(rows):
            parts.append(
                Markup("{} in {} ({}).{}").format(
                    tag("strong", f"The {what} is {word}"),
                    plural(len(rows), "region"),
                    names(rows["region"].astype(str)),
                    _reasons_sentence(rows, "notes"),
                )
            )
    uncovered = frame[said == verdicts.NOT_COVERED]
    if len(uncovered):
        parts.append(
            Markup("{} in {}: the source does not cover the periods needed.").format(
                tag("strong", f"No {what} is possible"), names(uncovered["region"].astype(str))
            )
        )
    return parts


def withheld_words(res: Results) -> Markup:
    """Which verdicts are withheld or impossible, and why, tallied by rule."""
    parts: list[Markup] = []
    for what, frame in (("comparison", res.comparison), ("trend", res.trend)):
        if frame is not None and len(frame):
            parts += _withheld_one(what, frame)
    return join(parts, " ")


def coverage_words(res: Results) -> Markup:
    """How many cells are adequate, thin, ...; the outlet behind most events."""
    cov = res.coverage
    word = PERIOD_WORD[res.period]
    n = len(cov)
    counts = cov["status"].astype(str).value_counts()
    parts = []
    for status in ("adequate", "thin", "insufficient", "uncovered"):
        k = int(counts.get(status, 0))
        if k:
            parts.append(f"{k:,} ({fmt_pct(100 * k / n)}) {status}")
    text = tag("strong", "Coverage:") + f" of {n:,} region-{word}s, " + ", ".join(parts) + "."
    if len(res.sources) and res.sources["share"].notna().any():
        top = res.sources.iloc[0]
        share = float(top["share"])
        text += (
            f" The outlet named most often, {top['source']}, is behind "
            f"{fmt_pct(100 * share)} of the events that name a source"
        )
        text += (
            ": a change in its reporting would look like a change in events."
            if share >= 0.5
            else "."
        )
    return text


# ----------------------------------------------------------------------------- alarms


def false_alarms_text(attrs: Mapping[str, Any]) -> str:
    """What an alarm scan raises by chance, from the attrs of :func:`trends.alarms`: the
    false alarms to expect a year across the regions monitored (regions x periods a
    year x the per-period level), or, with ``fdr``, the share of false alarms among
    those raised (Benjamini and Hochberg 1995)."""
    period = PERIOD_WORD.get(str(attrs.get("period")), "period")
    fdr = attrs.get("fdr")
    if fdr is not None:
        return (
            f"with fdr={fdr:g}, at most about {100 * fdr:g}% of the alarms raised are "
            f"expected to be false (Benjamini–Hochberg over every region and {period} "
            "reported)"
        )
    level = attrs.get("false_alarm_level")
    if level is None or not math.isfinite(float(level)):
        return (
            f"{attrs.get('method', 'the method')} has no per-period false-alarm level, so "
            "how many false alarms it raises when nothing changes is not set in advance"
        )
    n = int(attrs.get("n_regions", 0))
    per_year = float(attrs.get("periods_per_year", 0.0))
    expected = float(attrs.get("expected_false_alarms_per_year", n * per_year * level))
    return (
        f"at a nominal false-alarm level of {level:g} per region and {period}, the "
        f"{plural(n, 'region')} monitored give about {fmt_num(expected)} false alarms a "
        f"year when nothing changes ({n:,} × {per_year:.4g} {period}"
        f"{'' if per_year == 1 else 's'} × {level:g}); more where counts are more "
        "overdispersed or autocorrelated than the method assumes"
    )


def alarm_tally(table: pd.DataFrame) -> tuple[int, str, int]:
    """What an alarm table found: the periods judged (a method's result, whatever the
    coverage), the unusual ones in words (``"18 unusually high"``, with the low ones
    when there are any) and the alarms withheld for thin coverage."""
    said = table["verdict"].astype(str)
    judged = ~said.isin({verdicts.TOO_SHORT, verdicts.NOT_COVERED, verdicts.NOT_ESTIMABLE})
    high, low, _ = verdicts.words("alarm")
    counts = {word: int((said == word).sum()) for word in (high, low)}
    unusual = ", ".join(f"{n:,} {word}" for word, n in counts.items() if n or word == high)
    withheld = table["alarm"].fillna(False).astype(bool) & (said == verdicts.INCONCLUSIVE)
    return int(judged.sum()), unusual, int(withheld.sum())


def alarm_summary(table: pd.DataFrame) -> str:
    """One line on an alarm table, for the command line: what was judged, what was
    unusual, what was withheld, and the false alarms to expect."""
    attrs = table.attrs
    judged, unusual, withheld = alarm_tally(table)
    period = PERIOD_WORD.get(str(attrs.get("period")), "period")
    held = f" ({withheld:,} more alarms withheld: thin coverage)" if withheld else ""
    return (
        f"alarms ({attrs.get('method', '?')}): {unusual} of "
        f"{plural(judged, f'region-{period}')} judged{held}; {false_alarms_text(attrs)}"
    )


def alarm_choice_words(meta: Mapping[str, Any], period: str, n_periods: int) -> str:
    """Why the report uses its alarm method: the one asked for, or the default and why
    (:func:`trends.alarm.default_method`)."""
    method = meta.get("method", "?")
    if meta.get("chosen") == "given":
        return f"the method asked for, {method}"
    if method == "noufaily":
        return "the default, Noufaily's improved Farrington method"
    why = (
        "years have no season, and Farrington's baseline is the same season of the past three years"
        if period == "year"
        else f"the series ({plural(n_periods, PERIOD_WORD[period])}) are no longer than the "
        "three years Farrington's baseline needs before the first period it can judge"
    )
    return f"the Bayes method, since {why}"


def _alarm_phrase(row: pd.Series) -> str:
    return (
        f"{row['region']} ({fmt_num(row['observed'])} events, expected {fmt_num(row['expected'])})"
    )


def alarm_words(label: str, latest: pd.DataFrame, res: Results) -> Markup:
    """The latest period's alarms in sentences, for the summary."""
    method = res.options.get("alarms", {}).get("method", "?")
    parts: list[Any] = [tag("strong", f"Unusual periods, {label}"), f" ({method}):"]
    said = latest["verdict"].astype(str)
    n = len(latest)
    for word in verdicts.words("alarm")[:2]:
        rows = latest[said == word].sort_values("score", ascending=False)
        if len(rows):
            listed = names(_alarm_phrase(r) for _, r in rows.iterrows())
            parts.append(
                Markup(" {} in {} of {} regions: {}.").format(
                    word, f"{len(rows):,}", f"{n:,}", listed
                )
            )
    if len(parts) == 2:
        parts.append(f" no region's count was unusual ({plural(n, 'region')} monitored).")
    tail = _judged_tail(said, verdicts.NOT_UNUSUAL, "not unusual")
    return join([*parts, " ", tail]) if tail else join(parts)
