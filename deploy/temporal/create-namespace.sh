#!/bin/sh
# Once the server answers: creates the namespace (if missing) and the search attributes closer's
# workflows upsert (those missing, from CLOSER_SEARCH_ATTRIBUTES: "Name=Type ..."). A workflow that
# upserts an attribute its namespace does not know hangs, so the closer worker starts only after
# this succeeded. Safe to run again.
set -eu

: "${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS}"
: "${CLOSER_SEARCH_ATTRIBUTES:?set CLOSER_SEARCH_ATTRIBUTES}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-7d}"

echo "waiting for Temporal at ${TEMPORAL_ADDRESS}"
attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 60 ] || { echo "Temporal at ${TEMPORAL_ADDRESS} never became healthy"; exit 1; }
  sleep 2
done

if temporal operator namespace describe --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace ${NAMESPACE}: already there"
else
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
  echo "namespace ${NAMESPACE}: created (retention ${RETENTION})"
fi

# A new namespace takes a moment to reach every frontend: list until it answers.
attempt=0
until known="$(temporal operator search-attribute list --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" 2>/dev/null)"; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 30 ] || { echo "cannot list the search attributes of ${NAMESPACE}"; exit 1; }
  sleep 2
done

for attribute in $CLOSER_SEARCH_ATTRIBUTES; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  if printf '%s\n' "$known" | grep -qw "$name"; then
    echo "search attribute ${name}: already there"
  else
    temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" --namespace "$NAMESPACE" --name "$name" --type "$type"
    echo "search attribute ${name} (${type}): created"
  fi
done
