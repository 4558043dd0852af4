"""Who may write a report, and what they may mark it: the analyst role, their agency as its
originator, at most their clearance and within the compartments they hold (DESIGN §2, §3.3, §3.4).

The API's report writes hold an author to all of it; ingest holds a person who submits to the
role and the reach (`reach_problems`), since it carries other agencies' reports of this nation.
"""

from __future__ import annotations

from tearline.db.models import Principal
from tearline.errors import Forbidden, Problem
from tearline.markings.marking import Marking
from tearline.markings.scheme import EquivalenceTable
from tearline.markings.visibility import clearance_rule
from tearline.store.drafts import ReportDraft
from tearline.store.principals import viewer_of


def require_author(author: Principal) -> None:
    """Writing reports is an analyst's action (roles grant actions; DESIGN §2).

    A partner's liaison who is an analyst may write here too: what they write originates with their
    agency (`authorship_problems`), so the third-party rule keeps it from every other nation.
    """
    if "analyst" not in author.roles:
        raise Forbidden("writing reports needs the analyst role", rule="analyst-role")


def marked_items(draft: ReportDraft) -> list[tuple[str, Marking]]:
    """Every marked item of a draft, by the name a problem gives it: title, `portion N`, object id."""
    items = [("title", draft.title.marking)]
    items += [(f"portion {i + 1}", p.marking) for i, p in enumerate(draft.portions)]
    return items + [(o.stix_id, o.marking) for o in draft.objects]


def authorship_problems(draft: ReportDraft, author: Principal, table: EquivalenceTable) -> list[Problem]:
    """A report an analyst writes originates with the analyst's agency, at most at the analyst's
    clearance and within the analyst's compartments: every marking must say so (a marking the
    author could not read back would be a report nobody accountable can see whole).

    (Partners' and other agencies' reports come in through ingest, with their own markings.)
    """
    own = (author.nation, author.agency)
    reason = f"must be your agency, {author.agency} ({author.nation}): a marking is its originator's decision"
    problems = [Problem("marking.originator", reason, item) for item, m in marked_items(draft) if m.originator != own]
    return problems + reach_problems(draft, author, table, levels_of=own)


def reach_problems(
    draft: ReportDraft, author: Principal, table: EquivalenceTable, levels_of: tuple[str, str] | None = None
) -> list[Problem]:
    """Every item at most at the author's clearance and within the compartments the author holds.

    `levels_of` checks the level of that originator's items only (an item the author may not
    originate is refused for that already); ingest, which carries other agencies' reports, checks all.
    """
    problems: list[Problem] = []
    viewer = viewer_of(author, {})  # rules 1 and 3 only: who the author is, not what their agency may see
    for item, m in marked_items(draft):
        if levels_of in (None, m.originator) and clearance_rule(viewer, m, table) is not None:
            problems.append(Problem("marking.level", f"{m.level} is above your clearance, {author.clearance}", item))
        missing = sorted(m.compartments - viewer.compartments)
        if missing:
            problems.append(Problem("marking.compartments", f"you do not hold {', '.join(missing)}", item))
    return problems
