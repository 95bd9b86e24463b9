"""The configured rules, in one frozen object built from the settings once.

Every door (the web, the API, the CLI, the worker, the tick) builds `Policies` from the same
settings through `Policies.from_settings`, and the use cases take the part they apply as a
required argument. The defaults below are the only place a default limit is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from evidence.inspect import InspectLimits, ReadLimits
from evidence.tables import TableLimits

MiB = 1024 * 1024

# Setting name (PORTAL_<NAME> in the environment) -> default.
POLICY_DEFAULTS: dict[str, Any] = {
    # Complaints: how long a merchant has to appeal once the platform received one.
    "APPEAL_WINDOW_DAYS": 7,
    # Review: reviewers' service levels, the merchant's answer and second-appeal windows.
    "REVIEW_FIRST_DAYS": 3,
    "REVIEW_SECOND_DAYS": 5,
    "REVIEW_ANSWER_DAYS": 3,
    "REAPPEAL_WINDOW_DAYS": 7,
    # Bundles: what the platform accepts in one appeal.
    "BUNDLE_MAX_MB": 50,
    "BUNDLE_MAX_PAGES": 300,
    "BUNDLE_MAX_FILES": 50,
    "BUNDLE_MAX_TEXT": 20_000,
    # Evidence locker: per-file cap, files per complaint, bytes per shop.
    "EVIDENCE_MAX_BYTES": 25 * MiB,
    "EVIDENCE_MAX_FILES": 50,
    "EVIDENCE_SHOP_QUOTA_BYTES": 2 * 1024 * MiB,
    # What an uploaded PDF's page content may unpack to, all its streams together.
    "EVIDENCE_PDF_CONTENT_MB": 200,
    # Order imports: the largest file taken.
    "IMPORT_MAX_BYTES": 20 * MiB,
    "IMPORT_MAX_ROWS": 100_000,
    # Reading text in pictures after intake: per file, in the sandbox.
    "READ_SECONDS": 30,
    "READ_MEMORY_MB": 2048,
    # Display and documents.
    "DEFAULT_TIME_ZONE": "Asia/Shanghai",
    "BUNDLE_FONT": None,  # a TrueType CJK font for bundle PDFs; None: the first one installed
}


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a merchant has to appeal a complaint once the platform received it."""

    appeal_window: timedelta

    def appeal_deadline(self, received_at: datetime) -> datetime:
        return received_at + self.appeal_window


@dataclass(frozen=True)
class ReviewPolicy:
    """Reviewers' service levels and the merchant's windows during review."""

    first_review: timedelta
    second_review: timedelta
    answer_window: timedelta
    reappeal_window: timedelta


@dataclass(frozen=True)
class BudgetProfile:
    """What the platform accepts in one appeal bundle."""

    max_bytes: int
    max_pages: int
    max_files: int
    max_text: int


@dataclass(frozen=True)
class LockerPolicy:
    """How much a shop may upload, and the budget of each file's decode."""

    max_file_bytes: int
    max_files_per_complaint: int
    shop_quota_bytes: int
    limits: InspectLimits


@dataclass(frozen=True)
class Policies:
    """Every configured rule the use cases apply."""

    deadlines: DeadlinePolicy
    review: ReviewPolicy
    budget: BudgetProfile
    locker: LockerPolicy
    imports: TableLimits
    time_zone: str
    bundle_font: str | None
    read_limits: ReadLimits

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Policies:
        """Read the policy settings (missing ones take POLICY_DEFAULTS)."""

        def get(name: str) -> Any:
            value = settings.get(name)
            return POLICY_DEFAULTS[name] if value is None else value

        def days(name: str) -> timedelta:
            return timedelta(days=float(get(name)))

        return cls(
            deadlines=DeadlinePolicy(days("APPEAL_WINDOW_DAYS")),
            review=ReviewPolicy(
                first_review=days("REVIEW_FIRST_DAYS"),
                second_review=days("REVIEW_SECOND_DAYS"),
                answer_window=days("REVIEW_ANSWER_DAYS"),
                reappeal_window=days("REAPPEAL_WINDOW_DAYS"),
            ),
            budget=BudgetProfile(
                max_bytes=int(float(get("BUNDLE_MAX_MB")) * MiB),
                max_pages=int(get("BUNDLE_MAX_PAGES")),
                max_files=int(get("BUNDLE_MAX_FILES")),
                max_text=int(get("BUNDLE_MAX_TEXT")),
            ),
            locker=LockerPolicy(
                max_file_bytes=int(get("EVIDENCE_MAX_BYTES")),
                max_files_per_complaint=int(get("EVIDENCE_MAX_FILES")),
                shop_quota_bytes=int(get("EVIDENCE_SHOP_QUOTA_BYTES")),
                limits=InspectLimits(
                    pdf_content_bytes=int(float(get("EVIDENCE_PDF_CONTENT_MB")) * MiB)
                ),
            ),
            imports=TableLimits(
                max_bytes=int(get("IMPORT_MAX_BYTES")), max_rows=int(get("IMPORT_MAX_ROWS"))
            ),
            time_zone=str(get("DEFAULT_TIME_ZONE")),
            bundle_font=get("BUNDLE_FONT"),
            read_limits=ReadLimits(
                memory_bytes=int(get("READ_MEMORY_MB")) * MiB,
                cpu_seconds_per_file=int(get("READ_SECONDS")),
                wall_seconds_per_file=2.0 * int(get("READ_SECONDS")),
            ),
        )


# The rules as shipped, for code that runs without configuration (tests, benches).
DEFAULT_POLICIES = Policies.from_settings({})
