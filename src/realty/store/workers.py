"""Database calls off the event loop: a bounded thread pool, each call under a deadline.

The conversation store and the listing catalog both run blocking SQLAlchemy work this way;
every failure surfaces as :class:`~realty.errors.StorageError`.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import SQLAlchemyError

from realty.errors import StorageError

_P = ParamSpec("_P")
_T = TypeVar("_T")


class DatabaseWorkers:
    """Worker threads for database calls (at most one connection each).

    Args:
        threads: How many calls may run at once.
        timeout_s: Longest wait for one call, queueing included (``None``: no bound).
        name: Prefix of the threads' names.
    """

    def __init__(self, threads: int, timeout_s: float | None, name: str) -> None:
        self._timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix=name)

    def close(self) -> None:
        """Stop the worker threads (after the calls in flight)."""
        self._pool.shutdown(wait=True)

    async def _run(
        self, what: str, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs
    ) -> _T:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, *args, **kwargs)
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, call), self._timeout_s)
        except TimeoutError as exc:
            raise StorageError(f"cannot {what}: no answer within {self._timeout_s:g}s") from exc
        except StorageError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StorageError(f"cannot {what}: {type(exc).__name__}") from exc
