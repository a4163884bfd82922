"""Typed helpers around ``pulumi.Output`` that the SDK's own annotations make awkward."""

from typing import Any, TypeVar, cast

import pulumi

T = TypeVar("T")


def as_secret(value: pulumi.Output[T]) -> pulumi.Output[T]:
    """``Output.secret`` that keeps the value's type for mypy."""
    return cast(pulumi.Output[T], pulumi.Output.secret(cast(Any, value)))
