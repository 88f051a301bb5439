# Switching on igb: napi-threaded, then interrupts over it, then roll back twice: the first
# rollback returns to napi-threaded's state, the second to the state before both. Only where
# threaded busy-poll exists (6.19+; before, 03-seed-002 checks that napi-threaded is refused).
. "${0%/*}/lib.sh"
scenario_start
if [ $busy_poll_kernel = yes ]; then
  original=$(state)
  run 0 bpstune apply napi-threaded -i $IF --skip-unsupported
  threaded_state=$(state)
  run 0 bpstune apply interrupts -i $IF --skip-unsupported
  expect "no kthread after switching to interrupts" "" "$(napi-dump $IF | awk '$1 == "napi" && $6 != "-"')"
  run 0 bpstune rollback
  expect "napi-threaded state after the first rollback" "$threaded_state" "$(state)"
  run 0 bpstune rollback
  expect "original state after the second rollback" "$original" "$(state)"
  finish "switch napi-threaded -> interrupts, rollback twice"
else
  skip "threaded busy-poll needs Linux 6.19+"
fi
scenario_end
