# bpstune probe sweep on the virtio-net probe pair (vm-test adds it on the first kernel): the
# napi-busy-poll profile with its device-level IRQ deferral varied, 0 and 100, two repeats each
# in an order drawn from a fixed seed, every candidate applied, measured and rolled back.
# Asserted: what is deterministic here: paced queue IRQs per round trip fall with deferral (QEMU's
# virtio-net suppresses a virtqueue's notifications while the driver polls it), the table,
# JSON and chart are complete, the written profile lints and diffs, the host is restored.
# The latencies are recorded, not asserted: emulation says nothing about real latency.
. "${0%/*}/lib.sh"
scenario_start
if ! probe_pair_up 52:54:00:b9:00:03 52:54:00:b9:00:04 7; then
  skip "no virtio-net probe pair in this boot (vm-test adds it on the first kernel)"
  scenario_end
  exit 0
fi
before=$(IF=$CIF; state)
bpstune probe sweep napi-busy-poll --vary napi-defer-hard-irqs=0,100 -i "$CIF" --skip-unsupported \
  --peer $PEER --workload 0:0 --workload 1000:30 --repeat 2 --seed 11 --duration 3 --warmup 0.3 --settle 0.5 --cpu 1 \
  --plot /tmp/sweep.svg --write /tmp/sweep-chosen.profile > /tmp/sweep.out 2> /tmp/sweep.err
status=$?
sed 's/^/VMTEST probe-table /' /tmp/sweep.out
[ $status = 0 ] || fail "probe sweep exited $status: $(tail -3 /tmp/sweep.err | tr '\n' ' ')"
expect "state after probe sweep" "$before" "$(IF=$CIF; state)"
# irq/rt of a candidate's row in a workload's column ("| napi-defer-hard-irqs=0 | p99 ...; irq/rt 1.96; ... | ... |")
irqs() { # VALUE COLUMN (1: closed loop, 2: paced)
  awk -F'|' -v c="napi-defer-hard-irqs=$1" -v w=$(($2 + 2)) 'index($2, " " c) == 1 {
  n = split($w, parts, ";"); for (i = 1; i <= n; i++) if (parts[i] ~ /irq\/rt/) { sub(/.*irq\/rt /, "", parts[i]); print parts[i] + 0; exit } }' /tmp/sweep.out; }
off=$(irqs 0 1)
on=$(irqs 100 1)
paced_off=$(irqs 0 2)
paced_on=$(irqs 100 2)
# Closed loop, busy_read 400 in both catches most replies by polling, and deferral takes few
# IRQs away (7.2.13: 1.43 -> 1.23, 1.42 -> 1.17 on a loaded host, 1.07 -> 0.99 on a quiet one):
# recorded. Paced at 1k/s, the 1 ms between requests outlasts the 400 µs busy poll: without
# deferral each request takes an IRQ, with it the 100 x 15 µs of timer polling catch it (as
# compare's paced interrupts -> napi-busy-poll, 1.78 -> 0.88): asserted to fall to 0.75x.
echo "$paced_off $paced_on" | awk '{ exit !($1 > 0 && $2 <= 0.75 * $1) }' ||
  fail "paced queue IRQs per round trip with deferral 100 ($paced_on) are not at most 0.75x of those without ($paced_off)"
runs=$(grep -c "^probe sweep: repeat" /tmp/sweep.err)
expect "candidate runs" 4 "$runs"
grep -q "^chosen: " /tmp/sweep.out || fail "no decision in the table"
[ -s /tmp/sweep.svg ] && grep -q "<circle" /tmp/sweep.svg || fail "no chart"
# vm-test keeps the chart beside the console log (probe-sweep-RELEASE.svg)
sed 's/^/VMTEST sweep-svg /' /tmp/sweep.svg
run 0 bpstune lint /tmp/sweep-chosen.profile
out=$(bpstune diff /tmp/sweep-chosen.profile -i "$CIF" 2>&1); s=$?
[ $s -le 1 ] || fail "diff of the written profile exited $s: $(echo "$out" | tail -2 | tr '\n' ' ')"
# The same seed, the same order (the progress lines name each candidate in turn).
order=$(grep "^probe sweep: repeat" /tmp/sweep.err | sed 's/.*: //' | tr '\n' ';')
probe_pair_down 52:54:00:b9:00:04 7
finish "probe sweep napi-busy-poll on virtio_net ($CIF): queue IRQs per round trip without deferral and with 100: $off and $on closed loop, $paced_off and $paced_on paced at 1k/s (falling to 0.75x, asserted); order $order"
rm -f /tmp/sweep-chosen.profile
scenario_end
