"""Per-device and VM-level metadata in the domain's ``<metadata>`` section.

Layout (oVirt's, namespace ``http://ovirt.org/vm/1.0``): see :mod:`.ovirt`. Values are
typed elements (:mod:`.codec`); entries are bound to devices through indexes built
once per domain (:mod:`.binding`); only what changed is written back (:mod:`.sync`).
:class:`MetadataSection` is what :class:`~devframe.Domain` drives. See docs/metadata.md.
"""

from __future__ import annotations

from devframe.core.metadata.codec import (
    KNOWN_LISTS,
    decode_map,
    decode_value,
    encode_map,
    encode_value,
    same_value,
)
from devframe.core.metadata.ovirt import NS, PREFIX
from devframe.core.metadata.section import (
    BoundMetadata,
    MetadataSection,
    OrphanMetadata,
    VmMetadata,
)

__all__ = [
    "KNOWN_LISTS",
    "NS",
    "PREFIX",
    "BoundMetadata",
    "MetadataSection",
    "OrphanMetadata",
    "VmMetadata",
    "decode_map",
    "decode_value",
    "encode_map",
    "encode_value",
    "same_value",
]
