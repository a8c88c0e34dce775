"""The three code families the platform teaches and grades."""

from __future__ import annotations

from enum import StrEnum


class System(StrEnum):
    """A code family. The value is the label used in the command contracts."""

    ICD10CM = "ICD-10-CM"
    CPT = "CPT"
    HCPCS = "HCPCS"

    @classmethod
    def parse(cls, text: str) -> System:
        """Accept the contract label in any case, with or without separators."""
        squashed = text.strip().upper().replace("-", "").replace("_", "").replace(" ", "")
        for system in cls:
            if system.value.replace("-", "") == squashed:
                return system
        if squashed in {"HCPCSLEVELII", "HCPCSII", "HCPCS2"}:
            return cls.HCPCS
        raise ValueError(f"unknown code system {text!r}: use ICD-10-CM, CPT or HCPCS")
