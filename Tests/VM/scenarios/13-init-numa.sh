# vm-guest: numa
# `bpstune init` on a NUMA host: vm-test's NUMA guest has two nodes (node 0 CPUs 0-1, node 1
# CPUs 2-3) and its only igb NIC behind a PCI Express expander bridge on node 1. First the
# guest's topology (so that a set-up failure is named as one); then init writes the profile
# (mode 0644, refused again without --force, read-only on the host), its JSON layout puts the
# poll and app CPUs on node 1, and the profile is linted, diffed, applied (--skip-unsupported
# only when diff lists a setting the guest cannot take: SMT control, which a VM without SMT
# lacks), checked setting by setting with cat, ethtool, chrt, taskset and napi-dump, verified
# ([cmdline] needs a reboot for exactly the parameters this boot lacks: vm-test boots the guest
# with rcu_nocbs=2-3 and without the others) and rolled back to the start.
. "${0%/*}/lib.sh"
scenario_start
NODE0=/sys/devices/system/node/node0
NODE1=/sys/devices/system/node/node1

# --- CPU lists (the kernel's syntax: "2", "2-3", "0,2-3") ---------------------------------------
cpu_set() { # LIST -> its CPUs, one a line, in order
  echo "$1" | tr ',' '\n' | awk -F- 'NF { lo = $1 + 0; hi = (NF > 1 ? $2 : $1) + 0; for (c = lo; c <= hi; c++) print c }' | sort -n
}
has_cpu() { cpu_set "$2" | grep -qx "$1"; } # CPU LIST
subset() { # A B: every CPU of A is in B
  for c in $(cpu_set "$1"); do has_cpu "$c" "$2" || return 1; done
}
disjoint() { # A B
  for c in $(cpu_set "$1"); do ! has_cpu "$c" "$2" || return 1; done
}
same_cpus() { [ "$(cpu_set "$1")" = "$(cpu_set "$2")" ]; }
mask() { sed 's/^[0,]*//' "$@"; } # a CPU mask as cat shows it, without leading zeros and commas

# --- bpstune's JSON, read with awk (no jq in the guest); pretty-printed, one key a line ----------
run_to() { # FILE EXPECTED-EXIT|any COMMAND...: run's check, the command's stdout kept in FILE
  file=$1 want=$2; shift 2
  "$@" > "$file" 2> /tmp/run-stderr; got=$?
  [ "$want" = any ] || [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $(tail -3 /tmp/run-stderr | tr '\n' ' ')"
}
layout() { # FIELD -> the string FIELD of init's JSON "layout" object (/tmp/init.json)
  awk '!on && /"layout" *: *\{/ { on = 1; depth = 1; next }
    on { depth += gsub(/\{/, "{") - gsub(/\}/, "}"); if (depth <= 0) exit; if (depth == 1) print }' /tmp/init.json |
    sed -n "s/^ *\"$1\" *: *\"\([^\"]*\)\".*/\1/p"
}
settings_of() { # JSON-FILE -> "kind|interface|queue|key|kernel_desired|status" per setting
  awk '/^ *"(kind|interface|queue|key|kernel_desired|status)" *: *"/ {
      name = $0; sub(/^ *"/, "", name); sub(/".*/, "", name)
      value = $0; sub(/^ *"[^"]*" *: *"/, "", value); sub(/",? *$/, "", value); f[name] = value; next }
    /^ *},? *$/ { if (f["kind"] != "") print f["kind"] "|" f["interface"] "|" f["queue"] "|" f["key"] "|" f["kernel_desired"] "|" f["status"]
      for (k in f) delete f[k] }' "$1"
}
param_cpus() { # a boot parameter's value -> its CPU list (isolcpus=domain,managed_irq,2-3 -> 2-3)
  echo "${1#*=}" | tr ',' '\n' | grep -v '[a-z]' | paste -sd, -
}

# --- The guest's topology, as vm-test's numa_guest should have made it --------------------------
expect "igb $IF numa_node" 1 "$(cat /sys/class/net/$IF/device/numa_node)"
expect "igb $IF local_cpulist" 2-3 "$(cat /sys/class/net/$IF/device/local_cpulist)"
expect "node0 cpulist" 0-1 "$(cat $NODE0/cpulist)"
expect "node1 cpulist" 2-3 "$(cat $NODE1/cpulist)"
expect "online CPUs" 0-3 "$(cat /sys/devices/system/cpu/online)"
if [ -n "$failed" ]; then
  finish "NUMA guest set-up (not bpstune: vm-test's QEMU options)"
  scenario_end
  exit 0
fi
finish "NUMA guest set-up: igb $IF on node 1 ($(readlink -f /sys/class/net/$IF/device | cut -d/ -f4-)), local CPUs 2-3, node 0 CPUs 0-1"
node1=$(cat $NODE1/cpulist)

# --- init writes the profile, and nothing on the host ---------------------------------------------
before=$(state)
rm -f /tmp/site.profile
run 0 bpstune init -i $IF --output /tmp/site.profile
expect "profile's mode, owner and group" "644 0 0" "$(stat -c '%a %u %g' /tmp/site.profile 2>&1)"
cp /tmp/site.profile /tmp/site.profile.first
run 2 bpstune init -i $IF --output /tmp/site.profile
cmp -s /tmp/site.profile /tmp/site.profile.first || fail "init without --force changed the existing file"
[ ! -e /tmp/site.profile ] || echo "# changed by the scenario" >> /tmp/site.profile
run 0 bpstune init -i $IF --output /tmp/site.profile --force
cmp -s /tmp/site.profile /tmp/site.profile.first || fail "init --force did not write the profile anew: $(diff /tmp/site.profile.first /tmp/site.profile | tail -3 | tr '\n' ' ')"
run_to /tmp/site.stdout 0 bpstune init -i $IF
cmp -s /tmp/site.stdout /tmp/site.profile || fail "init's stdout differs from its --output file"
expect "state after four inits (read-only)" "$before" "$(state)"
finish "init --output: written 0644 root:root, refused again without --force (exit 2, file unchanged), written anew with --force, the same as on stdout; the host unchanged"
sed 's/^/init-numa profile: /' /tmp/site.profile # on the console, not counted
if [ ! -s /tmp/site.profile ]; then
  echo "VMTEST fail $SCENARIO: init wrote no profile; layout, apply, verify and rollback not run"
  scenario_end
  exit 0
fi

# --- init's layout: poll and app CPUs on node 1 ---------------------------------------------------
run_to /tmp/init.json 0 bpstune init -i $IF --format json
poll=$(layout poll_cpus) app=$(layout app_cpus) irq=$(layout irq_cpus) hk=$(layout housekeeping_cpus) base=$(layout base)
layout_line="base '$base', poll '$poll', app '$app', irq '$irq', housekeeping '$hk'"
[ -n "$poll" ] || fail "no poll_cpus in the layout"
[ -n "$app" ] || fail "no app_cpus in the layout"
[ -n "$irq" ] || fail "no irq_cpus in the layout"
[ -n "$base" ] || fail "no base in the layout"
disjoint "$poll" "$app" || fail "poll CPUs $poll and app CPUs $app overlap"
subset "$poll" "$node1" || fail "poll CPUs $poll are not on node 1 ($node1)"
subset "$app" "$node1" || fail "app CPUs $app are not on node 1 ($node1)"
subset "$irq" "$node1" || fail "irq CPUs $irq are not on node 1 ($node1)"
has_cpu 0 "$hk" || fail "housekeeping CPUs $hk lack CPU 0"
grep -q "$base" /tmp/site.profile || fail "the profile does not name its base $base"
[ -z "$failed" ] || fail "layout: $layout_line; JSON: $(tr -d '\n' < /tmp/init.json | tr -s ' ' | cut -c1-600)"
finish "init layout on node 1 ($node1): $layout_line"

# --- lint and diff -------------------------------------------------------------------------------------
run 0 bpstune lint /tmp/site.profile
run_to /tmp/diff.json 1 bpstune diff /tmp/site.profile --format json
settings_of /tmp/diff.json > /tmp/plan
sed 's/^/init-numa plan: /' /tmp/plan # on the console, not counted
grep -q "^irq|$IF|" /tmp/plan || fail "diff has no queue IRQ affinity of $IF"
unsupported=$(awk -F'|' '$6 == "unsupported" { printf "%s%s%s%s%s%s", sep, $2, ($2 == "" ? "" : " "), $3, ($3 == "" ? "" : " "), $4; sep = ", " }' /tmp/plan)
skip_unsupported=""
[ -z "$unsupported" ] || skip_unsupported=--skip-unsupported
finish "lint exits 0; diff exits 1 with $(wc -l < /tmp/plan) settings ($(grep -c '|change$' /tmp/plan) to change, $(grep -c '|needs-reboot$' /tmp/plan) needing a reboot, unsupported: ${unsupported:-none})"

# --- apply, then every setting of the plan read back independently ---------------------------------
run 0 bpstune apply /tmp/site.profile $skip_unsupported
checked=0
napi_of() { # QUEUE (rx-0) -> the id of its NAPI
  napi-dump $IF | awk -v t="${1%-*}" -v n="${1##*-}" '$1 == "queue" && $2 == t && $3 == n { print $5 }'
}
napi_field() { # NAPI-ID FIELD
  napi-dump $IF | awk -v id="$1" -v f="$2" '$1 == "napi" && $2 == id { for (i = 3; i < NF; i += 2) if ($i == f) print $(i + 1) }'
}
while IFS='|' read -r kind iface queue key desired status; do
  [ "$status" != unsupported ] || continue
  name="$kind${iface:+ $iface}${queue:+ $queue} $key"
  case $kind in
    sysctl) expect "$name" "$desired" "$(cat /proc/sys/$(echo $key | tr . /))" ;;
    sysfs)
      [ -e /sys/$key ] || { fail "$name: no /sys/$key"; continue; }
      expect "$name" "$(echo "$desired" | mask)" "$(mask /sys/$key)" ;;
    netdev)
      file=/sys/class/net/$iface${queue:+/queues/$queue}/$(echo $key | tr - _)
      # A queue of the plan that the new channel count removed (the plan was made before)
      if [ -n "$queue" ] && [ ! -d /sys/class/net/$iface/queues/$queue ]; then gone="${gone:-}${gone:+ }$queue"; continue; fi
      [ -e $file ] || { fail "$name: no $file"; continue; }
      case $key in
        rps-cpus) expect "$name" "$(echo "$desired" | mask)" "$(mask $file)" ;;
        *) expect "$name" "$desired" "$(cat $file)" ;;
      esac ;;
    irq) # one per queue IRQ as the plan found them (eth0-rx-0, ...): a new channel count
      # re-creates them (eth0-TxRx-0), so the IRQs there are now are read once, after the loop
      [ -n "$iface" ] || { fail "$name: not read here"; continue; }
      irq_lists="${irq_lists:-}${irq_lists:+ }$desired"
      continue ;;
    channels)
      for pair in $desired; do
        case ${pair%=*} in # ethtool -l's RX:, TX:, Other:, Combined:
          rx | tx) field=$(echo "${pair%=*}" | tr a-z A-Z): ;;
          *) field=$(echo "${pair%=*}" | awk '{ print toupper(substr($0, 1, 1)) substr($0, 2) ":" }') ;;
        esac
        expect "$name ${pair%=*}" "${pair#*=}" "$(ethtool -l $IF | awk -v f="$field" '/^Current/ { c = 1 } c && $1 == f { print $2 }')"
      done ;;
    ring)
      for pair in $desired; do
        field=$(echo "${pair%=*}" | tr a-z A-Z):
        expect "$name ${pair%=*}" "${pair#*=}" "$(ethtool -g $IF | awk -v f="$field" '/^Current/ { c = 1 } c && $1 == f { print $2 }')"
      done ;;
    coalesce)
      for pair in $desired; do
        case ${pair%=*} in
          adaptive-rx) value=$(ethtool -c $IF | awk '$1 == "Adaptive" && $2 == "RX:" { print $3 }') ;;
          adaptive-tx) value=$(ethtool -c $IF | awk '$1 == "Adaptive" { for (i = 1; i < NF; i++) if ($i == "TX:") print $(i + 1) }') ;;
          *) value=$(ethtool_value -c ${pair%=*}) ;;
        esac
        # A driver without adaptive coalescing (igb) has it off; ethtool shows n/a for it.
        case ${pair%=*}:$value in adaptive-*:n/a) value=off ;; esac
        expect "$name ${pair%=*}" "${pair#*=}" "$value"
      done ;;
    napi)
      ids=$([ -n "$queue" ] && napi_of $queue || napi-dump $IF | awk '$1 == "napi" { print $2 }')
      [ -n "$ids" ] || fail "$name: no NAPI"
      for id in $ids; do
        value=$(napi_field $id $key)
        case $key in threaded) value=$(echo "$value" | sed 's/^0$/disabled/; s/^1$/enabled/; s/^2$/busy-poll/') ;; esac
        expect "$name (NAPI $id)" "$desired" "$value"
      done ;;
    kthread)
      pid=$(napi_field "$(napi_of $queue)" pid)
      if [ -z "$pid" ] || [ "$pid" = - ]; then fail "$name: no kthread for $queue"; continue; fi
      policy=$(echo "$desired" | sed -n 's/.*policy=\([^ ]*\).*/\1/p' | tr a-z A-Z)
      priority=$(echo "$desired" | sed -n 's/.*priority=\([^ ]*\).*/\1/p')
      cpus=$(echo "$desired" | sed -n 's/.*cpus=\([^ ]*\).*/\1/p')
      [ -z "$policy" ] || chrt -p $pid | grep -q "policy: SCHED_$policy" || fail "kthread $pid is not SCHED_$policy: $(chrt -p $pid | tr '\n' ' ')"
      [ -z "$priority" ] || chrt -p $pid | grep -q "priority: $priority\$" || fail "kthread $pid's priority is not $priority"
      list=$(taskset -pc $pid | awk -F': ' '{ print $2 }')
      [ -z "$cpus" ] || same_cpus "$list" "$cpus" || fail "kthread $pid on CPUs $list, the profile says $cpus"
      same_cpus "$list" "$poll" || fail "kthread $pid on CPUs $list, init's poll_cpus are $poll"
      kthreads="${kthreads:-}${kthreads:+, }$queue: pid $pid $(chrt -p $pid | awk -F': ' 'NR == 1 { p = $2 } NR == 2 { print p, $2 }') on CPU $list" ;;
    cmdline) continue ;; # verify's, below: never written at run time
    *) fail "$name: kind $kind not read here"; continue ;;
  esac
  checked=$((checked + 1))
done < /tmp/plan
n=0
for q in $(queue_irqs | awk '{ print $1 }'); do
  list=$(cat /proc/irq/$q/smp_affinity_list)
  for want in ${irq_lists:-}; do
    same_cpus "$list" "$want" || fail "IRQ $q of $IF on $list, the profile says $want"
  done
  same_cpus "$list" "$irq" || fail "IRQ $q of $IF on $list, init's irq_cpus are $irq"
  subset "$list" "$node1" || fail "IRQ $q of $IF on $list, not on node 1"
  n=$((n + 1))
done
[ $n -gt 0 ] || fail "$IF has no queue IRQs"
[ -n "${irq_lists:-}" ] || fail "the plan has no queue IRQ affinity"
if [ "$busy_poll_kernel" = yes ] && [ -z "${kthreads:-}" ]; then
  fail "threaded busy-poll exists on this kernel but no kthread was checked"
fi
finish "apply${skip_unsupported:+ $skip_unsupported (unsupported here: $unsupported)}: $checked settings read back with cat, ethtool, chrt, taskset and napi-dump${gone:+ (those of $gone: gone with the channels)}; $n queue IRQs on $irq; busy-poll kthreads: ${kthreads:-none (before 6.19)}"

# --- verify: everything but [cmdline] passes; [cmdline] needs a reboot for what this boot lacks -------
run_to /tmp/verify.json any bpstune verify /tmp/site.profile --format json --ignore-unsupported
verify_exit=$got
settings_of /tmp/verify.json > /tmp/verified
reboot=0
params=""
onboot=""
while IFS='|' read -r kind iface queue key desired status; do
  name="$kind${iface:+ $iface}${queue:+ $queue} $key"
  if [ "$kind" = cmdline ]; then
    params="$params $desired"
    if [ -z "$desired" ]; then # must be absent
      want=ok
      tr ' ' '\n' < /proc/cmdline | grep -q "^$key\(=\|\$\)" && want=needs-reboot
    elif tr ' ' '\n' < /proc/cmdline | grep -qxF -- "$desired"; then want=ok
    else want=needs-reboot
    fi
    if [ $want = ok ]; then onboot="$onboot $key"; else reboot=$((reboot + 1)); fi
  elif grep -qxF "$kind|$iface|$queue|$key|$desired|unsupported" /tmp/plan; then want=unsupported
  else want=ok
  fi
  expect "verify: $name" "$want" "$status"
done < /tmp/verified
[ -s /tmp/verified ] || fail "verify listed no settings: $(tail -3 /tmp/run-stderr | tr '\n' ' ')"
expect "verify's exit" "$([ $reboot -gt 0 ] && echo 1 || echo 0)" "$verify_exit"
for p in isolcpus nohz_full rcu_nocbs; do # the poll and app CPUs, as docs/init.md says
  value=$(awk -F'|' -v p=$p '$1 == "cmdline" && $4 == p { print $5 }' /tmp/verified)
  [ -n "$value" ] || { fail "no [cmdline] $p in the profile"; continue; }
  subset "$poll,$app" "$(param_cpus "$value")" || fail "$value lacks some of the poll and app CPUs $poll,$app"
done
finish "verify --ignore-unsupported exits $verify_exit: $(grep -vc '^cmdline|' /tmp/verified) settings ok (or unsupported as in diff); [cmdline]$params: $reboot need a reboot, ok:${onboot:- none} (on /proc/cmdline)"

# --- rollback -----------------------------------------------------------------------------------------
run 0 bpstune rollback
expect "state after rollback" "$before" "$(state)"
finish "rollback: the state before init and apply"
scenario_end
