#!/bin/sh
# Entrypoint of the ollama/ollama container on the GPU task: serve, pull the configured model,
# load it onto the GPU, then mark the container ready for its health check and wait on the server.
# The ECS task passes this file's text to `sh -c` (infra/stacks/llm-stack.ts), so the public image
# runs unmodified. OLLAMA_MODEL is required: serving "some other model" would be a silent fallback.
set -eu

# Variables are written without braces: the script travels inside a CloudFormation string, whose
# linter reads dollar-brace as an Fn::Sub placeholder.
model=$(printenv OLLAMA_MODEL || true)
if [ -z "$model" ]; then
  echo "OLLAMA_MODEL must name the model to serve, e.g. phi3:3.8b" >&2
  exit 1
fi
ready_file=$(printenv OLLAMA_READY_FILE || echo /tmp/ollama-model-ready)
rm -f "$ready_file"

ollama serve &
server_pid=$!
trap 'kill -TERM "$server_pid" 2>/dev/null; wait "$server_pid"; exit 0' TERM INT

tries=0
until ollama list >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 120 ]; then
    echo "ollama serve did not answer within 120 s" >&2
    exit 1
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "ollama serve exited before answering" >&2
    exit 1
  fi
  sleep 1
done

echo "pulling $model"
ollama pull "$model"
# one short generation loads the weights onto the GPU (OLLAMA_KEEP_ALIVE keeps them there),
# so the first validation does not pay the load
ollama run "$model" "Reply with OK." </dev/null >/dev/null
touch "$ready_file"
echo "model $model ready"

wait "$server_pid"
