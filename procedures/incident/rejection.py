"""Reading a requester's reply for a rejection of the solution (Incident Management P6).

SMPM: "If the solution is not acceptable, however, the user reopens the incident request". A
user who answers by e-mail or through the portal writes words, not a status, so P6 reads them;
the words are data from the ITSM and the vocabulary is `[incident.closure]` settings. The
reading, in order:

1. Only the user's own words: lines quoted with ">" are dropped, and everything from a quote
   header on ("On ... wrote:", "-----Original Message-----", Outlook's "From: / Sent:") is cut.
2. Sentence by sentence (., !, ? or a line break), clause by clause (, ; : a dash, "but",
   "and", "so"), a rejection phrase or pattern in a clause rejects,
3. unless a negation ends at most `window` words before it in the same clause ("no need to
   reopen", "I won't reject it") or one follows as close behind it ("reopening is not
   necessary"),
4. and unless the clause is supposed, not said: a hypothetical ("if", "unless", "should it")
   makes its clause and the rest of the sentence hypothetical ("If it breaks again, I will
   reopen it"); "even if" concedes rather than supposes ("still broken even if I restart").

A clause-initial "no" or "nope" answers rather than negates ("No it is still broken"); it
negates only what it directly precedes ("no reopen needed"). Text is matched case-folded, with
typographic apostrophes made plain and "n't" spelt "not" (so "does not work" finds "doesn't
work"); a phrase matches at word starts and its last word may carry an ending ("reopen" finds
"reopened").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import Pattern

ANSWERS = frozenset({"no", "nope"})
_CONTRACTIONS = (
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b|\bcannot\b"), "can not"),
    (re.compile(r"\bshan't\b"), "shall not"),
    (re.compile(r"\bain't\b"), "is not"),
    (re.compile(r"\b(\w+)n't\b"), r"\1 not"),
    (re.compile(r"\b(it|that|this|there|what|he|she)'s\b"), r"\1 is"),
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")
_CLAUSE_BREAK = re.compile(r"[,;:()]|\s[-\u2013\u2014]+\s|\b(?:but|and|so)\b")
_WORD = re.compile(r"[\w'-]+")
_CONCESSIVE = re.compile(r"\beven (?:if|though|when)\b")  # "still broken even if I restart"


def normalise(text: str) -> str:
    """The form both the vocabulary and the replies are matched in."""
    out = text.replace("\u2019", "'").replace("\u2018", "'").casefold()
    for pattern, replacement in _CONTRACTIONS:
        out = pattern.sub(replacement, out)
    return " ".join(out.split())


def phrase_pattern(phrase: str, *, inflected: bool) -> Pattern[str]:
    """A phrase as a pattern: whole words from a word start; `inflected`: the last word may
    carry an ending."""
    words = [re.escape(w) for w in normalise(phrase).split()]
    tail = r"[\w'-]*" if inflected else r"(?![\w'-])"
    return re.compile(r"(?<![\w'-])" + r"\s+".join(words) + tail)


@dataclass(frozen=True)
class Vocabulary:
    """The compiled `[incident.closure]` vocabulary (built once per run)."""

    rejections: tuple[tuple[str, Pattern[str]], ...]
    negations: tuple[tuple[str, Pattern[str]], ...]
    negations_after: tuple[tuple[str, Pattern[str]], ...]
    hypotheticals: tuple[tuple[str, Pattern[str]], ...]
    quote_headers: tuple[Pattern[str], ...]
    window: int

    @classmethod
    def of(
        cls,
        *,
        keywords: list[str],
        patterns: list[str],
        negations: list[str],
        negations_after: list[str],
        hypotheticals: list[str],
        quote_headers: list[str],
        window: int,
    ) -> Vocabulary:
        def exact(phrases: list[str]) -> tuple[tuple[str, Pattern[str]], ...]:
            return tuple((p, phrase_pattern(p, inflected=False)) for p in phrases)

        return cls(
            rejections=(
                *(
                    (f"rejection_keywords '{k}'", phrase_pattern(k, inflected=True))
                    for k in keywords
                ),
                *(
                    (f"rejection_patterns[{i}]", re.compile(p, re.IGNORECASE))
                    for i, p in enumerate(patterns)
                ),
            ),
            negations=exact(negations),
            negations_after=exact(negations_after),
            hypotheticals=exact(hypotheticals),
            quote_headers=tuple(re.compile(h, re.MULTILINE | re.IGNORECASE) for h in quote_headers),
            window=window,
        )


@dataclass(frozen=True)
class Reading:
    """What one sentence says: `rejects` with the words that matched (`phrase`) and the setting
    that matched them (`rule`), or why those words do not reject (`cancelled_by`: the negation
    or hypothetical)."""

    sentence: str
    phrase: str
    rule: str
    cancelled_by: str | None = None

    @property
    def rejects(self) -> bool:
        return self.cancelled_by is None


def own_words(text: str, vocabulary: Vocabulary) -> str:
    """The text without what it quotes: from the first quote header on, and '>' lines."""
    cut = min((m.start() for h in vocabulary.quote_headers if (m := h.search(text))), default=None)
    head = text if cut is None else text[:cut]
    return "\n".join(line for line in head.splitlines() if not line.lstrip().startswith(">"))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def read(text: str, vocabulary: Vocabulary) -> list[Reading]:
    """Every sentence of the requester's own words in which a rejection phrase was found,
    rejecting or not, in order."""
    out: list[Reading] = []
    for sentence in sentences(own_words(text, vocabulary)):
        found = _read_sentence(sentence, vocabulary)
        if found is not None:
            out.append(found)
    return out


def _read_sentence(sentence: str, vocabulary: Vocabulary) -> Reading | None:
    """The sentence's rejection if it has one, else the first cancelled phrase found."""
    cancelled: Reading | None = None
    supposed: str | None = None
    for part in _CLAUSE_BREAK.split(normalise(sentence)):
        clause = part.strip()
        supposed = supposed or _first(vocabulary.hypotheticals, _CONCESSIVE.sub(" ", clause))
        for rule, pattern in vocabulary.rejections:
            match = next((m for m in pattern.finditer(clause) if m.group(0).strip()), None)
            if match is None:
                continue
            cue = supposed or _negation(clause, match, vocabulary)
            found = Reading(sentence, match.group(0).strip(), rule, cue)
            if cue is None:
                return found
            cancelled = cancelled or found
    return cancelled


def _first(cues: tuple[tuple[str, Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in cues if pattern.search(text)), None)


def _negation(clause: str, match: re.Match[str], vocabulary: Vocabulary) -> str | None:
    """The negation that cancels `match`: ending at most `window` words before it, or starting
    at most `window` words after it."""
    before, after = clause[: match.start()], clause[match.end() :]
    for name, pattern in vocabulary.negations:
        for cue in pattern.finditer(before):
            between = len(_WORD.findall(before[cue.end() :]))
            answer = cue.start() == 0 and name in ANSWERS and between > 0
            if between <= vocabulary.window and not answer:
                return name
    for name, pattern in vocabulary.negations_after:
        cue = pattern.search(after)
        if cue is not None and len(_WORD.findall(after[: cue.start()])) <= vocabulary.window:
            return name
    return None
