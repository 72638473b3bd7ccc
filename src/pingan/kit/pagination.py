"""Keyset pagination: stable pages over tables that grow while you read."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


class PageParams(BaseModel):
    limit: int = Field(100, ge=1, le=MAX_PAGE_SIZE)
    after_id: int | None = Field(None, description="Return items with id greater than this")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_after_id: int | None = Field(
        None, description="Pass as after_id to get the next page; null on the last page"
    )
