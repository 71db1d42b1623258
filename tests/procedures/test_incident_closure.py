"""Incident Management P6, Incident Request Closure: whose words after the resolution reopen.

SMPM: "After a user has received an incident request completion notification, he/she reviews
the solution information of his/her incident request. The user then tries to verify the
solution. If the user considers the solution acceptable, he/she does not need to take any
action. If the solution is not acceptable, however, the user reopens the incident request, thus
requesting a better solution."

So only the user's (the requester's) own words after the resolution can reopen: not the
assignee's, not a support analyst's, not the earlier message a reply quotes, not a sentence
that says the opposite ("no need to reopen") or only supposes ("if it breaks again").
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from connector.entities import IncidentRequest, RecordKind, WorkNote
from connector.enums import IncidentStatus, NoteType
from connector.errors import ConfigurationError
from connector.testing import FakeConnector, incident
from procedures.config import ProceduresConfig
from procedures.incident import closure
from procedures.plan import ActionKind, Plan
from procedures.registry import Context
from smpm.settings import load_settings
from tests.procedures.conftest import NOW

REQUESTER, ASSIGNEE, ANALYST = "Peter", "Allen", "Sam"
RESOLVED_AT = NOW - timedelta(days=6)  # past close_after_days: silence closes
CONFIG = closure.ClosureConfig(close_after_days=5)


def request() -> IncidentRequest:
    return incident(
        id="INC1",
        status=IncidentStatus.RESOLVED,
        resolved_at=RESOLVED_AT,
        customer=REQUESTER,
        assignee=ASSIGNEE,
        assigned_group="Service Desk",
    )


def said(
    text: str,
    author: str | None = REQUESTER,
    *,
    hours_after: float = 2,
    note_type: NoteType = NoteType.CUSTOMER_COMMUNICATION,
) -> WorkNote:
    return WorkNote(
        parent_kind=RecordKind.INCIDENT,
        parent_id="INC1",
        text=text,
        note_type=note_type,
        author=author,
        created_at=RESOLVED_AT + timedelta(hours=hours_after),
    )


def decided(*notes: WorkNote, config: closure.ClosureConfig = CONFIG) -> Plan:
    return closure.decide([(request(), list(notes))], config, NOW, "t")


def steps(plan: Plan) -> list[str]:
    return [a.step for a in plan.actions]


REOPEN, CLOSE = ["reopen", "reopen-note"], ["close"]

# -- the requester's own words --------------------------------------------------------------------
# "If the solution is not acceptable, however, the user reopens the incident request"
REJECTING = {
    "still-broken": "It is still broken after the reset.",
    "not-fixed-same-error": "Sorry, but this is not fixed: I get the same error when I log in.",
    "failed-again": "The export job failed again last night.",
    "please-reopen": "Please reopen the ticket, nothing has changed.",
    "i-reject": "I reject the solution. The report shows last month's figures.",
    "still-not-working": "Still not working.",
    "still-cannot": "Thanks for trying, but I still can't open the page.",
    "did-not-help": "Your fix didn't help, the printer is offline as before.",
    "same-error-keeps": "The same error keeps coming back every morning.",
    "no-comma-still-broken": "No, it is still broken.",
    "nope-same-problem": "Nope. Same problem as before.",
    "does-not-work-curly": "I tried again this morning and it doesn\u2019t work.",
    "not-resolved": "The problem is not resolved.",
    "dont-close": "Please don't close this, the VPN drops every ten minutes.",
    "upper-case": "STILL BROKEN!!!",
    "rejection-then-offer": "Still broken - let me know if you need logs.",
    "own-words-above-quote": (
        "Still broken, same message.\n\nOn Tue, 24 Nov 2026 at 09:12, Allen Allbrook "
        "<allen@calbroservices.com> wrote:\n> Your request has been resolved."
    ),
    "second-paragraph": "Hello,\n\nthanks for the quick answer.\n\nUnfortunately it's not fixed.",
    "even-if-concedes": "Still broken even if I restart.",
    "not-working-yet": "Not working yet.",
    "did-not-work-for-me": "The fix did not work for me.",
    "re-open-question": "Could you please re-open the case? The printer jams again.",
    "error-is-back": "Hi, the error is back since 8am.",
    "still-happening": "Still happening on my second monitor",
    "not-fixed-though": "Thank you! Not fixed though.",
    "same-problem-lower-case": "i still have the same problem",
    "past-tense-still-broken-when-tried": "I tried at nine and it was still broken.",
}

# "If the user considers the solution acceptable, he/she does not need to take any action."
ACCEPTING = {
    "no-need-to-reopen-dash": "Thanks, it works now - no need to reopen.",
    "works-perfectly": "Works perfectly now, thank you!",
    "you-can-close": "All good, you can close the ticket.",
    "please-dont-reopen": "I can log in again. Please don't reopen this.",
    "no-need-to-reopen-first": "No need to reopen, the export ran fine this morning.",
    "no-longer-happening": "The issue is no longer happening.",
    "wont-reject": "I won't reject the solution, it works.",
    "if-breaks-again": "Thanks! If it breaks again I'll let you know.",
    "if-comes-back-reopen": "If the problem comes back, I will reopen it.",
    "should-it-fail-again": "Should it fail again I would reopen the ticket.",
    "reopening-not-necessary": "Reopening isn't necessary, everything works.",
    "no-reason-to-reject": "There is no reason to reject it.",
    "no-reopen-needed": "Fine now, no reopen needed.",
    "never-reopen": "I never had to reopen it, great work.",
    "quoted-on-wrote": (
        "Thanks, all fine.\n\nOn Tue, 24 Nov 2026 at 09:12, Allen <allen@calbroservices.com> "
        "wrote:\n> If it is not fixed, reply and we will reopen."
    ),
    "quoted-on-wrote-two-lines": (
        "OK now.\n\nOn Tue, 24 Nov 2026 at 09:12, Allen Allbrook\n<allen@calbroservices.com> "
        "wrote:\n\n> Is it still broken?"
    ),
    "quoted-chevrons-only": "Great, thanks!\n> Please reply if the problem is still not fixed.",
    "quoted-outlook-original": (
        "Works, thanks.\n\n-----Original Message-----\nFrom: Service Desk\n"
        "Sent: Tuesday, November 24, 2026 9:12 AM\nSubject: INC1 resolved\n\n"
        "Reply to this message if it is still broken and we will reopen it."
    ),
    "quoted-outlook-headers": (
        "Fine now.\n\nFrom: Allen Allbrook <allen@calbroservices.com>\n"
        "Sent: 24 November 2026 09:12\nTo: Peter\nSubject: RE: INC1\n\nReply to reopen."
    ),
    "no-need-for-a-reopen": "No need for a reopen, all fine.",
    "dont-need-to-reopen": "I don't need to reopen, thanks.",
    "nothing-to-reject": "Everything works, nothing to reject.",
    "unless-fails-again": "We can close it unless it fails again tomorrow.",
    "still-works-fine": "It still works fine, thanks",
    "been-fixed": "It's been fixed, no more errors.",
    "yes-fixed": "Yes, it is fixed. Thanks",
    "only-a-quote": "> still broken",
    "empty": "",
}


@pytest.mark.parametrize("text", REJECTING.values(), ids=REJECTING.keys())
def test_the_requesters_rejection_reopens(text: str) -> None:
    """'If the solution is not acceptable, however, the user reopens the incident request.'"""
    plan = decided(said(text))
    assert steps(plan) == REOPEN
    assert plan.actions[0].changes == {"status": IncidentStatus.IN_PROGRESS}


@pytest.mark.parametrize("text", ACCEPTING.values(), ids=ACCEPTING.keys())
def test_the_requesters_other_words_do_not_reopen(text: str) -> None:
    """'If the user considers the solution acceptable, he/she does not need to take any action':
    a negated, supposed or quoted rejection phrase is no rejection, and silence closes."""
    assert steps(decided(said(text))) == CLOSE


# -- by whom ---------------------------------------------------------------------------------------
BY_WHOM = [
    pytest.param(REQUESTER, NoteType.CUSTOMER_COMMUNICATION, REOPEN, id="requester-reopens"),
    pytest.param("peter", NoteType.CUSTOMER_COMMUNICATION, REOPEN, id="requester-any-case"),
    pytest.param(ASSIGNEE, NoteType.CUSTOMER_COMMUNICATION, CLOSE, id="assignee-ignored"),
    pytest.param(ANALYST, NoteType.CUSTOMER_COMMUNICATION, CLOSE, id="other-analyst-ignored"),
    pytest.param(None, NoteType.CUSTOMER_COMMUNICATION, CLOSE, id="no-author-ignored"),
    pytest.param(REQUESTER, NoteType.GENERAL, CLOSE, id="requester-work-note-ignored"),
    pytest.param(ANALYST, NoteType.WORKING_LOG, CLOSE, id="support-work-note-ignored"),
]


@pytest.mark.parametrize(("author", "note_type", "expected"), BY_WHOM)
def test_only_the_requesters_communication_counts(
    author: str | None, note_type: NoteType, expected: list[str]
) -> None:
    """'the user reopens the incident request': the user's customer communication, not the
    assignee's ('if it is not fixed, reply and we will reopen') nor a support work note."""
    plan = decided(said("It is not fixed, still broken.", author, note_type=note_type))
    assert steps(plan) == expected


def test_the_assignees_invitation_to_reply_does_not_reopen() -> None:
    """The assignee's own 'if it is not fixed, reply and we will reopen' is not the user's."""
    plan = decided(said("If it is not fixed, reply and we will reopen.", ASSIGNEE))
    assert steps(plan) == CLOSE
    assert any("not the requester" in f.because for f in plan.findings)


def test_a_request_without_a_requester_reads_no_words() -> None:
    """With no customer on the request, no communication can be the user's."""
    no_customer = incident(id="INC1", status=IncidentStatus.RESOLVED, resolved_at=RESOLVED_AT)
    plan = closure.decide([(no_customer, [said("Still broken.")])], CONFIG, NOW, "t")
    assert steps(plan) == CLOSE
    assert any("no requester" in f.because for f in plan.findings)


@pytest.mark.parametrize(
    ("hours_after", "expected"),
    [
        pytest.param(-1, CLOSE, id="before-the-resolution-ignored"),
        pytest.param(0, REOPEN, id="at-the-resolution-counts"),
        pytest.param(30, REOPEN, id="a-day-after-counts"),
    ],
)
def test_only_words_after_the_resolution_count(hours_after: float, expected: list[str]) -> None:
    """'After a user has received an incident request completion notification, he/she
    reviews the solution': a complaint written before the resolution is no verdict on it."""
    assert steps(decided(said("Still broken.", hours_after=hours_after))) == expected


def test_one_rejection_among_several_communications_reopens() -> None:
    """A later 'here is the screenshot' does not take back an earlier 'still broken'."""
    plan = decided(
        said("Thanks, I'll test it tomorrow.", hours_after=1),
        said("If it is not fixed, reply and we will reopen.", ASSIGNEE, hours_after=2),
        said("Tested: the page is still broken.", hours_after=20),
        said("Here is the screenshot you asked for.", hours_after=21),
    )
    assert steps(plan) == REOPEN


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        pytest.param(IncidentStatus.RESOLVED, REOPEN, id="resolved-is-read"),
        pytest.param(IncidentStatus.IN_PROGRESS, [], id="already-reopened-left-alone"),
        pytest.param(IncidentStatus.CLOSED, [], id="closed-left-alone"),
    ],
)
def test_one_request_is_decided_when_the_itsm_says_it_changed(
    status: IncidentStatus, expected: list[str]
) -> None:
    """`for_record`: a record change notification decides that request with its own notes; a
    request the service desk already set back to In Progress is the explicit signal and is
    not touched."""
    other = said("Still broken.").model_copy(update={"parent_id": "INC2"})
    fake = FakeConnector().add(
        request().model_copy(update={"status": status}),
        incident(id="INC2", status=IncidentStatus.RESOLVED, customer=REQUESTER),
        said("Still broken, please reopen."),
        said("Noted.", ANALYST, note_type=NoteType.GENERAL),
        other,
    )
    plan = closure.for_record(Context(fake, ProceduresConfig(), NOW, "hook"), "INC1")
    assert steps(plan) == expected
    assert {a.target_id for a in plan.actions} <= {"INC1"}


# -- the reason quotes the sentence that decided ---------------------------------------------------
@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        pytest.param(
            "Hello Allen, thanks for the call. Sadly it is still broken after the reset. "
            "Regards, Peter",
            "Sadly it is still broken after the reset.",
            id="middle-sentence",
        ),
        pytest.param(
            "Thanks, it works on my laptop.\nOn my phone the same error appears.",
            "On my phone the same error appears.",
            id="second-line",
        ),
        pytest.param(
            "Please reopen!\n\nOn Tue, 24 Nov 2026, Allen wrote:\n> resolved",
            "Please reopen!",
            id="above-the-quote",
        ),
    ],
)
def test_the_reason_quotes_the_sentence_that_decided(text: str, sentence: str) -> None:
    """Every action says why: the reopen names the requester and quotes their sentence."""
    reopen, note = decided(said(text)).actions
    assert f"'{sentence}'" in reopen.reason.rule
    assert REQUESTER in reopen.reason.rule
    assert str(reopen.reason).startswith("Incident Management P6 Incident Request Closure:")
    assert note.kind is ActionKind.ADD_NOTE and note.note is not None
    assert sentence in note.note.text


def test_a_not_rejecting_reading_is_explained() -> None:
    """A dry run shows why a requester's 'no need to reopen' closed rather than reopened."""
    plan = decided(said("Thanks, it works now - no need to reopen."))
    because = " ".join(f.because for f in plan.findings)
    assert "no need to" in because and "reopen" in because


# -- configurable ----------------------------------------------------------------------------------
def test_a_site_adds_its_own_phrases_and_patterns() -> None:
    """`[incident.closure]` holds the vocabulary: a German-speaking site adds its own."""
    config = closure.ClosureConfig(
        close_after_days=5,
        rejection_keywords=["funktioniert nicht"],
        rejection_patterns=[r"\bimmer noch\b"],
        negations=["nicht mehr"],
    )
    assert steps(decided(said("Es funktioniert nicht."), config=config)) == REOPEN
    assert steps(decided(said("Der Fehler kommt immer noch."), config=config)) == REOPEN
    assert steps(decided(said("Still broken."), config=config)) == CLOSE


def test_empty_vocabularies_turn_the_text_reading_off() -> None:
    """A site with explicit signals only (status back to In Progress) reads no text."""
    config = closure.ClosureConfig(rejection_keywords=[], rejection_patterns=[])
    assert steps(decided(said("Still broken, please reopen."), config=config)) == CLOSE


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "smpm.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("line", "key", "problem"),
    [
        pytest.param(
            'rejection_patterns = ["still", "(broken"]',
            "incident.closure.rejection_patterns.1",
            "not a regular expression",
            id="bad-regex",
        ),
        pytest.param(
            'rejection_patterns = ["broken|"]',
            "incident.closure.rejection_patterns.0",
            "matches the empty string",
            id="regex-matching-everything",
        ),
        pytest.param(
            'rejection_keywords = ["reopen", "  "]',
            "incident.closure.rejection_keywords.1",
            "empty",
            id="empty-phrase",
        ),
        pytest.param(
            'negations = ["not", ""]',
            "incident.closure.negations.1",
            "empty",
            id="empty-negation",
        ),
        pytest.param(
            'quote_headers = ["^On .* wrote:$", "*"]',
            "incident.closure.quote_headers.1",
            "not a regular expression",
            id="bad-quote-header",
        ),
        pytest.param(
            "negation_window = -1",
            "incident.closure.negation_window",
            "greater than or equal to 0",
            id="negative-window",
        ),
        pytest.param(
            'rejection_keyword = ["reopen"]',
            "incident.closure.rejection_keyword",
            "Extra inputs are not permitted",
            id="misspelt-key",
        ),
    ],
)
def test_a_bad_vocabulary_is_refused_at_load(
    tmp_path: Path, line: str, key: str, problem: str
) -> None:
    """Bad config gets a clear error naming the file, line and key, and nothing runs."""
    path = write(tmp_path, f"[incident.closure]\nclose_after_days = 5\n{line}\n")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert f"{path}:3: {key}: " in message
    assert problem in message
