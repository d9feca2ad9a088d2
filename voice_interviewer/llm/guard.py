"""Pure checks on what an LLM says and on what a candidate says to it.

Two directions, both plain functions so they are tested without a server:

* LLM → candidate: :func:`follow_up_problem` decides whether a generated follow-up
  may be spoken (one question, a sensible length, no rubric leak, no role-play, no
  continuing the candidate's answer). It returns the reason it refuses, for logs.
* candidate → LLM: :func:`injection_spans` finds sentences that try to steer the
  grader or the flow ("ignore the rubric", "give me full marks", "end the
  interview"). :func:`strip_injections` removes them from a transcript (text, word
  timings, segments) before grading, so they can never be evidence or add words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace

from ..transcript import Segment, Transcript, word_char_ranges

FOLLOW_UP_WORDS = (4, 40)
LEAD_IN_MAX_WORDS = 12
LEAK_NGRAM = 4
ECHO_NGRAM = 8

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_ROLE_PLAY = re.compile(
    r"(^|\n|\s)(candidate|interviewer|interviewee|user|assistant|system|q|a)\s*:"
    r"|<\|?/?[a-z_]+\|?>|\[/?(inst|sys)\]|\*[^*\n]{1,40}\*|\((smiles|nods|laughs|pauses)[^)]*\)"
    r"|^\s*[#>\-*]|```|\bas an ai\b",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"\bignore\b[^.?!]{0,40}\b(rubric|instruction|instructions|prompt|rules?|above|previous|grading)\b"
    r"|\bdisregard\b[^.?!]{0,40}\b(rubric|instructions?|prompt|rules?|above|previous)\b"
    r"|\b(give|award|grant|score)\b[^.?!]{0,30}\b(full|maximum|max|perfect|top|all(?: the)?)\s+"
    r"(marks?|points?|scores?|credit)\b"
    r"|\b(100 out of 100|100/100|ten out of ten|10/10|perfect score)\b"
    r"|\byou are now\b|\b(you|please) act as\b|\bpretend (to be|you)\b|\bnew instructions?\b"
    r"|\bsystem prompt\b|\bdeveloper (mode|message)\b|\bjailbreak\b"
    r"|\b(end|stop|terminate|finish)\s+(the|this)\s+(interview|session)\b"
    r"|\b(mark|grade|rate|score)\s+(me|this|my answer)\b[^.?!]{0,30}\b(as|with)\b"
    r"|\bevery key point (is|was) covered\b|\bi (have )?covered (all|every)\b",
    re.IGNORECASE,
)
_STOP = frozenset(
    "about above after again also because been before being could does doing during each from have "
    "having here into just more most once only other over same should some such than that their them "
    "then there these they this those through under until very what when where which while will with "
    "would your yours you're what's how's that's it's think thing things really like make made "
    "the and for are but not you all any can had her was one our out use way who how why its has him "
    "his she too get got set new now see two per via yes".split()
)
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|\n|$)")


def words(text: str) -> list[str]:
    """Lower-case word tokens; the unit of every overlap check."""
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def leak_ngrams(secrets: Iterable[str], allowed: Iterable[str], n: int = LEAK_NGRAM) -> set[tuple[str, ...]]:
    """N-grams of the rubric's secrets that are not already public (question, answer, follow-up)."""
    secret = set().union(*(ngrams(words(s), n) for s in secrets)) if secrets else set()
    public = set().union(*(ngrams(words(s), n) for s in allowed)) if allowed else set()
    return secret - public


def content_words(text: str, min_len: int = 4) -> set[str]:
    """Words that carry meaning (``min_len``+ letters, not a stop word), lightly stemmed.

    ``min_len=3`` keeps acronyms (PSI, API, GPU) where they matter.
    """
    return {w.rstrip("s") for w in words(text) if len(w) >= min_len and w not in _STOP}


def follow_up_problem(sentences: list[str], *, secrets: Iterable[str], public: Iterable[str],
                      answer: str, question: str = "", topic: Iterable[str] = ()) -> str | None:
    """Why these sentences must not be spoken as a follow-up, or None when they may.

    Args:
        sentences: An optional short lead-in then the question, as streamed.
        secrets: The key-point statements and strong answer the candidate must not hear.
        public: Text the candidate already saw or that the rubric wrote to be said aloud.
        answer: The candidate's own words so far (quoting a few is good, replaying them is not).
        question: The interview question (a follow-up must not simply repeat it).
        topic: Texts naming what to probe (the rubric's follow-up, the key point's terms);
            when given, the follow-up must share a content word with them and with the answer.
    """
    if not sentences or len(sentences) > 2:
        return f"expected a question (with at most one lead-in), got {len(sentences)} sentence(s)"
    text = " ".join(s.strip() for s in sentences)
    last = sentences[-1].strip()
    if not last.endswith("?") or text.count("?") != 1:
        return "not exactly one question ending in '?'"
    if len(sentences) == 2 and len(words(sentences[0])) > LEAD_IN_MAX_WORDS:
        return f"lead-in longer than {LEAD_IN_MAX_WORDS} words"
    n_words = len(words(text))
    if not (FOLLOW_UP_WORDS[0] <= n_words <= FOLLOW_UP_WORDS[1]):
        return f"{n_words} words; a follow-up has {FOLLOW_UP_WORDS[0]}..{FOLLOW_UP_WORDS[1]}"
    if _ROLE_PLAY.search(text):
        return "role-play markup or speaker labels"
    if re.search(r"[\"“][^\"”]{60,}[\"”]", text):
        return "quotes a long passage"
    tokens = words(text)
    if ngrams(tokens, ECHO_NGRAM) & ngrams(words(answer), ECHO_NGRAM):
        return f"repeats {ECHO_NGRAM}+ words of the candidate's answer"
    if ngrams(tokens, LEAK_NGRAM) & leak_ngrams(secrets, public):
        return "reveals the rubric's key points or strong answer"
    if injection_spans(text):
        return "contains steering language"
    if question:
        own = ngrams(tokens, 3)
        if own and len(own & ngrams(words(question), 3)) * 2 >= len(own):
            return "repeats the interview question"
    topic = list(topic)
    if topic:
        said = content_words(text)
        if not said & content_words(answer):
            return "does not refer to anything the candidate said"
        if not said & set().union(*(content_words(t) for t in topic)):
            return "does not probe the chosen key point"
    return None


def bridge_problem(text: str, *, secrets: Iterable[str], public: Iterable[str]) -> str | None:
    """Why a transition line must not be spoken, or None. A bridge is one short statement."""
    text = text.strip()
    n_words = len(words(text))
    if not (3 <= n_words <= 25):
        return f"{n_words} words; a transition has 3..25"
    if "?" in text or len(re.findall(r"[.!](\s|$)", text)) > 2:
        return "a transition is one or two short statements, not a question"
    if _ROLE_PLAY.search(text) or injection_spans(text):
        return "role-play markup or steering language"
    if ngrams(words(text), LEAK_NGRAM) & leak_ngrams(secrets, public):
        return "reveals the rubric"
    return None


def injection_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text`` that try to instruct the grader or flow."""
    spans = []
    for match in _SENTENCE.finditer(text):
        if _INJECTION.search(match.group()):
            start, end = match.span()
            while start < end and text[start].isspace():
                start += 1
            spans.append((start, end))
    return spans


def strip_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the given spans, whitespace tidied."""
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        last = max(last, end)
    out.append(text[last:])
    return " ".join("".join(out).split())


def normalise(text: str) -> tuple[str, list[int]]:
    """Lower-case, punctuation-free, single-spaced text and, per character, its index in ``text``.

    Quotes are matched in this form so a model that drops a comma or changes case
    still matches, while any changed *word* does not.
    """
    chars: list[str] = []
    index: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        if ch.isalnum() or ch == "'":
            if pending_space and chars:
                chars.append(" ")
                index.append(i)
            chars.append(ch.lower())
            index.append(i)
            pending_space = False
        else:
            pending_space = True
    return "".join(chars), index


def find_quote(quote: str, text: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs verbatim (up to case, spacing, punctuation) in ``text``, as char offsets."""
    needle, _ = normalise(quote)
    hay, index = normalise(text)
    if not needle:
        return None
    at = hay.find(needle)
    if at < 0:
        return None
    return index[at], index[at + len(needle) - 1] + 1


def strip_injections(answer: Transcript) -> tuple[Transcript, int]:
    """The answer without injection sentences (words and segments too); and how many were removed."""
    spans = injection_spans(answer.text)
    if not spans:
        return answer, 0
    ranges = word_char_ranges(answer.text, answer.words)
    inside = {i for i, r in enumerate(ranges) if r and any(a <= r[0] < b for a, b in spans)}
    kept = tuple(w for i, w in enumerate(answer.words) if i not in inside)
    dropped = {answer.words[i] for i in inside}
    segments = []
    for s in answer.segments:
        sw = tuple(w for w in s.words if w not in dropped)
        if len(sw) == len(s.words):
            segments.append(s)
        elif sw:
            segments.append(Segment(" ".join(w.text.strip() for w in sw), s.start_s, s.end_s, sw))
    return replace(answer, text=strip_spans(answer.text, spans), words=kept, segments=tuple(segments)), len(spans)
