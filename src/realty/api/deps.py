"""Dependencies: the lifespan's resources, credentials and rate limits, as ``Annotated`` types."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from realty.api.errors import ApiError
from realty.services.admission import Admit
from realty.services.clients import client_address as resolve_client
from realty.services.conversation import Bearer, ConversationService
from realty.services.runtime import Resources
from realty.settings import Settings

_bearer = HTTPBearer(auto_error=False, description="The conversation's token.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Staff API key.")


def resources_of(request: Request) -> Resources:
    """What the lifespan built."""
    resources: Resources = request.app.state.resources
    return resources


async def get_resources(request: Request) -> Resources:
    """What the lifespan built (as a dependency)."""
    return resources_of(request)


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_service(resources: ResourcesDep) -> ConversationService:
    """The conversation service."""
    return resources.service


async def get_settings(resources: ResourcesDep) -> Settings:
    """The app's settings."""
    return resources.settings


ServiceDep = Annotated[ConversationService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_access(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Bearer:
    """The bearer token of the request.

    Raises:
        ApiError: 401 when there is no bearer token at all.
    """
    if credentials is None or not credentials.credentials:
        raise ApiError(
            401,
            "unauthorized",
            "Unauthorized",
            "Send the conversation's token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Bearer(credentials.credentials)


AccessDep = Annotated[Bearer, Depends(get_access)]


def require_staff(resources: ResourcesDep, key: Annotated[str | None, Depends(_api_key)]) -> None:
    """Staff endpoints need ``X-API-Key`` equal to ``REALTY_STAFF_API_KEY``.

    Raises:
        ApiError: 401 for a missing or wrong key, 403 when no key is configured.
    """
    configured = resources.settings.staff_api_key
    if configured is None:
        raise ApiError(
            403,
            "staff-disabled",
            "Staff API disabled",
            "Set REALTY_STAFF_API_KEY to enable the staff endpoints.",
        )
    if key is None or not hmac.compare_digest(key.encode(), configured.get_secret_value().encode()):
        raise ApiError(
            401,
            "unauthorized",
            "Unauthorized",
            "Send the staff key as 'X-API-Key'.",
            headers={"WWW-Authenticate": "ApiKey"},
        )


def client_address(request: Request, settings: Settings) -> str:
    """The client's address (see :func:`realty.services.clients.client_address`)."""
    peer = request.client.host if request.client else None
    return resolve_client(peer, request.headers.getlist("x-forwarded-for"), settings)


def message_quota(resources: Resources, conversation_id: str, request: Request) -> Admit:
    """The admission check of one new message to ``conversation_id`` from ``request``."""
    address = client_address(request, resources.settings)
    return resources.admission.messages(conversation_id, address)
