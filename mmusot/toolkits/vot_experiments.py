# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
"""VOT's supervised (reset) experiment for single-object TraX trackers.

The VOT2016-2019 short-term protocol (the numbers USOT reports for
VOT2016/2018, paper Table 1): the tracker starts on the ground truth; when
its region no longer overlaps the ground truth (overlap <=
``failure_overlap``, 0 by default) the frame is a failure and the tracker
is re-initialised ``skip_initialize`` (5) frames later. Its analyses are
accuracy / robustness and EAO (``supervised_average_ar``,
``supervised_eao_score``).

vot-toolkit 0.9.0 (PyPI) still drives that experiment with the runtime
interface of its 0.5 series (one ``ObjectStatus`` per call), which its own
TraX runtime rejects for single-object trackers ("Tracker does not
support multiple objects, but multiple objects were provided for
initialization"). :class:`SupervisedExperiment` is the toolkit's
experiment (same attributes, results and analyses: it subclasses it) with
the calls of the current interface: ``initialize(frame, [state])`` and
``update(frame, [])``, each returning the list of object states. A stack
selects it by class name (see ``tools/vot/sot_eval_stack.yaml``)::

    experiments:
      baseline:
        type: mmusot.toolkits.vot_experiments.SupervisedExperiment
        skip_initialize: 5

Importing this module needs the toolkit (optional extra ``vot``). The
toolkit's unsupervised experiment needs no fix.
"""

from typing import Callable, Optional

from vot.dataset import Sequence
from vot.experiment.multirun import (
    SupervisedExperiment as _ToolkitSupervisedExperiment,
)
from vot.region import Special, calculate_overlap
from vot.tracker import Tracker, Trajectory

#: Trajectory name of a repetition (``<sequence>_<rep:03d>``, as the
#: toolkit's multi-run experiments name them).
TRAJECTORY_NAME = '{sequence}_{repetition:03d}'


class SupervisedExperiment(_ToolkitSupervisedExperiment):
    """The supervised experiment, for single-object TraX trackers.

    Attributes (from the toolkit's experiment): ``repetitions``,
    ``early_stop`` (stop after 3 identical runs), ``skip_initialize``
    (frames skipped after a failure), ``skip_tags``, ``failure_overlap``.
    """

    def _run_once(self, runtime, sequence: Sequence) -> Trajectory:
        """One supervised run over ``sequence``.

        Returns:
            Trajectory: the initialisation marks, the tracker's regions,
            and the failure marks, with each frame's ``time``.
        """
        trajectory = Trajectory(len(sequence))
        frame = 0
        while frame < len(sequence):
            start = self._get_initialization(sequence, frame)
            _, elapsed = runtime.initialize(sequence.frame(frame), [start])
            trajectory.set(
                frame, Special(Trajectory.INITIALIZATION), {'time': elapsed}
            )
            frame += 1
            while frame < len(sequence):
                states, elapsed = runtime.update(sequence.frame(frame), [])
                if len(states) != 1:
                    raise RuntimeError(
                        f'sequence {sequence.name}, frame {frame}: the '
                        f'tracker returned {len(states)} objects, expected 1'
                    )
                region = states[0].region
                properties = dict(states[0].properties)
                properties['time'] = elapsed
                overlap = calculate_overlap(
                    region, sequence.groundtruth(frame), sequence.size
                )
                if overlap > self.failure_overlap:
                    trajectory.set(frame, region, properties)
                    frame += 1
                    continue
                trajectory.set(frame, Special(self.FAILURE), properties)
                frame = self._restart_frame(sequence, frame)
                break
        return trajectory

    def _restart_frame(self, sequence: Sequence, failure: int) -> int:
        """The frame to re-initialise on after a failure at ``failure``:
        ``skip_initialize`` frames later, past frames with a
        ``skip_tags`` tag."""
        frame = failure + self.skip_initialize
        while frame < len(sequence) and any(
            tag in self.skip_tags for tag in sequence.tags(frame)
        ):
            frame += 1
        return frame

    def execute(
        self,
        tracker: Tracker,
        sequence: Sequence,
        force: bool = False,
        callback: Optional[Callable] = None,
    ) -> None:
        """Run the repetitions that have no stored results yet.

        Args:
            tracker (vot.tracker.Tracker): the tracker.
            sequence (vot.dataset.Sequence): a single-object sequence.
            force (bool): rerun stored repetitions too. Defaults to False.
            callback (Callable, optional): called with the fraction done.

        Raises:
            ValueError: a sequence with several objects.
        """
        if len(sequence.objects()) != 1:
            raise ValueError(
                f'sequence {sequence.name}: the supervised experiment needs '
                f'one object, it has {len(sequence.objects())}'
            )
        results = self.results(tracker, sequence)
        with self._get_runtime(tracker, sequence) as runtime:
            for repetition in range(1, self.repetitions + 1):
                name = TRAJECTORY_NAME.format(
                    sequence=sequence.name, repetition=repetition
                )
                if Trajectory.exists(results, name) and not force:
                    continue
                if self._can_stop(tracker, sequence):
                    return
                self._run_once(runtime, sequence).write(results, name)
                if callback:
                    callback(repetition / self.repetitions)
