"""Live progress of an update from the engine's own events: resources done of total, the current step."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pulumi.automation import events

# Steps that change nothing are still resources the engine walks through.
_QUIET = {events.OpType.SAME, events.OpType.READ}


@dataclass
class Progress:
    """Folds engine events into counts; ``total`` is what synth counted for the same stack."""

    total: int
    done: int = 0
    failed: int = 0
    current: str = "starting"
    changes: dict[str, int] = field(default_factory=dict)
    finished: bool = False
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def handle(self, event: events.EngineEvent) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            if meta.op not in _QUIET:
                self.current = f"{meta.op.value} {meta.type} {meta.urn.rsplit('::', 1)[-1]}"
        elif event.res_outputs_event is not None:
            self.done += 1
        elif event.res_op_failed_event is not None:
            self.failed += 1
        elif event.summary_event is not None:
            self.changes = {op.value: count for op, count in event.summary_event.resource_changes.items()}
            self.finished = True
            self.current = "done"

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def line(self) -> str:
        total = max(self.total, self.done)
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.done}/{total} resources{failed} · {self.current} · {self.elapsed:.0f}s"
