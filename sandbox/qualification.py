"""The sandbox's own parser for AR System qualifications (the `q=` parameter) [reference 3].

Syntax, from BMC's "Formatting conventions for fields in qualifications" and "Operators":

    'Field Name' or '1000000161'   field by name or id; a single quote inside is doubled
    "text"                         a value; a double quote inside is doubled; no backslash escapes
    42, -7, 2.5                    numbers
    $NULL$ $USER$ $TIMESTAMP$ $DATE$
    = != <> < > <= >= LIKE         comparisons
    AND && OR || NOT ! ( )         logic; NOT binds tightest, then AND, then OR

It is deliberately written apart from the connector's renderer, so that a quoting bug in one is
not silently shared by the other. The result is a small tree; `sandbox.query` turns it
into SQL. Errors carry a 1-based position.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

KEYWORDS = frozenset({"NULL", "USER", "TIMESTAMP", "DATE"})
COMPARISONS = ("<=", ">=", "!=", "<>", "=", "<", ">")
MAX_DEPTH = 100


class QualificationError(ValueError):
    """The qualification text is malformed; `position` is 1-based."""

    def __init__(self, position: int, problem: str) -> None:
        super().__init__(f"position {position}: {problem}")
        self.position = position
        self.problem = problem


@dataclass(frozen=True)
class Field:
    name: str
    position: int


@dataclass(frozen=True)
class Value:
    value: str | int | float
    position: int


@dataclass(frozen=True)
class Keyword:
    name: str  # NULL, USER, TIMESTAMP or DATE
    position: int


Operand = Field | Value | Keyword


@dataclass(frozen=True)
class Compare:
    left: Operand
    op: str  # one of COMPARISONS, or LIKE
    right: Operand
    position: int


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Compare | And | Or | Not


# -- quoting (the writing side, for tests and links) -----------------------------------------------
def quote_field(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def quote_value(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


# -- tokens ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str  # field, string, number, keyword, op, word, lparen, rparen, end
    text: str
    position: int
    value: str | int | float | None = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "'\"":
            token, i = _quoted(text, i)
            tokens.append(token)
        elif ch.isdigit() or (ch in "-+." and _starts_number(text, i)):
            token, i = _number(text, i)
            tokens.append(token)
        elif ch == "$":
            token, i = _keyword(text, i)
            tokens.append(token)
        elif ch in "()":
            tokens.append(Token("lparen" if ch == "(" else "rparen", ch, i + 1))
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("word", text[i:j], i + 1))
            i = j
        else:
            token, i = _operator(text, i)
            tokens.append(token)
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _quoted(text: str, start: int) -> tuple[Token, int]:
    """A quoted field name or value; the quote character doubled stands for itself."""
    quote = text[start]
    out, i = [], start + 1
    while i < len(text):
        if text[i] == quote:
            if i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            kind = "field" if quote == "'" else "string"
            return Token(kind, text[start : i + 1], start + 1, "".join(out)), i + 1
        out.append(text[i])
        i += 1
    what = "field name" if quote == "'" else "value"
    raise QualificationError(start + 1, f"unterminated {what}: missing closing {quote}")


def _starts_number(text: str, i: int) -> bool:
    rest = text[i + 1 : i + 3]
    return bool(rest) and (rest[0].isdigit() or (rest[0] == "." and rest[1:2].isdigit()))


def _number(text: str, start: int) -> tuple[Token, int]:
    i = start + 1
    while i < len(text) and (text[i].isdigit() or text[i] == "."):
        i += 1
    raw = text[start:i]
    try:
        value: int | float = int(raw) if "." not in raw else float(raw)
    except ValueError:
        raise QualificationError(start + 1, f"malformed number {raw!r}") from None
    return Token("number", raw, start + 1, value), i


def _keyword(text: str, start: int) -> tuple[Token, int]:
    end = text.find("$", start + 1)
    name = text[start + 1 : end].upper() if end > 0 else ""
    if end < 0 or name not in KEYWORDS:
        shown = text[start : end + 1] if end > 0 else text[start : start + 12]
        raise QualificationError(
            start + 1,
            f"unknown keyword {shown!r}; the sandbox knows $NULL$, $USER$, $TIMESTAMP$ and $DATE$",
        )
    return Token("keyword", text[start : end + 1], start + 1, name), end + 1


def _operator(text: str, start: int) -> tuple[Token, int]:
    for op in ("&&", "||", *COMPARISONS, "!"):
        if text.startswith(op, start):
            return Token("op", op, start + 1), start + len(op)
    raise QualificationError(start + 1, f"unexpected character {text[start]!r}")


# -- parser ----------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, *words: str) -> bool:
        token = self.peek()
        if token.kind == "word":
            return token.text.upper() in words
        return token.kind == "op" and token.text in words

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise QualificationError(1, "the qualification is empty")
        node = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            found = f"unexpected {token.text!r}; expected AND or OR"
            raise QualificationError(token.position, found)
        return node

    def disjunction(self) -> Node:
        parts = [self.conjunction()]
        while self.at("OR", "||"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conjunction(self) -> Node:
        parts = [self.negation()]
        while self.at("AND", "&&"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def negation(self) -> Node:
        if self.at("NOT", "!"):
            self.take()
            return Not(self.nested(self.negation))
        if self.peek().kind == "lparen":
            opening = self.take()
            node = self.nested(self.disjunction)
            if self.peek().kind != "rparen":
                token = self.peek()
                raise QualificationError(
                    token.position, f"expected ')' to close '(' at position {opening.position}"
                )
            self.take()
            return node
        return self.comparison()

    def nested(self, parse: Callable[[], Node]) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            opening = self.tokens[self.i - 1]
            raise QualificationError(opening.position, "the qualification is nested too deeply")
        try:
            return parse()
        finally:
            self.depth -= 1

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token.kind == "op" and token.text in COMPARISONS:
            op = self.take().text
        elif self.at("LIKE"):
            self.take()
            op = "LIKE"
        else:
            shown = token.text or "the end"
            raise QualificationError(token.position, f"expected an operator, found {shown!r}")
        right = self.operand()
        return Compare(left, "!=" if op == "<>" else op, right, token.position)

    def operand(self) -> Operand:
        token = self.take()
        if token.kind == "field":
            return Field(str(token.value), token.position)
        if token.kind in ("string", "number"):
            return Value(token.value, token.position)  # type: ignore[arg-type]
        if token.kind == "keyword":
            return Keyword(str(token.value), token.position)
        shown = token.text or "the end"
        hint = " (field names need single quotes)" if token.kind == "word" else ""
        raise QualificationError(
            token.position, f"expected a field, a value or a keyword, found {shown!r}{hint}"
        )


def parse(text: str) -> Node:
    """The tree of a qualification; QualificationError naming the position when malformed."""
    return _Parser(text).parse()
