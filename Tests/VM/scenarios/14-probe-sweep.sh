# bpstune probe sweep on the virtio-net probe pair (vm-test adds it on the first kernel): the
# napi-busy-poll profile with its device-level IRQ deferral varied, 0 and 100, two repeats each
# in an order drawn from a fixed seed, every candidate applied, measured and rolled back.
# Asserted: what is deterministic here: queue IRQs per round trip fall with deferral (QEMU's
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
  --peer $PEER --workload 0:0 --repeat 2 --seed 11 --duration 3 --warmup 0.3 --settle 0.5 --cpu 1 \
  --plot /tmp/sweep.svg --write /tmp/sweep-chosen.profile > /tmp/sweep.out 2> /tmp/sweep.err
status=$?
sed 's/^/VMTEST probe-table /' /tmp/sweep.out
[ $status = 0 ] || fail "probe sweep exited $status: $(tail -3 /tmp/sweep.err | tr '\n' ' ')"
expect "state after probe sweep" "$before" "$(IF=$CIF; state)"
# irq/rt of a candidate's row ("| napi-defer-hard-irqs=0 | p99 ...; irq/rt 1.96; ... |")
irqs() { awk -F'|' -v c="napi-defer-hard-irqs=$1" 'index($2, " " c) == 1 {
  n = split($3, parts, ";"); for (i = 1; i <= n; i++) if (parts[i] ~ /irq\/rt/) { sub(/.*irq\/rt /, "", parts[i]); print parts[i] + 0; exit } }' /tmp/sweep.out; }
off=$(irqs 0)
on=$(irqs 100)
# Deferral alone (busy_read 400 in both) takes fewer away than compare's interrupts-to-
# napi-busy-poll step (7.2.13 on a loaded host: 1.43 -> 1.23): asserted falling, the ratio recorded.
echo "$off $on" | awk '{ exit !($1 > 0 && $2 < $1) }' ||
  fail "queue IRQs per round trip with deferral 100 ($on) are not below those without ($off)"
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
finish "probe sweep napi-busy-poll on virtio_net ($CIF): queue IRQs per round trip $off without deferral, $on with 100 (falling, asserted); order $order"
rm -f /tmp/sweep-chosen.profile
scenario_end
