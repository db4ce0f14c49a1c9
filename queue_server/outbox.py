"""The one outbox: rows that wait to be handed out (print jobs, messages to citizens), taken with a claim.

A row is `ready` until a worker claims it: the claim is one conditional UPDATE (after a SELECT … FOR
UPDATE SKIP LOCKED on PostgreSQL), so of two workers only one wins, on any number of processes. A
claimed row carries one more attempt and, when the outbox has a lease, a deadline in `next_attempt_at`:
a claim whose worker died is taken again once the lease has run out. Without a lease a claim is held
until `recover()` (the server's spooler, which owns its printers, calls it at start-up). The worker
then calls `done()`, or `retry()` which backs off (doubling, capped) or gives up after `max_attempts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session


def backoff(attempts: int, first_s: float, cap_s: float) -> float:
    """Seconds before the next try after `attempts` failed ones: first, twice that, … capped."""
    return min(cap_s, first_s * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Outbox:
    """One table used as an outbox: its model (id, state, attempts, last_error, next_attempt_at) and state names."""

    model: Any
    ready: str
    claimed: str
    done_state: str
    failed: str
    lease: timedelta | None = None

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Rows a worker may take now: ready and due, or claimed by a worker whose lease has run out."""
        m = self.model
        ready = and_(m.state == self.ready, m.next_attempt_at <= now)
        if self.lease is None:
            return ready
        return or_(ready, and_(m.state == self.claimed, m.next_attempt_at <= now))

    def claim(self, session: Session, now: datetime, *where: ColumnElement[bool], limit: int = 1) -> list[int]:
        """Take up to `limit` due rows (oldest due first) matching `where`; returns the ids this worker won."""
        m = self.model
        ids = session.scalars(
            select(m.id)
            .where(self.due(now), *where)
            .order_by(m.next_attempt_at, m.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        values: dict[str, Any] = {"state": self.claimed, "attempts": m.attempts + 1}
        if self.lease is not None:
            values["next_attempt_at"] = now + self.lease
        won = []
        for row_id in ids:
            # The conditional UPDATE is the lock: on SQLite (no SKIP LOCKED) only one of two workers sees rowcount 1.
            taken = session.execute(
                update(m)
                .where(m.id == row_id, self.due(now))
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken == 1:
                won.append(row_id)
        return won

    def done(self, session: Session, row_id: int, **values: Any) -> bool:
        """The claimed row's work is done; False when it was not claimed (recovered, or finished already)."""
        return self._settle(session, row_id, state=self.done_state, last_error=None, **values)

    def give_up(self, session: Session, row_id: int, error: str) -> bool:
        """The claimed row can never succeed (a payload that cannot print): failed now, without retries."""
        return self._settle(session, row_id, state=self.failed, last_error=error)

    def retry(
        self,
        session: Session,
        row_id: int,
        error: str,
        now: datetime,
        *,
        first_s: float,
        cap_s: float,
        max_attempts: int,
        gave_up: str = "{error}",
    ) -> str | None:
        """The claimed row failed: back to ready after a backoff, or failed after `max_attempts`.

        `gave_up` words the last error of a row given up ({attempts}, {error}). Returns the new state, or
        None when the row was not claimed any more.
        """
        attempts = session.scalar(select(self.model.attempts).where(self.model.id == row_id)) or 0
        if attempts >= max_attempts:
            return (
                self.failed if self.give_up(session, row_id, gave_up.format(attempts=attempts, error=error)) else None
            )
        retry_at = now + timedelta(seconds=backoff(attempts, first_s, cap_s))
        again = self._settle(session, row_id, state=self.ready, last_error=error, next_attempt_at=retry_at)
        return self.ready if again else None

    def recover(self, session: Session, now: datetime, *where: ColumnElement[bool], reason: str) -> list[int]:
        """After a crash: every claimed row matching `where` is ready again at once; returns their ids."""
        m = self.model
        ids = list(session.scalars(select(m.id).where(m.state == self.claimed, *where).with_for_update()))
        if ids:
            session.execute(
                update(m)
                .where(m.id.in_(ids), m.state == self.claimed)
                .values(state=self.ready, next_attempt_at=now, last_error=reason)
                .execution_options(synchronize_session=False)
            )
        return ids

    def _settle(self, session: Session, row_id: int, **values: Any) -> bool:
        m = self.model
        return (
            session.execute(
                update(m)
                .where(m.id == row_id, m.state == self.claimed)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )
