"""The data converter closer's clients and workers speak: Temporal's pydantic converter, its
encoders built once a process instead of once a workflow run."""

from __future__ import annotations

from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import CompositePayloadConverter, DataConverter


class SharedPydanticPayloadConverter(CompositePayloadConverter):
    """``PydanticPayloadConverter`` with one set of encoders for the whole process.

    The SDK builds a payload converter for every workflow instance: each run a worker keeps in its
    cache, and each replay of one beyond it. Pydantic's JSON encoder keeps its own cache of type
    adapters, so every instance built the adapters for its input, update, activity and result
    types again, and held them and a serializer of its own as long as the run stayed cached
    (measured with ``tracemalloc``, 300 cached watches: 31.2 -> 28.6 KiB of Python heap a watch).
    The encoders hold nothing else, and that cache is a ``functools.lru_cache``, safe to share
    between the worker's threads. The types it is keyed by are the same objects in every run: the
    model modules are passed through the sandbox (workflows/sandbox.py;
    ``test_sandboxed_runs_share_the_workers_pydantic_encoders``).
    """

    _encoders = tuple(PydanticPayloadConverter().converters.values())

    def __init__(self) -> None:
        super().__init__(*self._encoders)


data_converter = DataConverter(payload_converter_class=SharedPydanticPayloadConverter)
