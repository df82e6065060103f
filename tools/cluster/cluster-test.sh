#!/bin/bash
# make cluster-test: a one-node Slurm from Debian's packages (munge,
# slurmctld, slurmd on localhost, installed when missing), an array job of 4
# shards of the demo network and batch (32 images) with a dependent merge
# job, in float32 and in float64, each merge checked against one unsharded
# run; then, when `make bench` has made the full-width VGG16 case in
# $BENCH, 4 shards of it (n=32) against one run, timed. The daemons run
# from $CLUSTER_DIR (default /tmp/spikegrad-cluster) with a slurm.conf and a
# munge key of their own, on ports of their own, and are stopped at the end;
# a second run starts afresh. Root, or sudo for apt-get and the daemons.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
work=${CLUSTER_DIR:-/tmp/spikegrad-cluster}
timeout=${CLUSTER_TIMEOUT:-900}
bench=${BENCH:-$HOME/.cache/spikegrad-bench}
ctldport=${CLUSTER_PORT:-16817}
GO=${GO:-go}
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
t0=$(date +%s)
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
log() { echo "cluster-test: [$(($(date +%s) - t0)) s] $*"; }
export SLURM_CONF=$work/slurm.conf

need=
for c in munged slurmctld slurmd sbatch squeue scontrol sinfo; do command -v $c >/dev/null || need=1; done
if [ -n "$need" ]; then
	log "installing Debian's slurm-wlm and munge"
	$SUDO apt-get update
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y slurm-wlm munge
fi
log "$(slurmctld -V), $(munged -V 2>&1 | awk '{print $1; exit}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# Stops the daemons this script started (an earlier run's too), by their
# pid files only.
stop() {
	for d in slurmd slurmctld munged; do
		f=$work/$d.pid
		[ -s "$f" ] || continue
		pid=$(cat "$f")
		if $SUDO kill "$pid" 2>/dev/null; then
			for _ in $(seq 50); do $SUDO kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
		fi
		rm -f "$f"
	done
}
stop
trap 'stop; log "daemons stopped"' EXIT
$SUDO rm -rf "$work"
mkdir -p "$work"/{munge,state,spool,logs,out}
chmod 700 "$work/munge"

# munge: a key of our own and a socket of our own.
head -c 1024 /dev/urandom > "$work/munge/munge.key"
chmod 400 "$work/munge/munge.key"
$SUDO munged --force --socket="$work/munge/munge.socket" --key-file="$work/munge/munge.key" \
	--pid-file="$work/munged.pid" --log-file="$work/logs/munged.log" --seed-file="$work/munge/munged.seed"
log "munged started (pid $(cat "$work/munged.pid"))"

cpus=$(nproc)
mem=$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')
cat > "$SLURM_CONF" <<CONF
ClusterName=spikegrad
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$ctldport
SlurmdPort=$((ctldport + 1))
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/logs/slurmctld.log
SlurmdLogFile=$work/logs/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
SwitchType=switch/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
ReturnToService=2
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -c
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -N localhost
log "slurmctld and slurmd started: one node, localhost, $cpus CPUs, ${mem} MB"
for i in $(seq 60); do
	st=$(sinfo -h -N -o %T 2>/dev/null || true)
	[ "$st" = idle ] && break
	sleep 1
done
if [ "$st" != idle ]; then
	log "the node is '$st', not idle, after 60 s"; tail -5 "$work"/logs/slurm*.log; exit 1
fi
log "node localhost idle: $(sinfo -h -o '%P %a %D %C')"

$GO build -o "$work/spikegrad" ./tools/spikegrad
$GO build -o "$work/samejson" ./tools/cluster/samejson
export SPIKEGRAD=$work/spikegrad

# waitjob ID: until the job has ended (bounded); fails unless COMPLETED.
waitjob() {
	local id=$1 state reason
	while :; do
		state=$(scontrol show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' ')
		reason=$(scontrol show job "$id" 2>/dev/null | grep -o 'Reason=[A-Za-z_]*' | head -1 | cut -d= -f2)
		case "$state" in
		"COMPLETED ") return 0 ;;
		*FAILED* | *CANCELLED* | *TIMEOUT* | *NODE_FAIL* | *OUT_OF_MEMORY* | *BOOT_FAIL* | *DEADLINE*)
			log "job $id ended $state"; return 1 ;;
		esac
		if [ "$reason" = DependencyNeverSatisfied ]; then log "job $id: a shard failed (DependencyNeverSatisfied)"; return 1; fi
		if [ $(($(date +%s) - t0)) -gt "$timeout" ]; then log "job $id still $state after ${timeout} s"; return 1; fi
		sleep 0.5
	done
}

# run NAME CPUS-PER-TASK FLAGS...: the array of 4 shards and the merge job;
# prints the seconds from the array's submission to the merge's end.
run() {
	local name=$1 cpt=$2
	shift 2
	local s0 jid mid
	s0=$(date +%s.%N)
	jid=$(sbatch --parsable --array=1-4 --cpus-per-task="$cpt" --chdir="$root" --output="$work/logs/$name-%A_%a.out" \
		tools/cluster/shard.sbatch "$work/out/$name" "$@")
	jid=${jid%%;*}
	mid=$(sbatch --parsable --dependency=afterok:"$jid" --chdir="$root" --output="$work/logs/$name-merge-%j.out" \
		tools/cluster/merge.sbatch "$work/out/$name")
	mid=${mid%%;*}
	log "$name: array job $jid (--array=1-4, shards 0/4..3/4, $cpt CPU each), merge job $mid (--dependency=afterok:$jid)"
	if ! waitjob "$mid"; then
		scontrol show job "$jid" | grep -E 'JobId|JobState' || true
		tail -n 5 "$work"/logs/"$name"-* || true
		exit 1
	fi
	for f in "$work/logs/$name-${jid}"_*.out; do sed -n '/^spikegrad: \(shard\|task\)/p' "$f"; done
	cat "$work/logs/$name-${jid}"_*.out | awk '/^spikegrad: task .* s user/ { w += $4; u += $7; s += $10 }
		END { printf "%.1f s wall, %.1f s user, %.1f s system\n", w, u, s }' > "$work/out/$name.cpu"
	grep -h '^spikegrad: merged' "$work"/logs/"$name"-merge-*.out
	since "$s0" > "$work/out/$name.seconds"
}

demo=(-ckpt snn/demo/vgg16_demo.pth -data snn/demo/demo_batch.bin -n 32)
for prec in float32 float64; do
	flags=("${demo[@]}")
	[ $prec = float64 ] && flags+=(-f64)
	run "demo-$prec" 1 "${flags[@]}"
	"$SPIKEGRAD" "${flags[@]}" -json > "$work/out/demo-$prec.one.json"
	log "demo-$prec: merged in $(cat "$work/out/demo-$prec.seconds") s; against one run: $("$work/samejson" -tol 1e-12 "$work/out/demo-$prec/merged.json" "$work/out/demo-$prec.one.json")"
done

if [ -f "$bench/vgg16_full.pth" ] && [ -f "$bench/batch.bin" ]; then
	full=(-ckpt "$bench/vgg16_full.pth" -data "$bench/batch.bin" -n 32)
	for cpt in 1 "$cpus"; do
		run "vgg16-cpt$cpt" "$cpt" "${full[@]}"
		log "full VGG16, n=32, 4 shards of 8 ($cpt CPU each, $((cpus / cpt)) at once): $(cat "$work/out/vgg16-cpt$cpt.seconds") s from submission to the merge's end; the 4 tasks' sums: $(cat "$work/out/vgg16-cpt$cpt.cpu")"
	done
	TIMEFORMAT="%R s wall, %U s user, %S s system"
	{ time "$SPIKEGRAD" "${full[@]}" -json > "$work/out/vgg16.one.json"; } 2> "$work/out/vgg16.one.time"
	log "full VGG16, n=32, one run on all $cpus CPUs: $(tail -1 "$work/out/vgg16.one.time") (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	log "full VGG16: $("$work/samejson" -tol 1e-12 "$work/out/vgg16-cpt1/merged.json" "$work/out/vgg16.one.json")"
else
	log "no $bench/vgg16_full.pth and batch.bin (make bench makes them): the full VGG16 timing is skipped"
fi
log "passed in $(($(date +%s) - t0)) s"
