"""The steps of a termination: thin activities over the Genesys client."""

from .termination import TerminationActivities
from .watch import WatchActivities

__all__ = ["TerminationActivities", "WatchActivities"]
