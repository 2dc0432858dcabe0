#!/usr/bin/env bash
# Run the main demo as CI does and check its claims and its restore line.
set -uo pipefail
out=$(npm run -s demo 2>&1); rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "check-demo: demo exited $rc"; exit 1; }
ok=1
grep -Eq '^ *net\.ipv4\.tcp_congestion_control .*inherited from host$' <<<"$out" || { echo "check-demo: congestion control not inherited"; ok=0; }
for k in time intvl probes; do
  grep -Eq "^ *net\.ipv4\.tcp_keepalive_$k .*reset to kernel default$" <<<"$out" || { echo "check-demo: keepalive_$k not reset"; ok=0; }
done
grep -Eq '^Host restored: ([0-9]+) key\(s\) changed, \1 restored\.' <<<"$out" || { echo "check-demo: host not fully restored"; ok=0; }
[ $ok -eq 1 ]
