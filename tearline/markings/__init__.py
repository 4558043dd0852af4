"""The markings engine: national schemes, validation, banners and the visibility predicate."""

from tearline.markings.banner import Banner, banner_text, render, roll_up
from tearline.markings.marking import Agency, Compartment, Marking, Registry, marking_from_dict, validate_marking
from tearline.markings.scheme import DEFAULT_TABLE, Agreement, EquivalenceTable
from tearline.markings.visibility import Decision, ItemFacts, Rule, Viewer, decide, marking_verdict, sees_source

__all__ = [
    "DEFAULT_TABLE",
    "Agency",
    "Agreement",
    "Banner",
    "Compartment",
    "Decision",
    "EquivalenceTable",
    "ItemFacts",
    "Marking",
    "Registry",
    "Rule",
    "Viewer",
    "banner_text",
    "decide",
    "marking_from_dict",
    "marking_verdict",
    "render",
    "roll_up",
    "sees_source",
    "validate_marking",
]
