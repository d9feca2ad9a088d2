"""Rubric banks: load a YAML bank, validate every field, and expose typed questions.

A bank is the product's knowledge of one role (see ``docs/rubrics.md``). Validation
collects *every* problem with its file, line and field before raising, because an
author fixing a 40-question file wants the whole list at once, not one error per run.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from .errors import BankError, BankProblem, ConfigError

DIFFICULTIES = ("easy", "medium", "hard")
KINDS = ("technical", "behavioural")
STAR_PARTS = ("situation", "task", "action", "result")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
KEY_POINTS_RANGE = (3, 7)
FOLLOW_UPS_RANGE = (2, 4)
ANSWER_TIME_RANGE_S = (15, 900)


@dataclass(frozen=True)
class Misconception:
    """A common wrong version of a key point, and what an interviewer says back.

    Attributes:
        claim: The wrong belief, in one sentence.
        says: How candidates say it out loud (matching hints, like a key point's phrasings).
        correction: The right version, shown to the candidate when the claim is detected.
    """

    claim: str
    says: tuple[str, ...]
    correction: str


@dataclass(frozen=True)
class KeyPoint:
    """One thing a strong answer says.

    Attributes:
        id: Stable id, unique within its question.
        weight: Relative importance (> 0); content score is the weighted coverage.
        statement: One line: what a strong answer says.
        phrasings: Terms and phrasings a candidate may use for it (matching hints).
        tip: Actionable advice shown when the point is missed.
        misconceptions: Wrong versions of the point candidates state with confidence.
        explanations: Whole spoken sentences of a candidate who understands the point, in
            their own words (meaning only, never matched word for word): an abstract
            statement ("backed the decision with data") embeds far from how people tell it
            ("I pulled the incident counts for each team"), so these are what an answer in
            plain words is compared with.
    """

    id: str
    weight: float
    statement: str
    phrasings: tuple[str, ...]
    tip: str = ""
    misconceptions: tuple[Misconception, ...] = ()
    explanations: tuple[str, ...] = ()


@dataclass(frozen=True)
class FollowUp:
    """A follow-up question that probes one key point."""

    key_point: str
    text: str


@dataclass(frozen=True)
class Round:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Question:
    """One interview question with its rubric.

    Attributes:
        star: For behavioural questions, what each STAR part should contain.
        seed: Position in the role's most-asked list (1-based), or None.
        vocabulary: The bank's vocabulary (names and jargon of the role); the grader masks
            these to judge what an answer explains rather than what it names.
    """

    id: str
    round: str
    text: str
    difficulty: str
    answer_time_s: int
    kind: str
    key_points: tuple[KeyPoint, ...]
    follow_ups: tuple[FollowUp, ...]
    strong_answer: str
    star: dict[str, str] | None = None
    seed: int | None = None
    vocabulary: tuple[str, ...] = ()

    def key_point(self, key_point_id: str) -> KeyPoint:
        for kp in self.key_points:
            if kp.id == key_point_id:
                return kp
        raise KeyError(key_point_id)

    @property
    def is_behavioural(self) -> bool:
        return self.kind == "behavioural"


_R = TypeVar("_R")


def per_question(build: Callable[[Question], _R]) -> Callable[[Question], _R]:
    """Cache ``build(question)`` for each question object: what graders derive from rubric text
    (masked targets, term sets) is the same on every grade. Keyed by identity because a question
    holds dicts and is not hashable; the entry keeps the question alive, so an id is never reused."""
    cache: dict[int, tuple[Question, _R]] = {}

    @functools.wraps(build)
    def cached(question: Question) -> _R:
        hit = cache.get(id(question))
        if hit is not None and hit[0] is question:
            return hit[1]
        if len(cache) >= 1024:  # banks are loaded once; this only bounds tests that build many
            cache.clear()
        value = build(question)
        cache[id(question)] = (question, value)
        return value

    return cached


@dataclass(frozen=True)
class Bank:
    """All questions of one role, in file order."""

    role: str
    title: str
    rounds: tuple[Round, ...]
    questions: tuple[Question, ...]
    vocabulary: tuple[str, ...] = ()
    source: str = ""
    _by_id: dict[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_id.update({q.id: q for q in self.questions})

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            raise ConfigError(
                f"no question {question_id!r} in bank {self.role!r}; "
                f"run 'voice-interviewer bank list' to see the ids"
            ) from None

    def round(self, round_id: str) -> Round:
        for r in self.rounds:
            if r.id == round_id:
                return r
        raise ConfigError(
            f"no round {round_id!r} in bank {self.role!r}; rounds are: "
            + ", ".join(r.id for r in self.rounds)
        )

    def in_round(self, round_id: str) -> list[Question]:
        return [q for q in self.questions if q.round == round_id]


# ---------------------------------------------------------------------------
# Loading with line numbers
# ---------------------------------------------------------------------------


class _Collector:
    """Gathers problems while walking the YAML node tree."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[BankProblem] = []

    def add(self, node: yaml.Node | None, field_path: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else None
        self.problems.append(BankProblem(self.file, line, field_path, message))


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Key string -> (key node, value node) for a mapping node."""
    return {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


class _Reader:
    """Typed field access on YAML nodes that records a precise problem on any mismatch."""

    def __init__(self, out: _Collector):
        self.out = out

    def require_map(self, node: yaml.Node, path: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.out.add(node, path, f"expected a mapping, got {_kind(node)}")
            return None
        return _mapping(node)

    def check_keys(self, m: dict, node: yaml.Node, path: str, allowed: set[str]) -> None:
        seen: set[str] = set()
        for knode, _ in node.value:
            # YAML would silently keep only the last of two equal keys, losing the first.
            if isinstance(knode, yaml.ScalarNode):
                if knode.value in seen:
                    self.out.add(knode, f"{path}.{knode.value}", "duplicate field; the earlier value would be lost")
                seen.add(knode.value)
        for key, (knode, _) in m.items():
            if key not in allowed:
                self.out.add(knode, f"{path}.{key}", f"unknown field; allowed: {', '.join(sorted(allowed))}")

    def text(self, m: dict, node: yaml.Node, path: str, key: str, required: bool = True,
             min_len: int = 1, max_len: int = 4000) -> str | None:
        if key not in m:
            if required:
                self.out.add(node, f"{path}.{key}", "required field is missing")
            return None
        _, v = m[key]
        if not isinstance(v, yaml.ScalarNode) or v.tag not in ("tag:yaml.org,2002:str",):
            if isinstance(v, yaml.ScalarNode) and v.tag == "tag:yaml.org,2002:null":
                self.out.add(v, f"{path}.{key}", f"expected text, got an empty value ({v.value or 'nothing'})")
                return None
            if isinstance(v, yaml.ScalarNode) and v.value != "":
                return v.value.strip()  # numbers written as text are fine for free text
            self.out.add(v, f"{path}.{key}", f"expected text, got {_kind(v)}")
            return None
        value = v.value.strip()
        if not (min_len <= len(value) <= max_len):
            self.out.add(v, f"{path}.{key}", f"text length {len(value)} outside {min_len}..{max_len}")
            return None
        return value

    def ident(self, m: dict, node: yaml.Node, path: str, key: str = "id") -> str | None:
        value = self.text(m, node, path, key, max_len=64)
        if value is not None and not ID_PATTERN.match(value):
            self.out.add(m[key][1], f"{path}.{key}",
                         f"{value!r} is not a valid id: use lower-case letters, digits and '-'")
            return None
        return value

    def number(self, m: dict, node: yaml.Node, path: str, key: str, lo: float, hi: float,
               required: bool = True, integer: bool = False) -> float | None:
        if key not in m:
            if required:
                self.out.add(node, f"{path}.{key}", "required field is missing")
            return None
        _, v = m[key]
        try:
            value = float(v.value) if isinstance(v, yaml.ScalarNode) else None
        except ValueError:
            value = None
        if value is None or (integer and value != int(value)):
            self.out.add(v, f"{path}.{key}", f"expected {'a whole number' if integer else 'a number'}, "
                                             f"got {_describe(v)}")
            return None
        if not (lo <= value <= hi):
            self.out.add(v, f"{path}.{key}", f"{value:g} is outside the allowed range {lo:g}..{hi:g}")
            return None
        return value

    def choice(self, m: dict, node: yaml.Node, path: str, key: str, choices: tuple[str, ...],
               default: str | None = None) -> str | None:
        if key not in m and default is not None:
            return default
        value = self.text(m, node, path, key)
        if value is not None and value not in choices:
            self.out.add(m[key][1], f"{path}.{key}", f"{value!r} is not one of: {', '.join(choices)}")
            return None
        return value

    def seq(self, m: dict, node: yaml.Node, path: str, key: str, required: bool = True) -> list[yaml.Node]:
        if key not in m:
            if required:
                self.out.add(node, f"{path}.{key}", "required field is missing")
            return []
        _, v = m[key]
        if not isinstance(v, yaml.SequenceNode):
            self.out.add(v, f"{path}.{key}", f"expected a list, got {_kind(v)}")
            return []
        return list(v.value)

    def texts(self, m: dict, node: yaml.Node, path: str, key: str, required: bool = True,
              words: tuple[int, int] | None = None, write: str = "") -> tuple[str, ...]:
        """A list of non-empty texts; with ``words`` (lo, hi), each must have that many words,
        and the error says what to ``write`` instead."""
        items = []
        for i, item in enumerate(self.seq(m, node, path, key, required)):
            if not isinstance(item, yaml.ScalarNode) or not item.value.strip():
                self.out.add(item, f"{path}.{key}[{i}]", f"expected non-empty text, got {_describe(item)}")
                continue
            n = len(item.value.split())
            if words is not None and not words[0] <= n <= words[1]:
                self.out.add(item, f"{path}.{key}[{i}]", f"has {n} words; {write}, {words[0]}-{words[1]} words")
                continue
            items.append(item.value.strip())
        return tuple(items)


def _kind(node: yaml.Node) -> str:
    kinds: dict[type[yaml.Node], str] = {yaml.MappingNode: "a mapping", yaml.SequenceNode: "a list"}
    return kinds.get(type(node), "a scalar")


def _describe(node: yaml.Node) -> str:
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else _kind(node)


def _declared_id(node: yaml.Node) -> str | None:
    """The id a key point node names, valid or not (None if it names none)."""
    if isinstance(node, yaml.MappingNode):
        id_node = _mapping(node).get("id", (None, None))[1]
        if isinstance(id_node, yaml.ScalarNode) and id_node.value.strip():
            return id_node.value.strip()
    return None


MISCONCEPTION_SAYS_WORDS = (3, 40)
EXPLANATION_WORDS = (6, 40)


def _read_misconception(r: _Reader, node: yaml.Node, path: str) -> Misconception | None:
    m = r.require_map(node, path)
    if m is None:
        return None
    r.check_keys(m, node, path, {"claim", "says", "correction"})
    claim = r.text(m, node, path, "claim", min_len=10, max_len=300)
    # A two-word "says" would flag every answer that names the term; a paragraph matches nothing.
    says = r.texts(m, node, path, "says", words=MISCONCEPTION_SAYS_WORDS, write="write the wrong claim as said")
    if "says" in m and not says and isinstance(m["says"][1], yaml.SequenceNode) and not m["says"][1].value:
        r.out.add(m["says"][1], f"{path}.says", "list at least one way a candidate says the wrong claim")
    correction = r.text(m, node, path, "correction", min_len=20, max_len=400)
    if claim is None or correction is None or not says:
        return None
    return Misconception(claim, says, correction)


def _read_key_point(r: _Reader, node: yaml.Node, path: str) -> KeyPoint | None:
    m = r.require_map(node, path)
    if m is None:
        return None
    r.check_keys(m, node, path, {"id", "weight", "statement", "phrasings", "tip", "misconceptions", "explanations"})
    kp_id = r.ident(m, node, path)
    weight = r.number(m, node, path, "weight", 0.1, 10)
    statement = r.text(m, node, path, "statement", max_len=300)
    phrasings = r.texts(m, node, path, "phrasings")
    if "phrasings" in m and not phrasings:
        r.out.add(m["phrasings"][1], f"{path}.phrasings", "list at least one phrasing or term")
    tip = r.text(m, node, path, "tip", required=False, max_len=400) or ""
    misconceptions = tuple(
        mc for i, n in enumerate(r.seq(m, node, path, "misconceptions", required=False))
        if (mc := _read_misconception(r, n, f"{path}.misconceptions[{i}]")) is not None)
    # A short one is a phrasing (matched by its words); a paragraph embeds as a blur of ideas.
    explanations = r.texts(m, node, path, "explanations", required=False, words=EXPLANATION_WORDS,
                           write="write one spoken sentence that explains the point")
    if kp_id is None or weight is None or statement is None:
        return None
    return KeyPoint(kp_id, float(weight), statement, phrasings, tip, misconceptions, explanations)


def _read_question(r: _Reader, node: yaml.Node, path: str, round_ids: set[str],
                   vocabulary: tuple[str, ...] = ()) -> Question | None:
    m = r.require_map(node, path)
    if m is None:
        return None
    qid = r.ident(m, node, path)
    if qid:
        path = f"questions[{qid}]"
    r.check_keys(m, node, path, {"id", "round", "text", "difficulty", "answer_time_s", "kind",
                                 "key_points", "follow_ups", "strong_answer", "star", "seed"})
    round_id = r.text(m, node, path, "round")
    if round_id is not None and round_id not in round_ids:
        r.out.add(m["round"][1], f"{path}.round",
                  f"{round_id!r} is not a declared round; declared: {', '.join(sorted(round_ids))}")
        round_id = None
    text = r.text(m, node, path, "text", min_len=10, max_len=500)
    difficulty = r.choice(m, node, path, "difficulty", DIFFICULTIES)
    answer_time = r.number(m, node, path, "answer_time_s", *ANSWER_TIME_RANGE_S, integer=True)
    kind = r.choice(m, node, path, "kind", KINDS, default="technical")
    strong = r.text(m, node, path, "strong_answer", min_len=20)
    seed = r.number(m, node, path, "seed", 1, 1000, required=False, integer=True)

    kp_nodes = r.seq(m, node, path, "key_points")
    read = [(i, n, _read_key_point(r, n, f"{path}.key_points[{i}]")) for i, n in enumerate(kp_nodes)]
    key_points = [kp for _, _, kp in read if kp is not None]
    if "key_points" in m and not (KEY_POINTS_RANGE[0] <= len(kp_nodes) <= KEY_POINTS_RANGE[1]):
        r.out.add(m["key_points"][1], f"{path}.key_points",
                  f"has {len(kp_nodes)} key points; a question needs {KEY_POINTS_RANGE[0]} to {KEY_POINTS_RANGE[1]}")
    seen: set[str] = set()
    for i, kp_node, kp in read:
        if kp is None:
            continue
        if kp.id in seen:
            r.out.add(kp_node, f"{path}.key_points[{i}].id", f"duplicate key point id {kp.id!r}")
        seen.add(kp.id)
    # A key point with another problem (say, a bad weight) still declares its id, so a
    # follow-up probing it is not reported a second time as probing an unknown point.
    declared = seen | {d for n in kp_nodes if (d := _declared_id(n))}

    fu_nodes = r.seq(m, node, path, "follow_ups")
    follow_ups = []
    if "follow_ups" in m and not (FOLLOW_UPS_RANGE[0] <= len(fu_nodes) <= FOLLOW_UPS_RANGE[1]):
        r.out.add(m["follow_ups"][1], f"{path}.follow_ups",
                  f"has {len(fu_nodes)} follow-ups; a question needs {FOLLOW_UPS_RANGE[0]} to {FOLLOW_UPS_RANGE[1]}")
    for i, fnode in enumerate(fu_nodes):
        fpath = f"{path}.follow_ups[{i}]"
        fm = r.require_map(fnode, fpath)
        if fm is None:
            continue
        r.check_keys(fm, fnode, fpath, {"probes", "text"})
        probes = r.text(fm, fnode, fpath, "probes")
        ftext = r.text(fm, fnode, fpath, "text", min_len=10, max_len=400)
        if probes is not None and probes not in declared:
            r.out.add(fm["probes"][1], f"{fpath}.probes",
                      f"{probes!r} is not a key point of this question; key points: {', '.join(sorted(declared))}")
            continue
        if probes and ftext:
            follow_ups.append(FollowUp(probes, ftext))

    star = None
    if kind == "behavioural":
        if "star" not in m:
            r.out.add(node, f"{path}.star", "behavioural questions need STAR parts: " + ", ".join(STAR_PARTS))
        else:
            sm = r.require_map(m["star"][1], f"{path}.star")
            if sm is not None:
                r.check_keys(sm, m["star"][1], f"{path}.star", set(STAR_PARTS))
                star = {p: r.text(sm, m["star"][1], f"{path}.star", p, max_len=400) or "" for p in STAR_PARTS}
    elif "star" in m:
        r.out.add(m["star"][0], f"{path}.star", "STAR parts are only for kind: behavioural")

    if (qid is None or round_id is None or text is None or difficulty is None or answer_time is None
            or kind is None or strong is None):
        return None
    return Question(
        id=qid, round=round_id, text=text, difficulty=difficulty, answer_time_s=int(answer_time),
        kind=kind, key_points=tuple(key_points), follow_ups=tuple(follow_ups), strong_answer=strong,
        star=star, seed=int(seed) if seed is not None else None, vocabulary=vocabulary,
    )


def parse_bank(text: str, file: str = "<bank>") -> Bank:
    """Parse and validate bank YAML; raise :class:`BankError` listing every problem."""
    out = _Collector(file)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise BankError([BankProblem(file, line, "<yaml>",
                                     f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if root is None:
        raise BankError([BankProblem(file, 1, "<root>", "the file is empty")])
    r = _Reader(out)
    m = r.require_map(root, "<root>")
    if m is None:
        raise BankError(out.problems)
    r.check_keys(m, root, "<root>", {"role", "title", "description", "vocabulary", "rounds", "questions"})
    role = r.ident(m, root, "<root>", "role")
    title = r.text(m, root, "<root>", "title")
    vocabulary = r.texts(m, root, "<root>", "vocabulary", required=False)

    rounds: list[Round] = []
    declared_rounds: set[str] = set()  # valid ids, even of rounds with other problems
    for i, rnode in enumerate(r.seq(m, root, "<root>", "rounds")):
        path = f"rounds[{i}]"
        rm = r.require_map(rnode, path)
        if rm is None:
            continue
        r.check_keys(rm, rnode, path, {"id", "title", "description"})
        rid = r.ident(rm, rnode, path)
        rtitle = r.text(rm, rnode, path, "title")
        rdesc = r.text(rm, rnode, path, "description", required=False) or ""
        if rid and rid in declared_rounds:
            out.add(rnode, f"{path}.id", f"duplicate round id {rid!r}")
        elif rid and rtitle:
            rounds.append(Round(rid, rtitle, rdesc))
        if rid:
            declared_rounds.add(rid)
    round_ids = declared_rounds

    questions: list[Question] = []
    q_nodes = r.seq(m, root, "<root>", "questions")
    for i, qnode in enumerate(q_nodes):
        q = _read_question(r, qnode, f"questions[{i}]", round_ids, vocabulary)
        if q is None:
            continue
        if any(x.id == q.id for x in questions):
            out.add(qnode, f"questions[{q.id}].id", f"duplicate question id {q.id!r}")
            continue
        questions.append(q)
    if "questions" in m and not q_nodes:
        out.add(m["questions"][1], "questions", "a bank needs at least one question")

    if out.problems:
        raise BankError(out.problems)
    # Invariant: the readers record a problem whenever a required field comes back None.
    assert role is not None and title is not None
    return Bank(role=role, title=title, rounds=tuple(rounds), questions=tuple(questions),
                vocabulary=vocabulary, source=file)


def load_bank(path: str | Path) -> Bank:
    """Load and validate one bank file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BankError([BankProblem(str(path), None, "<file>", f"cannot read: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise BankError([BankProblem(str(path), None, "<file>", f"not UTF-8 text: {exc.reason}")]) from None
    return parse_bank(text, str(path))


def rubrics_dir() -> Path:
    """Where banks live: ``$VOICE_INTERVIEWER_RUBRICS`` or the project's ``rubrics/``."""
    env = os.environ.get("VOICE_INTERVIEWER_RUBRICS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "rubrics"


def available_banks(directory: Path | None = None) -> dict[str, Path]:
    """Role id -> bank file for every ``*.yaml`` in the rubrics directory (by file stem)."""
    directory = directory or rubrics_dir()
    return {p.stem: p for p in sorted(directory.glob("*.yaml"))}


def load_role(role: str, directory: Path | None = None) -> Bank:
    """Load the bank of ``role`` (its file stem), with a message listing the roles there are."""
    banks = available_banks(directory)
    if role not in banks:
        raise ConfigError(f"unknown role {role!r}; available: {', '.join(banks) or '(none)'} "
                          f"in {directory or rubrics_dir()}")
    return load_bank(banks[role])


DEFAULT_ROLE = "mlops-engineer"
