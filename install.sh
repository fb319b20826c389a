#!/bin/sh
# install.sh — installs shoal on a Linux machine and runs `shoal daemon` under systemd.
#
#   curl -sfL https://HOST/install.sh | SHOAL_DOWNLOAD_URL=https://HOST sh -
#   curl -sfL https://HOST/install.sh | SHOAL_DOWNLOAD_URL=https://HOST sh -s -- --advertise-addr 10.0.0.5
#   sh install.sh --binary ./dist/shoal-linux-amd64        # a binary you already have
#
# It must run as root (`curl … | sudo SHOAL_DOWNLOAD_URL=… sh -`), except when SHOAL_ROOT
# is set. It does not call sudo itself: a script piped into a shell has no good way to
# ask for a password, and one privilege decision, made by the caller, is easier to audit.
#
# What it does, in this order (nothing is installed before step 3):
#   1. checks the machine: Linux, `uname -m` x86_64 → amd64, aarch64/arm64 → arm64;
#      curl, or wget when there is no curl; sha256sum.
#   2. reads the expected sha256 of shoal-linux-ARCH from SHOAL_DOWNLOAD_URL/sha256sums.txt.
#      When the installed binary already has that checksum it is not downloaded again;
#      otherwise it is downloaded into a temporary directory and its checksum verified.
#      A mismatch is an [ERROR] and a non-zero exit with nothing installed or changed.
#   3. installs the binary as BIN_DIR/shoal (mode 0755): copied beside its destination
#      and renamed over it with `mv`, so the replacement is atomic and a running daemon
#      keeps its old executable until it restarts.
#   4. writes BIN_DIR/shoal-uninstall.sh.
#   5. when the machine runs systemd (a /run/systemd/system directory and a systemctl
#      command), writes /etc/systemd/system/shoal.service, reloads systemd, enables the
#      unit and starts it. Without systemd it says how to start the daemon by hand.
# Re-running it with nothing changed rewrites nothing and restarts nothing: the daemon is
# restarted only when the binary or the unit's content changed (and started when it was
# not running). Each run writes the unit from that run's settings alone.
#
# --binary PATH: installs that file instead of downloading one. Its checksum is looked up
# in sha256sums.txt beside it (the layout `make dist` produces); when there is none there,
# in SHOAL_DOWNLOAD_URL/sha256sums.txt when that is set. The entry used is the one named
# like the file, else shoal-linux-ARCH. A file with no checksum to compare against is
# refused unless --skip-checksum is given (then it is installed with a [WARN]):
# installing an unverified binary has to be asked for. Downloads are always verified.
#
# Arguments (after `sh -s --`) and environment variables:
#   --binary PATH                       install PATH instead of downloading
#   --skip-checksum                     with --binary: install it without a checksum
#   --no-start        SHOAL_SKIP_START=true    write and enable the unit, don't (re)start it
#   --data-dir D      SHOAL_DATA_DIR           \
#   --socket S        SHOAL_SOCKET              \  flags of `shoal daemon`, written into
#   --listen-addr A   SHOAL_LISTEN_ADDR         /  the unit's ExecStart (an argument wins
#   --advertise-addr A SHOAL_ADVERTISE_ADDR    /   over its variable)
#   --log-level L     SHOAL_LOG_LEVEL         /
#                     SHOAL_DOWNLOAD_URL   base URL holding shoal-linux-ARCH and sha256sums.txt
#                     SHOAL_BIN_DIR        where the binary goes (default /usr/local/bin)
#                     SHOAL_ROOT           a directory every written or probed path is placed
#                                          under (BIN_DIR, /etc/systemd/system,
#                                          /run/systemd/system), like DESTDIR; the unit still
#                                          names the paths as seen from inside that root.
#                                          No root check then, and systemctl is only called
#                                          when SHOAL_SYSTEMCTL names one for that tree.
#                     SHOAL_SYSTEMCTL      the systemctl command to use (default systemctl)
#
# The unit: Restart=always; Delegate=yes, because the daemon creates cgroups for its tasks
# under its own; KillMode=mixed, because tasks are children of the daemon that a restarted
# daemon does not adopt: on stop, SIGTERM goes to the daemon alone so it can stop its tasks
# and tear down their networks itself, and whatever is still alive when the stop timeout
# ends is killed with the rest of the cgroup, so no orphaned task keeps a port or an
# address. (KillMode=process, as k3s and dockerd use, suits runtimes whose shims survive
# the daemon; shoal's tasks have no such owner.)
#
# BIN_DIR/shoal-uninstall.sh stops and disables the unit and removes the unit, the binary
# and itself. It keeps the node's state (the data dir, default /var/lib/shoal) unless given
# --purge: that directory holds the cluster's Raft log and keys, which a reinstall reuses.
#
# Output: [INFO] lines on stdout, [WARN] and [ERROR] lines on stderr.
#
# The whole script is functions; the last line calls main, so a truncated download
# runs nothing.

set -eu
# No pathname expansion: a value never turns into file names.
set -f

info() { printf '[INFO] %s\n' "$*"; }
warn() { printf '[WARN] %s\n' "$*" >&2; }
fatal() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

usage() {
    cat <<'EOF'
Usage: curl -sfL URL/install.sh | SHOAL_DOWNLOAD_URL=URL sh -s -- [OPTIONS]
       sh install.sh [OPTIONS]

Installs shoal as /usr/local/bin/shoal and runs `shoal daemon` as shoal.service.

Options:
  --binary PATH          install PATH instead of downloading (checksum from
                         sha256sums.txt beside it or at SHOAL_DOWNLOAD_URL)
  --skip-checksum        with --binary: install it even without a checksum
  --no-start             write and enable the unit but do not (re)start it
  --data-dir DIR         \
  --socket PATH           \  flags for `shoal daemon`, written into the unit
  --listen-addr ADDR:PORT  > (also SHOAL_DATA_DIR, SHOAL_SOCKET, SHOAL_LISTEN_ADDR,
  --advertise-addr ADDR   /   SHOAL_ADVERTISE_ADDR, SHOAL_LOG_LEVEL)
  --log-level LEVEL      /
  -h, --help             show this help

Environment: SHOAL_DOWNLOAD_URL, SHOAL_BIN_DIR, SHOAL_ROOT, SHOAL_SYSTEMCTL,
SHOAL_SKIP_START=true. The header of install.sh describes each one.
EOF
}

# --- settings ---------------------------------------------------------------

is_true() {
    case ${1:-} in
        true | TRUE | True | 1 | yes) return 0 ;;
        *) return 1 ;;
    esac
}

setup_env() {
    ROOT=${SHOAL_ROOT:-}
    ROOT=${ROOT%/}
    BIN_DIR=${SHOAL_BIN_DIR:-/usr/local/bin}
    BIN_DIR=${BIN_DIR%/}
    UNIT_DIR=/etc/systemd/system
    UNIT_NAME=shoal.service
    DOWNLOAD_URL=${SHOAL_DOWNLOAD_URL:-}
    DOWNLOAD_URL=${DOWNLOAD_URL%/}
    SYSTEMCTL=${SHOAL_SYSTEMCTL:-}
    if [ -z "$SYSTEMCTL" ] && [ -z "$ROOT" ]; then
        SYSTEMCTL=systemctl
    fi

    FLAG_DATA_DIR=${SHOAL_DATA_DIR:-}
    FLAG_SOCKET=${SHOAL_SOCKET:-}
    FLAG_LISTEN_ADDR=${SHOAL_LISTEN_ADDR:-}
    FLAG_ADVERTISE_ADDR=${SHOAL_ADVERTISE_ADDR:-}
    FLAG_LOG_LEVEL=${SHOAL_LOG_LEVEL:-}

    LOCAL_BINARY=
    SKIP_CHECKSUM=false
    SKIP_START=false
    if is_true "${SHOAL_SKIP_START:-}"; then
        SKIP_START=true
    fi
}

set_flag() {
    case $1 in
        --data-dir) FLAG_DATA_DIR=$2 ;;
        --socket) FLAG_SOCKET=$2 ;;
        --listen-addr) FLAG_LISTEN_ADDR=$2 ;;
        --advertise-addr) FLAG_ADVERTISE_ADDR=$2 ;;
        --log-level) FLAG_LOG_LEVEL=$2 ;;
    esac
}

# needs_value OPTION ARGC [VALUE]: the option is followed by a value, not by another option.
needs_value() {
    if [ "$2" -lt 2 ]; then
        fatal "$1 needs a value (see --help)"
    fi
    case $3 in
        -*) fatal "$1 needs a value, not '$3' (see --help)" ;;
    esac
}

parse_args() {
    while [ $# -gt 0 ]; do
        case $1 in
            --binary)
                needs_value "$1" $# "${2:-}"
                LOCAL_BINARY=$2
                shift 2
                ;;
            --binary=*)
                LOCAL_BINARY=${1#*=}
                shift
                ;;
            --skip-checksum)
                SKIP_CHECKSUM=true
                shift
                ;;
            --no-start)
                SKIP_START=true
                shift
                ;;
            --data-dir | --socket | --listen-addr | --advertise-addr | --log-level)
                needs_value "$1" $# "${2:-}"
                set_flag "$1" "$2"
                shift 2
                ;;
            --data-dir=* | --socket=* | --listen-addr=* | --advertise-addr=* | --log-level=*)
                set_flag "${1%%=*}" "${1#*=}"
                shift
                ;;
            -h | --help)
                usage
                exit 0
                ;;
            *) fatal "unknown argument '$1' (see --help)" ;;
        esac
    done
}

# A value that goes into the unit's ExecStart line must mean the same to systemd as to
# a shell: no blanks, quotes, backslashes, `$` or `%` (systemd expands those).
check_unit_value() {
    case $2 in
        '') fatal "$1 is empty" ;;
        *[!]A-Za-z0-9._:/@+,=[-]*) fatal "$1 '$2' has a character the unit cannot hold: use letters, digits and . _ : / @ + , = [ ] -" ;;
    esac
}

check_settings() {
    case $BIN_DIR in
        /*) ;;
        *) fatal "SHOAL_BIN_DIR '$BIN_DIR' is not an absolute path" ;;
    esac
    check_unit_value SHOAL_BIN_DIR "$BIN_DIR"
    if [ -n "$FLAG_DATA_DIR" ]; then check_unit_value --data-dir "$FLAG_DATA_DIR"; fi
    if [ -n "$FLAG_SOCKET" ]; then check_unit_value --socket "$FLAG_SOCKET"; fi
    if [ -n "$FLAG_LISTEN_ADDR" ]; then check_unit_value --listen-addr "$FLAG_LISTEN_ADDR"; fi
    if [ -n "$FLAG_ADVERTISE_ADDR" ]; then check_unit_value --advertise-addr "$FLAG_ADVERTISE_ADDR"; fi
    case $FLAG_LOG_LEVEL in
        '' | trace | debug | info | notice | warning | error | critical) ;;
        *) fatal "--log-level '$FLAG_LOG_LEVEL' is not one of trace, debug, info, notice, warning, error, critical" ;;
    esac
    if [ -n "$LOCAL_BINARY" ]; then
        if [ ! -f "$LOCAL_BINARY" ] || [ ! -r "$LOCAL_BINARY" ]; then
            fatal "--binary '$LOCAL_BINARY' is not a readable file"
        fi
    else
        if [ "$SKIP_CHECKSUM" = true ]; then
            fatal "--skip-checksum only applies to --binary: a download is always verified"
        fi
        if [ -z "$DOWNLOAD_URL" ]; then
            fatal "SHOAL_DOWNLOAD_URL is not set: set it to the URL holding shoal-linux-ARCH and sha256sums.txt, or pass --binary PATH"
        fi
    fi
}

# The flags of `shoal daemon` this install runs with, in a fixed order so that the same
# settings always give the same unit.
daemon_flags() {
    DAEMON_FLAGS=
    if [ -n "$FLAG_DATA_DIR" ]; then DAEMON_FLAGS="$DAEMON_FLAGS --data-dir $FLAG_DATA_DIR"; fi
    if [ -n "$FLAG_SOCKET" ]; then DAEMON_FLAGS="$DAEMON_FLAGS --socket $FLAG_SOCKET"; fi
    if [ -n "$FLAG_LISTEN_ADDR" ]; then DAEMON_FLAGS="$DAEMON_FLAGS --listen-addr $FLAG_LISTEN_ADDR"; fi
    if [ -n "$FLAG_ADVERTISE_ADDR" ]; then DAEMON_FLAGS="$DAEMON_FLAGS --advertise-addr $FLAG_ADVERTISE_ADDR"; fi
    if [ -n "$FLAG_LOG_LEVEL" ]; then DAEMON_FLAGS="$DAEMON_FLAGS --log-level $FLAG_LOG_LEVEL"; fi
    EXEC_START="$BIN_DIR/shoal daemon$DAEMON_FLAGS"
}

# --- the machine ------------------------------------------------------------

verify_system() {
    if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
        fatal "install.sh must run as root (it writes $BIN_DIR and $UNIT_DIR): curl -sfL URL/install.sh | sudo SHOAL_DOWNLOAD_URL=URL sh -"
    fi

    OS=$(uname -s)
    if [ "$OS" != Linux ]; then
        fatal "shoal runs on Linux only, not on $OS"
    fi
    MACHINE=$(uname -m)
    case $MACHINE in
        x86_64 | amd64) ARCH=amd64 ;;
        aarch64 | arm64) ARCH=arm64 ;;
        *) fatal "unsupported architecture $MACHINE: shoal is built for x86_64 (amd64) and aarch64 (arm64)" ;;
    esac

    if command -v sha256sum >/dev/null 2>&1; then
        SHA256=sha256sum
    elif command -v shasum >/dev/null 2>&1; then
        SHA256="shasum -a 256"
    else
        fatal "neither sha256sum nor shasum is installed: install coreutils and retry"
    fi

    DOWNLOADER=
    if [ -z "$LOCAL_BINARY" ] || [ -n "$DOWNLOAD_URL" ]; then
        if command -v curl >/dev/null 2>&1; then
            DOWNLOADER=curl
        elif command -v wget >/dev/null 2>&1; then
            DOWNLOADER=wget
        elif [ -z "$LOCAL_BINARY" ]; then
            fatal "neither curl nor wget is installed: install one of them and retry"
        fi
    fi

    HAS_SYSTEMD=false
    if [ -d "$ROOT/run/systemd/system" ]; then
        HAS_SYSTEMD=true
    fi
}

# --- files ------------------------------------------------------------------

setup_tmp() {
    TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shoal-install.XXXXXX")
    STAGED=
    cleanup() {
        code=$?
        set +e
        trap - EXIT
        if [ -n "$STAGED" ]; then rm -f "$STAGED"; fi
        rm -rf "$TMP_DIR"
        exit "$code"
    }
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# download URL FILE — curl or wget, quietly: a failure is one [ERROR] line.
download() {
    case $DOWNLOADER in
        curl) curl -fsL --retry 3 --connect-timeout 10 -o "$2" "$1" ;;
        wget) wget -q --tries=3 --timeout=30 -O "$2" "$1" ;;
        *) false ;;
    esac || fatal "could not download $1"
}

# sha256_of FILE — prints the file's sha256 in lowercase hex.
sha256_of() {
    SUM_LINE=$($SHA256 "$1") || fatal "could not compute the sha256 of $1"
    printf '%s\n' "${SUM_LINE%% *}"
}

# hash_in SUMS NAME — prints NAME's sha256 from a sha256sum-format file, or nothing.
hash_in() {
    awk -v name="$2" '$2 == name || $2 == "*" name { print tolower($1); exit }' "$1"
}

is_sha256() {
    case $1 in
        '' | *[!0-9a-f]*) return 1 ;;
    esac
    [ ${#1} -eq 64 ]
}

# Sets EXPECTED_HASH (empty only for --binary with --skip-checksum) and SUMS_SOURCE.
fetch_expected_hash() {
    EXPECTED_HASH=
    SUMS_FILE=
    if [ -n "$LOCAL_BINARY" ]; then
        BINARY_NAME=$(basename "$LOCAL_BINARY")
        BESIDE="$(dirname "$LOCAL_BINARY")/sha256sums.txt"
        if [ -f "$BESIDE" ]; then
            SUMS_FILE=$BESIDE
            SUMS_SOURCE=$BESIDE
        elif [ -n "$DOWNLOAD_URL" ]; then
            SUMS_FILE="$TMP_DIR/sha256sums.txt"
            SUMS_SOURCE="$DOWNLOAD_URL/sha256sums.txt"
            download "$SUMS_SOURCE" "$SUMS_FILE"
        elif [ "$SKIP_CHECKSUM" = true ]; then
            warn "no checksum to verify $LOCAL_BINARY against (--skip-checksum): installing it unverified"
            return 0
        else
            fatal "no sha256sums.txt beside $LOCAL_BINARY and SHOAL_DOWNLOAD_URL is not set: put it there, set SHOAL_DOWNLOAD_URL, or pass --skip-checksum"
        fi
        EXPECTED_HASH=$(hash_in "$SUMS_FILE" "$BINARY_NAME")
        if [ -z "$EXPECTED_HASH" ]; then
            BINARY_NAME=shoal-linux-$ARCH
            EXPECTED_HASH=$(hash_in "$SUMS_FILE" "$BINARY_NAME")
        fi
        if [ -z "$EXPECTED_HASH" ]; then
            fatal "$SUMS_SOURCE has no entry for $(basename "$LOCAL_BINARY") or shoal-linux-$ARCH"
        fi
    else
        BINARY_NAME=shoal-linux-$ARCH
        SUMS_FILE="$TMP_DIR/sha256sums.txt"
        SUMS_SOURCE="$DOWNLOAD_URL/sha256sums.txt"
        download "$SUMS_SOURCE" "$SUMS_FILE"
        EXPECTED_HASH=$(hash_in "$SUMS_FILE" "$BINARY_NAME")
        if [ -z "$EXPECTED_HASH" ]; then
            fatal "$SUMS_SOURCE has no entry for $BINARY_NAME: is shoal published for $ARCH?"
        fi
    fi
    if ! is_sha256 "$EXPECTED_HASH"; then
        fatal "$SUMS_SOURCE gives '$EXPECTED_HASH' for $BINARY_NAME, which is not a sha256"
    fi
}

installed_hash() {
    INSTALLED_HASH=
    if [ -f "$ROOT$BIN_DIR/shoal" ]; then
        INSTALLED_HASH=$(sha256_of "$ROOT$BIN_DIR/shoal")
    fi
}

# Leaves the verified binary at $TMP_DIR/shoal, or sets BINARY_CHANGED=false when the
# installed one already is the wanted one.
obtain_binary() {
    BINARY_CHANGED=true
    installed_hash
    if [ -n "$LOCAL_BINARY" ]; then
        # Verify the copy, not the original, so the bytes checked are the bytes installed.
        cp "$LOCAL_BINARY" "$TMP_DIR/shoal" || fatal "could not read $LOCAL_BINARY"
        ACTUAL_HASH=$(sha256_of "$TMP_DIR/shoal")
        if [ -z "$EXPECTED_HASH" ]; then
            if [ "$ACTUAL_HASH" = "$INSTALLED_HASH" ]; then
                BINARY_CHANGED=false
            fi
            return 0
        fi
    else
        if [ "$EXPECTED_HASH" = "$INSTALLED_HASH" ]; then
            info "$ROOT$BIN_DIR/shoal is up to date (sha256 $EXPECTED_HASH): not downloading it again"
            BINARY_CHANGED=false
            return 0
        fi
        info "Downloading $DOWNLOAD_URL/$BINARY_NAME"
        download "$DOWNLOAD_URL/$BINARY_NAME" "$TMP_DIR/shoal"
        ACTUAL_HASH=$(sha256_of "$TMP_DIR/shoal")
    fi
    if [ "$ACTUAL_HASH" != "$EXPECTED_HASH" ]; then
        fatal "checksum mismatch for $BINARY_NAME: sha256 is $ACTUAL_HASH, $SUMS_SOURCE says $EXPECTED_HASH; nothing was installed or changed"
    fi
    info "Verified sha256 $ACTUAL_HASH of $BINARY_NAME"
    if [ "$ACTUAL_HASH" = "$INSTALLED_HASH" ]; then
        info "$ROOT$BIN_DIR/shoal is up to date (sha256 $ACTUAL_HASH)"
        BINARY_CHANGED=false
    fi
}

# place SOURCE DEST MODE — copies SOURCE beside DEST, then renames it over DEST, so DEST
# is always either the old file or the whole new one.
place() {
    mkdir -p "$(dirname "$2")"
    STAGED=$(mktemp "$(dirname "$2")/.$(basename "$2").XXXXXX")
    cp "$1" "$STAGED"
    chmod "$3" "$STAGED"
    mv -f "$STAGED" "$2"
    STAGED=
}

# write_if_changed FILE MODE — installs $TMP_DIR/new as FILE unless FILE already holds
# exactly that; sets CHANGED.
write_if_changed() {
    CHANGED=false
    if [ -f "$1" ] && cmp -s "$TMP_DIR/new" "$1"; then
        return 0
    fi
    place "$TMP_DIR/new" "$1" "$2"
    CHANGED=true
}

install_binary() {
    if [ "$BINARY_CHANGED" = true ]; then
        info "Installing $ROOT$BIN_DIR/shoal"
        place "$TMP_DIR/shoal" "$ROOT$BIN_DIR/shoal" 0755
    fi
}

# sq VALUE — VALUE quoted for sh.
sq() {
    printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

create_uninstall() {
    UNINSTALL="$BIN_DIR/shoal-uninstall.sh"
    cat >"$TMP_DIR/new" <<EOF
#!/bin/sh
# shoal-uninstall.sh — written by shoal's install.sh.
# Stops and disables shoal.service, then removes the unit, the shoal binary and this
# script. The node's state in DATA_DIR is kept (a reinstall reuses it) unless --purge.
# SHOAL_ROOT and SHOAL_SYSTEMCTL override the values install.sh used.
set -eu

ROOT=\${SHOAL_ROOT-$(sq "$ROOT")}
SYSTEMCTL=\${SHOAL_SYSTEMCTL-$(sq "$SYSTEMCTL")}
BIN_DIR=$(sq "$BIN_DIR")
UNIT_FILE=$(sq "$UNIT_DIR/$UNIT_NAME")
DATA_DIR=$(sq "${FLAG_DATA_DIR:-/var/lib/shoal}")
EOF
    cat >>"$TMP_DIR/new" <<'EOF'

info() { printf '[INFO] %s\n' "$*"; }
warn() { printf '[WARN] %s\n' "$*" >&2; }
fatal() {
    printf '[ERROR] %s\n' "$*" >&2
    exit 1
}

main() {
    purge=false
    for arg in "$@"; do
        case $arg in
            --purge) purge=true ;;
            -h | --help)
                echo "Usage: shoal-uninstall.sh [--purge]   (--purge also removes $DATA_DIR)"
                exit 0
                ;;
            *) fatal "unknown argument '$arg': the only one is --purge" ;;
        esac
    done
    ROOT=${ROOT%/}
    if [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
        fatal "shoal-uninstall.sh must run as root: sudo $0"
    fi

    if [ -f "$ROOT$UNIT_FILE" ]; then
        if [ -d "$ROOT/run/systemd/system" ] && [ -n "$SYSTEMCTL" ] && command -v "$SYSTEMCTL" >/dev/null 2>&1; then
            info "Stopping and disabling shoal.service"
            "$SYSTEMCTL" stop shoal.service || warn "could not stop shoal.service"
            "$SYSTEMCTL" disable shoal.service || warn "could not disable shoal.service"
            rm -f "$ROOT$UNIT_FILE"
            "$SYSTEMCTL" daemon-reload || warn "systemctl daemon-reload failed"
        else
            rm -f "$ROOT$UNIT_FILE"
        fi
        info "Removed $ROOT$UNIT_FILE"
    else
        info "There is no shoal.service: stop any shoal daemon you started by hand"
    fi

    rm -f "$ROOT$BIN_DIR/shoal"
    info "Removed $ROOT$BIN_DIR/shoal"

    if [ "$purge" = true ]; then
        case $DATA_DIR in
            /?*) ;;
            *) fatal "refusing to purge data dir '$DATA_DIR'" ;;
        esac
        rm -rf "$ROOT$DATA_DIR"
        info "Removed $ROOT$DATA_DIR (--purge)"
    elif [ -d "$ROOT$DATA_DIR" ]; then
        info "Kept the node's state in $ROOT$DATA_DIR: remove it with rm -rf $ROOT$DATA_DIR"
    fi

    rm -f "$ROOT$BIN_DIR/shoal-uninstall.sh"
    info "shoal is uninstalled"
}

main "$@"
EOF
    write_if_changed "$ROOT$UNINSTALL" 0755
    if [ "$CHANGED" = true ]; then
        info "Wrote uninstall script $ROOT$UNINSTALL"
    fi
}

create_unit() {
    UNIT_CHANGED=false
    cat >"$TMP_DIR/new" <<EOF
# Written by shoal's install.sh; re-running install.sh rewrites it from its settings.
[Unit]
Description=shoal cluster daemon
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=$EXEC_START
Restart=always
RestartSec=5s
# The daemon creates the cgroups of its tasks under its own.
Delegate=yes
# Stop: SIGTERM to the daemon alone, which stops its tasks itself; anything left when
# the timeout ends is killed with the whole cgroup, so no task outlives the daemon.
KillMode=mixed
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
# Tasks are processes in this unit's cgroup: don't cap their number.
TasksMax=infinity

[Install]
WantedBy=multi-user.target
EOF
    write_if_changed "$ROOT$UNIT_DIR/$UNIT_NAME" 0644
    UNIT_CHANGED=$CHANGED
    if [ "$UNIT_CHANGED" = true ]; then
        info "Wrote $ROOT$UNIT_DIR/$UNIT_NAME: ExecStart=$EXEC_START"
    else
        info "$ROOT$UNIT_DIR/$UNIT_NAME is unchanged"
    fi
}

# --- the service ------------------------------------------------------------

can_call_systemctl() {
    [ -n "$SYSTEMCTL" ] && command -v "$SYSTEMCTL" >/dev/null 2>&1
}

run_by_hand_hint() {
    info "Start the daemon by hand (as root, e.g. under nohup or your init system): $EXEC_START"
}

setup_service() {
    if [ "$HAS_SYSTEMD" != true ]; then
        warn "no systemd here (no $ROOT/run/systemd/system): not writing $UNIT_NAME"
        run_by_hand_hint
        return 0
    fi
    if [ -n "$ROOT" ] && [ -z "$SYSTEMCTL" ]; then
        create_unit
        info "SHOAL_ROOT is set and SHOAL_SYSTEMCTL is not: not calling systemctl"
        return 0
    fi
    if ! can_call_systemctl; then
        warn "$ROOT/run/systemd/system exists but there is no '$SYSTEMCTL' command: not writing $UNIT_NAME"
        run_by_hand_hint
        return 0
    fi

    create_unit
    if [ "$UNIT_CHANGED" = true ]; then
        "$SYSTEMCTL" daemon-reload || fatal "systemctl daemon-reload failed"
    fi
    if ! "$SYSTEMCTL" is-enabled --quiet "$UNIT_NAME" 2>/dev/null; then
        info "Enabling $UNIT_NAME"
        "$SYSTEMCTL" enable "$UNIT_NAME" || fatal "systemctl enable $UNIT_NAME failed"
    fi

    if [ "$SKIP_START" = true ]; then
        info "Not starting $UNIT_NAME (--no-start); start it with: systemctl start $UNIT_NAME"
        if [ "$BINARY_CHANGED" = true ] || [ "$UNIT_CHANGED" = true ]; then
            if "$SYSTEMCTL" is-active --quiet "$UNIT_NAME" 2>/dev/null; then
                warn "$UNIT_NAME keeps running the old binary or settings until: systemctl restart $UNIT_NAME"
            fi
        fi
        return 0
    fi

    if ! "$SYSTEMCTL" is-active --quiet "$UNIT_NAME" 2>/dev/null; then
        info "Starting $UNIT_NAME"
        "$SYSTEMCTL" start "$UNIT_NAME" || fatal "$UNIT_NAME did not start: see journalctl -u $UNIT_NAME"
    elif [ "$BINARY_CHANGED" = true ] || [ "$UNIT_CHANGED" = true ]; then
        info "Restarting $UNIT_NAME to run the new binary or settings"
        "$SYSTEMCTL" restart "$UNIT_NAME" || fatal "$UNIT_NAME did not restart: see journalctl -u $UNIT_NAME"
    else
        info "Nothing changed: $UNIT_NAME keeps running"
    fi
}

main() {
    setup_env
    parse_args "$@"
    check_settings
    daemon_flags
    verify_system
    setup_tmp
    fetch_expected_hash
    obtain_binary
    install_binary
    create_uninstall
    setup_service
    info "Done: $ROOT$BIN_DIR/shoal, uninstall with $ROOT$BIN_DIR/shoal-uninstall.sh"
}

main "$@"
