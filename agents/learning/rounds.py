"""When the trainer's rounds happen, and which model acts on attempt i.

Under the **lockstep** schedule (the default) the rounds are fixed by the config alone:

* round r (r = 1, 2, ...) trains on exactly the first ``n_r = min_attempts + (r - 1)
  min_new_attempts`` attempts, continuing from round r - 1's weights;
* its model acts on the attempts from ``n_r + lag`` on, until the next round's model takes
  over. While round r trains, the actor collects those ``lag`` attempts with the previous
  model; it waits only when round r's model is not ready by attempt ``n_r + lag``.

So the model of every attempt, and with the seeded scenes and selections every record and
every weight, is a function of the config and seed: two runs of one config give the same
digests, however fast the machine is and whether or not the run was killed and resumed.

Under the **timed** schedule a round starts once ``min_new_attempts`` new attempts have come
and trains on all there are, and the actor takes the newest model before each grasp: the
robot never waits, at the price of a run that depends on timing.

Model versions count from 1 in the order the trainer writes them; a run that starts from
``init_model`` has that model as version 1, so round r writes version r + 1.
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.learning.config import LearnConfig


@dataclass(frozen=True)
class RoundSchedule:
    """The lockstep rounds of one config.

    Attributes:
        first: attempts the first round trains on.
        every: attempts between rounds.
        lag: attempts a round's model trails its data.
        offset: the version of the model before the first round (1 with an init model, else
            0: no model).
    """

    first: int
    every: int
    lag: int
    offset: int

    @classmethod
    def of(cls, config: LearnConfig) -> RoundSchedule:
        """The schedule of ``config``."""
        tc = config.trainer
        offset = 1 if config.init_model else 0
        return cls(tc.min_attempts, tc.min_new_attempts, tc.lag, offset)

    def attempts_of(self, round_: int) -> int:
        """n_r: the attempts round ``round_`` (>= 1) trains on."""
        return self.first + (round_ - 1) * self.every

    def rounds_within(self, attempts: int) -> int:
        """How many rounds train on at most ``attempts`` attempts (0 before the first)."""
        if attempts < self.first:
            return 0
        return (attempts - self.first) // self.every + 1

    def version_of_round(self, round_: int) -> int:
        """The model version round ``round_`` writes (round 0: the model before any round)."""
        return round_ + self.offset

    def round_of_version(self, version: int) -> int:
        """The round that wrote ``version``."""
        return version - self.offset

    def acting_version(self, attempt: int) -> int:
        """The model version that acts on attempt ``attempt`` (0: none yet)."""
        return self.version_of_round(self.rounds_within(attempt - self.lag))

    def final_version(self, target_attempts: int) -> int:
        """The last version of a run of ``target_attempts``: trained on at most that many."""
        return self.version_of_round(self.rounds_within(target_attempts))


__all__ = ["RoundSchedule"]
