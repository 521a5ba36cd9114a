#!/bin/sh
# Commit-confirm helper of the otnet.ports.opto22_segment role. The role runs it without installing it:
#   sh -c "<this file>" otnet-opto22-segment COMMAND ARGS...
# It touches table inet NAME, the rules file and files under the state directory DIR, nothing else.
#
#   load DIR NAME RULES TIMEOUT  read the new rules file on stdin and check it with nft -c (nothing changes if it
#                                fails); save the live table (or its absence) and the installed rules file, and
#                                write DIR/rollback.sh that puts both back; install the new file; with TIMEOUT > 0,
#                                start a detached timer (PID in DIR/timer.pid) that runs rollback.sh after TIMEOUT
#                                seconds unless confirmed; then load the file in one nft transaction
#   confirm DIR NAME             disarm the timer by its PID and record the loaded table (drift detection); exit 3
#                                if the timer already fired
#   restore DIR RULES            roll back now (a failed run); a no-op once confirmed or rolled back
#   disarm DIR                   stop a pending timer without restoring (state absent)
#
# Confirm and rollback race for mkdir DIR/decided, which is atomic: whoever creates it decides, the other does
# nothing. So a late confirmation can never keep rules the host has already rolled back, and vice versa. While a
# load waits for its confirmation (DIR/confirm.pending), DIR/applied.nft still describes the previous table, and a
# boot loads the previous rules (the boot-time unit runs rollback.sh).
set -eu

NFT=${NFT:-/usr/sbin/nft}
[ -x "$NFT" ] || NFT=nft
TIMER_NAME=otnet-opto22-timer
# The detached timer: records its PID, sleeps, then runs the rollback script. Arguments: DIR RULES TIMEOUT.
# shellcheck disable=SC2016 # expanded by the timer's own shell
TIMER_CODE='echo $$ >"$1/timer.pid.tmp" && mv -f "$1/timer.pid.tmp" "$1/timer.pid"
sleep "$3"
exec /bin/sh "$1/rollback.sh" "$1" "$2" "not confirmed within $3 seconds"'

die() {
	echo "otnet-opto22-segment: $*" >&2
	exit 1
}

record() { # DIR NAME: the table as loaded, stateless, for the next run's drift check
	"$NFT" -s list table inet "$2" >"$1/applied.nft.tmp"
	mv -f "$1/applied.nft.tmp" "$1/applied.nft"
}

timer_pid() { # DIR: the PID of this directory's pending timer, if one runs
	[ -f "$1/timer.pid" ] || return 1
	pid=$(cat "$1/timer.pid")
	case "$pid" in '' | *[!0-9]* | 0 | 1) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	case "$(tr '\0' '\n' <"/proc/$pid/cmdline")" in
	*"
$TIMER_NAME
$1
"*) echo "$pid" ;;
	*) return 1 ;;
	esac
}

stop_timer() { # DIR: end the timer's process group (its sh and sleep) by PID; the timer leads its own group
	if pid=$(timer_pid "$1"); then
		# The shell's own kill: "-PID" is the process group. (No "--": dash refuses it. Never /bin/kill here -
		# procps-ng 4.0.2 reads "kill -TERM -PID" as kill(-1), every process.)
		kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	fi
	rm -f "$1/timer.pid"
}

write_rollback_script() { # DIR
	cat >"$1/rollback.sh.tmp" <<'EOF'
#!/bin/sh
# Written by the otnet.ports.opto22_segment helper (load): puts back the table inet otnet_opto22 and the rules file
# saved before the last load. Usage: rollback.sh DIR RULES REASON. Exits 2, changing nothing, if that load was
# already confirmed or rolled back.
set -eu
dir=$1 rules=$2
NFT=${NFT:-/usr/sbin/nft}
[ -x "$NFT" ] || NFT=nft
mkdir "$dir/decided" 2>/dev/null || exit 2
"$NFT" -f "$dir/rollback.nft"
if [ -e "$dir/previous.absent" ]; then
	rm -f "$rules"
elif [ -e "$dir/previous.nft" ]; then
	cp -p "$dir/previous.nft" "$rules.otnet-tmp"
	mv -f "$rules.otnet-tmp" "$rules"
fi
date -u '+%Y-%m-%dT%H:%M:%SZ' >"$dir/rolled-back"
rm -f "$dir/timer.pid" "$dir/confirm.pending"
logger -t otnet-opto22-segment "restored the rules saved before the last load: $3" 2>/dev/null || true
EOF
	mv -f "$1/rollback.sh.tmp" "$1/rollback.sh"
}

start_timer() { # DIR RULES TIMEOUT
	# systemd would end a process left in the SSH session's scope when the session closes (KillUserProcesses);
	# a transient unit lives outside it. systemd starts units in its own network namespace, so inside another
	# one (a router in a network namespace) the timer stays here, in a session of its own (setsid).
	if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 &&
		[ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net 2>/dev/null)" ]; then
		systemd-run --quiet --collect --unit="otnet-opto22-rollback-$$" \
			/bin/sh -c "$TIMER_CODE" "$TIMER_NAME" "$1" "$2" "$3"
	else
		setsid /bin/sh -c "$TIMER_CODE" "$TIMER_NAME" "$1" "$2" "$3" </dev/null >/dev/null 2>&1 &
	fi
	tries=0
	until timer_pid "$1" >/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -le 100 ] || die "the rollback timer did not start"
		sleep 0.05
	done
}

save_previous() { # DIR NAME RULES: what rollback.sh puts back
	{
		echo "table inet $2"
		echo "delete table inet $2"
		"$NFT" list table inet "$2" 2>/dev/null || true
	} >"$1/rollback.nft.tmp"
	"$NFT" -c -f "$1/rollback.nft.tmp" || die "the live table inet $2 does not reload; refusing to load without a way back"
	mv -f "$1/rollback.nft.tmp" "$1/rollback.nft"
	if [ -e "$3" ]; then
		cp -p "$3" "$1/previous.nft"
		rm -f "$1/previous.absent"
	else
		rm -f "$1/previous.nft"
		: >"$1/previous.absent"
	fi
	write_rollback_script "$1"
}

load() { # DIR NAME RULES TIMEOUT, the new rules file on stdin
	dir=$1 name=$2 rules=$3 timeout=$4
	case "$timeout" in '' | *[!0-9]*) die "TIMEOUT must be a number of seconds, got '$timeout'" ;; esac
	candidate=$(mktemp)
	trap 'rm -f "$candidate"' EXIT
	cat >"$candidate"
	"$NFT" -c -f "$candidate" || die "the rendered rules do not pass nft -c; nothing was changed"
	mkdir -p "$dir" "$(dirname "$rules")"
	chmod 0700 "$dir"
	if pid=$(timer_pid "$dir"); then
		die "an earlier load is still waiting for its confirmation (timer PID $pid in $dir); retry after it ends"
	fi
	rm -rf "$dir/decided" "$dir/rolled-back" "$dir/timer.pid" "$dir/confirm.pending"
	save_previous "$dir" "$name" "$rules"
	cp "$candidate" "$rules.otnet-tmp"
	chmod 0600 "$rules.otnet-tmp"
	mv -f "$rules.otnet-tmp" "$rules"
	if [ "$timeout" -gt 0 ]; then
		: >"$dir/confirm.pending"
		start_timer "$dir" "$rules" "$timeout"
	fi
	if ! "$NFT" -f "$rules"; then
		stop_timer "$dir"
		/bin/sh "$dir/rollback.sh" "$dir" "$rules" "the load failed" || true
		die "nft -f $rules failed; the previous table and rules file are back"
	fi
	if [ "$timeout" -gt 0 ]; then
		echo "loaded $rules; timer PID $(cat "$dir/timer.pid") restores the previous rules in ${timeout}s unless confirmed"
	else
		record "$dir" "$name"
		echo "loaded $rules (no confirm timeout)"
	fi
}

confirm() { # DIR NAME
	if ! mkdir "$1/decided" 2>/dev/null; then
		if [ -e "$1/rolled-back" ]; then
			echo "too late: the previous rules were restored at $(cat "$1/rolled-back") (not confirmed in time)" >&2
			exit 3
		fi
		die "nothing to confirm: no load is pending in $1"
	fi
	stop_timer "$1"
	record "$1" "$2"
	rm -f "$1/confirm.pending" "$1/rollback.nft" "$1/rollback.sh" "$1/previous.nft" "$1/previous.absent"
	echo "confirmed"
}

restore() { # DIR RULES
	[ -f "$1/rollback.sh" ] || die "nothing to restore: no load was saved in $1"
	stop_timer "$1" # only while it sleeps: once it runs rollback.sh it no longer matches, and is left to finish
	status=0
	/bin/sh "$1/rollback.sh" "$1" "$2" "the run failed before confirming" || status=$?
	case "$status" in
	0) echo "restored the previous rules" ;;
	2) echo "nothing to restore: the pending load was already confirmed or rolled back" ;;
	*) die "restoring the previous rules failed (status $status)" ;;
	esac
}

disarm() { # DIR
	mkdir "$1/decided" 2>/dev/null || true
	stop_timer "$1"
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
load) [ $# -eq 4 ] || die "usage: load DIR NAME RULES TIMEOUT < RULES-TEXT"; load "$@" ;;
confirm) [ $# -eq 2 ] || die "usage: confirm DIR NAME"; confirm "$@" ;;
restore) [ $# -eq 2 ] || die "usage: restore DIR RULES"; restore "$@" ;;
disarm) [ $# -eq 1 ] || die "usage: disarm DIR"; disarm "$@" ;;
*) die "usage: otnet-opto22-segment load|confirm|restore|disarm DIR ..." ;;
esac
