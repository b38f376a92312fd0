# Sourced by scripts/test and scripts/cold-start: installs the pinned moto server
# into .venv (tests/requirements.txt) if needed, starts it on a free loopback port,
# points the AWS SDK at it and stops it when the calling script exits.
# Needs ROOT (the repository) and a log() function.

VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/moto_server" ] || ! cmp -s tests/requirements.txt "$VENV/.requirements"; then
  log "installing moto and schemathesis into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt
  cp tests/requirements.txt "$VENV/.requirements"
fi

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
MOTO_LOG="$ROOT/.venv/moto.log"
mkdir -p "$VENV"
# One request at a time: see scripts/moto_serial.py for why.
"$VENV/bin/python" scripts/moto_serial.py 127.0.0.1 "$PORT" >"$MOTO_LOG" 2>&1 &
MOTO_PID=$!
cleanup() { kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; }
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then echo "moto failed to start:"; cat "$MOTO_LOG"; exit 1; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null || { echo "moto did not answer on port $PORT"; exit 1; }
log "moto listening on 127.0.0.1:$PORT"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-north-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_EC2_METADATA_DISABLED=true
export MOTO_URL="$AWS_ENDPOINT_URL"
