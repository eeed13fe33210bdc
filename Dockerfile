# closer's image: the worker (the default command, `python worker.py`) and every `closer` command
# (`closer api`, `closer emulator`, `closer terminate`, ...). Configured entirely by the environment
# (TEMPORAL_*, CLOSER_*, GENESYSCLOUD_*; see the README). Runs as an unprivileged user (uid 10001).

# Build: the package and its runtime dependencies into a virtualenv; no dev extra (no tests, no
# Temporal dev server, no SDK oracle), no compiler (every dependency ships wheels).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/closer
WORKDIR /src
COPY pyproject.toml README.md worker.py ./
COPY closer closer
COPY workflows workflows
COPY activities activities
COPY genesys genesys
COPY emulator emulator
RUN /opt/closer/bin/pip install . \
    && /opt/closer/bin/pip uninstall --yes pip

# Run: the virtualenv alone on a fresh base image.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/closer/bin:$PATH
RUN groupadd --system --gid 10001 closer \
    && useradd --system --uid 10001 --gid closer --home-dir /app --no-create-home --shell /usr/sbin/nologin closer
COPY --from=build /opt/closer /opt/closer
WORKDIR /app
COPY worker.py ./
USER 10001:10001
# closer api (8788), closer emulator (8787).
EXPOSE 8788 8787
# On SIGTERM (docker stop) running steps get 15 s to finish: stop with a longer grace period.
CMD ["python", "worker.py"]
