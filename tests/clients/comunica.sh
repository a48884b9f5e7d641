#!/usr/bin/env bash
# The Comunica command-line client against a running claimgraph server.
# Usage: comunica.sh ENDPOINT_URL   (expects the data written by python_clients.py)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
endpoint=$1
bin="$here/node_modules/.bin/comunica-sparql"
out=$("$bin" "sparql@$endpoint" -t 'application/sparql-results+json' \
  'SELECT ?o WHERE { GRAPH <http://example.org/clients> { <http://example.org/s> <http://example.org/p> ?o } }')
echo "$out"
grep -q 'café €' <<<"$out"
out=$("$bin" "sparql@$endpoint" 'ASK { GRAPH <http://example.org/clients> { ?s ?p ?o } }')
echo "$out"
grep -q 'true' <<<"$out"
echo "comunica: ok"
