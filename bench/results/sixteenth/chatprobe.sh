#!/usr/bin/env bash
# chatprobe.sh: every 2 s GET /v1/chats on edge-0 (port 8180) as a user with no chats; prints time, status, seconds
tok=""
while [ -z "$tok" ]; do tok=$(curl -s -X POST -H 'content-type: application/json' -d '{"userId":"probe","deviceId":"probe"}' http://127.0.0.1:8180/v1/dev/tokens 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' 2>/dev/null); sleep 1; done
while :; do echo "$(date +%T) $(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "authorization: Bearer $tok" http://127.0.0.1:8180/v1/chats)"; sleep 2; done
