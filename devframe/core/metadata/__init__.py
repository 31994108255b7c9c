"""Per-device metadata in the domain's ``<metadata>`` section.

The section is read once per domain; :meth:`MetadataSection.binder` gives the
dispatcher a lookup from a device element to its metadata. Until a domain carries
devframe or oVirt metadata there is nothing to bind, and ``from_domain`` returns None.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lxml import etree

if TYPE_CHECKING:
    from devframe.core.domain import Domain
    from devframe.core.registry import Registry


class MetadataSection:
    """Placeholder seam: binding and the codec arrive with the metadata issue."""

    @classmethod
    def from_domain(cls, root: etree._Element, registry: Registry, *, source: str | None = None) -> MetadataSection | None:
        return None

    def binder(self) -> Any:
        return None

    def finish(self, domain: Domain) -> None:
        return None

    def write(self, domain: Domain) -> None:
        return None
