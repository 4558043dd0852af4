"""Fixed and deterministic STIX identifiers: the same content gets the same id on every node.

Deterministic ids let two nodes that hold the same marking, extension or identity refer to one
object, and make an export byte-for-byte repeatable.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from tearline.markings.marking import Marking

# Namespace of every tearline uuid5; never change it, or every exported id changes.
NAMESPACE = uuid.UUID("08389445-2ded-4c4f-8291-d263f59ccf38")


# When tearline's own definitions were made: their `created` never changes, so their ids hold.
DEFINED = "2025-01-01T00:00:00.000Z"


def stix_id(stix_type: str, name: str) -> str:
    """A deterministic id for `stix_type`, from a name unique within that type."""
    return f"{stix_type}--{uuid.uuid5(NAMESPACE, f'{stix_type}:{name}')}"


def marking_definition_id(marking: Marking) -> str:
    """Equal markings share one marking-definition id everywhere (uuid5 of the marking's digest)."""
    return f"marking-definition--{uuid.uuid5(NAMESPACE, marking.digest())}"


def node_identity_id(nation: str, agency: str) -> str:
    return stix_id("identity", f"node:{nation}:{agency}")


def bundle_id(objects: list[dict[str, Any]]) -> str:
    """The bundle id follows from its content, so the same export twice is the same bundle."""
    text = json.dumps(objects, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return stix_id("bundle", hashlib.sha256(text.encode()).hexdigest())


TEARLINE_IDENTITY = stix_id("identity", "tearline")
EXT_MARKING = stix_id("extension-definition", "national-marking")
EXT_REPORT = stix_id("extension-definition", "report")
EXT_PHONE = stix_id("extension-definition", "x-tearline-phone")
EXT_VEHICLE = stix_id("extension-definition", "x-tearline-vehicle")
EXT_EVENT = stix_id("extension-definition", "x-tearline-event")
# A person's canonical fields on an individual identity (tearline.stix.person).
EXT_PERSON = stix_id("extension-definition", "person")

# The new-sdo extension that defines each custom type.
NEW_SDO: dict[str, str] = {
    "x-tearline-phone": EXT_PHONE,
    "x-tearline-vehicle": EXT_VEHICLE,
    "x-tearline-event": EXT_EVENT,
}

# Where a report keeps its portions; a granular-marking selector addresses each one.
PORTIONS_SELECTOR = f"extensions.{EXT_REPORT}.portions"


def portion_selector(index: int) -> str:
    return f"{PORTIONS_SELECTOR}.[{index}]"


# TLP 2.0, from oasis-open/cti-stix-common-objects (extension-definition--60a3c5c5-…).
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_IDS: dict[str, str] = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_BY_ID = {v: k for k, v in TLP2_IDS.items()}

# TLP 1.0 (as `stix2` ships it) is refused by DESIGN §3.2; these ids are recognised to say so.
TLP1_IDS = frozenset(
    {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    }
)
