#!/usr/bin/env bash
# Runs schemathesis against /api/v2/openapi.json of a real server with seeded data and a
# valid API key: any 5xx answer, or any answer the document does not allow, fails the run.
# Usage: scripts/api-conformance.sh <enclave binary> <schemathesis `st` binary>
set -euo pipefail
ENCLAVE="${1:?path to the enclave binary}"
ST="${2:?path to schemathesis st}"
PORT="${CONFORMANCE_PORT:-3200}"
WORK="target/conformance"
rm -rf "$WORK" && mkdir -p "$WORK"
export DATABASE_URL="sqlite://$WORK/enclave.db" ENCLAVE_LOG=warn

"$ENCLAVE" migrate

org=$("$ENCLAVE" org create --name "Conformance" --plan scale)
"$ENCLAVE" user create --email admin@conformance.test --no-password >/dev/null
"$ENCLAVE" org add-member --org "$org" --email admin@conformance.test --role admin >/dev/null
project=$("$ENCLAVE" project create --org "$org" --name web --region aws-us-east-2 | cut -d' ' -f1)
key=$("$ENCLAVE" api-key create --user admin@conformance.test --name schemathesis)

"$ENCLAVE" serve --addr "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

# Real ids for the path parameters, so operations are exercised beyond "not found".
cat >"$WORK/schemathesis.toml" <<TOML
[parameters]
org_id = "$org"
project_id = "$project"
region_id = "aws-us-east-2"
TOML

"$ST" --config-file "$WORK/schemathesis.toml" run "http://127.0.0.1:$PORT/api/v2/openapi.json" \
  --url "http://127.0.0.1:$PORT/api/v2" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "${CONFORMANCE_EXAMPLES:-40}" \
  --seed 1 \
  --no-color
