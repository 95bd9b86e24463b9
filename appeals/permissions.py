"""Roles, permissions named area:resource:action, and the policy that links them."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from appeals.errors import N_, PermissionDenied


class Role(StrEnum):
    """What a user is to the platform; merchant roles belong to exactly one shop."""

    MERCHANT_OWNER = "merchant_owner"
    MERCHANT_STAFF = "merchant_staff"
    REVIEWER = "reviewer"
    SENIOR_REVIEWER = "senior_reviewer"
    ADMIN = "admin"
    # The platform's own complaint system, calling the API with a token.
    PLATFORM = "platform"

    @property
    def is_merchant(self) -> bool:
        return self in MERCHANT_ROLES

    @property
    def is_platform(self) -> bool:
        return not self.is_merchant


MERCHANT_ROLES = frozenset({Role.MERCHANT_OWNER, Role.MERCHANT_STAFF})


class Permission(StrEnum):
    """What an action needs, named after the action and never after who holds it."""

    ACCOUNT_PROFILE_EDIT = "account:profile:edit"
    ACCOUNT_TOKEN_MANAGE = "account:token:manage"  # noqa: S105 (a permission name)
    MERCHANT_COMPLAINT_READ = "merchant:complaint:read"
    MERCHANT_ORDER_READ = "merchant:order:read"
    MERCHANT_ORDER_IMPORT = "merchant:order:import"
    MERCHANT_COMPLAINT_FLAG = "merchant:complaint:flag"
    MERCHANT_EVIDENCE_MANAGE = "merchant:evidence:manage"
    PLATFORM_EVIDENCE_RECORD = "platform:evidence:record"
    PLATFORM_COMPLAINT_RECORD = "platform:complaint:record"
    APPEAL_BUNDLE_DOWNLOAD = "appeal:bundle:download"
    REVIEW_QUEUE_READ = "review:queue:read"
    REVIEW_BUNDLE_VERIFY = "review:bundle:verify"
    PLATFORM_INSIGHT_READ = "platform:insight:read"
    REVIEW_SECOND_INSTANCE_RULE = "review:second_instance:rule"
    ADMIN_SHOP_MANAGE = "admin:shop:manage"
    ADMIN_USER_MANAGE = "admin:user:manage"
    ADMIN_AUDIT_READ = "admin:audit:read"


_EVERYONE = frozenset({Permission.ACCOUNT_PROFILE_EDIT, Permission.ACCOUNT_TOKEN_MANAGE})
_MERCHANT = _EVERYONE | {
    Permission.MERCHANT_COMPLAINT_READ,
    Permission.MERCHANT_ORDER_READ,
    Permission.MERCHANT_ORDER_IMPORT,
    Permission.MERCHANT_COMPLAINT_FLAG,
    Permission.MERCHANT_EVIDENCE_MANAGE,
    Permission.APPEAL_BUNDLE_DOWNLOAD,
}
_REVIEWER = _EVERYONE | {
    Permission.REVIEW_QUEUE_READ,
    Permission.APPEAL_BUNDLE_DOWNLOAD,
    Permission.REVIEW_BUNDLE_VERIFY,
    Permission.PLATFORM_INSIGHT_READ,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MERCHANT_OWNER: _MERCHANT,
    Role.MERCHANT_STAFF: _MERCHANT,
    Role.REVIEWER: _REVIEWER,
    Role.SENIOR_REVIEWER: _REVIEWER | {Permission.REVIEW_SECOND_INSTANCE_RULE},
    Role.ADMIN: _EVERYONE
    | {
        Permission.ADMIN_SHOP_MANAGE,
        Permission.ADMIN_USER_MANAGE,
        Permission.ADMIN_AUDIT_READ,
        Permission.PLATFORM_COMPLAINT_RECORD,
        Permission.REVIEW_BUNDLE_VERIFY,
        Permission.PLATFORM_INSIGHT_READ,
    },
    Role.PLATFORM: _EVERYONE
    | {Permission.PLATFORM_COMPLAINT_RECORD, Permission.PLATFORM_EVIDENCE_RECORD},
}


class Actor(Protocol):
    """Whoever acts: a user of the portal, the API, the CLI or a worker."""

    @property
    def role(self) -> Role: ...

    @property
    def shop_id(self) -> int | None: ...

    @property
    def is_active(self) -> bool: ...


def has_permission(actor: Actor | None, permission: Permission) -> bool:
    """Whether an active actor's role grants the permission."""
    if actor is None or not actor.is_active:
        return False
    return permission in ROLE_PERMISSIONS[actor.role]


def require(actor: Actor | None, permission: Permission) -> None:
    """Raise PermissionDenied unless the actor holds the permission."""
    if not has_permission(actor, permission):
        raise PermissionDenied(N_("You do not have permission to do this."))
