"""The steps of a termination: thin activities over the Genesys client."""

from .termination import TerminationActivities

__all__ = ["TerminationActivities"]
