"""`RKM:KnowledgeArticleManager`: knowledge articles, the proposed solutions of SMPM P7.

No recorded body or BMC page backs this form's field names; they are the ones the Remedy
mapping reads (marked UNCONFIRMED there), plus AR's core fields. Status labels follow Knowledge
Management's article life cycle as the mapping lists it.
"""

from __future__ import annotations

from sandbox.fields import Selection, char, chars, date, enum, obj
from sandbox.forms.model import regular

ARTICLE_STATUS = Selection(
    (
        "Draft",
        "SME Review",
        "Publish Approval",
        "Published",
        "Retire Approval",
        "Retired",
        "Closed",
        "Cancelled",
    )
)

KNOWLEDGE_ARTICLE = regular(
    "RKM:KnowledgeArticleManager",
    "rkm_article",
    (
        char("Request ID", 1, readonly=True),
        char("Submitter", 2),
        date("Submit Date", 3, readonly=True),
        char("Last Modified By", 5, readonly=True),
        date("Last Modified Date", 6, readonly=True),
        enum("Status", ARTICLE_STATUS, 7),
        obj("Status History", 15),
        char("InstanceId", 179, readonly=True),
        char("DocID", readonly=True),
        *chars(
            "ArticleTitle",
            "Author",
            "Owner Group",
            "Assigned Group",
            "Assignee Login ID",
            "Assignee",
            "Source Request ID",
            "Company",
        ),
    ),
    key="Request ID",
    indexes=("DocID",),
)

FORMS = (KNOWLEDGE_ARTICLE,)
