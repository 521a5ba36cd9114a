#!/bin/sh
# Commit-confirm helper of the otnet.ports.opto22_segment role. The role runs it without installing it:
#   sh -c "<this file>" otnet-opto22-segment COMMAND ARGS...
# It touches table inet NAME, the rules file and the files it names under the state directory DIR, nothing else.
#
#   load DIR NAME RULES TIMEOUT  read the new rules file on stdin and check it with nft -c (nothing changes if it
#                                fails); save the live table and the rules file (DIR/previous.*) with DIR/rollback.sh
#                                that puts them back; point DIR/boot at the saved table; install the new file; mark
#                                the load pending; with TIMEOUT > 0 start a detached timer that runs rollback.sh
#                                after TIMEOUT seconds; load the new file in one nft transaction
#   confirm DIR NAME             choose the new rules (DIR/boot points at the rules file), disarm the timer, record
#                                the loaded table (drift detection); exit 3 if the previous rules were chosen first
#   restore DIR RULES            roll back now (a failed run); reads the rendered rules on stdin only to say which
#                                rules are in effect when there is nothing to roll back
#   disarm DIR                   stop a pending timer without restoring (state absent)
#   purge DIR RULES [check]      remove the rules file and the helper's own files by name, then DIR if it is empty
#
# The decision and the file a boot loads are one thing: the symlink DIR/boot, replaced by rename. From the moment a
# load saves the previous rules, DIR/boot points at them (DIR/previous.nft, a complete nft file: table, delete
# table, the saved table); the boot-time unit runs nothing but "nft -f DIR/boot". A pending load is the symlink
# DIR/pending, which points at the rules file. Confirming renames it onto DIR/boot (the new rules chosen, for now and
# for boots, in one atomic step); rolling back removes it (DIR/boot keeps pointing at the previous rules). Only one of
# the two can succeed, so a late confirmation never keeps rules the host has rolled back. Rolling back is
# idempotent: once the previous rules are chosen, rollback.sh loads them again, and every later command that finds
# an undecided load without its timer (the helper or the timer killed, a reboot) rolls it back first.
# The last line of load, confirm and restore is "state=new", "state=previous" or "state=unknown": which rules are
# in effect (and what a boot loads).
set -eu
export LC_ALL=C

NFT=${NFT:-/usr/sbin/nft}
[ -x "$NFT" ] || NFT=nft
TIMER_NAME=otnet-opto22-timer
TIMEOUT_MAX=3600
# The detached timer: records its PID, sleeps, then runs the rollback script. Arguments: DIR TIMEOUT.
# shellcheck disable=SC2016 # expanded by the timer's own shell
TIMER_CODE='echo $$ >"$1/timer.pid.tmp" && mv -f "$1/timer.pid.tmp" "$1/timer.pid"
sleep "$2"
exec /bin/sh "$1/rollback.sh" "not confirmed within $2 seconds"'
# Every file the helper writes in DIR (and NAME.tmp.PID while writing NAME); purge removes exactly these (and the
# fixed-name temporary files of version 1.0.0 of the role, which also left rollback.nft and confirm.pending).
OWN_FILES='boot pending previous.nft previous.rules previous.absent rollback.sh timer.pid loaded.nft applied.nft
rolled-back rollback.nft confirm.pending'

die() {
	echo "otnet-opto22-segment: $*" >&2
	exit 1
}

# A point between two steps. Only for the fault-injection test (tests/unit/roles/test_segment_commit_confirm.py),
# and only when OTNET_FAULT is set: NAME:kill kills the helper here (kill -9), NAME:timer runs the pending timer's
# rollback here, as if it fired at this moment.
step() {
	case "${OTNET_FAULT:-}" in
	"$1:kill") kill -9 $$ ;;
	"$1:timer")
		if timer_pid >/dev/null; then
			OTNET_FAULT='' /bin/sh "$dir/rollback.sh" "fault injection: the timer fired at $1" >/dev/null || true
		fi
		;;
	esac
}

check_path() { # WHAT VALUE: an absolute path in normal form of characters neither sh nor systemd expands or splits
	case "$2" in
	/*) ;;
	*) die "$1 must be an absolute path, got '$2'" ;;
	esac
	case "$2" in
	*[!A-Za-z0-9._/-]*) die "$1 '$2' has characters other than letters, digits, '.', '_', '-' and '/'" ;;
	/ | *//* | */ | */./* | */. | */../* | */..) die "$1 '$2' is not a plain path (no '.', '..', '//' or trailing '/')" ;;
	esac
}

check_dir() { check_path "the state directory (opto22_segment_state_dir)" "$dir"; }

check_rules() { # after check_dir: the rules file must not be the state directory, inside it, or above it
	check_path "the rules file (opto22_segment_rules_path)" "$rules"
	case "$rules/" in
	"$dir"/*) die "the rules file '$rules' is the state directory '$dir' or inside it: a load would overwrite the rollback copies" ;;
	esac
	case "$dir" in
	"$rules"/*) die "the state directory '$dir' is inside the rules file path '$rules'" ;;
	esac
}

check_name() {
	case "$name" in
	'' | *[!A-Za-z0-9_]*) die "NAME must be an nft table name (letters, digits, '_'), got '$name'" ;;
	esac
}

check_timeout() { # at most 4 digits, no leading zero, and at most TIMEOUT_MAX: no shell arithmetic overflow
	case "$timeout" in
	0 | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9]) ;;
	*) die "TIMEOUT (opto22_segment_confirm_timeout) must be 0 to $TIMEOUT_MAX seconds, got '$timeout'" ;;
	esac
	[ "$timeout" -le "$TIMEOUT_MAX" ] || die "TIMEOUT (opto22_segment_confirm_timeout) must be 0 to $TIMEOUT_MAX seconds, got '$timeout'"
}

boot_target() { readlink "$dir/boot" 2>/dev/null || true; }

point_boot() { # TARGET: DIR/boot, replaced by rename (a boot never sees it half-written)
	rm -f "$dir/boot.tmp.$$"
	ln -s "$1" "$dir/boot.tmp.$$"
	mv -f "$dir/boot.tmp.$$" "$dir/boot"
}

record() { # SOURCE: the table as loaded, stateless, for the next run's drift check
	if [ -f "$1" ]; then
		cp "$1" "$dir/applied.nft.tmp.$$"
	else
		"$NFT" -s list table inet "$name" >"$dir/applied.nft.tmp.$$"
	fi
	mv -f "$dir/applied.nft.tmp.$$" "$dir/applied.nft"
}

timer_pid() { # the PID of DIR's pending timer, if one runs (still sleeping: once it runs rollback.sh it no longer matches)
	[ -f "$dir/timer.pid" ] || return 1
	pid=$(cat "$dir/timer.pid")
	case "$pid" in '' | *[!0-9]* | 0 | 1) return 1 ;; esac
	[ -r "/proc/$pid/cmdline" ] || return 1
	case "$(tr '\0' '\n' <"/proc/$pid/cmdline")" in
	*"
$TIMER_NAME
$dir
"*) echo "$pid" ;;
	*) return 1 ;;
	esac
}

stop_timer() { # end the timer's process group (its sh and sleep) by PID; the timer leads its own group
	if pid=$(timer_pid); then
		# The shell's own kill: "-PID" is the process group. (No "--": dash refuses it. Never /bin/kill here -
		# procps-ng 4.0.2 reads "kill -TERM -PID" as kill(-1), every process.)
		kill -TERM "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/timer.pid"
}

start_timer() {
	# systemd would end a process left in the SSH session's scope when the session closes (KillUserProcesses);
	# a transient unit lives outside it. systemd starts units in its own network namespace, so inside another
	# one (a router in a network namespace) the timer stays here, in a session of its own (setsid).
	if [ -d /run/systemd/system ] && command -v systemd-run >/dev/null 2>&1 &&
		[ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net 2>/dev/null)" ]; then
		systemd-run --quiet --collect --unit="otnet-opto22-rollback-$$" \
			/bin/sh -c "$TIMER_CODE" "$TIMER_NAME" "$dir" "$timeout"
	else
		setsid /bin/sh -c "$TIMER_CODE" "$TIMER_NAME" "$dir" "$timeout" </dev/null >/dev/null 2>&1 &
	fi
	tries=0
	until timer_pid >/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -le 100 ] || die "the rollback timer did not start"
		sleep 0.05
	done
}

rollback() { # REASON: rollback.sh; its status (0 the previous rules in effect, 2 the load was confirmed)
	status=0
	/bin/sh "$dir/rollback.sh" "$1" || status=$?
	return "$status"
}

write_rollback_script() {
	{
		echo '#!/bin/sh'
		echo '# Written by the otnet.ports.opto22_segment helper (load). Usage: rollback.sh REASON.'
		echo '# Chooses the rules saved before the last load unless that load was confirmed (exit 2, nothing changed):'
		echo '# removes DIR/pending (a confirmation renames it; only one of the two succeeds), loads DIR/previous.nft'
		echo '# (where DIR/boot points) in one nft transaction and puts the previous rules file back. Idempotent: once'
		echo '# the previous rules are chosen, every run loads them again.'
		echo "dir='$dir' rules='$rules'"
		cat <<'EOF'
set -eu
NFT=${NFT:-/usr/sbin/nft}
[ -x "$NFT" ] || NFT=nft
step() { # the fault-injection points (OTNET_FAULT, see the helper); NAME:timer runs a second rollback here
	case "${OTNET_FAULT:-}" in
	"$1:kill") kill -9 $$ ;;
	"$1:timer") OTNET_FAULT='' /bin/sh "$0" "fault injection: a second rollback at $1" >/dev/null || true ;;
	esac
}
step rollback.1
if rm "$dir/pending" 2>/dev/null; then
	decided=yes
elif [ "$(readlink "$dir/boot" 2>/dev/null || true)" = previous.nft ]; then
	decided=no
else
	echo "nothing to roll back: the last load was confirmed"
	exit 2
fi
step rollback.2
"$NFT" -f "$dir/previous.nft"
step rollback.3
if [ -f "$dir/previous.rules" ]; then
	cp -p "$dir/previous.rules" "$rules.otnet-tmp.$$"
	mv -f "$rules.otnet-tmp.$$" "$rules"
elif [ -e "$dir/previous.absent" ]; then
	rm -f "$rules"
fi
step rollback.4
if [ "$decided" = yes ] || [ ! -e "$dir/rolled-back" ]; then
	date -u '+%Y-%m-%dT%H:%M:%SZ' >"$dir/rolled-back.tmp.$$"
	mv -f "$dir/rolled-back.tmp.$$" "$dir/rolled-back"
fi
if [ "$decided" = yes ]; then
	logger -t otnet-opto22-segment "restored the rules saved before the last load: ${1:-}" 2>/dev/null || true
	echo "restored the previous rules"
else
	echo "the previous rules are in effect (chosen earlier, loaded again)"
fi
echo "state=previous"
EOF
	} >"$dir/rollback.sh.tmp.$$"
	mv -f "$dir/rollback.sh.tmp.$$" "$dir/rollback.sh"
}

save_previous() { # the live table (or its absence) and the rules file (or its absence): what rollback.sh puts back
	saved="$dir/previous.nft.tmp.$$"
	{
		echo "table inet $name"
		echo "delete table inet $name"
	} >"$saved"
	if ! "$NFT" list table inet "$name" >>"$saved" 2>/dev/null; then
		# Absent, or unreadable? Only a table nft does not list is saved as "no table".
		tables=$("$NFT" list tables) || die "nft cannot list the tables; nothing was changed"
		if printf '%s\n' "$tables" | grep -qx "table inet $name"; then
			die "nft cannot read the live table inet $name; refusing to load without a way back"
		fi
	fi
	"$NFT" -c -f "$saved" || die "the live table inet $name does not reload; refusing to load without a way back"
	mv -f "$saved" "$dir/previous.nft"
	step save.1
	if [ -e "$rules" ]; then
		cp -p "$rules" "$dir/previous.rules.tmp.$$"
		mv -f "$dir/previous.rules.tmp.$$" "$dir/previous.rules"
		rm -f "$dir/previous.absent"
	else
		rm -f "$dir/previous.rules"
		: >"$dir/previous.absent"
	fi
	step save.2
	rm -f "$dir/rolled-back" "$dir/loaded.nft"
	write_rollback_script
}

take_over() { # settle what an earlier load left, before this one starts
	if pid=$(timer_pid); then
		if [ -L "$dir/pending" ]; then
			echo "state=previous"
			die "an earlier load is still waiting for its confirmation (timer PID $pid in $dir); retry after it ends"
		fi
		stop_timer # its load was decided: it must not fire into this one
	fi
	if [ -L "$dir/pending" ] && [ -f "$dir/rollback.sh" ]; then # interrupted before its decision: roll it back
		rollback "an earlier load was interrupted before it was confirmed" >/dev/null ||
			die "rolling back an earlier, interrupted load failed"
	fi
	rm -f "$dir/confirm.pending" "$dir/rollback.nft" # what version 1.0.0 of the role left
	if [ -d "$dir/decided" ]; then rmdir "$dir/decided"; fi
}

load() { # the new rules file on stdin
	check_dir
	check_rules
	check_name
	check_timeout
	candidate=$(mktemp)
	trap 'rm -f "$candidate"' EXIT
	cat >"$candidate"
	if ! "$NFT" -c -f "$candidate"; then
		echo "state=previous"
		die "the rendered rules do not pass nft -c; nothing was changed"
	fi
	[ ! -d "$rules" ] || die "the rules file '$rules' is a directory"
	mkdir -p "$(dirname "$dir")" "$(dirname "$rules")"
	[ -d "$dir" ] || mkdir -m 0700 "$dir"
	take_over
	step load.1
	save_previous
	step load.2
	point_boot previous.nft # from here on a boot loads the previous rules, until a confirmation
	step load.3
	cp "$candidate" "$rules.otnet-tmp.$$"
	chmod 0600 "$rules.otnet-tmp.$$"
	mv -f "$rules.otnet-tmp.$$" "$rules"
	step load.4
	rm -f "$dir/pending.tmp.$$"
	ln -s "$rules" "$dir/pending.tmp.$$"
	mv -f "$dir/pending.tmp.$$" "$dir/pending"
	step load.5
	if [ "$timeout" -gt 0 ]; then start_timer; fi
	step load.6
	if ! "$NFT" -f "$candidate"; then
		stop_timer
		if rollback "the load failed" >/dev/null; then echo "state=previous"; else echo "state=unknown"; fi
		die "nft -f failed; the previous table and rules file are back"
	fi
	step load.7
	"$NFT" -s list table inet "$name" >"$dir/loaded.nft.tmp.$$"
	mv -f "$dir/loaded.nft.tmp.$$" "$dir/loaded.nft"
	step load.8
	if [ "$timeout" -eq 0 ]; then
		if mv -f "$dir/pending" "$dir/boot" 2>/dev/null; then
			step load.9
			record "$dir/loaded.nft"
			echo "loaded $rules (no confirm timeout)"
			echo "state=new"
			return
		fi
	elif [ -L "$dir/pending" ]; then
		echo "loaded $rules; timer PID $(cat "$dir/timer.pid") restores the previous rules in ${timeout}s unless confirmed"
		echo "state=new"
		return
	fi
	# The previous rules were chosen while this load ran (its timer fired): make sure they are the ones in effect.
	if rollback "the timer fired before the load finished" >/dev/null; then echo "state=previous"; else echo "state=unknown"; fi
	die "the rollback timer fired before the load finished; the previous rules are back"
}

too_late() { # REASON: the previous rules were (or now are) chosen; put them in effect again, say so, exit 3
	stop_timer
	if rollback "$1" >/dev/null; then
		echo "too late: the previous rules were restored at $(cat "$dir/rolled-back" 2>/dev/null || echo '?') ($1)" >&2
		echo "state=previous"
		exit 3
	fi
	echo "state=unknown"
	die "$1, and restoring the previous rules failed"
}

confirm() {
	check_dir
	check_name
	if [ -L "$dir/pending" ]; then
		if ! timer_pid >/dev/null; then
			too_late "the rollback timer is gone (the host rebooted, or the timer or the load was interrupted)"
		fi
		live=$("$NFT" -s list table inet "$name" 2>/dev/null) || live=''
		if [ ! -f "$dir/loaded.nft" ] || [ "$live" != "$(cat "$dir/loaded.nft")" ]; then
			too_late "the live table inet $name is not the one the load put in place"
		fi
		step confirm.1
		mv -f "$dir/pending" "$dir/boot" 2>/dev/null || true # the decision; fails if the rollback removed it first
	fi
	case "$(boot_target)" in
	previous.nft) too_late "not confirmed in time" ;;
	'') die "nothing to confirm: no load is pending in $dir" ;;
	esac
	step confirm.2
	stop_timer
	step confirm.3
	record "$dir/loaded.nft"
	rm -f "$dir/loaded.nft"
	echo "confirmed"
	echo "state=new"
}

restore() { # the rendered rules on stdin
	check_dir
	check_rules
	candidate=$(mktemp)
	trap 'rm -f "$candidate"' EXIT
	cat >"$candidate"
	stop_timer # only while it sleeps: once it runs rollback.sh it no longer matches, and is left to finish
	step restore.1
	status=0
	if [ -f "$dir/rollback.sh" ]; then
		rollback "the run failed before confirming" || status=$?
	else
		status=2
	fi
	case "$status" in
	0) ;;
	2)
		if [ "$(boot_target)" = "$rules" ] && cmp -s "$rules" "$candidate"; then
			echo "nothing to restore: the new rules were confirmed"
			echo "state=new"
		else
			echo "nothing to restore: the new rules were never put in effect"
			echo "state=previous"
		fi
		;;
	*)
		echo "state=unknown"
		die "restoring the previous rules failed (status $status)"
		;;
	esac
}

disarm() {
	check_dir
	rm -f "$dir/pending"
	stop_timer
}

purge() { # [check]: remove the rules file and the helper's own files by name, then DIR if empty; never rm -r
	check_dir
	check_rules
	[ "${1:-}" = "" ] || [ "$1" = check ] || die "usage: purge DIR RULES [check]"
	if [ -z "${1:-}" ]; then stop_timer; fi
	for file in "$rules" "$rules.otnet-tmp" "$rules".otnet-tmp.*; do
		remove "$file" "${1:-}"
	done
	if [ -d "$dir" ]; then
		for own in $OWN_FILES timer.pid.tmp applied.nft.tmp rollback.nft.tmp rollback.sh.tmp; do
			for file in "$dir/$own" "$dir/$own".tmp.*; do
				remove "$file" "${1:-}"
			done
		done
		if [ -d "$dir/decided" ]; then # version 1.0.0's empty marker directory
			echo "removed $dir/decided"
			[ -n "${1:-}" ] || rmdir "$dir/decided"
		fi
		if [ -n "${1:-}" ]; then
			: # check mode: whether DIR ends up empty shows in a real run
		elif [ -n "$(ls -A "$dir")" ]; then
			echo "kept $dir: it holds files the role did not write"
		else
			rmdir "$dir"
			echo "removed $dir"
		fi
	fi
}

remove() { # FILE [check]
	if [ -e "$1" ] || [ -L "$1" ]; then
		[ ! -d "$1" ] || [ -L "$1" ] || die "$1 is a directory; the role writes none there, so it is left alone"
		echo "removed $1"
		[ -n "$2" ] || rm -f "$1"
	fi
}

command=${1:-}
[ $# -gt 0 ] && shift
dir=${1:-}
case "$command" in
load)
	[ $# -eq 4 ] || die "usage: load DIR NAME RULES TIMEOUT < RULES-TEXT"
	name=$2 rules=$3 timeout=$4
	load
	;;
confirm)
	[ $# -eq 2 ] || die "usage: confirm DIR NAME"
	name=$2
	confirm
	;;
restore)
	[ $# -eq 2 ] || die "usage: restore DIR RULES < RULES-TEXT"
	rules=$2
	restore
	;;
disarm)
	[ $# -eq 1 ] || die "usage: disarm DIR"
	disarm
	;;
purge)
	[ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: purge DIR RULES [check]"
	rules=$2
	purge "${3:-}"
	;;
*) die "usage: otnet-opto22-segment load|confirm|restore|disarm|purge DIR ..." ;;
esac
