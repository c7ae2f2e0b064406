"""The process-wide training job queue: :class:`JobQueue`, :func:`get_job_queue`, its worker.

A page never calls ``model.fit``: it submits a :class:`~cnn_core.training.TrainingRequest` to
the job queue of its workspace (:func:`get_job_queue`) and keeps the run id. One daemon worker
thread takes the queued runs one after another (taking turns between the sessions that queued
them, first come first served within a turn: :func:`cnn_core.queue_place.fair_line`;
``max_parallel_trainings`` threads when the teacher allows more, see :mod:`cnn_core.classroom`)
and trains each in a process of its own (:mod:`cnn_core.training_process`, the teacher's
``training_process`` 1, the default), or with ``training_process`` 0 itself through
:func:`cnn_core.training.run_training`. Either runs at the teacher's ``training_nice``
(:mod:`cnn_core.training_priority`), so the pages stay quick while runs train.

A run submitted with a :class:`~cnn_core.run_record.Starter` (a browser session) obeys the
teacher's limits (most epochs, runs waiting per session) and can be stopped, paused or resumed
only with that same starter: the queue checks it, whatever the page shows. The queue keeps only run ids and
:class:`~cnn_core.training_callbacks.JobControl` flags; everything else is in the run store.

The worker thread must never be the first to import a module: two threads importing a module
for the first time at once can break it. So this module, which starts the worker, imports at
module level TensorFlow, Keras and NumPy (through :mod:`cnn_core.training`), h5py and the
modules the worker would otherwise import lazily (:data:`WORKER_MODULES`,
:mod:`cnn_core.evaluation`).

Example:
    >>> from cnn_core.model import PRESETS
    >>> from cnn_core.training import TrainingRequest
    >>> queue = get_job_queue()
    >>> run_id = queue.submit(TrainingRequest("shapes", PRESETS["fast"].replace(epochs=2)))
    >>> queue.wait(run_id, timeout=120).status
    'finished'
"""

from __future__ import annotations

import collections
import importlib
import threading
import time
from pathlib import Path

import h5py  # noqa: F401  (Keras imports it lazily when saving; import it here, not in a worker)

from cnn_core.classroom import check_may_steer, check_request, launch_key, teacher_settings
from cnn_core.errors import RunNotFoundError, RunStateError
from cnn_core.i18n import N_, _
from cnn_core.queue_place import QueuePlace, fair_line, queue_place
from cnn_core.process_owner import owner_alive
from cnn_core.run_status import ACTIVE_STATUSES, STEERABLE_STATUSES, RunStatus
from cnn_core.run_record import RunRecord, Starter
from cnn_core.run_resume import prepare_resume
from cnn_core.runs import RunStore
from cnn_core.stored_messages import stored_message
from cnn_core.training import (  # imports TensorFlow, Keras and NumPy at module level
    TrainingRequest,
    run_training,
)
from cnn_core.training_callbacks import JobControl
from cnn_core.training_priority import lower_this_thread, training_nice
from cnn_core.training_process import settle, start_child
from cnn_core.workspace import workspace_path

#: Modules the worker would otherwise import first (lazily, inside datasets/preprocessing):
#: importing them here, at module import, keeps the worker from being a module's first importer.
WORKER_MODULES = ("PIL.Image", "PIL.ImageDraw", "sklearn.model_selection", "sklearn.datasets",
                  "pandas", "mlxtend.data")
for _name in WORKER_MODULES:
    try:
        importlib.import_module(_name)
    except ImportError:  # optional: the data set that needs it reports its absence itself
        pass

try:  # evaluation is used by pages right after a run ends; import it before threads start
    from cnn_core import evaluation as _evaluation  # noqa: F401
except ImportError:  # pragma: no cover - module written by another engineer
    _evaluation = None


class JobQueue:
    """Trains submitted runs one at a time in a daemon worker thread, in turns between the
    people who queued them (:func:`cnn_core.queue_place.fair_line`; first come, first served
    within a turn).

    Use :func:`get_job_queue` for the process-wide queue of a workspace. The queue keeps only run
    ids and control flags; everything else is in the run store, so pages can poll the store.

    Args:
        workspace: the workspace folder (default: :func:`cnn_core.workspace.workspace_path`).
        workers: how many runs train at once (default: the teacher's ``max_parallel_trainings``,
            1 unless set; more only helps on big machines).
    """

    def __init__(self, workspace: Path | str | None = None, workers: int | None = None):
        self.store = RunStore(workspace)
        self.workspace = self.store.workspace
        if workers is None:
            workers = teacher_settings().max_parallel_trainings
        self.workers = max(1, int(workers))
        self._cond = threading.Condition(threading.RLock())
        self._pending: collections.deque[str] = collections.deque()   # in fair order (fair_line)
        self._owners: dict[str, str] = {}   # run id -> the session that queued it ("": none)
        self._active: dict[str, JobControl] = {}
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------- submitting
    def submit(self, request: TrainingRequest, starter: Starter | None = None) -> str:
        """Create a queued run for ``request`` and return its id.

        Args:
            starter: the browser session asking (recorded with the run; the teacher's limits
                apply: the runs of one sweep or MLP-vs-CNN pair, submitted one by one, count as
                one request). None for the command line and scripts: no limits.

        Raises:
            SpecError: a setting is invalid on its own (checks needing the data set, such as
                too much pooling for the image size, happen in the worker: the run then fails
                with the message), or more epochs than the teacher allows.
            QueueLimitError: ``starter`` already has as many runs waiting as allowed.
        """
        request.validate()
        with self._cond:   # count and create at once: two quick clicks cannot both get in
            if starter is not None:
                launch = launch_key(None, request.sweep_id, request.extra_config)
                check_request(request.model.epochs, self.waiting_requests(starter, besides=launch),
                              teacher_settings())
            run_id = self.store.create_run(request.to_config(), name=request.name,
                                           sweep_id=request.sweep_id, starter=starter)
            self._enqueue(run_id)
        return run_id

    def resume_interrupted(self, run_id: str, starter: Starter | None = None) -> str:
        """Queue an interrupted or stopped run again; it continues from its last checkpoint,
        keeping its recorded epochs. Returns the run id (the same run).

        Raises:
            NotYoursError: ``starter`` is not the session that started the run.
            QueueLimitError: ``starter`` already has as many runs waiting as allowed.
        """
        with self._cond:
            record = self.store.get(run_id)
            check_may_steer(record, starter, _("resume"))
            if run_id in self._active or run_id in self._pending:
                raise RunStateError("This run is already queued or training.")
            if starter is not None:
                launch = launch_key(run_id, record.sweep_id, record.config)
                check_request(0, self.waiting_requests(starter, besides=launch), teacher_settings())
            prepare_resume(self.store, run_id)
            self._enqueue(run_id)
        return run_id

    def _enqueue(self, run_id: str) -> None:
        with self._cond:
            try:
                self._owners[run_id] = self.store.get(run_id).session_id or ""
            except RunNotFoundError:   # deleted meanwhile: it fails when its turn comes
                self._owners[run_id] = ""
            self._pending.append(run_id)
            self._pending = collections.deque(fair_line(
                list(self._pending), lambda i: self._owners.get(i, ""), list(self._active)))
            self._ensure_workers()
            self._cond.notify_all()

    def _ensure_workers(self) -> None:
        self._threads = [t for t in self._threads if t.is_alive()]
        while len(self._threads) < self.workers:
            thread = threading.Thread(target=self._work, name=f"cnn-lab-training-{len(self._threads)}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()

    # ---------------------------------------------------------------- the worker
    def _work(self) -> None:
        lower_this_thread()   # the pages first: this thread and those it starts yield the CPU
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                run_id = self._pending.popleft()
                control = JobControl()
                self._active[run_id] = control
            try:
                if teacher_settings().training_process:
                    self._train_in_child(run_id)
                else:
                    run_training(run_id, self.store, control)
            except BaseException as error:  # noqa: BLE001 - the worker must survive anything
                try:
                    record = self.store.get(run_id)
                    if record.status in ACTIVE_STATUSES:
                        self.store.set_status(run_id, RunStatus.FAILED, stored_message(
                            "Training could not run: {error}", error=str(error)))
                except Exception:  # noqa: BLE001
                    pass
            finally:
                with self._cond:
                    self._active.pop(run_id, None)
                    self._owners.pop(run_id, None)
                    self._cond.notify_all()

    def _train_in_child(self, run_id: str) -> None:
        """Train ``run_id`` in a process of its own (:mod:`cnn_core.training_process`) and wait
        for it. Pause, resume and stop reach it through the store."""
        child = start_child(self.store, run_id, training_nice())
        settle(self.store, run_id, child.wait())

    # ---------------------------------------------------------------- queries
    def position(self, run_id: str) -> int:
        """0 = training now, 1.. = place in the waiting line, -1 = not in this queue."""
        with self._cond:
            if run_id in self._active:
                return 0
            try:
                return self._pending.index(run_id) + 1
            except ValueError:
                return -1

    def active_run_id(self) -> str | None:
        with self._cond:
            return next(iter(self._active), None)

    def active_run_ids(self) -> list[str]:
        with self._cond:
            return list(self._active)

    def queued_run_ids(self) -> list[str]:
        with self._cond:
            return list(self._pending)

    def waiting_run_ids(self, starter: Starter) -> list[str]:
        """The runs ``starter`` has waiting in line (not yet training), in line order."""
        with self._cond:
            pending = list(self._pending)
        return [run_id for run_id in pending
                if self.store.exists(run_id) and starter.owns(self.store.get(run_id))]

    def waiting_requests(self, starter: Starter, besides: str | None = None) -> int:
        """How many requests ``starter`` has waiting in line: its waiting runs, the runs of one
        sweep or MLP-vs-CNN pair counted once (:func:`~cnn_core.classroom.launch_key`), leaving
        out the launch ``besides`` (the one a run being submitted belongs to)."""
        with self._cond:
            pending = list(self._pending)
        launches = set()
        for run_id in pending:
            try:
                run = self.store.get(run_id)
            except RunNotFoundError:   # deleted meanwhile
                continue
            if starter.owns(run):
                launches.add(launch_key(run.id, run.sweep_id, run.config))
        launches.discard(besides)
        return len(launches)

    def place(self, run_id: str) -> QueuePlace:
        """Where the run stands in line and about when it starts ("3rd in line, about 2 min"),
        from the time left of the runs training and the measured speed of finished runs."""
        with self._cond:
            pending = list(self._pending)
            active = list(self._active)
        record = self.store.get(run_id)
        waiting = [self.store.get(i) for i in pending if self.store.exists(i)]
        training = [self.store.get(i) for i in active if self.store.exists(i)]
        finished = self.store.list_runs(status=RunStatus.FINISHED)
        return queue_place(record, training, waiting, finished, self.workers)

    def control(self, run_id: str) -> JobControl | None:
        with self._cond:
            return self._active.get(run_id)

    def wait(self, run_id: str, timeout: float | None = None) -> RunRecord:
        """Block until the run is no longer queued/running/paused/stopping, or ``timeout`` s pass.
        Returns the run's record either way (check its status)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                mine = run_id in self._active or run_id in self._pending
            record = self.store.get(run_id)
            if not mine and record.status not in ACTIVE_STATUSES:
                return record
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return record
            with self._cond:
                self._cond.wait(0.2 if remaining is None else min(0.2, remaining))

    # ---------------------------------------------------------------- control
    def pause(self, run_id: str, starter: Starter | None = None) -> None:
        """Pause a training run before its next batch.

        A run trained outside this queue (the command line, another process) is asked through
        the store and pauses within about a second.

        Raises:
            NotYoursError: ``starter`` is not the session that started the run.
        """
        check_may_steer(self.store.get(run_id), starter, _("pause"))
        control = self.control(run_id)
        if control is None and not self._trained_outside(run_id):
            record = self.store.get(run_id)
            raise RunStateError("Run '{name}' is {status}; only a training run can be paused.",
                                name=record.name, status=record.status)
        if not self.store.set_status(run_id, RunStatus.PAUSED, N_("Paused by you. Resume to continue."),
                                     expected=(RunStatus.RUNNING,)):
            record = self.store.get(run_id)
            raise RunStateError("Run '{name}' is {status}; only a training run can be paused.",
                                name=record.name, status=record.status)
        if control is not None:
            control.pause()

    def resume_paused(self, run_id: str, starter: Starter | None = None) -> None:
        """Continue a paused run (``starter``: as for :meth:`pause`)."""
        check_may_steer(self.store.get(run_id), starter, _("continue"))
        control = self.control(run_id)
        if control is None and not self._trained_outside(run_id):
            record = self.store.get(run_id)
            raise RunStateError("Run '{name}' is {status}, not paused.",
                                name=record.name, status=record.status)
        if not self.store.set_status(run_id, RunStatus.RUNNING, "", expected=(RunStatus.PAUSED,)):
            record = self.store.get(run_id)
            raise RunStateError("Run '{name}' is {status}, not paused.",
                                name=record.name, status=record.status)
        if control is not None:
            control.resume()

    def _trained_outside(self, run_id: str) -> bool:
        """Whether a live process trains the run without this queue (the command line, or
        ``run_training`` called directly); such runs obey requests written to the store."""
        with self._cond:
            if run_id in self._active or run_id in self._pending:
                return False
        record = self.store.get(run_id)
        return (record.status in (RunStatus.RUNNING, RunStatus.PAUSED)
                and owner_alive(record.owner))

    def stop(self, run_id: str, starter: Starter | None = None) -> None:
        """Stop a run: a waiting run leaves the queue (status ``stopped``); a training run stops
        after its current batch, keeps its finished epochs and saves its model and predictions.

        A run trained by another live process (e.g. the command line) is asked to stop through
        the store; that process notices within about a second.

        Raises:
            NotYoursError: ``starter`` (a browser session) did not start the run: a student
                stops their own runs, never another's.
        """
        check_may_steer(self.store.get(run_id), starter, _("stop"))
        with self._cond:
            if run_id in self._pending:
                self._pending.remove(run_id)
                self._owners.pop(run_id, None)
                self.store.set_status(run_id, RunStatus.STOPPED, N_("Stopped before it started."),
                                      expected=(RunStatus.QUEUED,))
                self._cond.notify_all()
                return
            control = self._active.get(run_id)
        if control is not None:
            self.store.set_status(run_id, RunStatus.STOPPING, N_("Stopping after the current batch…"),
                                  expected=STEERABLE_STATUSES)
            control.request_stop()
            return
        record = self.store.get(run_id)
        if self._trained_outside(run_id):
            self.store.set_status(run_id, RunStatus.STOPPING, N_("Stopping after the current batch…"),
                                  expected=(RunStatus.RUNNING, RunStatus.PAUSED))
            return
        if record.status in ACTIVE_STATUSES:
            self.store.mark_interrupted()
            return
        raise RunStateError("Run '{name}' is {status}; there is nothing to stop.",
                            name=record.name, status=record.status)


_queues: dict[Path, JobQueue] = {}
_queues_lock = threading.Lock()


def get_job_queue(workspace: Path | str | None = None) -> JobQueue:
    """The process-wide job queue of ``workspace`` (created on first use)."""
    path = workspace_path(workspace)
    with _queues_lock:
        queue = _queues.get(path)
        if queue is None:
            queue = _queues[path] = JobQueue(path)
        return queue


__all__ = ["JobQueue", "WORKER_MODULES", "get_job_queue"]
