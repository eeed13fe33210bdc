# A closer worker: serves the TerminateConversation workflow and its steps on a Temporal task queue.
# Configured entirely by the environment (TEMPORAL_*, CLOSER_*, GENESYSCLOUD_*; see the README).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md worker.py ./
COPY closer closer
COPY workflows workflows
COPY activities activities
COPY genesys genesys
COPY emulator emulator
RUN pip install . \
    && useradd --create-home --uid 10001 closer

USER closer
# On SIGTERM (docker stop) running steps get 15 s to finish: stop with a longer grace period.
CMD ["python", "worker.py"]
