"""The steps of terminations, watches and sweeps: thin activities over the Genesys client (and Temporal's)."""

from .sweep import SweepActivities
from .termination import TerminationActivities
from .watch import WatchActivities

__all__ = ["SweepActivities", "TerminationActivities", "WatchActivities"]
